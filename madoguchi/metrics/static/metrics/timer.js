// Counts every SLA timer down each second from its absolute due time (data-due, ISO 8601).
(function () {
  function label(ms) {
    var s = Math.round(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var text = h > 0 ? interpolate(gettext("%(h)s時間%(m)s分"), { h: h, m: m }, true)
                     : interpolate(gettext("%(m)s分%(s)s秒"), { m: m, s: s % 60 }, true);
    return interpolate(ms < 0 ? gettext("%(time)s超過") : gettext("残り%(time)s"), { time: text }, true);
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
