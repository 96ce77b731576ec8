// The DMN editor of a draft file (dmn-js): the decision tables as they are deployed, rows the last
// proof found added or changed against the version in force highlighted, save (PUT).
(function () {
  "use strict";
  var S = window.Studio;
  var root = S.root;
  var draftId = root.dataset.draft;
  var name = root.dataset.name;
  var draft = null;
  var dirty = false;
  var modeler = new window.DmnJS({ container: document.getElementById("dmn") });
  window.studioDmn = modeler;
  function rows() {
    var proof = JSON.parse(sessionStorage.getItem("studio-proof-" + draftId) || "null");
    return ((proof && proof.diff && proof.diff.dmn_rows) || []).filter(function (r) { return r.file === name; });
  }
  function highlight() {
    rows().forEach(function (r) {
      document.querySelectorAll('#dmn [data-row-id="' + CSS.escape(r.rule_id) + '"]').forEach(function (cell) { cell.classList.add("row-" + r.change); });
    });
  }
  function views() {
    var nav = document.getElementById("views");
    nav.textContent = "";
    var active = modeler.getActiveView();
    modeler.getViews().forEach(function (v) {
      nav.appendChild(S.el("a", { href: "#", class: active && v.element === active.element ? "active" : "", text: (v.element.name || v.element.id) + " (" + v.type + ")",
        onclick: function (e) { e.preventDefault(); modeler.open(v).then(afterOpen); } }));
    });
  }
  function afterOpen() {
    views();
    highlight();
    var viewer = modeler.getActiveViewer();
    viewer.on("elements.changed", function () { dirty = true; document.getElementById("dirty").hidden = false; });
    root.dataset.ready = "true";
  }
  modeler.on("views.changed", function () { setTimeout(highlight, 0); });
  S.api("GET", "/drafts/" + draftId).then(function (d) {
    draft = d;
    document.getElementById("draft-status").textContent = d.status;
    document.getElementById("btn-save").hidden = !S.canEdit(d);
    return S.file(draftId, name);
  }).then(function (xml) { return modeler.importXML(xml); }).then(function () {
    var changed = rows()[0];
    var target = changed && modeler.getViews().find(function (v) { return v.type === "decisionTable" && v.element.id === changed.decision_id; });
    target = target || modeler.getViews().find(function (v) { return v.type === "decisionTable"; });
    return target ? modeler.open(target) : null;
  }).then(afterOpen).catch(function (err) { root.dataset.error = String(err); S.notice(S.describe(err)); });
  document.getElementById("btn-save").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (out) {
      return S.api("PUT", "/drafts/" + draftId + "/files/" + encodeURIComponent(name), out.xml, "application/xml");
    }).then(function (d) { draft = d; dirty = false; document.getElementById("dirty").hidden = true; S.notice("Saved.", true); root.dataset.saved = "true"; })
      .catch(function (err) { S.notice(S.describe(err)); });
  });
  window.addEventListener("beforeunload", function (e) { if (dirty && S.canEdit(draft)) { e.preventDefault(); } });
})();
