// The studio's plumbing: the JSON API through the session bridge (/studio/api/v1, with the
// session's CSRF token on writes), notices, and small DOM helpers. No markup from the server's
// answers is ever parsed: text goes in with textContent.
(function () {
  "use strict";
  var root = document.getElementById("studio");
  var API = "/studio/api/v1";
  function api(method, path, body, raw) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") { headers["X-CSRF-Token"] = root.dataset.csrf; }
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      if (raw) { init.body = body; headers["Content-Type"] = raw; }
      else { init.body = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
    }
    return fetch(API + path, init).then(function (r) {
      var type = r.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 && !(raw === "text" && method === "GET") ? r.json() : r.text();
      return read.then(function (data) {
        if (!r.ok) {
          var err = new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
          err.status = r.status; err.body = data; throw err;
        }
        return data;
      });
    });
  }
  function file(draftId, name) {
    return fetch(API + "/drafts/" + encodeURIComponent(draftId) + "/files/" + name.split("/").map(encodeURIComponent).join("/"),
      { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status + " for " + name); }
      return r.text();
    });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }
  function notice(message, ok) {
    var box = document.getElementById("notice");
    if (!box) { return; }
    box.hidden = !message;
    box.textContent = message || "";
    box.className = "alert" + (ok ? " ok" : "");
  }
  function problemsOf(err) {
    var details = err && err.body && err.body.error && err.body.error.details;
    return Array.isArray(details) ? details : [];
  }
  function describe(err) {
    var extra = problemsOf(err).map(function (p) { return p.message || p.msg || JSON.stringify(p); });
    return err.message + (extra.length ? ": " + extra.join("; ") : "");
  }
  function debounce(fn, ms) {
    var timer = null;
    return function () { var args = arguments; clearTimeout(timer); timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }
  function canEdit(draft) {
    return root.dataset.role === "edit" && draft && draft.status === "editing" && draft.owner === root.dataset.me;
  }
  function when(value) { return value ? String(value).slice(0, 16).replace("T", " ") : ""; }
  window.Studio = { root: root, api: api, file: file, el: el, notice: notice, describe: describe,
    debounce: debounce, canEdit: canEdit, when: when, problemsOf: problemsOf };
})();
