/* The agent's live chat: waiting chats in the inbox (with a sound and a notification) and the
 * chat panel on a case page. One WebSocket per page; text is always set with textContent. */
(function () {
  "use strict";
  if (window.__madoguchiAgent) return;
  window.__madoguchiAgent = true;
  // Django's JavaScript catalogue (base.html) translates; without it the Japanese stays.
  var gettext = window.gettext || function (text) { return text; };
  var pgettext = window.pgettext || function (context, text) { return text; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (_, key) { return String(obj[key]); });
  };
  var list = document.getElementById("chat-waiting");
  var panel = document.getElementById("chat-panel");
  if (!list && !panel) return;
  var ws = null, retry = 0, known = null, pending = [], shown = {}, lastCustomerId = 0;
  var sessionId = panel ? +panel.dataset.session : null;
  var here = panel || list;
  // Times in the shop's zone (the server's TIME_ZONE), whatever zone the agent's computer is in.
  var clock;
  try {
    clock = new Intl.DateTimeFormat("en-GB", { timeZone: here.dataset.tz || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  } catch (e) { clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
  var graceMs = 1000 * (+here.dataset.grace || 60);

  function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
  function newId() { return "a" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function hhmm(iso) { return clock.format(iso ? new Date(iso) : new Date()); }
  function csrf() { var i = document.querySelector("input[name=csrfmiddlewaretoken]"); return i ? i.value : ""; }

  // Said while the socket is down (the network, a restart, Redis away at scale), so the agent
  // knows that chats do not move until it is back; gone once the server speaks again (a socket
  // that opens while Redis is still away closes again without a word).
  var connectionNote = document.createElement("p");
  connectionNote.className = "chat-connection";
  connectionNote.setAttribute("role", "status");
  connectionNote.hidden = true;
  here.insertBefore(connectionNote, here.firstChild);

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/chat/agent/");
    ws.onopen = function () {
      retry = 0;
      send({ type: "ping" });  // its pong clears the notice on the inbox, where nothing else may come
      if (sessionId) send({ type: "watch", session_id: sessionId });
    };
    ws.onmessage = function (e) {
      connectionNote.hidden = true;
      connectionNote.textContent = "";
      handle(JSON.parse(e.data));
    };
    ws.onclose = function () {
      connectionNote.textContent = gettext("チャットの接続が切れました。再接続しています…");
      connectionNote.hidden = false;
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }
  setInterval(function () { send({ type: "ping" }); }, 30000);

  // --- waiting list ----------------------------------------------------------------------------
  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.1;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no audio */ }
  }

  function renderWaiting(sessions) {
    if (!list) return;
    var ul = list.querySelector(".chat-waiting-list");
    var fresh = sessions.filter(function (s) { return known && known.indexOf(s.id) < 0; });
    known = sessions.map(function (s) { return s.id; });
    ul.textContent = "";
    if (!sessions.length) {
      var li = document.createElement("li"); li.className = "empty"; li.textContent = gettext("待機中のチャットはありません。"); ul.appendChild(li);
    }
    sessions.forEach(function (s) {
      var li = document.createElement("li");
      li.dataset.id = s.id;
      var name = document.createElement("strong"); name.textContent = s.name || gettext("お客様");
      li.appendChild(name);
      li.appendChild(document.createTextNode(" " + s.subject + (s.team ? "（" + s.team + "）" : "") + " ・ " + gettext("待ち時間") + " "));
      var since = document.createElement("span"); since.dataset.since = s.since; li.appendChild(since);
      var gone = document.createElement("span"); gone.className = "chat-gone"; gone.dataset.left = s.left_at || "";
      gone.appendChild(document.createTextNode(" ・ "));
      var goneText = document.createElement("strong"); goneText.dataset.leftText = ""; gone.appendChild(goneText);
      li.appendChild(gone);
      var form = document.createElement("form");
      form.method = "post"; form.action = "/chat/" + s.id + "/take/"; form.className = "inline";
      var token = document.createElement("input"); token.type = "hidden"; token.name = "csrfmiddlewaretoken"; token.value = csrf();
      var button = document.createElement("button"); button.className = "primary"; button.textContent = gettext("対応する");
      form.appendChild(token); form.appendChild(button); li.appendChild(form);
      ul.appendChild(li);
    });
    tick();
    if (fresh.length) {
      beep();
      if (window.Notification && Notification.permission === "granted") {
        new Notification(gettext("新しいチャット"), { body: (fresh[0].name || gettext("お客様")) + ": " + fresh[0].subject });
      }
    }
  }

  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      if (!el.dataset.since) return;
      var s = Math.max(0, Math.floor((Date.now() - new Date(el.dataset.since)) / 1000));
      el.textContent = window.madoguchiDuration(s);  // madoguchi/duration.js
      el.classList.toggle("overdue", s > 120);
    });
    // A visitor who closed the page, once the grace for a page change has passed.
    document.querySelectorAll("[data-left]").forEach(function (el) {
      var gone = !!el.dataset.left && Date.now() - new Date(el.dataset.left) >= graceMs;
      el.hidden = !gone;
      if (gone) el.querySelector("[data-left-text]").textContent = interpolate(gettext("お客様は退出しました（%(time)s）"), { time: hhmm(el.dataset.left) }, true);
      if (panel && panel.contains(el)) setComposer(gone);
    });
  }

  function setComposer(visitorGone) {
    var compose = panel.querySelector(".chat-compose");
    if (!compose) return;
    var off = visitorGone || panel.dataset.state === "ended";
    compose.querySelectorAll("textarea, button").forEach(function (el) { el.disabled = off; });
  }

  function setLeft(leftAt) {
    var el = panel.querySelector("[data-left]");
    if (el) { el.dataset.left = leftAt || ""; tick(); }
  }
  setInterval(tick, 1000);
  tick();
  var notify = document.querySelector("[data-chat-notify]");
  if (notify) notify.onclick = function () { if (window.Notification) Notification.requestPermission(); beep(); };

  // --- the chat panel on a case page ---------------------------------------------------------------
  var log = panel && panel.querySelector(".chat-log");
  var compose = panel && panel.querySelector(".chat-compose");
  var errorEl = panel && panel.querySelector(".chat-error");

  function render(m, isPending) {
    var li = shown[m.client_id];
    if (!li) { li = document.createElement("li"); shown[m.client_id] = li; log.appendChild(li); }
    li.className = "chat-m from-" + m.sender + (isPending ? " pending" : "");
    li.textContent = "";
    var who = document.createElement("span"); who.className = "meta";
    who.textContent = (m.sender === "customer" ? gettext("お客様") : m.sender === "agent" ? (m.author || gettext("担当者")) : gettext("お知らせ")) + " ・ " + hhmm(m.created_at);
    var body = document.createElement("div"); body.className = "body"; body.textContent = m.text;
    li.appendChild(who); li.appendChild(body);
    if (m.upload) {
      var a = document.createElement("a"); a.href = "/chat/widget/files/" + m.upload.id + "/"; a.textContent = m.upload.name; a.target = "_blank";
      li.appendChild(a);
    }
    var mark = document.createElement("span"); mark.className = "meta read-mark";
    mark.textContent = isPending ? " " + gettext("送信中…") : (m.sender === "agent" && m.read ? " " + gettext("既読") : "");
    li.appendChild(mark);
    if (m.id) li.dataset.id = m.id;
    li.dataset.sender = m.sender;
    if (m.sender === "customer" && m.id > lastCustomerId) lastCustomerId = m.id;
    log.scrollTop = log.scrollHeight;
  }

  function sendRead() { if (lastCustomerId && document.visibilityState === "visible") send({ type: "read", session_id: sessionId, up_to: lastCustomerId }); }

  function handle(ev) {
    if (ev.type === "waiting") return renderWaiting(ev.sessions);
    if (!panel || (ev.session_id && ev.session_id !== sessionId)) return;
    if (ev.type === "welcome") {
      log.textContent = ""; shown = {};
      ev.messages.forEach(function (m) { render(m, false); });
      pending.forEach(function (p) { render({ client_id: p.client_id, sender: "agent", text: p.text }, true); });
      pending.forEach(function (p) { send({ type: "message", session_id: sessionId, client_id: p.client_id, text: p.text }); });
      setLeft(ev.session.left_at);
      sendRead();
    } else if (ev.type === "ack") {
      pending = pending.filter(function (p) { return p.client_id !== ev.client_id; });
      var li = shown[ev.client_id];
      if (li) { li.classList.remove("pending"); li.dataset.id = ev.id; li.querySelector(".read-mark").textContent = ""; }
    } else if (ev.type === "message") {
      render(ev.message, false);
      if (ev.message.sender === "customer") { panel.querySelector(".chat-typing").textContent = ""; sendRead(); }
    } else if (ev.type === "typing" && ev.sender === "customer") {
      panel.querySelector(".chat-typing").textContent = ev.on ? gettext("お客様が入力中…") : "";
    } else if (ev.type === "read" && ev.reader === "customer") {
      log.querySelectorAll("li[data-sender=agent]").forEach(function (li) { if (+li.dataset.id <= ev.up_to) li.querySelector(".read-mark").textContent = " " + gettext("既読"); });
    } else if (ev.type === "state") {
      var label = { waiting: gettext("待機中"), active: gettext("対応中"), ended: pgettext("チャット", "終了") }[ev.session.state];
      panel.querySelector("[data-chat-state]").textContent = label;
      if (ev.session.state !== panel.dataset.state) { panel.dataset.state = ev.session.state; setComposer(false); }
      var notice = panel.querySelector("[data-left]");
      if (notice && ev.session.state === "ended") notice.remove();
      setLeft(ev.session.left_at);
    } else if (ev.type === "presence") {
      setLeft(ev.left_at);
    } else if (ev.type === "error") {
      if (ev.client_id) pending = pending.filter(function (p) { return p.client_id !== ev.client_id; });
      errorEl.textContent = ev.message;
    }
  }

  if (compose) {
    var textarea = compose.querySelector("textarea"), typingAt = 0, typingTimer = null;
    var submit = function () {
      var text = textarea.value.trim();
      errorEl.textContent = "";
      if (!text) return;
      var p = { client_id: newId(), text: text };
      pending.push(p);
      render({ client_id: p.client_id, sender: "agent", text: text }, true);
      textarea.value = "";
      typingAt = 0;
      clearTimeout(typingTimer);
      send({ type: "typing", session_id: sessionId, on: false });
      send({ type: "message", session_id: sessionId, client_id: p.client_id, text: text });
    };
    compose.onsubmit = function (e) { e.preventDefault(); submit(); };
    textarea.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (now - typingAt > 1500) { typingAt = now; send({ type: "typing", session_id: sessionId, on: true }); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingAt = 0; send({ type: "typing", session_id: sessionId, on: false }); }, 3000);
    });
    compose.querySelectorAll("[data-canned]").forEach(function (b) {
      b.onclick = function () {
        textarea.value = (textarea.value ? textarea.value + "\n" : "") + b.dataset.canned.replace("{agent}", panel.dataset.me);
        textarea.focus();
      };
    });
  }
  document.addEventListener("visibilitychange", sendRead);
  connect();
})();
