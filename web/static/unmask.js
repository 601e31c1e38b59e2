// "显示" next to a masked person asks the server for the full name and ID
// number (POST, with the page's CSRF token; the server audits each request)
// and shows them as text only, never as HTML.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.content : "";

  function unmask(button) {
    var row = button.closest("tr");
    button.disabled = true;
    fetch("/api/v1/candidates/" + encodeURIComponent(button.dataset.candidate) + "/unmask", {
      method: "POST",
      headers: { "X-CSRF-Token": token, Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || "请求失败（" + r.status + "）");
          return body;
        });
      })
      .then(function (p) {
        row.querySelector('[data-field="name"]').textContent = p.name;
        row.querySelector('[data-field="id_number"]').textContent = p.id_number;
        button.textContent = "已显示";
      })
      .catch(function (e) {
        button.disabled = false;
        button.textContent = "显示";
        button.title = e.message;
      });
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.unmask");
    if (b) unmask(b);
  });
})();
