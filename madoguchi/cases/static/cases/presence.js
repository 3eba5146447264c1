/* The case page's collision guard: who else has this case open and who is typing a reply,
   live over /ws/cases/<id>/ (cases/presence.py). Reconnects after a drop; forgets a viewer not
   heard from for 70 s (a closed socket is told at once). */
(function () {
  "use strict";
  var bar = document.getElementById("presence");
  if (!bar || !window.WebSocket) return;
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (_m, key) { return String(obj[key]); });
  };
  var caseId = bar.dataset.case, me = Number(bar.dataset.me);
  var TTL = 70000, PING = 25000, IDLE = 4000;
  var others = {};  // channel → {user_id, name, typing, at}
  var ws = null, typing = false, idleTimer = null, retry = 1000;

  function render() {
    var now = Date.now(), viewing = {}, writing = {};
    Object.keys(others).forEach(function (channel) {
      var o = others[channel];
      if (now - o.at > TTL) { delete others[channel]; return; }
      if (o.user_id === me) return;  // my own other tab
      viewing[o.user_id] = o.name;
      if (o.typing) writing[o.user_id] = o.name;
    });
    var names = Object.keys(viewing).map(function (k) { return viewing[k]; });
    var typers = Object.keys(writing).map(function (k) { return writing[k]; });
    var viewers = bar.querySelector("[data-viewers]"), typists = bar.querySelector("[data-typing]");
    viewers.textContent = names.length ? interpolate(gettext("%(names)s さんもこの案件を見ています"), { names: names.join("、") }, true) : "";
    typists.textContent = typers.length ? interpolate(gettext("%(names)s さんが返信を入力中です…"), { names: typers.join("、") }, true) : "";
    bar.hidden = !names.length && !bar.querySelector("[data-replied]").textContent;
  }

  function send(data) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(data)); }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/cases/" + caseId + "/");
    ws.onopen = function () { retry = 1000; bar.dataset.connected = "1"; if (typing) send({ type: "typing", on: true }); };
    ws.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "here") others[data.channel] = { user_id: data.user_id, name: data.name, typing: !!data.typing, at: Date.now() };
      else if (data.type === "typing") {
        var known = others[data.channel] || { user_id: data.user_id, name: data.name };
        known.typing = !!data.on; known.at = Date.now(); others[data.channel] = known;
      } else if (data.type === "left") delete others[data.channel];
      else if (data.type === "replied" && data.user_id !== me) {
        bar.querySelector("[data-replied]").textContent = interpolate(
          gettext("%(name)s さんがお客様に返信しました。ページを再読み込みして確認してください。"), { name: data.name || gettext("他の担当者") }, true);
      }
      render();
    };
    ws.onclose = function () {
      delete bar.dataset.connected;
      others = {}; render();
      setTimeout(connect, retry); retry = Math.min(retry * 2, 30000);
    };
  }

  function setTyping(on) {
    if (on !== typing) { typing = on; send({ type: "typing", on: on }); }
  }

  var box = document.getElementById("reply-body");
  if (box) {
    box.addEventListener("input", function () {
      setTyping(true);
      clearTimeout(idleTimer);
      idleTimer = setTimeout(function () { setTyping(false); }, IDLE);
    });
    if (box.form) box.form.addEventListener("submit", function () { setTyping(false); });
  }
  setInterval(function () { send({ type: "ping" }); render(); }, PING);
  connect();
})();
