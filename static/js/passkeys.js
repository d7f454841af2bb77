// Haven's glue around django-otp-webauthn's scripts (served as static files: the Content
// Security Policy allows no inline script). The library fires these events on the page.
"use strict";

// A passkey was added: go where the server says (the new recovery codes, or the two-factor
// page), keeping the page the user first asked for.
document.addEventListener("otp_webauthn.register_complete", function (event) {
  var answer = (event.detail && event.detail.response) || {};
  var url = new URL(answer.redirect_url || window.location.href, window.location.origin);
  var next = document.getElementById("mfa-next");
  if (next && next.value) {
    url.searchParams.set("next", next.value);
  }
  window.location.assign(url.toString());
});

// Too many failures: reload, and the page says that sign-in is locked.
function reloadWhenLockedOut(event) {
  var response = event.detail && event.detail.response;
  if (response && response.status === 429) {
    window.location.reload();
  }
}
document.addEventListener("otp_webauthn.verification_failed", reloadWhenLockedOut);
document.addEventListener("otp_webauthn.register_failed", reloadWhenLockedOut);
