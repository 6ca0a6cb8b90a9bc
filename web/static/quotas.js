// The quota calculator: the category select narrows the tier select to its
// category (the server works with the tier's code alone, so without script the
// grouped list still does the job).
(function () {
  "use strict";

  document.querySelectorAll("[data-quota-calculator]").forEach(function (form) {
    var category = form.querySelector("[data-calc-category]");
    var code = form.querySelector("[data-calc-code]");
    if (!category || !code) { return; }
    var groups = Array.prototype.slice.call(code.querySelectorAll("optgroup"));
    var placeholder = code.querySelector("option[value='']");

    function narrow() {
      var wanted = category.value;
      var selected = code.value;
      code.textContent = "";
      code.appendChild(placeholder);
      groups.forEach(function (g) {
        if (!wanted || g.getAttribute("data-category") === wanted) { code.appendChild(g); }
      });
      code.value = selected;
      if (code.value !== selected) { code.value = ""; }
    }

    category.addEventListener("change", narrow);
    code.addEventListener("change", function () {
      var option = code.options[code.selectedIndex];
      var group = option && option.parentNode;
      if (group && group.tagName === "OPTGROUP" && category.value !== group.getAttribute("data-category")) {
        category.value = group.getAttribute("data-category");
      }
    });
    narrow();
  });
})();
