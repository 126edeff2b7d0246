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
//   the page; the refusal beside it is read out through aria-describedby. A refusal of no one
//   field (nothing ticked, say) takes the focus itself, so it is read out; its page's title
//   begins with "Refused" too. A page that says what a form just did in place of the form's
//   page (a dashboard tile's pause or resume: data-done) puts the focus on that, so it is
//   read out and the keyboard goes on from the tile it was in.
// - A page that answers a search the person made (its terms in the address, or a kept search)
//   puts the focus on its results (data-found, tabindex=-1): their heading, so a screen reader
//   says it and the next Tab is the first result, or what says nothing was found; a refusal
//   comes first. The page without terms, and any part of a page refreshed by htmx (a timer's
//   request, X-Integrator-Background), never moves the focus: this runs once, as the page loads.
// - A form whose answer takes a while (a destination's test message waits for the receiver's
//   ACK, up to its ack_timeout) names in data-sending the hidden element that says so: shown,
//   and read out (role=status), while the page waits, its buttons disabled (data-once).
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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) { return; }
    var said = document.getElementById(form.getAttribute("data-sending") || "");
    if (said) {
      said.hidden = false;
      form.setAttribute("aria-busy", "true");
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.removeAttribute("data-sent");
      buttons(form).forEach(function (button) { button.disabled = false; });
    });
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      var said = document.getElementById(form.getAttribute("data-sending"));
      if (said) { said.hidden = true; }
      form.removeAttribute("aria-busy");
    });
  });

  // A refusal shown in place by htmx (the resend preview) that names its field marks that
  // field invalid, describes it by the refusal (so a screen reader says why, not only
  // "invalid") and puts the focus there, as a refused page does; a later answer clears it.
  var REFUSAL_ID = "refused-in-place";
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var form = target && target.previousElementSibling;
    if (!(form instanceof HTMLFormElement)) { return; }
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
      var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(
        function (id) { return id && id !== REFUSAL_ID; }
      );
      if (described.length) { field.setAttribute("aria-describedby", described.join(" ")); }
      else { field.removeAttribute("aria-describedby"); }
    });
    var refused = target.querySelector("[data-field]");
    var field = refused && form.elements.namedItem(refused.getAttribute("data-field"));
    if (field instanceof HTMLElement) {
      refused.id = REFUSAL_ID;
      var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      ids.push(REFUSAL_ID);
      field.setAttribute("aria-describedby", ids.join(" "));
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  });

  var invalid = document.querySelector("main [aria-invalid=true]");
  var refusal = document.querySelector("main [data-refusal]");
  var done = document.querySelector("main [data-done]");
  var found = document.querySelector("main [data-found]");
  if (invalid instanceof HTMLElement) { invalid.focus(); }
  else if (refusal instanceof HTMLElement) { refusal.focus(); }
  else if (done instanceof HTMLElement) { done.focus(); }
  else if (found instanceof HTMLElement) { found.focus(); }

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

// Two minutes before the session ends, the page says so and offers to stay signed in.
//
// A signed-in page is rendered with the seconds after which its session may be within two
// minutes of its end (data-check-after: the idle timeout, less the minute the server's
// last-seen time may lag behind, less the warning's lead). Then it asks the server how long is
// really left (GET /session/left, as a background request: asking keeps nothing alive), as
// another tab may have kept the session going. Within the lead it shows the warning, counting
// down, with "Stay signed in" (POST /session/keep), or without it when the session's 12 hours
// are what ends it. At the end it asks again; a session that has ended is said in
// #session-ended with the server's notice and its link to sign in again, and the page and what
// was typed in it are left alone. Nothing moves the keyboard's focus: a person typing goes on typing where they were.
// Without JavaScript there is no warning, and the session ends as before.
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var lead = Number(box.getAttribute("data-lead"));
  var checkAfter = Number(box.getAttribute("data-check-after"));
  var said = document.getElementById("session-warning-said");
  var waiting = null;
  var ticking = null;
  var endsAt = 0;

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  function wait(seconds) {
    window.clearTimeout(waiting);
    waiting = window.setTimeout(ask, Math.max(seconds, 0) * 1000);
  }

  function hide() {
    window.clearInterval(ticking);
    ticking = null;
    box.hidden = true;
    said.textContent = "";
  }

  // The server's notice that the session has ended (a 401's body, as a refreshing page gets
  // it), shown in #session-ended: the page and what was typed in it stay.
  function ended(response) {
    hide();
    window.clearTimeout(waiting);
    return response.text().then(function (html) {
      var notice = document.getElementById("session-ended");
      var sent = new DOMParser().parseFromString(html, "text/html").getElementById("session-ended");
      if (notice && sent) { notice.replaceChildren.apply(notice, Array.from(sent.childNodes)); }
      return null;
    });
  }

  // The seconds left (JSON), or null once the session has ended. "Stay signed in" after the
  // end is sent on to the sign-in page; the page then asks for the notice.
  function answered(response) {
    if (response.status === 401) { return ended(response); }
    if (response.redirected) { ask(); return null; }
    if (!response.ok) { throw new Error("status " + response.status); }
    return response.json();
  }

  function tick() {
    var rest = Math.max(Math.ceil((endsAt - Date.now()) / 1000), 0);
    var text = Math.floor(rest / 60) + ":" + ("0" + (rest % 60)).slice(-2);
    box.querySelectorAll(".left").forEach(function (span) { span.textContent = text; });
    if (rest === 0) {
      window.clearInterval(ticking);
      ticking = null;
      ask();
    }
  }

  function show(seconds, canBeKept) {
    endsAt = Date.now() + seconds * 1000;
    var reason = box.querySelector(canBeKept ? '[data-reason="idle"]' : '[data-reason="lifetime"]');
    box.querySelector('[data-reason="idle"]').hidden = !canBeKept;
    box.querySelector('[data-reason="lifetime"]').hidden = canBeKept;
    var appearing = box.hidden;
    box.hidden = false;
    tick();
    if (appearing) { said.textContent = reason.textContent.trim(); }  // read out once
    if (ticking === null && !box.hidden) { ticking = window.setInterval(tick, 1000); }
  }

  function left(body) {
    if (!body) { return; }
    if (body.ends_in > lead) {
      hide();
      wait(body.ends_in - lead);
    } else {
      show(body.ends_in, body.can_be_kept);
    }
  }

  function ask() {
    fetch("/session/left", {
      headers: {"X-Integrator-Background": "1"}, credentials: "same-origin", cache: "no-store"
    }).then(answered).then(left).catch(function () { wait(30); });  // no answer: ask again
  }

  // Alt+K presses it from anywhere while it shows (aria-keyshortcuts says so): tabbing back to
  // it through a long list took longer than the warning lasts. The keyboard's focus stays, or
  // goes back, where the person was, so they type on there.
  var before = null;
  document.addEventListener("focusin", function (event) {
    if (event.target instanceof HTMLElement && event.target.id !== "session-keep") {
      before = event.target;
    }
  });
  var keep = document.getElementById("session-keep");
  document.addEventListener("keydown", function (event) {
    if (box.hidden || keep.offsetParent === null) { return; }  // shown, and may be kept
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key !== "k" && event.key !== "K" && event.code !== "KeyK") { return; }
    event.preventDefault();
    keep.click();
  });
  keep.addEventListener("click", function () {
    fetch("/session/keep", {
      method: "POST", headers: {"X-CSRF-Token": csrf()}, credentials: "same-origin",
      cache: "no-store"
    }).then(answered).then(left).then(function () {
      if (document.activeElement === keep && before !== null) { before.focus(); }
    }).catch(function () { /* the warning stays: try again */ });
  });

  // A request the person makes through htmx (a click, not a timer) is activity on the
  // server: the wait starts again, or, while the warning shows, the server is asked anew.
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (!config || !config.triggeringEvent) { return; }
    wait(box.hidden ? checkAfter : 0);
  });

  wait(checkAfter);
})();
