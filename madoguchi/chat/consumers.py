"""WebSocket ends of the chat: the visitor's widget and the agent's desk.

Protocol (JSON objects with a `type`), the same words both ways where it can be:
  visitor → hello{token,page_url,name,email,order_number} · message{client_id,text} ·
            typing{on} · read{up_to} · end
  agent   → ping · watch{session_id} · message{session_id,client_id,text} · typing · read
  server  → welcome · ack{client_id,id,token} · message · typing · read · state · queue ·
            waiting · error{code,message,client_id?}
A message is acknowledged only after it is stored; the sender resends unacknowledged ones
on reconnect with the same client_id, and the server stores it once (see services).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from madoguchi import addresses
from madoguchi.chat import events, services, spam, storage, widget_settings
from madoguchi.chat.models import ChatSession, Sender, SessionState

log = logging.getLogger(__name__)


def db_read(func: Any) -> Any:
    """Run a read (hello, watch, the queue snapshots) in a thread of the loop's pool, not in the
    one thread-sensitive database thread, so connecting sockets never queue behind other work.

    The connection is given back inside the call: database_sync_to_async's own clean-up runs
    outside the context the function ran in, and in the pool's threads it did not see (so did
    not close) the connection the function opened."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(call, thread_sensitive=False)


class Shared:
    """A per-process snapshot, computed once however many sockets ask at the same moment."""

    def __init__(self, compute: Any) -> None:
        self.compute = compute
        self.value: Any = None
        self.at = 0.0
        self.lock = asyncio.Lock()

    async def get(self, newer_than: float) -> Any:
        async with self.lock:
            if self.value is None or self.at < newer_than:
                self.at = time.monotonic()
                self.value = await db_read(self.compute)()
            return self.value


def _queue_state() -> dict[str, Any]:
    snapshot = services.queue_snapshot()
    snapshot["open"] = services.chat_open()
    return snapshot


QUEUE = Shared(_queue_state)
WAITING = Shared(services.waiting_payload)
OPEN = Shared(services.chat_open)  # asked by every connecting widget: a second old is fresh enough
OPEN_SECONDS = 1.0
SETTLE_SECONDS = 0.3  # let a burst of queue changes settle into one query per process
CLOSE_SECONDS = 10.0  # what a closing socket still has to store may take this long


def socket_address(scope: dict[str, Any]) -> str:
    """The visitor's address (madoguchi.addresses: behind a proxy, its last hop)."""
    forwarded = dict(scope.get("headers", [])).get(b"x-forwarded-for", b"").decode("latin1")
    return addresses.client_address(str((scope.get("client") or ("", 0))[0]), forwarded)


# One bucket per chat, shared by every socket of its token in this process: a token used on 100
# sockets stored 1,010 messages in 3.4 s with a bucket per socket only (issue 21, finding 4).
# At scale each web process keeps its own, so a chat spread over N processes gets N times the rate.
_SESSION_BUCKETS: dict[int, TokenBucket] = {}


def session_bucket(session_id: int) -> TokenBucket:
    bucket = _SESSION_BUCKETS.get(session_id)
    if bucket is None:
        if len(_SESSION_BUCKETS) > 50_000:
            _SESSION_BUCKETS.clear()  # a full bucket again for the chats of the moment: harmless
        bucket = _SESSION_BUCKETS[session_id] = TokenBucket(settings.MADOGUCHI_CHAT_BURST, settings.MADOGUCHI_CHAT_PER_MINUTE)
    return bucket


class TokenBucket:
    """Flood control per socket: `burst` messages at once, then `per_minute` a minute."""

    def __init__(self, burst: int, per_minute: int) -> None:
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.rate = per_minute / 60.0
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class ChatSocket(AsyncJsonWebsocketConsumer):
    """What both ends share: safe JSON decoding, error replies, session group events."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, less its `aclose_old_connections()` hop before EVERY event: that
        hop waits in the one database thread, so under load a typing mark or a message relayed
        to an agent queued behind other chats' writes (seconds). Every database call here goes
        through database_sync_to_async, which closes old connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.error("bad_json", "送信内容を読み取れませんでした。")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.error("bad_message", "送信内容の形式が正しくありません。")
            return
        handler = getattr(self, f"on_{content['type']}", None)
        if handler is None:
            await self.error("bad_message", "送信内容の種類が正しくありません。")
            return
        first = getattr(self, f"now_{content['type']}", None)
        if first is not None and not await self.handle(first, content):
            return
        if content["type"] in self.INLINE:
            await self.handle(handler, content)
        else:
            self.later(handler, content)

    # Handlers that wait for the database run one after another in a task of their own, so the
    # socket keeps relaying other people's messages and typing marks meanwhile; a `now_<type>`
    # part (checks, the draft to agents) runs at once and may stop the rest by returning False.
    INLINE: frozenset[str] = frozenset({"typing"})

    async def handle(self, handler: Any, content: dict[str, Any]) -> Any:
        try:
            return await handler(content)
        except services.ChatError as error:
            await self.error(error.code, str(error), content.get("client_id"))
            return False

    def later(self, handler: Any, content: dict[str, Any]) -> None:
        if getattr(self, "jobs", None) is None:
            self.jobs: asyncio.Queue[tuple[Any, dict[str, Any]] | None] = asyncio.Queue()
            self.worker = asyncio.create_task(self.work())
        self.jobs.put_nowait((handler, content))

    async def work(self) -> None:
        while (job := await self.jobs.get()) is not None:
            handler, content = job
            try:
                await self.handle(handler, content)
            except Exception:  # the socket may be gone; what was stored stays stored
                log.debug("chat: job after disconnect", exc_info=True)

    def _track(self, task: asyncio.Task[None], *, finish: bool = True) -> None:
        """Keep a task this socket started, to finish (`finish`) or cancel it when the socket
        closes: a task left pending on a gone socket is destroyed pending by the collector."""
        tasks = self.__dict__.setdefault("finish_tasks" if finish else "cancel_tasks", set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        try:
            await super().websocket_disconnect(message)
        finally:
            await self.stop_tasks()

    async def stop_tasks(self) -> None:
        """The jobs already queued (a message to store) and the acks in flight run to their
        end, within CLOSE_SECONDS; refreshes for the gone socket are cancelled."""
        for task in self.__dict__.get("cancel_tasks", set()).copy():
            task.cancel()
        finishing: set[asyncio.Task[None]] = set(self.__dict__.get("finish_tasks", set()))
        if getattr(self, "jobs", None) is not None:
            self.jobs.put_nowait(None)
            finishing.add(self.worker)
        if finishing:
            _done, late = await asyncio.wait(finishing, timeout=CLOSE_SECONDS)
            for task in late:
                task.cancel()
            finishing = late
        cancelled = finishing | self.__dict__.get("cancel_tasks", set())
        if cancelled:
            await asyncio.wait(cancelled, timeout=1)

    async def leave(self, group: str) -> None:
        """Leave a group on disconnect; if the channel layer cannot be reached, go on with the
        rest of the disconnect (the visitor counted out, the agent marked gone) all the same:
        a membership left behind only costs events sent to a gone channel, which expire."""
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            log.warning("chat: could not leave %s on disconnect", group, exc_info=True)

    async def error(self, code: str, message: str, client_id: Any = None) -> None:
        payload = {"type": "error", "code": code, "message": message}
        if isinstance(client_id, str):
            payload["client_id"] = client_id[:64]
        await self.send_json(payload)

    async def chat_event(self, event: dict[str, Any]) -> None:
        data = event["event"]
        if data.get("origin") == self.channel_name:
            return  # our own typing mark
        data = {k: v for k, v in data.items() if k != "origin"}
        await self.on_session_event(data)
        await self.send_json(data)

    async def on_session_event(self, data: dict[str, Any]) -> None:
        """Hook: a consumer that keeps state about the session updates it here."""

    async def broadcast(self, session_id: int, kind: str, **data: Any) -> None:
        event = {"type": kind, "session_id": session_id, **data}
        await self.channel_layer.group_send(events.session_group(session_id), {"type": "chat.event", "event": event})

    async def broadcast_queue(self) -> None:
        await self.channel_layer.group_send(events.AGENTS, {"type": "chat.waiting_changed"})
        await self.channel_layer.group_send(events.QUEUE, {"type": "chat.queue_changed"})

    def refresh_soon(self, send: Any) -> None:
        """Answer a burst of 'something changed' with one refresh, off the dispatch loop (a
        handler that waited for the database here would stall every other event of the socket)."""
        pending: set[str] | None = getattr(self, "refreshing", None)
        if pending is None:
            pending = set()
            self.refreshing = pending
        if send.__name__ in pending:
            return
        pending.add(send.__name__)
        asked = time.monotonic()

        async def run() -> None:
            try:
                await asyncio.sleep(SETTLE_SECONDS)
                pending.discard(send.__name__)
                await send(asked)
            except Exception:  # the socket may be gone by then
                log.debug("chat: refresh after disconnect", exc_info=True)

        self._track(asyncio.create_task(run()), finish=False)

    async def chat_waiting_changed(self, event: dict[str, Any]) -> None:
        """Only agents join that group."""

    async def chat_queue_changed(self, event: dict[str, Any]) -> None:
        """Only waiting visitors join that group."""


class WidgetConsumer(ChatSocket):
    session: ChatSession | None

    async def connect(self) -> None:
        self.session = None
        self.meta: dict[str, str] = {}
        self.bucket = TokenBucket(settings.MADOGUCHI_CHAT_BURST, settings.MADOGUCHI_CHAT_PER_MINUTE)
        self.typing_at = 0.0
        self.in_queue = False
        self.inflight: set[str] = set()
        self.closed = False
        self.present_in: int | None = None  # the chat this socket counts as the visitor's presence in
        # Counting in (_here, in the job task) and out (disconnect, in the socket's own task) take
        # turns: a tab closed while its first message's ack was still counting it in had its
        # closing counted first, the visitor marked gone while another tab was open, and the
        # late count-in left a socket counted that no longer existed.
        self.presence_turn = asyncio.Lock()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        # Messages still in the writer are stored all the same (not acked: the widget resends).
        self.closed = True
        if self.session is not None:
            await self.leave(events.session_group(self.session.pk))
        if self.in_queue:
            await self.leave(events.QUEUE)
        async with self.presence_turn:
            if self.present_in is None:
                return
            left_at = await database_sync_to_async(services.do_visitor_socket_closed)(self.present_in)
        if left_at is not None:
            await self._tell_presence(self.present_in, left_at.isoformat())

    async def _here(self) -> None:
        """The visitor is on the chat through this socket (counted once per socket, never
        after the socket closed)."""
        async with self.presence_turn:
            if self.session is None or self.present_in is not None or self.session.state == SessionState.ENDED:
                return
            if self.closed:  # closed before it was counted: gone, unless another tab is there
                left_at = await database_sync_to_async(services.do_visitor_socket_closed)(
                    self.session.pk, counted=False)
                if left_at is not None:
                    await self._tell_presence(self.session.pk, left_at.isoformat())
                return
            self.present_in = self.session.pk
            back = await database_sync_to_async(services.do_visitor_here)(self.session.pk)
        if back:
            await self._tell_presence(self.session.pk, "")

    async def _tell_presence(self, session_id: int, left_at: str) -> None:
        """To the agents on the chat's page and the inbox's waiting list (they show the visitor
        as gone only after the grace period, so a page change within it shows nothing)."""
        await self.broadcast(session_id, "presence", left_at=left_at, origin=self.channel_name)
        await self.channel_layer.group_send(events.AGENTS, {"type": "chat.waiting_changed"})

    async def on_hello(self, content: dict[str, Any]) -> None:
        self.meta = {"page_url": str(content.get("page_url") or "")[:1000], **services.clean_visitor_fields(content)}
        self.meta["origin"] = dict(self.scope.get("headers", [])).get(b"origin", b"").decode("latin1")[:200]
        chat_open = await OPEN.get(newer_than=time.monotonic() - OPEN_SECONDS)
        stale, welcome = await db_read(self._welcome)(content.get("token"), chat_open)  # one trip
        if stale is not None:
            await self.error(stale.code, str(stale))
        if self.session is not None:
            await self.channel_layer.group_add(events.session_group(self.session.pk), self.channel_name)
            await self._follow_queue()
            # Counted before the welcome: a visitor told "you are back" whose other tab closes
            # right after must not be marked gone (a closing tab found no socket counted yet).
            await self._here()
        await self.send_json(welcome)

    def _welcome(self, token: Any, chat_open: bool) -> tuple[services.ChatError | None, dict[str, Any]]:
        stale = None
        if token:
            try:
                self.session = services.get_live_session(token)
            except services.ChatError as error:
                stale = error
        payload: dict[str, Any] = {
            "type": "welcome", "open": chat_open, "time_zone": timezone.get_current_timezone_name(),
            "max_chars": services.max_message_chars(),
            "max_upload_bytes": settings.MADOGUCHI_CHAT_MAX_UPLOAD_BYTES,
            "greeting": widget_settings.current().greeting,
        }
        if self.session is not None:
            payload["session"] = services.session_payload(self.session)
            payload["messages"] = services.transcript(self.session)
        return stale, payload

    async def now_message(self, content: dict[str, Any]) -> bool:
        if self.session is not None and self.session.state == SessionState.ENDED:
            raise services.ChatError("このチャットは終了しています。新しいチャットを始めてください。", "ended")
        client_id = services.clean_client_id(content.get("client_id"))
        if client_id in self.inflight:
            return False  # a resend of a message still being stored: its ack is on the way
        if not self.bucket.take() or (self.session is not None and not session_bucket(self.session.pk).take()):
            raise services.ChatError("続けて送信されたため、少し時間をおいて自動で送ります。", "rate_limited")
        if self.session is None and not self.inflight and not await sync_to_async(spam.within_limit)(
                socket_address(self.scope), "chat-new", settings.MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR, 3600):
            raise services.ChatError("短い時間に多くのチャットが始められたため、しばらく新しいチャットを始められません。"
                                     "お急ぎの場合はお問い合わせフォームをご利用ください。", "too_many_chats")
        text = services.clean_text(content.get("text"))
        content["client_id"], content["text"] = client_id, text
        self.inflight.add(client_id)
        if self.session is not None:
            # Deliver first, store second: agents see the words at once, and the visitor keeps
            # the message (and resends it) until the ack says it is stored.
            draft = {"id": None, "client_id": client_id, "sender": Sender.CUSTOMER, "text": text,
                     "created_at": timezone.now().isoformat(), "read": False}
            await self.broadcast(self.session.pk, "message", message=draft)
        return True

    async def on_message(self, content: dict[str, Any]) -> None:
        """Hand the message to the process's write-behind writer (storage.py); ack after commit.

        The first message of a chat waits here for its commit (it creates the session that the
        next messages belong to); later ones do not hold up the socket's queue at all."""
        client_id, text = content["client_id"], content["text"]
        if self.session is None:
            if isinstance(content.get("prechat"), dict):
                self.meta.update(services.clean_prechat(content["prechat"]))
            future = storage.writer().submit(services.start_session(**self.meta), client_id, text)
            await self._stored(future, client_id)
            return
        future = storage.writer().submit(self.session, client_id, text)
        future.add_done_callback(lambda done: self._track(asyncio.create_task(self._stored(done, client_id))))

    async def _stored(self, future: asyncio.Future[services.Posted], client_id: str) -> None:
        try:
            posted = await future
        except services.ChatError as error:
            await self.error(error.code, str(error), client_id)
            return
        except Exception:  # not stored now: no ack, so the widget sends it again
            log.warning("chat: message %s not stored", client_id, exc_info=True)
            await self.error("not_stored", "一時的に保存できませんでした。自動でもう一度送ります。")
            return
        finally:
            self.inflight.discard(client_id)
        if self.closed:
            if posted.new_session:  # the chat began as its page closed: its visitor is gone already
                await database_sync_to_async(services.do_visitor_socket_closed)(posted.session.pk, counted=False)
            return  # stored; the widget will resend it after reconnecting and be acked then
        # A first message stored before, whose ack was lost with its socket, comes back without
        # the token (services.first_message_again): this socket takes up that chat.
        adopted = self.session is None and not posted.new_session
        self.session = posted.session
        await self.send_json({
            "type": "ack", "client_id": posted.message.client_id, "id": posted.message.pk,
            "token": posted.session.token, "session": posted.session_payload,
        })
        if posted.new_session or adopted:
            await self.channel_layer.group_add(events.session_group(posted.session.pk), self.channel_name)
            await self._follow_queue()
            await self._here()
            await self.broadcast_queue()
        if posted.created:
            # To the agents and the visitor's other tabs; this socket has the ack.
            await self.broadcast(posted.session.pk, "message", message=services.message_payload(posted.message),
                                 origin=self.channel_name)

    async def on_typing(self, content: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.session is None or (content.get("on") and now - self.typing_at < 1.0):
            return  # at most one typing mark a second
        self.typing_at = now
        await self.broadcast(self.session.pk, "typing", sender=Sender.CUSTOMER, on=bool(content.get("on")), origin=self.channel_name)

    async def on_read(self, content: dict[str, Any]) -> None:
        if self.session is None:
            return
        up_to = content.get("up_to")
        if await database_sync_to_async(services.do_mark_read)(self.session, reader=Sender.CUSTOMER, up_to=up_to):
            await self.broadcast(self.session.pk, "read", reader=Sender.CUSTOMER, up_to=up_to)

    async def on_end(self, content: dict[str, Any]) -> None:
        if self.session is None:
            return
        self.session = await database_sync_to_async(services.do_end)(self.session, by=None)
        await self.broadcast(self.session.pk, "state", session=services.session_payload(self.session))
        notice = await database_sync_to_async(services.last_message)(self.session)
        if notice is not None:
            await self.broadcast(self.session.pk, "message", message=services.message_payload(notice))
        await self.broadcast_queue()

    async def chat_event(self, event: dict[str, Any]) -> None:
        data = event["event"]
        if data["type"] == "message" and data["message"]["id"] is None and data["message"]["sender"] == Sender.CUSTOMER:
            return  # a visitor's draft is for the agents; the widget waits for the stored one
        await super().chat_event(event)

    async def on_session_event(self, data: dict[str, Any]) -> None:
        if data["type"] == "state" and self.session is not None:
            self.session.state = data["session"]["state"]
            await self._follow_queue()

    async def _follow_queue(self) -> None:
        """Waiting visitors hear about the queue; others do not."""
        waiting = self.session is not None and self.session.state == SessionState.WAITING
        if waiting and not self.in_queue:
            await self.channel_layer.group_add(events.QUEUE, self.channel_name)
            self.in_queue = True
            self.refresh_soon(self.send_queue_place)
        elif not waiting and self.in_queue:
            await self.channel_layer.group_discard(events.QUEUE, self.channel_name)
            self.in_queue = False

    async def chat_queue_changed(self, event: dict[str, Any]) -> None:
        self.refresh_soon(self.send_queue_place)

    async def send_queue_place(self, asked: float) -> None:
        if self.session is None or not self.in_queue:
            return
        state = await QUEUE.get(newer_than=asked)
        try:
            place = state["order"].index(self.session.pk) + 1
        except ValueError:
            return
        await self.send_json({
            "type": "queue", "position": place, "expected_wait_seconds": place * state["seconds_per_place"],
            "open": state["open"],
        })


class AgentConsumer(ChatSocket):
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated or not self.user.is_active:
            await self.close(code=4401)
            return
        self.watching: set[int] = set()
        await self.accept()
        await self.channel_layer.group_add(events.AGENTS, self.channel_name)
        await database_sync_to_async(services.do_agent_seen)(self.channel_name, self.user)
        await self.broadcast_queue()  # an agent came online: visitors may now chat

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "watching"):
            return  # refused at connect: nothing joined
        await self.leave(events.AGENTS)
        for session_id in getattr(self, "watching", set()):
            await self.leave(events.session_group(session_id))
        await database_sync_to_async(services.do_agent_gone)(self.channel_name)
        await self.broadcast_queue()

    async def chat_waiting_changed(self, event: dict[str, Any]) -> None:
        self.refresh_soon(self.send_waiting)

    async def send_waiting(self, asked: float) -> None:
        await self.send_json({"type": "waiting", "sessions": await WAITING.get(newer_than=asked)})

    async def on_ping(self, content: dict[str, Any]) -> None:
        await database_sync_to_async(services.do_agent_seen)(self.channel_name, self.user)
        await self.send_json({"type": "pong"})

    async def on_waiting(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "waiting", "sessions": await WAITING.get(newer_than=time.monotonic())})

    async def _session(self, content: dict[str, Any]) -> ChatSession:
        session_id = content.get("session_id")
        session = None
        if isinstance(session_id, int):
            session = await db_read(
                ChatSession.objects.select_related("taken_by", "case").filter(pk=session_id).first
            )()
        if session is None:
            raise services.ChatError("チャットが見つかりません。", "not_found")
        return session

    async def on_watch(self, content: dict[str, Any]) -> None:
        session_id = content.get("session_id")
        found = await db_read(self._watched)(session_id) if isinstance(session_id, int) else None  # one trip
        if found is None:
            raise services.ChatError("チャットが見つかりません。", "not_found")
        session, messages = found
        if session.pk not in self.watching:
            self.watching.add(session.pk)
            await self.channel_layer.group_add(events.session_group(session.pk), self.channel_name)
        await self.send_json({
            "type": "welcome", "session": services.session_payload(session), "messages": messages,
            "session_id": session.pk,
        })

    @staticmethod
    def _watched(session_id: int) -> tuple[ChatSession, list[dict[str, Any]]] | None:
        session = ChatSession.objects.select_related("taken_by", "case").filter(pk=session_id).first()
        return None if session is None else (session, services.transcript(session))

    async def on_message(self, content: dict[str, Any]) -> None:
        session = await self._session(content)
        posted = await database_sync_to_async(services.do_agent_message)(
            session, agent=self.user, client_id=content.get("client_id"), text=content.get("text")
        )
        await self.send_json({"type": "ack", "client_id": posted.message.client_id, "id": posted.message.pk, "session_id": session.pk})
        if posted.created:
            posted.message.author = self.user
            await self.broadcast(session.pk, "message", message=services.message_payload(posted.message))

    async def on_typing(self, content: dict[str, Any]) -> None:
        session_id = content.get("session_id")
        if session_id in self.watching:
            await self.broadcast(session_id, "typing", sender=Sender.AGENT, on=bool(content.get("on")), origin=self.channel_name)  # type: ignore[arg-type]

    async def on_read(self, content: dict[str, Any]) -> None:
        session = await self._session(content)
        up_to = content.get("up_to")
        if await database_sync_to_async(services.do_mark_read)(session, reader=Sender.AGENT, up_to=up_to):
            await self.broadcast(session.pk, "read", reader=Sender.AGENT, up_to=up_to)
