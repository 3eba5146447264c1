// Counts every SLA timer down each second from its absolute due time (data-due, ISO 8601).
(function () {
  function label(ms) {
    var s = Math.round(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var text = h > 0 ? h + "時間" + m + "分" : m + "分" + (s % 60) + "秒";
    return ms < 0 ? text + "超過" : "残り" + text;
  }
  function tick() {
    document.querySelectorAll(".sla-timer[data-due]").forEach(function (el) {
      var left = new Date(el.dataset.due) - new Date();
      el.querySelector(".left").textContent = label(left);
      if (left < 0) el.classList.add("overdue");
    });
  }
  tick();
  setInterval(tick, 1000);
})();
