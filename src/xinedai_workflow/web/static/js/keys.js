// Keyboard-first work: j/k move through the inbox, Enter opens, n takes the next task,
// c claims the open task, Ctrl+Enter completes the form. No key acts while typing in a field,
// except Ctrl+Enter in the task form.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.task-row")); }
  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    all[index].classList.add("selected");
    all[index].setAttribute("aria-selected", "true");
    all[index].focus();
    all[index].scrollIntoView({ block: "nearest" });
  }
  function current() { return rows().findIndex(function (r) { return r.classList.contains("selected"); }); }
  function submit(id) {
    var form = document.getElementById(id);
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  }
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      var form = document.getElementById("task-form");
      if (form) { ev.preventDefault(); submit("task-form"); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) { return; }
    if (ev.key === "j") { ev.preventDefault(); select(current() + 1); }
    else if (ev.key === "k") { ev.preventDefault(); select(current() < 0 ? 0 : current() - 1); }
    else if (ev.key === "Enter" && current() >= 0) { ev.preventDefault(); window.location.href = rows()[current()].dataset.href; }
    else if (ev.key === "n") { ev.preventDefault(); submit("next-form"); }
    else if (ev.key === "c") { ev.preventDefault(); submit("claim-form"); }
  });
  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr.task-row");
    if (row && ev.target.tagName !== "A") { window.location.href = row.dataset.href; }
  });
})();
