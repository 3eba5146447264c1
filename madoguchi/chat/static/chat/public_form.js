/* In a shop's iframe: tell the page around it how tall the form is (after an error message too),
   so the embed code on the chat page sizes the frame to the form. */
(function () {
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) { last = height; window.parent.postMessage({ madoguchiFormHeight: height }, "*"); }
  }
  post();
  window.addEventListener("load", post);
  if (window.ResizeObserver) { new ResizeObserver(post).observe(document.body); } else { window.addEventListener("resize", post); }
})();
