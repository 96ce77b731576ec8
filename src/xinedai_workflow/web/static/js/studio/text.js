// The text editors of a draft: a form (JSON Schema, with the rendered form beside it), a template
// (the template lint as you type) and the contact policy (validated as you type). The findings
// come from POST /drafts/{id}/lint, which checks the unsaved text and changes nothing.
(function () {
  "use strict";
  var S = window.Studio;
  var el = S.el;
  var root = S.root;
  var draftId = root.dataset.draft;
  var name = root.dataset.name;
  var kind = root.dataset.kind;
  var source = document.getElementById("source");
  var findings = document.getElementById("findings");
  var draft = null;
  var dirty = false;
  function show(problems) {
    findings.textContent = "";
    if (!problems.length) { findings.appendChild(el("li", { class: "ok", text: "✓ no findings" })); }
    problems.forEach(function (p) {
      findings.appendChild(el("li", { class: "studio-problem " + (p.severity || "error"), text: (p.line ? "line " + p.line + ": " : "") + p.message }));
    });
    root.dataset.findings = String(problems.length);
  }
  function field(key, schema, required) {
    var label = (schema.title || key) + (required ? " *" : "");
    var input;
    if (schema.enum) {
      input = el("select", { name: key }, [el("option", { value: "", text: "–" })].concat(schema.enum.map(function (v, i) {
        return el("option", { value: String(v), text: String((schema.enumNames || [])[i] || v) });
      })));
    } else if (schema.type === "boolean") {
      input = el("input", { type: "checkbox", name: key });
    } else if (schema.type === "string" && (schema.maxLength || 0) > 200) {
      input = el("textarea", { name: key, rows: "3" });
    } else {
      var type = schema.format === "date" ? "date" : schema.type === "number" || schema.type === "integer" ? "number" : "text";
      input = el("input", { type: type, name: key });
    }
    return el("label", { class: "field" }, [label, input, schema.description ? el("span", { class: "muted", text: schema.description }) : null]);
  }
  function preview(text) {
    var host = document.getElementById("form-preview");
    if (!host) { return; }
    host.textContent = "";
    var schema;
    try { schema = JSON.parse(text); } catch (e) { host.appendChild(el("p", { class: "error", text: "not JSON: " + e.message })); return; }
    if (schema.title) { host.appendChild(el("h3", { text: schema.title })); }
    var required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (key) { host.appendChild(field(key, schema.properties[key], required.indexOf(key) >= 0)); });
  }
  var lint = S.debounce(function () {
    S.api("POST", "/drafts/" + draftId + "/lint", { name: name, content: source.value })
      .then(function (answer) { show(answer.problems || []); })
      .catch(function (err) { show([{ message: S.describe(err), severity: "error" }]); });
  }, 400);
  source.addEventListener("input", function () {
    dirty = true;
    document.getElementById("dirty").hidden = false;
    preview(source.value);
    lint();
  });
  S.api("GET", "/drafts/" + draftId).then(function (d) {
    draft = d;
    document.getElementById("draft-status").textContent = d.status;
    document.getElementById("btn-save").hidden = !S.canEdit(d);
    source.readOnly = !S.canEdit(d);
    return S.file(draftId, name);
  }).then(function (text) {
    source.value = text;
    preview(text);
    lint();
    root.dataset.ready = "true";
  }).catch(function (err) { root.dataset.error = String(err); S.notice(S.describe(err)); });
  document.getElementById("btn-save").addEventListener("click", function () {
    var type = kind === "policy" ? "application/yaml" : kind === "forms" ? "application/json" : "text/plain; charset=utf-8";
    S.api("PUT", "/drafts/" + draftId + "/files/" + name.split("/").map(encodeURIComponent).join("/"), source.value, type)
      .then(function (d) { draft = d; dirty = false; document.getElementById("dirty").hidden = true; S.notice("Saved.", true); root.dataset.saved = "true"; })
      .catch(function (err) { S.notice(S.describe(err)); });
  });
  window.addEventListener("beforeunload", function (e) { if (dirty && S.canEdit(draft)) { e.preventDefault(); } });
})();
