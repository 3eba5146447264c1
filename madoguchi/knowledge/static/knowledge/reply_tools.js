// Reply tools on the case page: greeting + closing by default, templates by keyboard
// (Alt+T to pick, Alt+1…9 to insert), one-click insertion of suggestions, and gentle
// hints while typing. Plain JS, no libraries; hints never stop the form from sending.
(function () {
  "use strict";
  var box = document.getElementById("reply-body");
  var dataNode = document.getElementById("kb-reply-data");
  if (!box || !dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var hintList = document.getElementById("reply-hints");
  var select = document.getElementById("kb-template");

  // Insert at the caret (or replace the selection), keeping the rest of what was typed.
  function insert(text) {
    var start = box.selectionStart, end = box.selectionEnd, value = box.value;
    if (document.activeElement !== box && box.dataset.kbCaret) {
      start = end = parseInt(box.dataset.kbCaret, 10);
    }
    var before = value.slice(0, start), after = value.slice(end);
    var glueBefore = before && !/\n$/.test(before) ? "\n" : "";
    var glueAfter = after && !/^\n/.test(after) ? "\n" : "";
    box.value = before + glueBefore + text + glueAfter + after;
    var caret = (before + glueBefore + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dataset.kbCaret = String(caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function templateText(id) {
    for (var i = 0; i < data.templates.length; i++) {
      if (String(data.templates[i].id) === String(id)) { useMacro(data.templates[i]); return data.templates[i].text; }
    }
    return "";
  }

  // A template that also sets fields (a macro): the form says which, and sends its id.
  var macroInput = document.getElementById("kb-macro"), macroNote = document.getElementById("kb-macro-note");
  function useMacro(template) {
    if (!macroInput || !template.macro || !template.macro.length) { return; }
    macroInput.value = String(template.id);
    macroNote.querySelector("[data-lines]").textContent = template.macro.join(" / ");
    macroNote.hidden = false;
  }
  if (macroInput && macroInput.value) {  // the page came back (a held reply): the choice stays shown
    data.templates.forEach(function (t) { if (String(t.id) === macroInput.value) { useMacro(t); } });
  }
  var macroClear = document.getElementById("kb-macro-clear");
  if (macroClear) {
    macroClear.addEventListener("click", function () { macroInput.value = ""; macroNote.hidden = true; });
  }

  // Greeting and closing by default, on an empty box only (never over a draft).
  if (!box.value.trim() && (data.greeting || data.closing)) {
    box.value = (data.greeting ? data.greeting + "\n\n" : "") + "\n\n" + (data.closing || "");
    box.dataset.kbCaret = String(data.greeting ? data.greeting.length + 2 : 0);
  }
  box.addEventListener("blur", function () { box.dataset.kbCaret = String(box.selectionStart); });

  var insertButton = document.getElementById("kb-insert-template");
  if (insertButton && select) {
    insertButton.addEventListener("click", function () { if (select.value) { insert(templateText(select.value)); } });
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); if (select.value) { insert(templateText(select.value)); } }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.code === "KeyT" && select) {
      event.preventDefault();
      box.dataset.kbCaret = String(box.selectionStart);
      select.focus();
      return;
    }
    var match = /^Digit([1-9])$/.exec(event.code);
    if (match && data.templates[parseInt(match[1], 10) - 1]) {
      event.preventDefault();
      useMacro(data.templates[parseInt(match[1], 10) - 1]);
      insert(data.templates[parseInt(match[1], 10) - 1].text);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (button) { event.preventDefault(); insert(button.getAttribute("data-kb-insert")); }
  });

  // Hints: asked of the server (promises live there) a moment after typing stops.
  var timer = null;
  var csrf = box.form ? box.form.querySelector("input[name=csrfmiddlewaretoken]") : null;
  function showHints(hints) {
    hintList.textContent = "";
    hints.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      hintList.appendChild(li);
    });
  }
  function askHints() {
    var body = new FormData();
    body.append("body", box.value);
    fetch(data.hintsUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: csrf ? { "X-CSRFToken": csrf.value } : {},
    }).then(function (r) { return r.ok ? r.json() : { hints: [] }; })
      .then(function (json) { showHints(json.hints || []); })
      .catch(function () { /* hints are optional: a failed check never gets in the way */ });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(askHints, 400);
  });
  if (hintList) { askHints(); }
})();
