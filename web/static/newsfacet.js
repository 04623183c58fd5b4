// Enhancements only: every feature works without this script.
(function () {
  "use strict";
  // "Copy link": the address bar already is the saved link; this copies it in one click.
  document.querySelectorAll("button.copy-link").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy link"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); document.execCommand("copy"); done(); });
      } else {
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });
  // Filters: closed in a disclosure on narrow screens (CSS keeps them shown on wide ones where it can);
  // where CSS cannot (no ::details-content), open the disclosure while the screen is wide.
  var filters = document.getElementById("filters");
  var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (filters && !supported && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 761px)");
    var follow = function () { if (wide.matches) filters.open = true; };
    follow();
    if (wide.addEventListener) wide.addEventListener("change", follow);
  }
  // "/" focuses the search box, as on most search sites.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "/" && tag !== "input" && tag !== "textarea") {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    }
  });
})();
