// Counts every SLA timer down each second from its absolute due time (data-due, ISO 8601).
(function () {
  function label(ms) {
    var text = window.madoguchiDuration(Math.floor(Math.abs(ms) / 1000));  // duration.js
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
