// Requests a page makes by itself do not count as the person being there.
//
// htmx issues a request without a triggering event only when a timer or the page's own loading
// starts it (hx-trigger "every 2s", "load"); a click, a submit or a change always has one. Such
// a request carries X-Integrator-Background: 1, and the server then answers it without moving
// the session's idle clock (integrator/console/visitor.py). So any page that refreshes itself,
// now or later, lets an unattended session end after its 30 idle minutes, with no attribute to
// forget in its template.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.triggeringEvent) {
      event.detail.headers["X-Integrator-Background"] = "1";
    }
  });
})();
