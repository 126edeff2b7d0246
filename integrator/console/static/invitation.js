// The invitation's secret is in the link's fragment (#...), which browsers never send to a
// server. Move it into the form's body, take it out of the address bar, and submit.
(function () {
  "use strict";
  var secret = window.location.hash.slice(1);
  if (!secret) { return; }
  history.replaceState(null, "", window.location.pathname);
  var form = document.getElementById("invitation-link");
  form.elements.secret.value = decodeURIComponent(secret);
  form.submit();
})();
