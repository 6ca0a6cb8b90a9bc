// The drafting workspace (/draft). The table lives in localStorage
// ("zhibiao.draft", the DESIGN §9 shape, shared with "add to my table" on the
// indicator pages); what the server said about it (reasons, other candidates,
// quota standards) in "zhibiao.draft.extra". Every change is saved at once, so
// a reload loses nothing. The server is asked through the page's same-origin
// JSON twins: suggest, quotas, check (debounced), row, export, import.
(function () {
  "use strict";

  var root = document.querySelector("[data-draft]");
  if (!root || !window.zhibiaoDraft) { return; }

  var EXTRA = "zhibiao.draft.extra";
  var CHECK_DELAY = 500;
  var QUOTA_DELAY = 800;
  var ROW_FIELDS = ["level1", "level2", "name", "operator", "value", "unit", "code"];
  var PROJECT_FIELDS = ["name", "description", "sector", "department", "project_type", "budget_wan_yuan",
                        "implementing_unit", "year", "fiscal_wan_yuan", "other_wan_yuan"];
  var AMOUNT_FIELDS = ["budget_wan_yuan", "fiscal_wan_yuan", "other_wan_yuan", "year"];  // numbers when they are numbers
  // monitoring and self-evaluation: kept only when filled in, so a plain target table keeps its shape
  var MONITOR_FIELDS = ["budget_executed_wan_yuan", "as_of"];
  var RESULT_FIELDS = ["actual", "self_score"];
  var SEVERITY = { error: "错误", warning: "提醒", info: "提示" };

  var store = window.zhibiaoDraft;
  var dims = JSON.parse(root.getAttribute("data-dims"));
  var version = root.getAttribute("data-version");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var url = function (name) { return root.getAttribute("data-" + name + "-url"); };

  var form = root.querySelector("[data-project-form]");
  var goalBox = root.querySelector("[data-goal]");
  var tbody = root.querySelector("[data-rows]");
  var statusText = root.querySelector("[data-status]");
  var savedText = root.querySelector("[data-saved]");
  var undoButton = root.querySelector("[data-undo]");
  var errorBar = root.querySelector("[data-error]");
  var monitorForm = root.querySelector("[data-monitor-form]");
  var monitorRows = root.querySelector("[data-monitor-rows]");
  var monitorResult = root.querySelector("[data-monitor-result]");

  var state = normaliseTable(store.load());
  var extra = loadExtra();
  var revision = 0;  // bumped by every change
  var layout = 0;  // bumped when rows move, appear or go: row numbers of an older check no longer fit
  var lastCheck = null;  // {revision, layout, result}
  var findings = [];
  var undo = null;
  var checkTimer = null;
  var quotaTimer = null;
  var statedTimer = null;
  var STATED_DELAY = 600;

  // --- the table and what is kept --------------------------------------------------------

  function emptyTable() {
    return { project: { name: "", description: "", sector: "", department: "", project_type: "", budget_wan_yuan: null },
             goal: "", indicators: [] };
  }

  function text(v) { return v === null || v === undefined ? "" : String(v); }

  function normaliseRow(r) {
    var row = {};
    ROW_FIELDS.forEach(function (f) { row[f] = text(r && r[f]); });
    if (r && r.basis) { row.basis = text(r.basis); }
    RESULT_FIELDS.forEach(function (f) { if (r && text(r[f]) !== "") { row[f] = text(r[f]); } });
    return row;
  }

  function normaliseTable(t) {
    var table = emptyTable();
    if (!t || typeof t !== "object") { return table; }
    var p = t.project || {};
    PROJECT_FIELDS.forEach(function (f) {
      if (AMOUNT_FIELDS.indexOf(f) >= 0) { table.project[f] = p[f] === undefined || p[f] === "" ? null : p[f]; }
      else { table.project[f] = text(p[f]); }
    });
    MONITOR_FIELDS.forEach(function (f) { if (text(p[f]) !== "") { table.project[f] = text(p[f]); } });
    table.goal = text(t.goal);
    table.indicators = Array.isArray(t.indicators) ? t.indicators.map(normaliseRow) : [];
    return table;
  }

  function loadExtra() {
    try { return JSON.parse(localStorage.getItem(EXTRA)) || {}; } catch (e) { return {}; }
  }

  function save() {
    store.save(state);
    localStorage.setItem(EXTRA, JSON.stringify(extra));
    var now = new Date();
    savedText.textContent = "已自动保存 " + now.toLocaleTimeString("zh-CN", { hour12: false });
  }

  function snapshot() { return JSON.stringify({ state: state, extra: extra }); }

  function offerUndo(message) {
    undo = snapshot();
    return message;
  }

  // --- talking to the server -----------------------------------------------------------------

  function withVersion(u) { return u + (u.indexOf("?") < 0 ? "?" : "&") + "version=" + encodeURIComponent(version); }

  function failure(response) {
    return response.json().then(function (data) {
      var err = new Error(data.message || ("请求失败（" + response.status + "）"));
      err.problems = data.errors || [];
      throw err;
    }, function () { throw new Error("服务器返回错误（" + response.status + "），请稍后重试"); });
  }

  function send(u, options) {
    options.headers = Object.assign({ "X-CSRFToken": csrf, Accept: "application/json" }, options.headers || {});
    return fetch(withVersion(u), options).then(function (r) {
      if (!r.ok) { return failure(r); }
      return r;
    }, function () { throw new Error("无法连接服务器，请检查网络后重试；已填写的内容保存在本浏览器中"); });
  }

  function postJSON(u, body) {
    return send(u, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }

  function projectForServer() {
    var p = {};
    PROJECT_FIELDS.forEach(function (f) { p[f] = state.project[f]; });
    AMOUNT_FIELDS.forEach(function (f) {
      var b = text(p[f]).trim();
      p[f] = b === "" ? null : (isFinite(Number(b)) ? Number(b) : b);
    });
    MONITOR_FIELDS.forEach(function (f) { if (text(state.project[f]).trim() !== "") { p[f] = text(state.project[f]).trim(); } });
    return p;
  }

  function tableForServer() {
    return { project: projectForServer(), goal: state.goal, indicators: state.indicators.map(normaliseRow) };
  }

  // --- messages ----------------------------------------------------------------------------

  function say(message, undoable) {
    statusText.textContent = message;
    undoButton.hidden = !undoable;
    hideError();
  }

  function showError(err) {
    errorBar.textContent = "";
    var p = document.createElement("p");
    p.textContent = err.message || String(err);
    errorBar.appendChild(p);
    // The server's message already states its first problem ("项目信息不正确：预算金额（万元）：…"); listing that
    // one again under it said every single mistake twice.
    var problems = (err.problems || []).slice();
    if (problems.length) {
      var first = String(problems[0]);
      var said = first.slice(first.lastIndexOf(": ") + 1).trim();
      if (said && p.textContent.indexOf(said) >= 0) { problems.shift(); }
    }
    if (problems.length) {
      var ul = document.createElement("ul");
      problems.slice(0, 20).forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m;
        ul.appendChild(li);
      });
      errorBar.appendChild(ul);
    }
    errorBar.hidden = false;
  }

  function hideError() { errorBar.hidden = true; errorBar.textContent = ""; }

  // --- elements ----------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (attrs[k] === true) { node.setAttribute(k, ""); }
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }

  function select(options, value, attrs) {
    var s = el("select", attrs);
    var list = options.slice();
    if (value && list.indexOf(value) < 0) { list.unshift(value); }
    if (!value) { s.appendChild(el("option", { value: "", text: "（请选择）" })); }
    list.forEach(function (o) { s.appendChild(el("option", { value: o, text: o, selected: o === value })); });
    s.value = value;
    return s;
  }

  function level1s() { return dims.levels.map(function (l) { return l.level1; }); }

  function level2s(level1) {
    var hit = dims.levels.filter(function (l) { return l.level1 === level1; })[0];
    return hit ? hit.level2 : [];
  }

  function link(kind, code) { return url(kind).replace("__CODE__", encodeURIComponent(code)); }

  // --- the project form and the goal ------------------------------------------------------------

  function fillForm() {
    PROJECT_FIELDS.forEach(function (f) {
      var field = form.elements[f];
      var value = text(state.project[f]);
      if (field.tagName === "SELECT" && value && !Array.prototype.some.call(field.options, function (o) { return o.value === value; })) {
        field.appendChild(el("option", { value: value, text: value }));  // a sector or type typed elsewhere (an import)
      }
      field.value = value;
    });
    goalBox.value = state.goal;
    MONITOR_FIELDS.forEach(function (f) { monitorForm.elements[f].value = text(state.project[f]); });
  }

  form.addEventListener("input", function (e) {
    var f = e.target.name;
    if (PROJECT_FIELDS.indexOf(f) < 0) { return; }
    state.project[f] = AMOUNT_FIELDS.indexOf(f) >= 0 ? budgetValue(e.target.value) : e.target.value;
    changed(false);
    scheduleQuotas();
  });

  // 万元 as a number, as in DESIGN §9; text that is not one is kept for the server to explain
  function budgetValue(raw) {
    var t = text(raw).trim();
    if (t === "") { return null; }
    return /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
  }
  form.addEventListener("change", function (e) {
    if (e.target.tagName === "SELECT") { state.project[e.target.name] = e.target.value; changed(false); scheduleQuotas(); }
  });
  goalBox.addEventListener("input", function () { state.goal = goalBox.value; changed(false); scheduleStated(); });
  form.elements.description.addEventListener("input", scheduleStated);
  form.elements.budget_wan_yuan.addEventListener("input", scheduleStated);

  // --- what the summary states: a budget and quantities, shown to confirm ----------------------------

  var statedBox = root.querySelector("[data-stated]");

  function scheduleStated() {
    clearTimeout(statedTimer);
    statedTimer = setTimeout(askStated, STATED_DELAY);
  }

  function askStated() {
    var summary = [text(state.project.description), text(state.goal)].join("\n").trim();
    if (!summary) { renderStated(null); return; }
    var asked = summary;
    postJSON(url("stated"), { text: summary }).then(function (data) {
      var now = [text(state.project.description), text(state.goal)].join("\n").trim();
      if (now === asked) { renderStated(data); }
    }, function () { renderStated(null); });
  }

  function renderStated(data) {
    statedBox.textContent = "";
    var lines = [];
    if (data && data.budget_wan_yuan !== null && data.budget_wan_yuan !== undefined) {
      var field = form.elements.budget_wan_yuan;
      var given = /^\d+(\.\d+)?$/.test(field.value.trim()) ? Number(field.value.trim()) : null;
      if (given === null || Math.abs(given - data.budget_wan_yuan) > 1e-6) {
        var fill = el("button", { type: "button", "class": "link", "data-fill-budget": "", text: "填入" });
        fill.addEventListener("click", function () {
          field.value = String(Number(data.budget_wan_yuan.toFixed(2)));  // a plain number: the field reads 万元
          field.dispatchEvent(new Event("input", { bubbles: true }));
          field.focus();
        });
        var said = field.value.trim() ? "，与年度资金总额 " + field.value.trim() + " 不一致" : "";
        lines.push(el("p", { "data-stated-budget": "" }, [
          "概述中写有预算 " + money(data.budget_wan_yuan) + " 万元（“" + data.budget_phrase + "”）" + said + "，是否填入年度资金总额？ ", fill]));
      }
    }
    if (data && data.quantities && data.quantities.length) {
      lines.push(el("p", { "data-stated-quantities": "" }, [
        "概述中写有数量：" + data.quantities.join("、") + "。成本测算按这些数量计算，请核对。"]));
    }
    lines.forEach(function (p) { statedBox.appendChild(p); });
    statedBox.hidden = !lines.length;
  }

  // --- rows ------------------------------------------------------------------------------------

  function groupLabel(row) {
    return (row.level1 || "（未选一级指标）") + " › " + (row.level2 || "（未选二级指标）");
  }

  function rowElement(row, i, n) {
    var tr = el("tr", { "class": "row", "data-index": i });
    var name = el("input", { type: "text", value: row.name, "data-field": "name", "aria-label": "第" + (i + 1) + "行 三级指标名称", placeholder: "指标名称" });
    var nameCell = el("td", { "class": "col-name", "data-label": "三级指标" }, [name]);
    var reason = extra.reasons && row.code ? extra.reasons[row.code] : "";
    if (row.code || reason) {
      var info = el("div", { "class": "row-info" });
      if (row.code) { info.appendChild(el("a", { href: link("indicator", row.code), target: "_blank", rel: "noopener", "class": "code", text: row.code })); }
      if (reason) { info.appendChild(el("span", { "class": "reason", text: " " + reason })); }
      nameCell.appendChild(info);
    }
    var label = "第" + (i + 1) + "行" + (row.name ? "“" + row.name + "”" : "");
    tr.appendChild(el("td", { "class": "col-n", "data-label": "序号", text: String(i + 1) }));
    tr.appendChild(el("td", { "class": "col-l1", "data-label": "一级指标" }, [select(level1s(), row.level1, { "data-field": "level1", "aria-label": label + " 一级指标" })]));
    tr.appendChild(el("td", { "class": "col-l2", "data-label": "二级指标" }, [select(level2s(row.level1), row.level2, { "data-field": "level2", "aria-label": label + " 二级指标" })]));
    tr.appendChild(nameCell);
    tr.appendChild(el("td", { "class": "col-op", "data-label": "指标性质" }, [select(dims.operators, row.operator, { "data-field": "operator", "aria-label": label + " 指标性质" })]));
    tr.appendChild(el("td", { "class": "col-value", "data-label": "指标值" }, [el("input", { type: "text", value: row.value, "data-field": "value", "aria-label": label + " 指标值", placeholder: "指标值" })]));
    tr.appendChild(el("td", { "class": "col-unit", "data-label": "计量单位" }, [el("input", { type: "text", value: row.unit, "data-field": "unit", "aria-label": label + " 计量单位", placeholder: "单位" })]));
    tr.appendChild(el("td", { "class": "col-check", "data-label": "审核意见" }, [el("div", { "class": "findings", "data-row-findings": i })]));
    tr.appendChild(el("td", { "class": "col-act", "data-label": "操作" }, [
      el("button", { type: "button", "data-action": "up", "data-index": i, disabled: i === 0, "aria-label": "上移" + label, title: "上移", text: "↑" }),
      el("button", { type: "button", "data-action": "down", "data-index": i, disabled: i === n - 1, "aria-label": "下移" + label, title: "下移", text: "↓" }),
      el("button", { type: "button", "data-action": "remove", "data-index": i, "class": "danger", "aria-label": "删除" + label, title: "删除", text: "删除" })
    ]));
    return tr;
  }

  function renderRows(focus) {
    tbody.textContent = "";
    var previous = null;
    var n = state.indicators.length;
    state.indicators.forEach(function (row, i) {
      var group = groupLabel(row);
      if (group !== previous) {
        tbody.appendChild(el("tr", { "class": "group-row" }, [el("th", { colspan: "9", scope: "colgroup", text: group })]));
        previous = group;
      }
      tbody.appendChild(rowElement(row, i, n));
    });
    root.querySelector("[data-row-count]").textContent = n ? "（" + n + " 行）" : "";
    root.querySelector("[data-empty-rows]").hidden = n > 0;
    renderFindings();
    markAddedSuggestions();
    renderMonitorRows();
    if (focus) {
      var target = tbody.querySelector(focus);
      if (target && target.disabled) {  // a row moved to the top or bottom: its other arrow, else its delete button
        var tr = target.closest("tr");
        target = tr.querySelector("button[data-action]:not([disabled])");
      }
      if (target) { target.focus(); }
    }
  }

  tbody.addEventListener("input", function (e) {
    var field = e.target.getAttribute("data-field");
    var tr = e.target.closest("tr[data-index]");
    if (!field || !tr || e.target.tagName === "SELECT") { return; }
    var i = Number(tr.getAttribute("data-index"));
    state.indicators[i][field] = e.target.value;
    changed(false);
    staleRow(i);
    renderMonitorRows();
  });

  tbody.addEventListener("change", function (e) {
    var field = e.target.getAttribute("data-field");
    var tr = e.target.closest("tr[data-index]");
    if (!field || !tr || e.target.tagName !== "SELECT") { return; }
    var i = Number(tr.getAttribute("data-index"));
    state.indicators[i][field] = e.target.value;
    if (field === "level1" && level2s(e.target.value).indexOf(state.indicators[i].level2) < 0) {
      state.indicators[i].level2 = "";
    }
    changed(false);
    if (field === "level1" || field === "level2") {
      renderRows('tr[data-index="' + i + '"] [data-field="' + field + '"]');
    }
  });

  tbody.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    if (action === "fix") { applyFix(Number(button.getAttribute("data-finding"))); return; }
    var i = Number(button.getAttribute("data-index"));
    if (action === "up" || action === "down") { move(i, action === "up" ? -1 : 1); }
    else if (action === "remove") { removeRow(i); }
  });

  function move(i, by) {
    var j = i + by;
    if (j < 0 || j >= state.indicators.length) { return; }
    var rows = state.indicators;
    var tmp = rows[i]; rows[i] = rows[j]; rows[j] = tmp;
    changed(true);
    renderRows('button[data-action="' + (by < 0 ? "up" : "down") + '"][data-index="' + j + '"]');
    say("已将“" + (rows[j].name || "该行") + "”移到第 " + (j + 1) + " 行");
  }

  function removeRow(i) {
    var message = offerUndo("已删除“" + (state.indicators[i].name || "空白行") + "”");
    state.indicators.splice(i, 1);
    changed(true);
    var next = Math.min(i, state.indicators.length - 1);
    renderRows(next >= 0 ? 'button[data-action="remove"][data-index="' + next + '"]' : null);
    if (next < 0) { root.querySelector("#add-indicator").focus(); }
    say(message, true);
  }

  function dimOrder(row) {
    var l1 = level1s().indexOf(row.level1);
    var l2 = level2s(row.level1).indexOf(row.level2);
    return [l1 < 0 ? 99 : l1, l2 < 0 ? 99 : l2];
  }

  // Where a new row goes: after its 二级's rows, else after its 一级's, else in template order.
  function insertRow(row) {
    var rows = state.indicators;
    var at = -1;
    rows.forEach(function (r, k) { if (r.level1 === row.level1 && r.level2 === row.level2) { at = k + 1; } });
    if (at < 0) {
      var mine = dimOrder(row);
      rows.forEach(function (r, k) {
        var o = dimOrder(r);
        if (o[0] < mine[0] || (o[0] === mine[0] && o[1] <= mine[1])) { at = k + 1; }
      });
      if (at < 0) { at = mine[0] === 99 ? rows.length : 0; }
    }
    rows.splice(at, 0, normaliseRow(row));
    return at;
  }

  function hasCode(code) {
    return code && state.indicators.some(function (r) { return r.code === code; });
  }

  function addRow(row, reason) {
    if (hasCode(row.code)) {
      var k = state.indicators.map(function (r) { return r.code; }).indexOf(row.code);
      say("“" + row.name + "”已在表中（第 " + (k + 1) + " 行）");
      var existing = tbody.querySelector('tr[data-index="' + k + '"] [data-field="value"]');
      if (existing) { existing.focus(); }
      return;
    }
    if (reason && row.code) { extra.reasons = extra.reasons || {}; extra.reasons[row.code] = reason; }
    var at = insertRow(row);
    changed(true);
    renderRows('tr[data-index="' + at + '"] [data-field="value"]');
    say("已添加“" + (row.name || "空白行") + "”（第 " + (at + 1) + " 行）");
  }

  root.querySelector("[data-add-blank]").addEventListener("click", function () {
    state.indicators.push(normaliseRow({}));
    changed(true);
    renderRows('tr[data-index="' + (state.indicators.length - 1) + '"] [data-field="name"]');
    say("已添加空白行");
  });

  // the typeahead (static/typeahead.js) hands us the picked indicator
  var addBox = root.querySelector("#add-indicator");
  addBox.addEventListener("typeahead-pick", function (e) {
    e.preventDefault();
    addBox.value = "";
    if (hasCode(e.detail.code)) { addRow({ code: e.detail.code, name: e.detail.text }); return; }
    send(url("row") + "?code=" + encodeURIComponent(e.detail.code), { method: "GET" })
      .then(function (r) { return r.json(); })
      .then(function (data) { addRow(data.row, data.reason); }, showError);
  });

  // --- the check ---------------------------------------------------------------------------------

  function fixable(f) {
    if (!f.fix) { return false; }
    return Boolean(f.fix.row) || (f.rule === "C01" && Boolean(f.fix.text));
  }

  function fixLabel(f) {
    if (f.fix.row && !f.row) { return "添加此指标"; }
    if (!f.fix.row) { return "填入总体目标"; }
    return "采用建议";
  }

  function findingElement(f, k) {
    var box = el("div", { "class": "finding sev-" + f.severity, "data-rule": f.rule }, [
      el("span", { "class": "sev", text: SEVERITY[f.severity] || f.severity }), " ",
      el("span", { "class": "msg", text: f.message })
    ]);
    if (f.fix) {
      var advice = el("div", { "class": "advice", text: "建议：" + f.fix.message });
      box.appendChild(advice);
      if (fixable(f)) {
        box.appendChild(el("button", { type: "button", "class": "fix", "data-action": "fix", "data-finding": k,
                                       "aria-label": fixLabel(f) + "：" + f.fix.message, text: fixLabel(f) }));
      }
    }
    return box;
  }

  function renderFindings() {
    var tableBox = root.querySelector("[data-table-findings]");
    var summary = root.querySelector("[data-check-summary]");
    // each check replaces what an earlier one said, in the table box and in every row
    tableBox.textContent = "";
    tbody.querySelectorAll("[data-row-findings]").forEach(function (cell) { cell.textContent = ""; });
    if (!lastCheck || lastCheck.layout !== layout) {
      // rows moved, came or went since the last check: its findings and its badge no longer fit
      findings = [];
      if (lastCheck) { summary.textContent = ""; summary.appendChild(el("span", { "class": "muted", "data-checking": "", text: "正在重新审核…" })); }
      return;
    }
    findings = lastCheck.result.findings || [];
    var counts = { error: 0, warning: 0 };
    findings.forEach(function (f, k) {
      if (f.rule === "C16") { return; }
      if (counts[f.severity] !== undefined) { counts[f.severity] += 1; }
      var cell = f.row ? tbody.querySelector('[data-row-findings="' + (f.row - 1) + '"]') : null;
      (cell || tableBox).appendChild(findingElement(f, k));
    });
    tbody.querySelectorAll("[data-row-findings]").forEach(function (cell) {
      if (!cell.childNodes.length) { cell.appendChild(el("span", { "class": "ok", text: "✓ 通过" })); }
    });
    var r = lastCheck.result;
    summary.textContent = "";
    summary.appendChild(el("span", { "class": "grade grade-" + r.grade, "data-grade": r.grade, text: "审核：" + r.grade }));
    summary.appendChild(el("span", { "class": "muted", text: " " + r.score + " 分 · " + counts.error + " 项错误 · " + counts.warning + " 项提醒" + (r.meaning ? " · " + r.meaning : "") }));
  }

  // what the last check said of a row no longer fits once the row changes: cleared at once, and the
  // summary says a new check is coming, so the badge never disagrees with the rows
  function staleRow(i) {
    var cell = tbody.querySelector('[data-row-findings="' + i + '"]');
    if (cell) { cell.textContent = ""; cell.appendChild(el("span", { "class": "muted", text: "审核中…" })); }
    var summary = root.querySelector("[data-check-summary]");
    summary.textContent = "";
    summary.appendChild(el("span", { "class": "muted", "data-checking": "", text: "正在重新审核…" }));
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(runCheck, CHECK_DELAY);
  }

  function runCheck() {
    clearTimeout(checkTimer);
    var summary = root.querySelector("[data-check-summary]");
    if (text(state.project.name).trim().length < 2) {
      lastCheck = null;
      renderFindings();
      summary.textContent = "填写项目名称后自动审核";
      return;
    }
    var asked = { revision: revision, layout: layout };
    summary.setAttribute("aria-busy", "true");
    postJSON(url("check"), tableForServer()).then(function (result) {
      summary.removeAttribute("aria-busy");
      if (asked.revision !== revision) { return; }  // the table changed meanwhile; a newer check is on its way
      lastCheck = { revision: asked.revision, layout: asked.layout, result: result };
      renderFindings();
    }, function (err) {
      summary.removeAttribute("aria-busy");
      if (asked.revision !== revision) { return; }
      summary.textContent = "审核未完成：" + err.message;
    });
  }

  function applyFix(k) {
    var f = findings[k];
    if (!f || !fixable(f)) { return; }
    var before = snapshot();
    var message;
    if (f.fix.row && f.row && state.indicators[f.row - 1]) {
      var old = state.indicators[f.row - 1];
      var fixed = normaliseRow(f.fix.row);
      RESULT_FIELDS.forEach(function (k) { if (old[k] !== undefined) { fixed[k] = old[k]; } });  // figures typed in section 5 stay
      state.indicators[f.row - 1] = fixed;
      message = "已采用建议（第 " + f.row + " 行）：" + f.fix.message;
      if (!fixed.value) {  // the library knows the operator and unit, not this project's number
        message = "已补全第 " + f.row + " 行的指标性质和计量单位；请在“指标值”中填写数字" + (fixed.unit ? "（单位：" + fixed.unit + "）" : "");
      }
      changed(true);
      renderRows('tr[data-index="' + (f.row - 1) + '"] [data-field="value"]');
    } else if (f.fix.row) {
      if (f.fix.source && extra.reasons) { extra.reasons[f.fix.source] = "审核建议补充"; }
      var at = insertRow(f.fix.row);
      message = "已添加“" + f.fix.row.name + "”（第 " + (at + 1) + " 行）";
      changed(true);
      renderRows('tr[data-index="' + at + '"] [data-field="value"]');
    } else {
      state.goal = f.fix.text;
      goalBox.value = state.goal;
      message = "已填入年度总体目标";
      changed(false);
      goalBox.focus();
    }
    undo = before;
    say(message, true);
    runCheck();
  }

  // --- recommendations, other candidates, quota standards ------------------------------------------

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (text(state.project.name).trim().length < 2) {
      showError(new Error("请先填写项目名称（至少2个字）"));
      form.elements.name.focus();
      return;
    }
    var button = root.querySelector("[data-suggest]");
    button.disabled = true;
    say("正在按项目信息推荐指标……");
    postJSON(url("suggest"), { project: projectForServer() }).then(function (data) {
      button.disabled = false;
      var before = snapshot();
      var hadRows = state.indicators.length > 0;
      state.indicators = data.table.indicators.map(normaliseRow);
      if (!text(state.goal).trim() || state.goal === extra.autoGoal) { state.goal = data.table.goal; }
      extra = { reasons: data.reasons || {}, groups: suggestionGroups(data), quotas: data.quotas || [],
                estimate: data.estimate, projectTypes: data.project_types || [], autoGoal: data.table.goal,
                similarCases: data.similar_cases || [] };
      undo = before;
      changed(true);
      renderAll();
      var types = extra.projectTypes.map(function (t) { return t.name; }).join("、");
      say("已生成推荐目标表：" + state.indicators.length + " 行指标" + (types ? "（项目类别：" + types + "）" : "") +
          (hadRows ? "，原有指标已替换" : "") + (data.warnings || []).map(function (w) { return "。注意：" + w; }).join(""),
          hadRows || (data.warnings || []).length > 0);
      runCheck();
    }, function (err) { button.disabled = false; say(""); showError(err); });
  });

  // The answer is the API's: groups name their suggestions by code, listed once under `indicators`.
  function suggestionGroups(data) {
    var byCode = {};
    (data.indicators || []).forEach(function (s) { byCode[s.code] = s; });
    return (data.groups || []).map(function (g) {
      return { level1: g.level1, level2: g.level2, required: g.required,
               suggestions: (g.codes || []).map(function (c) { return byCode[c]; }).filter(Boolean) };
    });
  }

  // suggestions kept in localStorage by an earlier version of this page carry `value`
  function suggestedValue(s) { return s.suggested_value !== undefined ? s.suggested_value : s.value; }

  function markAddedSuggestions() {
    root.querySelectorAll("[data-add-suggestion]").forEach(function (b) {
      var inTable = hasCode(b.getAttribute("data-add-suggestion"));
      b.disabled = inTable;
      b.textContent = inTable ? "已在表中" : "加入";
    });
  }

  function renderSuggestions() {
    var box = root.querySelector("[data-suggestions-box]");
    var list = root.querySelector("[data-suggestions]");
    list.textContent = "";
    var groups = (extra.groups || []).filter(function (g) { return g.suggestions && g.suggestions.length; });
    box.hidden = !groups.length;
    groups.forEach(function (g) {
      var ul = el("ul", { "class": "suggestion-list" });
      g.suggestions.forEach(function (s) {
        var value = [s.operator, suggestedValue(s), s.unit].filter(Boolean).join(" ");
        ul.appendChild(el("li", {}, [
          el("button", { type: "button", "data-add-suggestion": s.code, "aria-label": "加入" + s.name, text: "加入" }), " ",
          s.kind === "case" ? el("span", { "class": "case-indicator", text: s.name + "（案例指标）" })
            : el("a", { href: link("indicator", s.code), target: "_blank", rel: "noopener", text: s.name }), " ",
          el("span", { "class": "value", text: value }), " ",
          el("small", { "class": "reason", text: s.reason })
        ]));
      });
      list.appendChild(el("details", {}, [
        el("summary", { text: g.level1 + " › " + g.level2 + "（" + g.suggestions.length + "）" + (g.required ? " 必填" : "") }), ul
      ]));
    });
    var similar = extra.similarCases || [];
    if (similar.length) {
      var cases = el("ul", { "class": "similar-cases" });
      similar.forEach(function (c) {
        var where = [c.region, c.year ? c.year + "年" : ""].filter(Boolean).join("");
        var why = (c.words && c.words.length ? "共有“" + c.words.join("、") + "”" : "") + (c.reasons || []).map(function (r) { return "；" + r; }).join("");
        cases.appendChild(el("li", { "data-similar-case": c.code }, [
          el("span", { text: c.name + (where ? "（" + where + "）" : "") }), " ",
          el("small", { "class": "reason", text: why.replace(/^；/, "") })
        ]));
      });
      list.appendChild(el("details", { open: "open" }, [el("summary", { text: "相似的真实项目（" + similar.length + "）" }), cases]));
      box.hidden = false;
    }
    markAddedSuggestions();
  }

  root.querySelector("[data-suggestions]").addEventListener("click", function (e) {
    var button = e.target.closest("button[data-add-suggestion]");
    if (!button) { return; }
    var code = button.getAttribute("data-add-suggestion");
    (extra.groups || []).forEach(function (g) {
      (g.suggestions || []).forEach(function (s) {
        if (s.code === code && !hasCode(code)) {
          addRow({ level1: s.level1, level2: s.level2, name: s.name, operator: s.operator, value: suggestedValue(s), unit: s.unit,
                   code: s.code, basis: s.basis }, s.reason);
        }
      });
    });
  });

  function money(n) { return Number(n).toLocaleString("zh-CN", { maximumFractionDigits: 2 }); }

  function renderQuotas() {
    var box = root.querySelector("[data-quotas]");
    box.textContent = "";
    var quotas = extra.quotas || [];
    if (!quotas.length) {
      box.appendChild(el("p", { "class": "muted", text: text(state.project.name).trim().length < 2
        ? "填写项目信息后显示适用的支出定额标准；项目概况写明人数、天数等数量时给出测算。"
        : "未找到适用于本项目的支出定额标准。会议、培训、差旅等项目请在项目概况中写明。" }));
      return;
    }
    var rows = quotas.map(function (q) {
      return el("tr", { "class": q.selected ? "selected" : "" }, [
        el("td", { "data-label": "标准" }, [el("a", { href: link("quota", q.code), target: "_blank", rel: "noopener", text: q.name }),
                                            q.tier ? el("div", { "class": "muted tier", text: q.tier }) : null]),
        el("td", { "data-label": "金额", "class": "amount", text: money(q.amount) + " " + q.unit }),
        el("td", { "data-label": "依据", text: q.source }),
        el("td", { "data-label": "适用", text: (q.selected ? "✓ 适用档次；" : "") + q.reason })
      ]);
    });
    box.appendChild(el("table", { "class": "responsive quota-table" }, [
      el("thead", {}, [el("tr", {}, ["标准", "金额", "依据", "适用"].map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows)
    ]));
    var est = extra.estimate;
    if (est && est.lines && est.lines.length) {
      var wrap = el("div", { "class": "estimate", "data-estimate": "" }, [el("h3", { text: "成本测算" })]);
      est.lines.forEach(function (line) { wrap.appendChild(el("p", { "class": "formula", text: line.explanation })); });
      wrap.appendChild(el("p", { "class": "total" }, [el("strong", { text: "合计 " + money(est.total_yuan) + " 元（" + money(est.total_wan_yuan) + " 万元）" })]));
      var budget = Number(text(state.project.budget_wan_yuan));
      if (budget > 0) {
        wrap.appendChild(el("p", { "class": "muted", text: "预算 " + money(budget) + " 万元；测算为预算的 " + money(est.total_wan_yuan / budget * 100) + "%" }));
      }
      (est.notes || []).forEach(function (n) { wrap.appendChild(el("p", { "class": "notice", text: n })); });
      box.appendChild(wrap);
    } else {
      box.appendChild(el("p", { "class": "muted", text: "在项目概况中写明人数、天数、期数（如“培训班2期，每期80人，每期3天”）即可测算费用。" }));
    }
  }

  function scheduleQuotas() {
    clearTimeout(quotaTimer);
    quotaTimer = setTimeout(function () {
      if (text(state.project.name).trim().length < 2) { return; }
      var asked = revision;
      postJSON(url("quotas"), { project: projectForServer() }).then(function (data) {
        if (asked !== revision) { return; }
        extra.quotas = data.quotas || [];
        extra.estimate = data.estimate;
        save();
        renderQuotas();
      }, function () { /* the project is not complete yet; the check says what is missing */ });
    }, QUOTA_DELAY);
  }

  // --- import, export, clear, undo ------------------------------------------------------------

  function download(blob, name) {
    var a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function fileName(ext) {
    var name = text(state.project.name).replace(/[\\/:*?"<>|\s]+/g, "").slice(0, 60) || "项目";
    return "绩效目标表-" + name + "." + ext;
  }

  root.querySelector("[data-export-json]").addEventListener("click", function () {
    download(new Blob([JSON.stringify(tableForServer(), null, 2)], { type: "application/json" }), fileName("json"));
    say("已导出 JSON：" + fileName("json"));
  });

  root.querySelector("[data-export-xlsx]").addEventListener("click", function () {
    send(url("export"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(tableForServer()) })
      .then(function (r) { return r.blob(); })
      .then(function (blob) { download(blob, fileName("xlsx")); say("已导出 Excel：" + fileName("xlsx")); }, showError);
  });

  root.querySelector("[data-import]").addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) { return; }
    var data = new FormData();
    data.append("file", file);
    say("正在导入“" + file.name + "”……");
    send(url("import"), { method: "POST", body: data }).then(function (r) { return r.json(); }).then(function (result) {
      var before = snapshot();
      state = normaliseTable(result.table);
      extra = {};
      undo = before;
      changed(true);
      renderAll();
      say("已导入“" + result.filename + "”：" + state.indicators.length + " 行指标", true);
      runCheck();
      scheduleQuotas();
    }, function (err) { say(""); showError(err); }).then(function () { e.target.value = ""; });
  });

  root.querySelector("[data-clear]").addEventListener("click", function () {
    var message = offerUndo("已清空，开始新的目标表");
    state = emptyTable();
    extra = {};
    changed(true);
    renderAll();
    say(message, true);
    form.elements.name.focus();
  });

  undoButton.addEventListener("click", function () {
    if (!undo) { return; }
    var saved = JSON.parse(undo);
    undo = null;
    state = normaliseTable(saved.state);
    extra = saved.extra || {};
    changed(true);
    renderAll();
    say("已撤销");
    runCheck();
  });

  // --- monitoring and self-evaluation ------------------------------------------------------------------

  function targetText(row) {
    var op = row.operator === "定性" ? "" : text(row.operator);
    return op + text(row.value) + text(row.unit);
  }

  function renderMonitorRows() {
    monitorRows.textContent = "";
    state.indicators.forEach(function (row, i) {
      var label = "第" + (i + 1) + "行" + (row.name ? "“" + row.name + "”" : "");
      monitorRows.appendChild(el("tr", { "data-monitor-index": i }, [
        el("td", { "data-label": "序号", text: String(i + 1) }),
        el("td", { "data-label": "三级指标", text: row.name || "（未填名称）" }),
        el("td", { "data-label": "年度目标值", text: targetText(row) }),
        el("td", { "data-label": "实际完成值" }, [el("input", { type: "text", value: text(row.actual), "data-result-field": "actual",
                                                     maxlength: "200", "aria-label": label + " 实际完成值", placeholder: "如：98%、2024-10-31、达成" })]),
        el("td", { "data-label": "自评得分" }, [el("input", { type: "text", value: text(row.self_score), "data-result-field": "self_score",
                                                   inputmode: "decimal", maxlength: "10", "aria-label": label + " 自评得分", placeholder: "分" })]),
        el("td", { "data-label": "完成度 / 得分", "class": "monitor-outcome", "data-outcome": i })
      ]));
    });
    if (!state.indicators.length) {
      monitorRows.appendChild(el("tr", {}, [el("td", { colspan: "6", "class": "muted", text: "先在上面编制绩效指标。" })]));
    }
  }

  monitorRows.addEventListener("input", function (e) {
    var field = e.target.getAttribute("data-result-field");
    var tr = e.target.closest("tr[data-monitor-index]");
    if (!field || !tr) { return; }
    var row = state.indicators[Number(tr.getAttribute("data-monitor-index"))];
    if (e.target.value.trim() === "") { delete row[field]; } else { row[field] = e.target.value; }
    changed(false);
  });

  monitorForm.addEventListener("input", function (e) {
    if (MONITOR_FIELDS.indexOf(e.target.name) < 0) { return; }
    if (e.target.value.trim() === "") { delete state.project[e.target.name]; } else { state.project[e.target.name] = e.target.value; }
    changed(false);
  });

  function percent(share) { return share === null || share === undefined ? "—" : money(share * 100) + "%"; }

  function outcome(i, textValue, bad) {
    var cell = monitorRows.querySelector('[data-outcome="' + i + '"]');
    if (cell) { cell.textContent = textValue; cell.classList.toggle("bad", !!bad); }
  }

  function showMonitor(m) {
    monitorResult.textContent = "";
    m.rows.forEach(function (r) {
      outcome(r.row - 1, (r.completion === null ? "未填报" : percent(r.completion)) + "：" + r.reason, r.completion !== null && r.completion < 1);
    });
    monitorResult.appendChild(el("p", { "class": "monitor-summary", "data-monitor-summary": "" }, [el("strong", {
      text: "截至" + m.as_of + "：时间进度 " + percent(m.time_share) + "，预算执行率 " + percent(m.execution_rate) +
            "，产出完成度 " + percent(m.completion) })]));
    if (!m.warnings.length) {
      monitorResult.appendChild(el("p", { "class": "ok", text: "无预警：完成度、预算执行和时间进度相符。" }));
      return;
    }
    var list = el("ul", { "class": "monitor-warnings" });
    m.warnings.forEach(function (w) {
      list.appendChild(el("li", { "data-warning": w.kind }, [el("strong", { text: w.title + "：" }), w.message,
        el("div", { "class": "hint", text: "需说明：" + w.explain + (w.rows.length ? "（第" + w.rows.join("、") + "行）" : "") })]));
    });
    monitorResult.appendChild(list);
  }

  function showEvaluation(ev) {
    monitorResult.textContent = "";
    ev.rows.forEach(function (r) {
      var claimed = r.self_score === null ? "" : "（自评" + r.self_score + "分）";
      outcome(r.row - 1, r.score + " / " + r.max + " 分" + claimed + "：" + r.reason, r.self_score !== null && r.self_score > r.score + 0.005);
    });
    var parts = Object.keys(ev.by_level1).map(function (k) { return k + " " + ev.by_level1[k] + " 分"; });
    monitorResult.appendChild(el("p", { "class": "monitor-summary", "data-evaluation-summary": "" }, [el("strong", {
      text: "自评得分 " + ev.total + " 分（" + ev.grade + "）" }), "：" + parts.join("，")]));
    (ev.notes || []).forEach(function (n) { monitorResult.appendChild(el("p", { "class": "notice", text: n })); });
    if (ev.findings.length) {
      var list = el("ul", { "class": "monitor-warnings" });
      ev.findings.forEach(function (f) { list.appendChild(el("li", { "data-c15": f.row === null ? "total" : f.row, text: "C15 自评一致性：" + f.message })); });
      monitorResult.appendChild(list);
    } else if (ev.rows.some(function (r) { return r.self_score !== null; })) {
      monitorResult.appendChild(el("p", { "class": "ok", text: "自评得分与实际完成值相符。" }));
    }
  }

  function runResult(name, show) {
    monitorResult.textContent = "";
    postJSON(url(name), tableForServer()).then(function (data) { hideError(); show(data); }, showError);
  }

  root.querySelector("[data-run-monitor]").addEventListener("click", function () { runResult("monitor", showMonitor); });
  root.querySelector("[data-run-evaluate]").addEventListener("click", function () { runResult("evaluate", showEvaluation); });

  // --- everything together ------------------------------------------------------------------------

  function changed(structural) {
    revision += 1;
    if (structural) { layout += 1; }
    save();
    scheduleCheck();
  }

  function renderAll() {
    fillForm();
    renderRows();
    renderSuggestions();
    renderQuotas();
    scheduleStated();
  }

  // rows added on an indicator page in another tab ("加入我的绩效目标表")
  window.addEventListener("storage", function (e) {
    if (e.key !== "zhibiao.draft") { return; }
    state = normaliseTable(store.load());
    layout += 1;
    renderAll();
    scheduleCheck();
  });

  renderAll();
  if (state.indicators.length || state.project.name) { runCheck(); }
})();
