// Typeahead for every input[data-complete]: indicator names by characters,
// full pinyin or pinyin initials, from the page's same-origin /complete.json.
// Picking a name fires a cancelable "typeahead-pick" event on the input; unless
// a page script cancels it, the name goes into the box and the form is sent.
(function () {
  "use strict";

  var url = document.body.getAttribute("data-complete-url");
  if (!url) { return; }
  var DELAY = 120;
  var serial = 0;

  function versionFor(input) {
    var field = (input.form && input.form.querySelector("input[name=version]")) || document.querySelector("select[name=version]");
    return field ? field.value : "";
  }

  function attach(input) {
    var id = "typeahead-" + (++serial);
    var wrap = document.createElement("span");
    wrap.className = "typeahead-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var list = document.createElement("ul");
    list.id = id;
    list.className = "typeahead";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "候选指标");
    list.hidden = true;
    wrap.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", id);
    input.setAttribute("aria-expanded", "false");

    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(i) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, k) { o.setAttribute("aria-selected", k === i ? "true" : "false"); });
      active = i;
      if (i >= 0 && options[i]) { input.setAttribute("aria-activedescendant", options[i].id); }
      else { input.removeAttribute("aria-activedescendant"); }
    }

    function pick(i) {
      var item = items[i];
      if (!item) { return; }
      close();
      var event = new CustomEvent("typeahead-pick", { detail: item, cancelable: true, bubbles: true });
      if (input.dispatchEvent(event)) {
        input.value = item.text;
        if (input.form) {
          if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
        }
      }
    }

    function render(found) {
      items = found;
      list.textContent = "";
      if (!found.length) { close(); return; }
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-code", item.code);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = item.text;
        var code = document.createElement("small");
        code.className = "code";
        code.textContent = item.code;
        li.appendChild(name);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(code);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    function ask() {
      var q = input.value.trim();
      var mine = ++asked;
      if (!q) { render([]); return; }
      var params = new URLSearchParams({ q: q });
      var version = versionFor(input);
      if (version) { params.set("version", version); }
      fetch(url + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { completions: [] }; })
        .then(function (data) { if (mine === asked) { render(data.completions || []); } })
        .catch(function () { if (mine === asked) { render([]); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") {
        if (list.hidden) { ask(); return; }
        e.preventDefault();
        highlight(Math.min(active + 1, items.length - 1));
      } else if (e.key === "ArrowUp" && !list.hidden) {
        e.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (e.key === "Enter" && !list.hidden && active >= 0) {
        e.preventDefault();
        pick(active);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  window.zhibiaoTypeahead = { attach: attach };
  document.querySelectorAll("input[data-complete]").forEach(attach);
})();
