// The drafts list and the "new draft" form; deployed versions open read-only in the modeler.
(function () {
  "use strict";
  var S = window.Studio;
  var el = S.el;
  var filter = document.getElementById("draft-filter");
  function load() {
    var q = new URLSearchParams();
    var data = new FormData(filter);
    if (data.get("status")) { q.set("status", data.get("status")); }
    if (data.get("mine")) { q.set("mine", "true"); }
    S.api("GET", "/drafts" + (q.toString() ? "?" + q : "")).then(function (answer) {
      var body = document.querySelector("#drafts tbody");
      body.textContent = "";
      answer.items.forEach(function (d) {
        var changed = (d.files || []).filter(function (f) { return f.changed; }).map(function (f) { return f.name; });
        body.appendChild(el("tr", { class: "draft-row", "data-draft": d.draft_id }, [
          el("td", {}, [el("a", { href: "/studio/drafts/" + d.draft_id, text: d.title || d.draft_id })]),
          el("td", { text: d.key }), el("td", { text: d.base_version === null ? "–" : "v" + d.base_version }),
          el("td", { text: d.owner }), el("td", {}, [el("span", { class: "badge status-" + d.status, text: d.status })]),
          el("td", { text: changed.join(", ") || "–" }), el("td", { text: S.when(d.updated_at) }),
        ]));
      });
      if (!answer.items.length) { body.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "muted", text: "no drafts" })])); }
    }).catch(function (err) { S.notice(S.describe(err)); });
  }
  function definitions() {
    S.api("GET", "/definitions?all_versions=true").then(function (items) {
      var body = document.querySelector("#definitions tbody");
      var keys = {};
      items.forEach(function (d) { (keys[d.key] = keys[d.key] || []).push(d.version); });
      items.slice().sort(function (a, b) { return a.key.localeCompare(b.key) || b.version - a.version; }).forEach(function (d) {
        body.appendChild(el("tr", {}, [el("td", { text: d.key }), el("td", { text: "v" + d.version }),
          el("td", { text: S.when(d.deployed_at) }), el("td", { text: d.deployed_by }), el("td", { text: d.approved_by || "–" }),
          el("td", {}, [el("a", { href: "/studio/definitions/" + encodeURIComponent(d.key) + "/" + d.version, text: "open" })])]));
      });
      var keySelect = document.getElementById("new-key");
      if (!keySelect) { return; }
      Object.keys(keys).sort().forEach(function (k) { keySelect.appendChild(el("option", { value: k, text: k })); });
      function bases() {
        var base = document.getElementById("new-base");
        base.textContent = "";
        base.appendChild(el("option", { value: "", text: "latest" }));
        (keys[keySelect.value] || []).sort(function (a, b) { return b - a; }).forEach(function (v) { base.appendChild(el("option", { value: String(v), text: "v" + v })); });
      }
      keySelect.addEventListener("change", bases);
      bases();
    }).catch(function (err) { S.notice(S.describe(err)); });
  }
  var form = document.getElementById("new-draft");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      var base = data.get("base_version");
      S.api("POST", "/drafts", { key: data.get("key"), base_version: base ? Number(base) : null, title: data.get("title") })
        .then(function (d) { window.location.href = "/studio/drafts/" + d.draft_id; })
        .catch(function (err) { document.getElementById("new-error").textContent = S.describe(err); });
    });
  }
  filter.addEventListener("change", load);
  load();
  definitions();
})();
