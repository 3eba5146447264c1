// The case page's status-page panel: copy the customer's link, or put it into the reply box.
(function () {
  "use strict";
  if (window.madoguchiProgress) { return; }
  window.madoguchiProgress = true;
  // No reply box on the page (an open chat has its own composer): no button to put the link in it.
  document.querySelectorAll("[data-insert-into]").forEach(function (button) {
    if (!document.querySelector(button.getAttribute("data-insert-into"))) { button.hidden = true; }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from], [data-insert-into]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy-from") || button.getAttribute("data-insert-from"));
    if (!source) { return; }
    if (button.hasAttribute("data-copy-from")) {
      source.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(source.value).catch(function () { document.execCommand("copy"); }); }
      else { document.execCommand("copy"); }
      return;
    }
    var box = document.querySelector(button.getAttribute("data-insert-into"));
    if (!box) { return; }
    var at = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var text = (at > 0 && box.value.charAt(at - 1) !== "\n" ? "\n" : "") + source.value + "\n";
    box.value = box.value.slice(0, at) + text + box.value.slice(at);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    box.selectionStart = box.selectionEnd = at + text.length;
  });
}());
