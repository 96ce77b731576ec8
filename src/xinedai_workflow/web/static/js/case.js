// The case's diagram in the bpmn-js viewer with its live position: active elements highlighted,
// the path taken shaded, waits (timers with their due time, messages) as overlays.
(function () {
  "use strict";
  var host = document.getElementById("diagram");
  if (!host || !window.BpmnJS) { return; }
  function text(value) { var span = document.createElement("span"); span.textContent = value; return span; }
  fetch(host.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      if (!data.xml) { host.appendChild(text("–")); return; }
      var viewer = new window.BpmnJS({ container: host });
      return viewer.importXML(data.xml).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        var overlays = viewer.get("overlays");
        canvas.zoom("fit-viewport");
        // every flow element by id, so an element inside a collapsed subprocess (drawn on its
        // own plane) is also shown on the subprocess that contains it
        var index = {};
        (function walk(elements) {
          (elements || []).forEach(function (bo) { index[bo.id] = bo; walk(bo.flowElements); });
        })(viewer.getDefinitions().rootElements);
        function shown(id) {
          var found = [];
          var bo = index[id];
          if (registry.get(id)) { found.push(id); }
          while (bo && bo.$parent) {
            bo = bo.$parent;
            if (bo.id && registry.get(bo.id) && registry.get(bo.id).type !== "bpmn:Process") { found.push(bo.id); }
          }
          return found;
        }
        function mark(ids, marker) {
          (ids || []).forEach(function (id) { shown(id).forEach(function (s) { canvas.addMarker(s, marker); }); });
        }
        mark(data.taken, "path-taken");
        mark(data.active, "path-active");
        (data.waits || []).forEach(function (w) {
          var places = shown(w.element_id);
          if (!places.length) { return; }
          places.forEach(function (s) { canvas.addMarker(s, "path-wait"); });
          var note = document.createElement("div");
          note.className = "wait-overlay";
          note.appendChild(text((w.kind === "timer" ? "⏱ " : "✉ ") + (w.due_at ? w.due_at.slice(0, 16).replace("T", " ") : w.name)));
          overlays.add(places[0], { position: { bottom: -4, left: 0 }, html: note });
        });
        host.dataset.ready = "true";
        host.dataset.active = (data.active || []).join(",");
      });
    })
    .catch(function (err) { host.dataset.error = String(err); host.appendChild(text(String(err))); });
})();
