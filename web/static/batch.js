// Live progress of a batch: polls the batch API and updates the page in
// place (text only, never HTML from the server), until the batch is finished.
(function () {
  "use strict";
  var head = document.getElementById("batch");
  if (!head) return;
  var id = head.dataset.id;
  var finished = { done: true, done_with_failures: true, cancelled: true };

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(iso) {
    // Beijing time, as the server renders it: 2026-11-30 09:05
    var d = new Date(Date.parse(iso) + 8 * 3600 * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  // A button shows in the states it names, and only while the count it
  // needs (data-needs) is above 0: retry only with failed checks, not for
  // checks that wait for a person's review.
  function showActions(state, progress) {
    document.querySelectorAll("#actions button[data-when]").forEach(function (b) {
      b.hidden = b.dataset.when.split(" ").indexOf(state) < 0 || (b.dataset.needs && !(progress[b.dataset.needs] > 0));
    });
  }

  function render(b) {
    head.dataset.state = b.state;
    var st = document.getElementById("state");
    st.textContent = b.state_text;
    st.className = "state-" + b.state;
    var counts = Object.assign({ captcha_backlog: b.captcha_backlog, waiting_captcha: b.waiting_captcha }, b.progress);
    document.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = counts[el.dataset.count];
    });
    var bar = document.getElementById("progress");
    bar.max = b.progress.total;
    bar.value = b.progress.done;
    (b.candidates || []).forEach(function (c) {
      var tr = document.querySelector('tr[data-row="' + c.row + '"]');
      if (!tr) return;
      tr.className = "outcome-" + (c.outcome || "");
      tr.querySelector('[data-field="result"]').textContent = c.result || (c.state === "cancelled" ? "已取消" : "排队中");
      tr.querySelector('[data-field="queried_at"]').textContent = c.queried_at ? when(c.queried_at) : "";
      tr.querySelector('[data-field="measure"]').textContent = c.measure || "";
      var ev = tr.querySelector('[data-field="evidence"]');
      if (c.check_id && !ev.firstChild) {
        var a = document.createElement("a");
        a.href = "/api/v1/checks/" + c.check_id + "/evidence";
        a.textContent = "查看";
        ev.appendChild(a);
      }
    });
    showActions(b.state, b.progress);
  }

  function poll() {
    fetch("/api/v1/batches/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) {
        if (b) render(b);
        if (!b || !finished[b.state]) setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }

  var shown = {};
  document.querySelectorAll("#counts [data-count]").forEach(function (el) {
    shown[el.dataset.count] = Number(el.textContent);
  });
  showActions(head.dataset.state, shown);
  if (!finished[head.dataset.state]) setTimeout(poll, 1000);
})();
