// The share page's passcode form: a "Show passcode" switch, and the form sent once. Progressive
// enhancement only: without this script the form works as it is, with the passcode masked.
(function () {
  "use strict";
  var input = document.getElementById("passcode");
  var toggle = document.getElementById("show-passcode");
  if (input && toggle) {
    toggle.parentElement.hidden = false;
    toggle.addEventListener("change", function () {
      input.type = toggle.checked ? "text" : "password";
    });
  }

  // A double tap sends the form twice while the first passcode check runs: the second POST
  // is refused by the Argon2 gate (one place per client), and its "Service busy" page replaces
  // the notes the first one opened, with a view spent. Later submits are ignored until the
  // page is left. The button stays enabled and focused, only marked (aria-disabled, the form
  // aria-busy): disabled, it would drop the focus and read as if the form could not be sent.
  var form = input && input.form;
  var button = form && form.querySelector("button[type=submit]");
  if (!button) return;
  function mark(sent) {
    if (sent) {
      form.setAttribute("aria-busy", "true");
      button.setAttribute("aria-disabled", "true");
    } else {
      form.removeAttribute("aria-busy");
      button.removeAttribute("aria-disabled");
    }
  }
  form.addEventListener("submit", function (event) {
    if (form.hasAttribute("aria-busy")) {
      event.preventDefault();
      return;
    }
    mark(true);
  });
  // Back from the next page out of the back/forward cache, the form is as it was left: sent.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) mark(false);
  });
})();
