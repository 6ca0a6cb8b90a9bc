// The search page on a phone: the filters start folded, so the results come first.
(function () {
  "use strict";
  if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    document.querySelectorAll("[data-facet-box]").forEach(function (d) { d.open = false; });
  }
})();
