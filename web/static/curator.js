// The curator workspace's small enhancements (no inline script: pages mark
// elements with data-* attributes). Everything works without this file.
(function () {
  "use strict";

  // <form data-confirm="…">: ask before a consequential submit.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // <form data-busy="…">: say that a long request (an import, a publish) is running, and prevent a double submit.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
      form.setAttribute("data-submitted", "1");
      var note = document.createElement("p");
      note.className = "busy";
      note.setAttribute("role", "status");
      note.textContent = form.getAttribute("data-busy");
      form.appendChild(note);
      if (form.enctype === "multipart/form-data" && window.FormData && form.querySelector("input[type=file]")) {
        event.preventDefault();
        upload(form, note);
      }
    });
  });

  // A large workbook takes a while to send and to check: show how far the
  // upload has come, then that the rows are being checked; the answer (the
  // preview or the errors) replaces the page as a normal submit would.
  function upload(form, note) {
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    note.appendChild(document.createTextNode(" "));
    note.appendChild(bar);
    var xhr = new XMLHttpRequest();
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var pct = Math.round(e.loaded / e.total * 100);
      bar.value = pct;
      note.firstChild.textContent = pct < 100 ? "正在上传文件 " + pct + "% " : "文件已上传，正在逐行校验… ";
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL !== window.location.href) {
        window.history.replaceState(null, "", xhr.responseURL);
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      note.firstChild.textContent = "上传失败：无法连接服务器，请检查网络后重试。 ";
      form.removeAttribute("data-submitted");
    });
    xhr.open("POST", form.action);
    xhr.send(new FormData(form));
  }
})();
