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

// Progressive enhancement of the console's forms; without JavaScript every form still works.
//
// - A form marked data-once (a confirmation that resends, discards or routes) is sent once: a second
//   click while the first is on its way is ignored and its buttons are disabled. The server's
//   one-time token is what guarantees it; this only spares a person the second request.
//   Coming Back to the page (the browser's page cache) makes the buttons usable again, and
//   posting again then only shows what the first post did.
// - A form marked data-confirm (a rollback) asks the person first (window.confirm).
// - A page that answers a refused form puts the keyboard's focus on the first field marked
//   invalid (aria-invalid), so a keyboard user lands on what to correct instead of the top of
//   the page; the refusal beside it is read out through aria-describedby.
// - Choosing another destination for a resend picks "map the event again": the original bytes
//   are addressed to the message's own destination (MSH-5/6).
// - "Select all in this group" on the dead-letter page ticks or unticks every dead letter of
//   its group's form, and is ticked itself only while all of them are. Nothing is ticked before
//   a person ticks it (one click must not pick a whole group for closing); without JavaScript
//   the control stays hidden and each dead letter is ticked by hand.
(function () {
  "use strict";

  function buttons(form) {
    return form.querySelectorAll("button[type=submit], button:not([type])");
  }

  // A form marked data-confirm (a rollback) asks first; cancelled, nothing is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) { return; }
    if (form.getAttribute("data-sent") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
    // After this event: the browser has taken the form's values by then.
    window.setTimeout(function () {
      buttons(form).forEach(function (button) { button.disabled = true; });
    }, 0);
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.removeAttribute("data-sent");
      buttons(form).forEach(function (button) { button.disabled = false; });
    });
  });

  var invalid = document.querySelector("main [aria-invalid=true]");
  if (invalid instanceof HTMLElement) { invalid.focus(); }

  function picks(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=ids]"));
  }

  document.querySelectorAll("[data-select-group]").forEach(function (all) {
    var holder = all.closest("[hidden]");
    if (holder) { holder.hidden = false; }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || !target.form) { return; }
    var all = target.form.querySelector("[data-select-group]");
    if (!all) { return; }
    var boxes = picks(target.form);
    if (target === all) {
      boxes.forEach(function (box) { box.checked = all.checked; });
    } else if (target.name === "ids") {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement) || target.id !== "resend-to") { return; }
    var mode = document.getElementById("resend-mode");
    if (mode instanceof HTMLSelectElement && target.value && mode.value === "original") {
      mode.value = "remap";
    }
  });
})();
