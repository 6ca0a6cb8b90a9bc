// Small progressive enhancements shared by every page. No inline script:
// pages carry data in data-* attributes and this file wires them up.
(function () {
  "use strict";

  document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  function setAll(open) {
    document.querySelectorAll("details").forEach(function (d) { d.open = open; });
  }
  document.querySelectorAll("[data-expand-all]").forEach(function (b) { b.addEventListener("click", function () { setAll(true); }); });
  document.querySelectorAll("[data-collapse-all]").forEach(function (b) { b.addEventListener("click", function () { setAll(false); }); });

  // "Add to my table": the drafting workspace keeps its work in localStorage.
  var STORE = "zhibiao.draft";
  window.zhibiaoDraft = {
    load: function () {
      try { return JSON.parse(localStorage.getItem(STORE)) || null; } catch (e) { return null; }
    },
    save: function (table) { localStorage.setItem(STORE, JSON.stringify(table)); },
    addRow: function (row) {
      var table = this.load() || { project: {}, goal: "", indicators: [] };
      var exists = table.indicators.some(function (r) { return r.code && r.code === row.code; });
      if (!exists) { table.indicators.push(row); this.save(table); }
      return !exists;
    }
  };
  document.querySelectorAll("[data-add-to-table]").forEach(function (button) {
    button.addEventListener("click", function () {
      var holder = button.closest("[data-indicator]");
      var data = JSON.parse(holder.getAttribute("data-indicator"));
      var added = window.zhibiaoDraft.addRow({
        level1: data.level1, level2: data.level2, name: data.name, operator: data.operator,
        value: data.value, unit: data.unit, code: data.code
      });
      button.textContent = added ? "已加入我的绩效目标表" : "已在我的绩效目标表中";
    });
  });
})();
