// How long, in the desk's language: the same rule and catalogue entries as madoguchi/figures.py
// duration. Under a minute 秒, under an hour 分秒, under a day 時間分, under two days 「1日4時間」,
// then whole days 「6日」 (hours and days rounded half up). Used by the SLA timers and chat waits.
window.madoguchiDuration = function (s) {
  s = Math.abs(Math.round(s));
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function days(n) { return interpolate(ngettext("%(d)s日", "%(d)s日", n), { d: n }, true); }
  if (s < 60) return interpolate(gettext("%(s)s秒"), { s: s }, true);
  if (s < 3600) return s % 60 ? interpolate(gettext("%(m)s分%(s)s秒"), { m: Math.floor(s / 60), s: pad(s % 60) }, true)
                              : interpolate(gettext("%(m)s分"), { m: s / 60 }, true);
  if (s < 86400) return interpolate(gettext("%(h)s時間%(m)s分"), { h: Math.floor(s / 3600), m: pad(Math.floor((s % 3600) / 60)) }, true);
  var hours = Math.round(s / 3600);
  if (hours < 48) return hours > 24 ? interpolate(gettext("%(d)s日%(h)s時間"), { d: 1, h: hours - 24 }, true) : days(1);
  return days(Math.round(s / 86400));
};
