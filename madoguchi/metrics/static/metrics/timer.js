// Counts every SLA timer down each second from its absolute due time (data-due, ISO 8601).
(function () {
  // The same rule as metrics/formatting.py format_span: under an hour 分秒, under a day 時間分,
  // under two days 「1日4時間」, then whole days 「6日」.
  function span(s) {
    if (s < 3600) return interpolate(gettext("%(m)s分%(s)s秒"), { m: Math.floor(s / 60), s: s % 60 }, true);
    if (s < 86400) return interpolate(gettext("%(h)s時間%(m)s分"), { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) }, true);
    var hours = Math.round(s / 3600);
    if (hours < 48) return hours > 24 ? interpolate(gettext("%(d)s日%(h)s時間"), { d: 1, h: hours - 24 }, true)
                                      : interpolate(gettext("%(d)s日"), { d: 1 }, true);
    return interpolate(gettext("%(d)s日"), { d: Math.round(s / 86400) }, true);
  }
  function label(ms) {
    var text = span(Math.floor(Math.abs(ms) / 1000));
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
