// The modeler page of a draft (or of a deployed version, read-only): bpmn-js Modeler with the
// properties panel and our spiffworkflow: groups; save (PUT), live lint of the unsaved diagram,
// the proof (problems pinned on their elements, tests, coverage shading, the semantic diff
// coloured), the simulation against the version in force, the four-eyes buttons by role and
// state, and the roll-out (migration batch: dry-run counts, then run and progress).
(function () {
  "use strict";
  var S = window.Studio;
  var el = S.el;
  var root = S.root;
  var draftId = root.dataset.draft || null;
  var state = { draft: null, bpmnName: null, problems: [], lintProblems: [], helpers: [], savedAt: 0, proof: null, dirty: false };
  var studio = {
    helpers: function () { return state.helpers; },
    files: function (prefix, suffix) {
      var names = draftId ? (state.draft ? state.draft.files.map(function (f) { return f.name; }) : []) : JSON.parse(root.dataset.files || "[]");
      return names.filter(function (n) { return n.indexOf(prefix) === 0 && n.slice(-suffix.length) === suffix; });
    },
    problemsOf: function (id) {
      return state.problems.concat(state.lintProblems).filter(function (p) { return p.element_id === id; });
    },
    previewInstructions: function (elementId, text) {
      if (!draftId) { return Promise.resolve({ text: "(open a draft to preview)", problems: [] }); }
      var q = new URLSearchParams({ element_id: elementId });
      if (text) { q.set("text", text); }
      return S.api("GET", "/drafts/" + draftId + "/preview/instructions?" + q)
        .catch(function (err) { return { text: "", problems: [{ message: S.describe(err), severity: "error" }] }; });
    },
  };
  var modeler = window.XinedaiStudio.createModeler({
    container: document.getElementById("canvas"), panel: document.getElementById("panel"), studio: studio,
  });
  window.studioModeler = modeler; // the browser tests read the saved XML through it
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var registry = modeler.get("elementRegistry");
  var eventBus = modeler.get("eventBus");

  // -- problems on the diagram ------------------------------------------------------------------
  var ENTRY_BY_WORD = [
    [/timer|duration|timeDate|timeCycle|timeDuration/i, "timerEventDefinitionValue"],
    [/dueIn/i, "dueIn"], [/priority/i, "priority"], [/form/i, "formJsonSchemaFilename"],
    [/template/i, "parameter-template"], [/purpose/i, "parameter-purpose"], [/instruction/i, "instructionsForEndUser"],
    [/decision/i, "calledDecisionId"], [/stage/i, "stage"], [/channel/i, "contactChannel"],
    [/message/i, "messageVariable"], [/script|helper/i, "script"], [/condition/i, "conditionExpression"],
  ];
  function entryOf(problem) {
    var found = ENTRY_BY_WORD.find(function (pair) { return pair[0].test(problem.message || ""); });
    return found ? found[1] : "name";
  }
  // select an element, also inside a collapsed subprocess (drawn on its own plane)
  function select(id) {
    var element = registry.get(id);
    if (!element) { return null; }
    var plane = canvas.findRoot(element);
    if (plane && plane !== canvas.getRootElement()) { canvas.setRootElement(plane); }
    canvas.scrollToElement(element);
    modeler.get("selection").select(element);
    return element;
  }
  window.studioSelect = select;
  function focusProblem(problem) {
    if (!select(problem.element_id)) { return; }
    var entry = entryOf(problem);
    var errors = {};
    errors[entry] = problem.message;
    eventBus.fire("propertiesPanel.setErrors", { errors: errors });
    eventBus.fire("propertiesPanel.showEntry", { id: entry, focus: true });
  }
  function drawProblems() {
    overlays.remove({ type: "problem" });
    registry.forEach(function (e) { canvas.removeMarker(e, "studio-problem"); });
    var all = state.problems.concat(state.lintProblems);
    var pinned = {};
    all.forEach(function (p) {
      if (!p.element_id || !registry.get(p.element_id) || pinned[p.element_id]) { return; }
      pinned[p.element_id] = true;  // one pin an element: the proof's problems first, then the lint's
      canvas.addMarker(p.element_id, "studio-problem");
      var pin = el("button", { type: "button", class: "problem-pin " + (p.severity || "error"), title: p.message,
        "data-element": p.element_id, onclick: function () { focusProblem(p); } }, ["⚠ " + p.message.slice(0, 60)]);
      overlays.add(p.element_id, "problem", { position: { top: -14, left: 0 }, html: pin });
    });
  }
  eventBus.on("selection.changed", function () {
    var selected = modeler.get("selection").get()[0];
    var errors = {};
    if (selected) { studio.problemsOf(selected.id).forEach(function (p) { errors[entryOf(p)] = p.message; }); }
    eventBus.fire("propertiesPanel.setErrors", { errors: errors });
  });

  // -- live lint of the unsaved diagram (the timer "quote your duration" check and friends) -------
  var lint = S.debounce(function () {
    if (!draftId || !state.bpmnName) { return; }
    modeler.saveXML({ format: true }).then(function (out) {
      return S.api("POST", "/drafts/" + draftId + "/lint", { name: state.bpmnName, content: out.xml });
    }).then(function (answer) {
      state.lintProblems = answer.problems || [];
      root.dataset.lint = String(state.lintProblems.length);
      drawProblems();
    }).catch(function () { /* lint is advisory; the proof is the gate */ });
  }, 700);
  eventBus.on("commandStack.changed", function (e) {
    if (e.trigger === "clear" || !modeler.get("commandStack").canUndo()) { return; }  // an import, not an edit
    state.dirty = true;
    document.getElementById("dirty").hidden = false;
    lint();
  });

  // -- loading ----------------------------------------------------------------------------------
  function fileUrl(name) {
    return "/studio/drafts/" + draftId + "/" + (name.slice(-4) === ".dmn" ? "dmn/" + name : name);
  }
  function renderFiles() {
    var list = document.getElementById("files");
    list.textContent = "";
    var files = draftId ? state.draft.files : JSON.parse(root.dataset.files).map(function (n) { return { name: n }; });
    files.forEach(function (f) {
      var editable = draftId && /(\.dmn|^forms\/.*\.json|^templates\/.*\.j2|^contact_policy\.yaml)$/.test(f.name);
      var href = f.name === "contact_policy.yaml" ? "/studio/drafts/" + draftId + "/policy" : fileUrl(f.name);
      list.appendChild(el("li", { class: f.changed ? "changed" : "" }, [
        editable ? el("a", { href: href, "data-file": f.name, text: f.name }) : el("span", { "data-file": f.name, text: f.name }),
        f.changed ? el("span", { class: "badge soon", text: "changed" }) : null,
      ]));
    });
  }
  function renderDraft() {
    var d = state.draft;
    document.getElementById("draft-title").textContent = d.title || "Draft";
    var status = document.getElementById("draft-status");
    status.textContent = d.status;
    status.className = "badge status-" + d.status;
    document.getElementById("draft-meta").textContent = d.key + " · base v" + d.base_version + " · " + d.owner +
      (d.approved_by ? " · approved by " + d.approved_by : "") + (d.deployed_version ? " · deployed as v" + d.deployed_version : "") +
      (d.reviewer_note ? " · note: " + d.reviewer_note : "");
    var edit = root.dataset.role === "edit";
    var me = root.dataset.me;
    var show = {
      save: S.canEdit(d), proof: edit && d.status !== "deployed" && d.status !== "discarded", simulate: edit && d.status !== "discarded",
      submit: S.canEdit(d), approve: edit && d.status === "in_review" && d.owner !== me, reject: edit && d.status === "in_review" && d.owner !== me,
      deploy: edit && d.status === "approved" && (d.owner === me || d.approved_by === me), discard: S.canEdit(d),
    };
    Object.keys(show).forEach(function (k) { document.getElementById("btn-" + k).hidden = !show[k]; });
    renderFiles();
    if (d.status === "deployed") { rolloutForm(); }
  }
  function importXml(xml) {
    return modeler.importXML(xml).then(function () {
      canvas.zoom("fit-viewport");
      state.dirty = false;
      document.getElementById("dirty").hidden = true;
      root.dataset.ready = "true";
    });
  }
  function loadDraft() {
    return S.api("GET", "/drafts/" + draftId).then(function (d) {
      state.draft = d;
      state.bpmnName = (d.files.find(function (f) { return f.name.slice(-5) === ".bpmn"; }) || {}).name;
      renderDraft();
      return S.file(draftId, state.bpmnName);
    }).then(importXml);
  }
  function loadDeployed() {
    var files = JSON.parse(root.dataset.files);
    state.bpmnName = files.find(function (n) { return n.slice(-5) === ".bpmn"; });
    renderFiles();
    document.getElementById("draft-status").textContent = "deployed (read-only)";
    ["proof-card", "diff-card", "simulate-card", "rollout-card"].forEach(function (id) { document.getElementById(id).hidden = true; });
    return fetch("/studio/api/v1/definitions/" + encodeURIComponent(root.dataset.key) + "/versions/" + root.dataset.version +
      "/files/" + encodeURIComponent(state.bpmnName), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(importXml);
  }

  // -- actions ----------------------------------------------------------------------------------
  function save() {
    return modeler.saveXML({ format: true }).then(function (out) {
      return S.api("PUT", "/drafts/" + draftId + "/files/" + encodeURIComponent(state.bpmnName), out.xml, "application/xml");
    }).then(function (d) {
      state.draft = d;
      state.dirty = false;
      state.savedAt = Date.now();
      document.getElementById("dirty").hidden = true;
      renderDraft();
      S.notice("Saved.", true);
    });
  }
  function saveIfDirty() { return state.dirty && S.canEdit(state.draft) ? save() : Promise.resolve(); }
  function shade(proof) {
    registry.forEach(function (e) { ["covered", "diff-added", "diff-changed"].forEach(function (m) { canvas.removeMarker(e, m); }); });
    var coverage = (proof.tests && proof.tests.coverage) || {};
    Object.keys(coverage).forEach(function (key) {
      Object.keys(coverage[key]).forEach(function (id) { if (coverage[key][id] > 0 && registry.get(id)) { canvas.addMarker(id, "covered"); } });
    });
    ((proof.diff && proof.diff.elements) || []).forEach(function (c) {
      if (registry.get(c.element_id) && c.change !== "removed") { canvas.addMarker(c.element_id, "diff-" + c.change); }
    });
  }
  function renderProof(proof) {
    state.proof = proof;
    sessionStorage.setItem("studio-proof-" + draftId, JSON.stringify(proof));
    state.problems = proof.problems || [];
    var box = document.getElementById("proof");
    box.textContent = "";
    var t = proof.tests || { passed: 0, failed: 0, items: [] };
    box.appendChild(el("p", { id: "proof-verdict", class: "verdict " + (proof.ok ? "ok" : "blocked"),
      text: (proof.ok ? "✓ deployable" : "✗ not deployable") + " · tests " + t.passed + " passed, " + t.failed + " failed · " + state.problems.length + " problems" }));
    var problems = el("ul", { id: "proof-problems" });
    state.problems.forEach(function (p) {
      problems.appendChild(el("li", { class: "studio-problem " + (p.severity || "error") }, [
        p.element_id ? el("button", { type: "button", class: "link", "data-element": p.element_id, onclick: function () { focusProblem(p); }, text: p.element_id }) : el("code", { text: p.file || "" }),
        " " + p.message + (p.line ? " (line " + p.line + ")" : ""),
      ]));
    });
    box.appendChild(problems);
    var tests = el("ul", { id: "proof-tests" });
    (t.items || []).forEach(function (i) { tests.appendChild(el("li", { class: i.passed ? "test-pass" : "test-fail", text: (i.passed ? "✓ " : "✗ ") + i.name + (i.message ? " — " + i.message : "") })); });
    box.appendChild(el("details", {}, [el("summary", { text: "Process tests (" + (t.items || []).length + ")" }), tests]));
    // "attribute: old → new; …" for the [{attribute, old, new}] lists of the diff
    function changeText(detail) {
      if (typeof detail === "string") return detail;
      if (!Array.isArray(detail)) return JSON.stringify(detail);
      return detail.map(function (c) {
        var show = function (v) { return v === null || v === undefined ? "∅" : String(v); };
        return String(c.attribute).replace(/^@/, "") + ": " + show(c.old) + " → " + show(c["new"]);
      }).join("; ");
    }
    var diff = document.getElementById("diff");
    diff.textContent = "";
    var d = proof.diff || { elements: [], dmn_rows: [], files: [] };
    diff.appendChild(el("p", { class: "muted", text: "against v" + (d.against_version === null ? "–" : d.against_version) }));
    var list = el("ul", { id: "diff-elements" });
    d.elements.forEach(function (c) {
      list.appendChild(el("li", { class: "diff-" + c.change }, [el("span", { class: "badge diff-" + c.change, text: c.change }), " ",
        el("button", { type: "button", class: "link", onclick: function () { focusProblem({ element_id: c.element_id, message: "" }); }, text: c.element_id }),
        " " + (c.kind || "") + (c.detail ? " — " + changeText(c.detail) : "")]));
    });
    d.dmn_rows.forEach(function (r) {
      list.appendChild(el("li", { class: "diff-" + r.change }, [el("span", { class: "badge diff-" + r.change, text: r.change }), " ",
        el("a", { href: fileUrl(r.file) + "#" + encodeURIComponent(r.rule_id), "data-dmn-row": r.rule_id, text: r.file + " / " + r.decision_id + " / " + r.rule_id }),
        r.detail ? " — " + changeText(r.detail) : ""]));
    });
    d.files.forEach(function (f) { list.appendChild(el("li", { class: "diff-" + f.change, "data-diff-file": f.name, text: f.change + ": " + f.name })); });
    diff.appendChild(list);
    shade(proof);
    drawProblems();
    root.dataset.proof = proof.ok ? "ok" : "failed";
  }
  function proofRun() {
    return saveIfDirty().then(function () { return S.api("POST", "/drafts/" + draftId + "/proof", {}); }).then(renderProof);
  }
  function transition(action, body) {
    return saveIfDirty().then(function () { return S.api("POST", "/drafts/" + draftId + "/" + action, body || {}); })
      .then(function (answer) {
        return loadDraft().then(function () {
          S.notice(action === "deploy" ? "Deployed as v" + (answer.version || state.draft.deployed_version) + "." : action + ": done.", true);
        });
      });
  }

  // -- simulation -------------------------------------------------------------------------------
  var FIGURES = ["cure_rate", "recovery_rate", "amount_recovered", "letters", "lawsuits", "plans_agreed", "plans_kept",
    "mean_days_to_close", "p90_days_to_close", "policy_violations", "guard_refusals"];
  function figure(v) { return v && typeof v === "object" ? (v.mean !== undefined ? v.mean : JSON.stringify(v)) : (v === null || v === undefined ? "–" : String(v)); }
  function renderSimulation(sim) {
    var box = document.getElementById("simulation");
    box.textContent = "";
    if (sim.status !== "completed") {
      var p = sim.progress || {};
      box.appendChild(el("p", { id: "sim-status", text: sim.status + (p.percent !== undefined ? " · " + p.percent + "%" : "") + (sim.error ? " · " + JSON.stringify(sim.error) : "") }));
      return;
    }
    var v = sim.summary.variants;
    var table = el("table", { class: "mini", id: "sim-table" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "figure" }), el("th", { text: "version in force" }), el("th", { text: "this draft" }), el("th", { text: "difference (95% CI)" })])])]);
    var body = el("tbody");
    FIGURES.forEach(function (k) {
      var diff = (sim.summary.differences || {})[k];
      body.appendChild(el("tr", {}, [el("td", { text: k }), el("td", { class: "num", text: figure(v.baseline[k]) }), el("td", { class: "num", text: figure(v.candidate && v.candidate[k]) }),
        el("td", { class: "num", text: diff ? (diff.difference !== undefined ? diff.difference : figure(diff)) + (diff.low !== undefined ? " [" + diff.low + ", " + diff.high + "]" : "") : "" })]));
    });
    table.appendChild(body);
    box.appendChild(el("p", { id: "sim-status", text: "completed · " + sim.summary.cases + " cases · " + sim.summary.days + " days · seed " + sim.summary.seed }));
    box.appendChild(table);
    charts(v);
  }
  function charts(v) {
    var host = document.getElementById("sim-charts");
    host.textContent = "";
    if (!window.echarts) { return; }
    [["stage_entries", "Funnel: cases entering each stage"], ["outcomes", "Outcomes"]].forEach(function (pair) {
      var base = v.baseline[pair[0]] || {};
      var cand = (v.candidate || {})[pair[0]] || {};
      var keys = Object.keys(base).concat(Object.keys(cand)).filter(function (k, i, all) { return all.indexOf(k) === i; });
      var card = el("section", { class: "card chart-card" }, [el("h2", { text: pair[1] })]);
      var div = el("div", { class: "chart", "data-chart": pair[0] });
      card.appendChild(div);
      host.appendChild(card);
      var chart = window.echarts.init(div, null, { renderer: "svg" });
      chart.setOption({ animation: false, tooltip: {}, legend: { data: ["version in force", "this draft"] },
        xAxis: { type: "category", data: keys }, yAxis: { type: "value" },
        series: [{ name: "version in force", type: "bar", data: keys.map(function (k) { return base[k] || 0; }) },
          { name: "this draft", type: "bar", data: keys.map(function (k) { return cand[k] || 0; }) }] });
      div.dataset.ready = "true";
    });
  }
  function simulate() {
    var data = new FormData(document.getElementById("simulate-form"));
    var body = {};
    ["cases", "days", "seed", "replications"].forEach(function (k) { body[k] = Number(data.get(k)); });
    return saveIfDirty().then(function () { return S.api("POST", "/drafts/" + draftId + "/simulate", body); }).then(function (answer) {
      function poll() {
        return S.api("GET", "/simulations/" + answer.simulation_id).then(function (sim) {
          renderSimulation(sim);
          if (["queued", "running"].indexOf(sim.status) >= 0) { setTimeout(poll, 1000); }
        });
      }
      return poll();
    });
  }

  // -- roll-out ---------------------------------------------------------------------------------
  function rolloutForm() {
    var box = document.getElementById("rollout");
    if (box.dataset.ready) { return; }
    box.dataset.ready = "true";
    box.textContent = "";
    var d = state.draft;
    var from = el("input", { type: "number", id: "rollout-from", value: String(d.base_version), min: "1" });
    var reason = el("input", { id: "rollout-reason", value: "roll-out of draft " + (d.title || d.draft_id), maxlength: "500" });
    var result = el("div", { id: "rollout-result" });
    function batch(dryRun) {
      return S.api("POST", "/batches", { operation: "migrate", filter: { process_key: d.key, version: Number(from.value) },
        params: { to_version: d.deployed_version, mapping: {}, reason: reason.value }, dry_run: dryRun,
        request_id: dryRun ? undefined : "studio-" + d.draft_id + "-" + from.value });
    }
    var dry = el("button", { type: "button", id: "btn-rollout-dry", text: "Dry run", onclick: function () {
      batch(true).then(function (answer) {
        result.textContent = "";
        result.appendChild(el("p", { id: "rollout-total", text: answer.total + " running case(s) of v" + from.value + " → v" + d.deployed_version }));
        var list = el("ul", {});
        (answer.sample || []).forEach(function (s) {
          var refused = s.error || s.refused;
          list.appendChild(el("li", { class: refused ? "error" : "", text: (s.case_id || "") + ": " + (refused ? JSON.stringify(refused) : (s.report ? JSON.stringify(s.report.changes || s.report) : JSON.stringify(s))) }));
        });
        result.appendChild(list);
        run.hidden = root.dataset.role !== "edit" || answer.total === 0;
      }).catch(function (err) { S.notice(S.describe(err)); });
    } });
    var run = el("button", { type: "button", id: "btn-rollout-run", class: "primary", hidden: "hidden", text: "Migrate them", onclick: function () {
      run.disabled = true;
      batch(false).then(function (answer) {
        function poll() {
          return S.api("GET", "/batches/" + answer.batch_id).then(function (b) {
            var done = el("p", { id: "rollout-progress", "data-status": b.status, text: b.status + " · " + b.done + "/" + b.total + " done · " + b.failed + " failed" });
            var old = document.getElementById("rollout-progress");
            if (old) { old.replaceWith(done); } else { result.appendChild(done); }
            if (["pending", "running"].indexOf(b.status) >= 0) { setTimeout(poll, 1000); }
          });
        }
        return poll();
      }).catch(function (err) { S.notice(S.describe(err)); run.disabled = false; });
    } });
    box.appendChild(el("div", { class: "filters" }, [el("label", {}, ["from version ", from]), el("label", {}, ["reason ", reason]), dry, run]));
    box.appendChild(result);
  }
  function audit() {
    var key = draftId ? state.draft.key : root.dataset.key;
    return S.api("GET", "/definitions/" + encodeURIComponent(key) + "/audit").then(function (answer) {
      var list = document.getElementById("audit");
      list.textContent = "";
      answer.items.slice().reverse().forEach(function (i) {
        list.appendChild(el("li", {}, [el("time", { text: S.when(i.at) }), i.actor + " · " + i.action + (i.version ? " · v" + i.version : "") + (i.detail ? " · " + (typeof i.detail === "string" ? i.detail : JSON.stringify(i.detail)) : "")]));
      });
    }).catch(function () { document.getElementById("audit-card").hidden = true; });
  }

  var ACTIONS = {
    save: save, proof: proofRun, simulate: simulate,
    submit: function () { return transition("submit"); },
    approve: function () { return transition("approve", { note: document.getElementById("review-note").value }); },
    reject: function () { return transition("reject", { note: document.getElementById("review-note").value }); },
    deploy: function () { return transition("deploy"); },
    discard: function () { return transition("discard"); },
  };
  document.getElementById("actions").addEventListener("click", function (e) {
    var button = e.target.closest("button[data-action]");
    if (!button) { return; }
    button.disabled = true;
    S.notice("");
    ACTIONS[button.dataset.action]().catch(function (err) {
      var problems = S.problemsOf(err).filter(function (p) { return p.element_id; });
      if (problems.length) { state.problems = problems; drawProblems(); }
      S.notice(S.describe(err));
    }).then(function () { button.disabled = false; audit(); });
  });
  window.addEventListener("beforeunload", function (e) { if (state.dirty && draftId && S.canEdit(state.draft)) { e.preventDefault(); } });

  fetch("/studio/helpers.json", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (answer) { state.helpers = answer.items || []; }).catch(function () { state.helpers = []; });
  (draftId ? loadDraft() : loadDeployed()).then(audit).catch(function (err) {
    root.dataset.error = String(err);
    S.notice(S.describe(err));
  });
})();
