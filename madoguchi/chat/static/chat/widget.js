/* Madoguchi chat widget: one <script src=".../chat/widget.js" data-prechat="name,email,order"> on
 * the shop's page. Plain JS, no framework. Everything a visitor or agent wrote is shown with
 * textContent, never as HTML. A message is kept in localStorage until the server acknowledges
 * it and is resent with the same client id after a reconnect, so none is lost or repeated. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__madoguchiChat) return;
  window.__madoguchiChat = true;
  var base = new URL(script.src).origin;
  var prechat = (script.dataset.prechat || "").split(",").filter(Boolean);
  var title = script.dataset.title || "お問い合わせチャット";
  var KEY = "madoguchi-chat:" + base;
  var store = {
    get: function (k, d) { try { return JSON.parse(localStorage.getItem(KEY + k)) || d; } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(KEY + k, JSON.stringify(v)); } catch (e) { /* private mode */ } },
  };
  var token = store.get(":token", "");
  var pending = store.get(":pending", []); // [{client_id, text}] not yet acknowledged
  var ws = null, retry = 0, opened = false, sessionState = "", maxChars = 5000, maxBytes = 10485760;
  var shown = {}, lastAgentId = 0, typingTimer = null, typingSent = 0;

  // --- the page ---------------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "madoguchi-chat";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // A shop whose page has a Content-Security-Policy gives this script a nonce; the widget's
  // style sheet carries the same one, so the shop need not allow inline styles (docs/deploy.md).
  var nonce = script.nonce || script.getAttribute("nonce") || "";
  root.innerHTML =
    '<style' + (nonce ? ' nonce="' + nonce.replace(/[^A-Za-z0-9+\/=_-]/g, "") + '"' : '') + '>' +
    ':host{all:initial}*{box-sizing:border-box;font-family:"Noto Sans JP",sans-serif;font-size:14px}' +
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#1d4ed8;color:#fff;border:0;border-radius:24px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px #0004}' +
    '.panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 100px);background:#fff;border:1px solid #ccc;border-radius:10px;display:none;flex-direction:column;box-shadow:0 4px 16px #0003;color:#222}' +
    '.panel.open{display:flex}header{background:#1d4ed8;color:#fff;padding:10px 12px;border-radius:10px 10px 0 0;display:flex;justify-content:space-between;align-items:center}' +
    'header button{background:none;border:0;color:#fff;cursor:pointer}.status{padding:6px 12px;background:#eef2ff;font-size:12px;min-height:1.5em}' +
    '.log{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px}.m{max-width:80%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;word-break:break-word}' +
    '.customer{align-self:flex-end;background:#dbeafe}.agent{align-self:flex-start;background:#f3f4f6}.system{align-self:center;color:#555;font-size:12px}' +
    '.pending{opacity:.6}.meta{display:block;font-size:11px;color:#666;margin-top:2px}.m img{max-width:100%;display:block}' +
    '.typing{padding:0 12px;font-size:12px;color:#555;min-height:1.4em}' +
    // The message box: two lines high (its placeholder wraps at this width), the buttons beside it.
    '.composer{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd;align-items:flex-end}' +
    'textarea,input{border:1px solid #bbb;border-radius:6px;padding:6px;line-height:1.5}' +
    '.composer textarea{flex:1;min-width:0;height:calc(3em + 14px);resize:none}' +
    '.composer button,.form button{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:6px 12px;cursor:pointer;flex:none}.file{background:#6b7280!important}' +
    // Forms (pre-chat, leave a message): each label over its field, the field as wide as the form.
    '.error{color:#b91c1c;font-size:12px;padding:0 12px}.form{display:block;padding:8px 12px;overflow-y:auto;border-top:1px solid #ddd}' +
    '.form label{display:block;margin:0 0 8px}.form input,.form textarea{display:block;width:100%;margin-top:2px}.form textarea{height:calc(4.5em + 14px);resize:vertical}' +
    '</style>' +
    '<button class="launcher" part="launcher" aria-expanded="false">チャットで相談</button>' +
    '<section class="panel" role="dialog" aria-label="' + title + '">' +
    '<header><strong class="title"></strong><span><button class="end" title="チャットを終了">終了</button> <button class="close" aria-label="閉じる">✕</button></span></header>' +
    '<div class="status" role="status"></div><div class="log" aria-live="polite"></div><div class="typing"></div><div class="error" role="alert"></div>' +
    '<div class="start"></div>' +
    '<form class="composer"><textarea name="text" aria-label="メッセージ" placeholder="メッセージを入力（Enterで送信）"></textarea>' +
    '<button type="submit">送信</button><button type="button" class="file" title="ファイルを送る">添付</button>' +
    '<input type="file" hidden accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain"></form>' +
    '</section>';
  document.body.appendChild(host);
  var $ = function (sel) { return root.querySelector(sel); };
  var panel = $(".panel"), log = $(".log"), statusEl = $(".status"), errorEl = $(".error");
  var composer = $(".composer"), textarea = composer.querySelector("textarea"), fileInput = composer.querySelector("input[type=file]");
  $(".title").textContent = title;

  function say(el, text) { el.textContent = text || ""; }
  // Times in the shop's zone (welcome.time_zone), as the agents see them and speak of them.
  var clock = null;
  function setZone(zone) {
    try { clock = new Intl.DateTimeFormat("en-GB", { timeZone: zone || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); } catch (e) { clock = null; }
  }
  setZone("Asia/Tokyo");
  function hhmm(iso) {
    var d = iso ? new Date(iso) : new Date();
    return clock ? clock.format(d) : ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  // Unguessable: a first message sent again without the chat's token is matched to its chat by
  // this id (chat.services.first_message_again), and the match hands over the chat's token.
  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "w" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function render(m, isPending) {
    var el = shown[m.client_id];
    if (!el) {
      el = document.createElement("div");
      shown[m.client_id] = el;
      log.appendChild(el);
    }
    el.className = "m " + m.sender + (isPending ? " pending" : "");
    el.textContent = "";
    var body = document.createElement("span");
    body.textContent = m.text;
    el.appendChild(body);
    if (m.upload && m.upload.is_image && token) {
      var img = document.createElement("img");
      img.alt = m.upload.name;
      img.src = base + "/chat/widget/files/" + m.upload.id + "/?token=" + encodeURIComponent(token);
      el.appendChild(img);
    }
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (m.author ? m.author + " ・ " : "") + hhmm(m.created_at) + (isPending ? " 送信中…" : (m.sender === "customer" && m.read ? " 既読" : ""));
    el.appendChild(meta);
    if (m.id) el.dataset.id = m.id;
    el.dataset.sender = m.sender;
    if (m.sender === "agent" && m.id > lastAgentId) lastAgentId = m.id;
    log.scrollTop = log.scrollHeight;
  }

  function markRead(upTo) {
    Object.keys(shown).forEach(function (cid) {
      var el = shown[cid];
      if (el.dataset.sender === "customer" && +el.dataset.id <= upTo && !/既読/.test(el.lastChild.textContent)) el.lastChild.textContent += " 既読";
    });
  }

  function sendRead() {
    if (opened && lastAgentId && document.visibilityState === "visible") send({ type: "read", up_to: lastAgentId });
  }

  // --- the connection ----------------------------------------------------------------------
  function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }

  function connect() {
    if (ws && ws.readyState <= 1) return;
    ws = new WebSocket(base.replace(/^http/, "ws") + "/ws/chat/widget/");
    ws.onopen = function () {
      retry = 0;
      send({ type: "hello", token: token, page_url: location.href });
    };
    ws.onmessage = function (e) { handle(JSON.parse(e.data)); };
    ws.onclose = function () {
      say(statusEl, "接続が切れました。再接続しています…");
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1)); // 0.5 s … 8 s
    };
  }

  function resendPending(olderThan) {
    var now = Date.now();
    pending.forEach(function (p) {
      if (olderThan && now - (p.at || 0) < olderThan) return;
      p.at = now;
      send({ type: "message", client_id: p.client_id, text: p.text, prechat: p.prechat });
    });
  }

  function handle(ev) {
    if (ev.type === "welcome") {
      if (ev.time_zone) setZone(ev.time_zone);
      maxChars = ev.max_chars || maxChars;
      maxBytes = ev.max_upload_bytes || maxBytes;
      greeting = ev.greeting || "";
      if (ev.session) {
        log.textContent = "";
        shown = {};
        ev.messages.forEach(function (m) { render(m, false); });
        setState(ev.session);
      } else {
        setState(null, ev.open);
      }
      pending.forEach(function (p) { if (!shown[p.client_id] || shown[p.client_id].dataset.id === undefined) render({ client_id: p.client_id, sender: "customer", text: p.text }, true); });
      resendPending();
      sendRead();
    } else if (ev.type === "ack") {
      token = ev.token || token;
      store.set(":token", token);
      pending = pending.filter(function (p) { return p.client_id !== ev.client_id; });
      store.set(":pending", pending);
      var el = shown[ev.client_id];
      if (el) { el.classList.remove("pending"); el.dataset.id = ev.id; el.lastChild.textContent = el.lastChild.textContent.replace(" 送信中…", ""); }
      if (ev.session) setState(ev.session);
    } else if (ev.type === "message") {
      if (!ev.message.id && ev.message.sender === "customer") return; // our own draft: wait for the ack
      render(ev.message, false);
      if (ev.message.sender !== "customer") { say($(".typing"), ""); sendRead(); }
    } else if (ev.type === "typing") {
      say($(".typing"), ev.on ? "担当者が入力中…" : "");
    } else if (ev.type === "read" && ev.reader === "agent") {
      markRead(ev.up_to);
    } else if (ev.type === "state") {
      setState(ev.session);
    } else if (ev.type === "queue") {
      if (sessionState === "waiting") {
        var minutes = Math.max(1, Math.round(ev.expected_wait_seconds / 60));
        say(statusEl, ev.open ? "ただいま " + ev.position + " 番目にお待ちいただいています（目安 約" + minutes + "分）。" :
          "ただいま担当者が不在です。メッセージはお預かりしました。" + "メールアドレスをいただいていれば、メールでお返事します。");
      }
    } else if (ev.type === "error") {
      if (ev.code === "stale_session") { forget(); say(errorEl, ev.message); return; }
      if (ev.code === "rate_limited") { say(errorEl, ev.message); return; } // kept pending, resent later
      if (ev.client_id && ev.code !== "rate_limited") {
        pending = pending.filter(function (p) { return p.client_id !== ev.client_id; });
        store.set(":pending", pending);
        if (shown[ev.client_id]) { shown[ev.client_id].remove(); delete shown[ev.client_id]; }
      }
      say(errorEl, ev.message);
    }
  }

  var greeting = "";

  function forget() {
    token = ""; pending = []; store.set(":token", ""); store.set(":pending", []);
    log.textContent = ""; shown = {}; lastAgentId = 0; sessionState = "";
  }

  function setState(session, open) {
    var start = $(".start");
    start.textContent = "";
    sessionState = session ? session.state : "";
    composer.style.display = "flex";
    $(".end").style.display = session && session.state !== "ended" ? "" : "none";
    if (!session) {
      if (open === false && !pending.length) { composer.style.display = "none"; offlineForm(start); return; }
      say(statusEl, greeting || "ご用件をお書きください。担当者がお答えします。"); // the shop's greeting (/settings/chat/)
      if (prechat.length) prechatFields(start);
    } else if (session.state === "waiting") {
      say(statusEl, "担当者におつなぎしています…");
    } else if (session.state === "active") {
      say(statusEl, "担当: " + session.agent);
    } else {
      say(statusEl, "チャットは終了しました。");
      composer.style.display = "none";
      var again = document.createElement("button");
      again.textContent = "新しいチャットを始める";
      again.onclick = function () { forget(); if (ws) ws.close(); };
      start.appendChild(again);
    }
  }

  var FIELDS = { name: ["お名前", "text"], email: ["メールアドレス", "email"], order: ["注文番号", "text"] };
  function field(form, key, label, type, required) {
    var l = document.createElement("label");
    l.textContent = label + (required ? "（必須）" : "（任意）");
    var input = document.createElement(type === "textarea" ? "textarea" : "input");
    if (type !== "textarea") input.type = type;
    input.name = key;
    input.required = !!required;
    l.appendChild(input);
    form.appendChild(l);
    return input;
  }

  function prechatFields(start) {
    var box = document.createElement("div");
    box.className = "form prechat";
    prechat.forEach(function (k) { if (FIELDS[k]) field(box, k, FIELDS[k][0], FIELDS[k][1], false); });
    start.appendChild(box);
  }

  function prechatValues() {
    var out = {};
    root.querySelectorAll(".prechat input").forEach(function (i) { if (i.value.trim()) out[i.name] = i.value.trim(); });
    return out;
  }

  function offlineForm(start) {
    say(statusEl, "ただいまチャットの受付時間外、または担当者が不在です。メッセージを残していただければ、メールでお返事します。");
    var form = document.createElement("form");
    form.className = "form offline";
    field(form, "name", "お名前", "text", false);
    field(form, "email", "メールアドレス", "email", true);
    field(form, "order_number", "注文番号", "text", false);
    field(form, "message", "お問い合わせ内容", "textarea", true).maxLength = maxChars;
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = "メッセージを送る";
    form.appendChild(button);
    form.onsubmit = function (e) {
      e.preventDefault();
      var data = new FormData(form);
      data.append("page_url", location.href);
      button.disabled = true;
      fetch(base + "/chat/widget/offline/", { method: "POST", body: data }).then(function (r) { return r.json(); }).then(function (res) {
        button.disabled = false;
        if (res.ok) { start.textContent = ""; say(statusEl, res.message); } else { say(errorEl, res.error); }
      }).catch(function () { button.disabled = false; say(errorEl, "送信できませんでした。通信状態を確かめて、もう一度お試しください。"); });
    };
    start.appendChild(form);
  }

  // --- what the visitor does -----------------------------------------------------------------
  function submit() {
    var text = textarea.value.trim();
    say(errorEl, "");
    if (!text) return;
    if (text.length > maxChars) { say(errorEl, "メッセージが長すぎます（" + maxChars + "文字まで）。分けて送ってください。"); return; }
    var p = { client_id: newId(), text: text, at: Date.now() };
    if (!token) { p.prechat = prechatValues(); var pre = root.querySelector(".prechat"); if (pre) pre.remove(); }
    pending.push(p);
    store.set(":pending", pending);
    render({ client_id: p.client_id, sender: "customer", text: text }, true);
    textarea.value = "";
    typingSent = 0;
    clearTimeout(typingTimer);
    send({ type: "typing", on: false });
    send({ type: "message", client_id: p.client_id, text: text, prechat: p.prechat });
  }

  composer.onsubmit = function (e) { e.preventDefault(); submit(); };
  textarea.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } });
  textarea.addEventListener("input", function () {
    var now = Date.now();
    if (now - typingSent > 1500) { typingSent = now; send({ type: "typing", on: true }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingSent = 0; send({ type: "typing", on: false }); }, 3000);
  });
  $(".file").onclick = function () {
    if (!token) { say(errorEl, "ファイルは、最初のメッセージを送ってから送れます。"); return; }
    fileInput.click();
  };
  fileInput.onchange = function () {
    var file = fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > maxBytes) { say(errorEl, "ファイルが大きすぎます（" + Math.floor(maxBytes / 1048576) + "MBまで）。"); return; }
    var data = new FormData();
    data.append("token", token);
    data.append("client_id", newId());
    data.append("file", file);
    say(statusEl, "ファイルを送っています…");
    fetch(base + "/chat/widget/upload/", { method: "POST", body: data }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.ok) { render(res.message, false); say(statusEl, ""); } else { say(errorEl, res.error); }
    }).catch(function () { say(errorEl, "ファイルを送れませんでした。もう一度お試しください。"); });
  };
  $(".close").onclick = function () { toggle(false); };
  $(".end").onclick = function () { if (confirm("チャットを終了しますか？")) send({ type: "end" }); };
  $(".launcher").onclick = function () { toggle(!opened); };
  document.addEventListener("visibilitychange", sendRead);
  // A dropped network is noticed at once (a half-open socket could otherwise look alive for
  // minutes); unacknowledged messages wait in localStorage and go out after the reconnect.
  window.addEventListener("offline", function () { if (ws) ws.close(); });
  window.addEventListener("online", function () { retry = 0; connect(); });
  // A message not yet acknowledged (say, refused for flooding) is tried again every few seconds.
  setInterval(function () { if (pending.length) resendPending(4000); }, 2000);

  function toggle(open) {
    opened = open;
    panel.classList.toggle("open", open);
    $(".launcher").setAttribute("aria-expanded", String(open));
    if (open) { connect(); textarea.focus(); sendRead(); }
  }

  // A conversation in progress comes back on every page of the shop.
  if (token) { connect(); if (store.get(":open", false)) toggle(true); }
  window.addEventListener("pagehide", function () { store.set(":open", opened); });
})();
