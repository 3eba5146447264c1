/* The length of a public reply as X counts it (madoguchi/x_account/checks.py: a character in
   X's light ranges counts 1, any other 2, a URL 23; 280 is 140 full-width characters), shown under
   the reply box of an X case while the agent types. The desk checks it again when sending. */
(function () {
  "use strict";
  const LIGHT = [[0x0000, 0x10ff], [0x2000, 0x200d], [0x2010, 0x201f], [0x2032, 0x2037]];
  function weigh(text) {
    let total = 0;
    for (const ch of text.normalize("NFC")) {
      const code = ch.codePointAt(0);
      total += LIGHT.some(([low, high]) => code >= low && code <= high) ? 1 : 2;
    }
    return total;
  }
  function weight(text, urlWeight) {
    let total = 0, last = 0;
    for (const match of text.matchAll(/https?:\/\/[^\s\u3000]+/gi)) {
      total += weigh(text.slice(last, match.index)) + urlWeight;
      last = match.index + match[0].length;
    }
    return total + weigh(text.slice(last));
  }
  function update(box) {
    const form = box.closest("form");
    const body = form && form.querySelector("#reply-body");
    if (!body) return;
    const max = Number(box.dataset.maxWeight), urlWeight = Number(box.dataset.urlWeight);
    const publicReply = form.querySelector('input[name="re-route"][value="public"]');
    const isPublic = publicReply instanceof HTMLInputElement && publicReply.checked;
    const used = weight(body.value, urlWeight);
    const count = box.querySelector("[data-x-count]");
    const warning = box.querySelector("[data-x-too-long]");
    const format = box.dataset.countFormat || "{used} / {max}";
    if (count) count.textContent = isPublic ? format.replace("{used}", String(used / 2)).replace("{max}", String(max / 2)) : "";
    if (warning) warning.hidden = !(isPublic && used > max);
  }
  function start() {
    document.querySelectorAll("[data-x-counter]").forEach((box) => {
      const form = box.closest("form");
      if (!form) return;
      form.addEventListener("input", () => update(box));
      form.addEventListener("change", () => update(box));
      update(box);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
