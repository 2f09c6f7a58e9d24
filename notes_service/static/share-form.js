// The share page's passcode form: a "Show passcode" switch. Progressive enhancement only:
// without this script the form works as it is, with the passcode masked.
(function () {
  "use strict";
  var input = document.getElementById("passcode");
  var toggle = document.getElementById("show-passcode");
  if (!input || !toggle) return;
  toggle.parentElement.hidden = false;
  toggle.addEventListener("change", function () {
    input.type = toggle.checked ? "text" : "password";
  });
})();
