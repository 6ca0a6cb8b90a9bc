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

  // Fields with a maxlength: the browser cuts a longer paste or stops typing without a word, so a
  // 10,000-character 提议理由 became 1,000 unnoticed. Say so beside the field when the limit applies.
  function limitNote(field) {
    var note = field.nextElementSibling;
    if (!note || !note.hasAttribute("data-limit-note")) {
      note = document.createElement("small");
      note.className = "limit-note";
      note.setAttribute("data-limit-note", "");
      note.setAttribute("role", "status");
      field.insertAdjacentElement("afterend", note);
    }
    return note;
  }
  function limited(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA") && target.maxLength > 0;
  }
  document.addEventListener("paste", function (e) {
    var field = e.target;
    if (!limited(field) || !e.clipboardData) { return; }
    var pasted = e.clipboardData.getData("text") || "";
    var kept = field.value.length - Math.abs((field.selectionEnd || 0) - (field.selectionStart || 0));
    var over = kept + pasted.length - field.maxLength;
    if (over > 0) {
      limitNote(field).textContent = "此栏最多 " + field.maxLength + " 字：粘贴的内容超出 " + over + " 字，超出部分未能粘贴，请精简后再填。";
      field.setAttribute("data-limit-cut", "");
    }
  }, true);
  document.addEventListener("input", function (e) {
    var field = e.target;
    if (!limited(field)) { return; }
    if (field.hasAttribute("data-limit-cut")) { field.removeAttribute("data-limit-cut"); return; }  // keep the paste's note
    if (field.value.length >= field.maxLength) {
      limitNote(field).textContent = "已达此栏上限 " + field.maxLength + " 字。";
    } else if (field.nextElementSibling && field.nextElementSibling.hasAttribute("data-limit-note")) {
      field.nextElementSibling.remove();
    }
  }, true);

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
