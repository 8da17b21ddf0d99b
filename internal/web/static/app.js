// clientarea's only script. Every page works without it; it adds a copy
// button for the secret key on the enrolment page, and keeps that page at
// its top. Content-Security-Policy
// allows scripts from this site only, so nothing here may be inline.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = button.dataset.copied;
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });

  // The enrolment page focuses the code field, as the customer types the
  // code last; the browser then scrolls to it, past the QR code that comes
  // first. Keep the focus but show the page from the top.
  var code = document.querySelector("input[autofocus]");
  if (code && document.querySelector("img.qr")) {
    code.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  // Close the account menu with Escape, and when focus or a click leaves it.
  document.querySelectorAll("details.account-menu").forEach(function (menu) {
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) {
        menu.open = false;
      }
    });
  });
});
