"""Chat rules, with no HTTP or WebSocket in sight: sessions, messages, taking, transfer, queue.

Every word also goes to the case timeline through cases.services, so the case page shows the
whole conversation and the case goes on by email after the visitor leaves.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Avg, F
from django.utils import timezone, translation

from madoguchi.accounts.models import Team, User
from madoguchi.cases.models import Case, Category, Channel, InteractionKind
from madoguchi.cases.services import do_add_interaction, do_create_case, do_hand_over, follow_merges
from madoguchi.chat import presence
from madoguchi.chat.models import (
    AgentPresence,
    ChatMessage,
    ChatSession,
    ChatUpload,
    Sender,
    SessionState,
)
from madoguchi.customers.models import Customer, IdentityKind
from madoguchi.customers.services import customer_for_visitor
from madoguchi.figures import duration

PRESENCE_SECONDS = 90
DEFAULT_SECONDS_PER_CHAT = 120


class ChatError(ValueError):
    """Shown to the visitor or the agent as it is (Japanese). `code` is for the widget."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def max_message_chars() -> int:
    return settings.MADOGUCHI_CHAT_MAX_MESSAGE_CHARS


def clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ChatError("メッセージが空です。", "empty")
    if len(text) > max_message_chars():
        raise ChatError(f"メッセージが長すぎます（{max_message_chars():,}文字まで）。分けて送ってください。", "too_long")
    return text.strip()


def clean_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64):
        raise ChatError("メッセージの識別子が正しくありません。", "bad_id")
    return client_id


def get_live_session(token: Any) -> ChatSession:
    """The visitor's session; a token we do not know (or an ended chat) is stale."""
    session = ChatSession.objects.filter(token=str(token)[:64]).first() if token else None
    if session is None:
        raise ChatError("前回のチャットは見つかりませんでした。新しいチャットを始めます。", "stale_session")
    return session


# --- customers and cases -----------------------------------------------------------------------


def customer_for(name: str, email: str, *, channel: str) -> Customer:
    """The visitor's customer record. A pre-chat (or form) e-mail nobody has yet becomes their
    identity, so a later mail joins them; one that belongs to a customer already only proves the
    visitor knows it: they get a record of their own and an unconfirmed link that staff check
    before merging (customers.services.customer_for_visitor)."""
    name = name.strip()[:100]
    if email.strip():
        return customer_for_visitor(name=name, kind=IdentityKind.EMAIL, value=email, channel=channel)
    return Customer.objects.create(name=name or "チャットのお客様")


def default_category() -> Category:
    """「その他」, made again if someone deleted the defaults: a chat must never fail for it."""
    return Category.objects.get_or_create(code="other", defaults={"name": "その他", "position": 99})[0]


def open_case(*, customer: Customer, channel: str, subject: str, complaint: str, order_number: str = "",
              category: Category | None = None, received_at: dt.datetime | None = None,
              first_message_from_customer: bool = True) -> Case:
    from madoguchi.shop.models import Order

    # Anyone can type any order number: the case points at the order (its items, amount and
    # tracking number shown to the agent) only if it is this customer's. Otherwise the number is
    # kept as typed, for the agent to check.
    order = (Order.objects.filter(number=order_number.strip(), customer=customer).first()
             if order_number.strip() else None)
    return do_create_case(
        actor=None, customer=customer, subject=subject[:200], channel=channel,
        category=category or default_category(), complaint=complaint, received_at=received_at,
        first_message_from_customer=first_message_from_customer,
        fact_order_number=order_number.strip()[:50], order=order,
    )


def subject_from(prefix: str, text: str) -> str:
    # The subject goes into mail the shop sends (the receipt): no links from strangers in it.
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return f"{prefix}{LINK.sub('（URL）', first_line)[:60]}"


LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


def web_url(url: str) -> str:
    """A page address a visitor's browser reported, kept only if it is http(s): it is shown
    to agents as a link, and `javascript:` must never become one."""
    url = url.strip()[:1000]
    return url if re.match(r"(?i)https?://", url) else ""


# --- messages ------------------------------------------------------------------------------------


@dataclass
class Posted:
    session: ChatSession
    message: ChatMessage
    created: bool
    new_session: bool = False
    # What the ack tells the visitor about the chat (computed where the database may be read).
    session_payload: dict[str, Any] | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _one_line(value: Any, limit: int) -> str:
    """A visitor's short answer on one line: control characters (CR/LF too) become spaces."""
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())[:limit]


def clean_visitor_fields(data: dict[str, Any]) -> dict[str, str]:
    """What a visitor says about themselves (the widget's hello, its pre-chat form), checked as
    the public forms check it: any client can send anything here (issue 21, finding 3). An
    address that is not a plain address (「Someone <victim@…>」, CR/LF, a display name) is
    dropped, not fatal: the chat goes on without it."""
    email = unicodedata.normalize("NFKC", str(data.get("email") or "")).strip()
    try:
        if _CONTROL.search(email) or len(email) > 254:
            raise ValidationError("not one address")
        validate_email(email)
    except ValidationError:
        email = ""
    order = data.get("order_number", data.get("order"))
    return {"name": _one_line(data.get("name"), 100), "email": email, "order_number": _one_line(order, 50)}


def clean_prechat(data: dict[str, Any]) -> dict[str, str]:
    """Optional pre-chat answers (the widget's form sends `order`)."""
    return clean_visitor_fields(data)


def start_session(*, page_url: str = "", origin: str = "", name: str = "", email: str = "",
                  order_number: str = "") -> ChatSession:
    return ChatSession(
        page_url=web_url(page_url), origin=origin[:200], name=name.strip()[:100],
        email=email.strip()[:254], order_number=order_number.strip()[:50],
    )


def do_customer_message(session: ChatSession, *, client_id: str, text: str, upload: ChatUpload | None = None) -> Posted:
    """Store a visitor's message once (however often it is resent) and add it to the case."""
    client_id = clean_client_id(client_id)
    text = clean_text(text)
    if session.pk and session.state == SessionState.ENDED:
        raise ChatError("このチャットは終了しています。", "ended")
    if session.pk:
        existing = ChatMessage.objects.filter(session=session, client_id=client_id).first()
        if existing is not None:
            return Posted(session, existing, created=False)
    else:
        first = first_message_again(session, client_id, text)
        if first is not None:
            return first
    new_session = session.pk is None
    try:
        with transaction.atomic():
            now = timezone.now()
            if session.case_id is None:
                customer = customer_for(session.name, session.email, channel=Channel.CHAT)
                session.case = open_case(
                    customer=customer, channel=Channel.CHAT, subject=subject_from("チャット: ", text),
                    complaint=text, order_number=session.order_number, received_at=now,
                    first_message_from_customer=False,
                )
                session.customer_first_message_at = now
                session.save()
            message = ChatMessage.objects.create(
                session=session, client_id=client_id, sender=Sender.CUSTOMER, text=text, upload=upload
            )
            assert session.case is not None
            # A chat whose case was merged into another goes on in that case.
            do_add_interaction(
                follow_merges(session.case), actor=None, kind=InteractionKind.INBOUND, channel=Channel.CHAT,
                body=_timeline_body(text, upload), occurred_at=message.created_at, external_id=client_id,
            )
    except IntegrityError:
        # The same message arrived twice at once (two tabs, a resend racing the original).
        if new_session:
            raise
        return Posted(session, ChatMessage.objects.get(session=session, client_id=client_id), created=False)
    return Posted(session, message, created=True, new_session=new_session)


FIRST_MESSAGE_RESENT_WITHIN = dt.timedelta(minutes=10)


def first_message_again(session: ChatSession, client_id: str, text: str) -> Posted | None:
    """A chat's first message that was stored, but whose ack was lost with its socket (the
    network, a restart, Redis away, a loaded server), comes again on a new socket, still without
    the chat's token: it is the same chat, not a second one (found twice in one chat under load,
    issue 21). Same browser-chosen id, same words and the same visitor, within minutes."""
    existing = (ChatMessage.objects.filter(
        client_id=client_id, sender=Sender.CUSTOMER, text=text, created_at__gte=timezone.now() - FIRST_MESSAGE_RESENT_WITHIN,
        session__name=session.name, session__email=session.email,
    ).exclude(session__state=SessionState.ENDED).select_related("session").order_by("pk").first())
    return None if existing is None else Posted(existing.session, existing, created=False)


def _timeline_body(text: str, upload: ChatUpload | None) -> str:
    if upload is None:
        return text
    return f"{text}\n（添付ファイル: {upload.name}、{upload.size:,} バイト、{upload.content_type}）"


def do_agent_message(session: ChatSession, *, agent: User, client_id: str, text: str) -> Posted:
    client_id = clean_client_id(client_id)
    text = clean_text(text)
    if session.state == SessionState.ENDED:
        raise ChatError("このチャットは終了しています。返信は案件ページからメールで送れます。", "ended")
    if session.state == SessionState.WAITING or session.taken_by_id != agent.pk:
        raise ChatError("このチャットを担当していません。先に「対応する」を押してください。", "not_taken")
    existing = ChatMessage.objects.filter(session=session, client_id=client_id).first()
    if existing is not None:
        return Posted(session, existing, created=False)
    with transaction.atomic():
        message = ChatMessage.objects.create(
            session=session, client_id=client_id, sender=Sender.AGENT, author=agent, text=text
        )
        assert session.case is not None
        do_add_interaction(
            session.case, actor=agent, kind=InteractionKind.OUTBOUND, channel=Channel.CHAT, body=text,
            occurred_at=message.created_at, external_id=client_id,
        )
        # Only the first reply counts for the measure; later ones leave it alone.
        ChatSession.objects.filter(pk=session.pk, first_agent_reply_at__isnull=True).update(
            first_agent_reply_at=message.created_at
        )
    return Posted(session, message, created=True)


def do_system_message(session: ChatSession, text: str) -> ChatMessage:
    """A notice to the visitor (transfer, end); not a word of either party, so not on the case."""
    return ChatMessage.objects.create(
        session=session, client_id=f"sys-{uuid.uuid4().hex}",
        sender=Sender.SYSTEM, text=text,
    )


def last_message(session: ChatSession) -> ChatMessage | None:
    return session.messages.select_related("author", "upload").order_by("-id").first()


def do_mark_read(session: ChatSession, *, reader: str, up_to: Any) -> int:
    """The reader has seen the other side's messages up to `up_to` (a message id)."""
    if not isinstance(up_to, int):
        return 0
    other = Sender.AGENT if reader == Sender.CUSTOMER else Sender.CUSTOMER
    return ChatMessage.objects.filter(
        session=session, sender=other, id__lte=up_to, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- taking, transfer, end ------------------------------------------------------------------------


def do_take(session_id: int, *, agent: User) -> ChatSession:
    """Take a waiting chat. One conditional UPDATE: of two agents clicking at once, one wins."""
    now = timezone.now()
    with transaction.atomic():
        won = ChatSession.objects.filter(pk=session_id, state=SessionState.WAITING).update(
            state=SessionState.ACTIVE, taken_by=agent
        )
        if not won:
            session = ChatSession.objects.select_related("taken_by").filter(pk=session_id).first()
            who = f"{session.taken_by}さん" if session and session.taken_by else "他の担当者"
            raise ChatError(f"このチャットは{who}がすでに対応しています。", "taken")
        ChatSession.objects.filter(pk=session_id, taken_at__isnull=True).update(taken_at=now)
        session = ChatSession.objects.select_related("case").get(pk=session_id)
        if session.case is not None and session.case.assignee_id != agent.pk:
            wait = session.seconds_to_take
            with translation.override("ja"):  # kept on the case as written, in the desk's language
                waited = f"（お客様の待ち時間 {duration(wait)}）" if wait is not None else ""
            note = "チャットの対応を開始しました。" + waited
            do_hand_over(session.case, actor=agent, expected_version=session.case.version, note=note, to_user=agent)
    do_system_message(session, f"担当の{agent}がご案内します。")
    return session


def do_transfer(session: ChatSession, *, actor: User, note: str, to_user: User | None = None,
                to_team: Team | None = None) -> ChatSession:
    """Hand the chat (and its case) to another agent or back to a team's queue, with a note."""
    if session.state == SessionState.ENDED:
        raise ChatError("このチャットは終了しています。", "ended")
    if to_user is not None and to_user.pk == actor.pk:
        raise ChatError("ご自身には転送できません。", "self")
    assert session.case_id is not None
    case = Case.objects.get(pk=session.case_id)
    with transaction.atomic():
        do_hand_over(case, actor=actor, expected_version=case.version, note=note, to_user=to_user, to_team=to_team)
        if to_user is not None:
            ChatSession.objects.filter(pk=session.pk).update(state=SessionState.ACTIVE, taken_by=to_user)
        else:
            ChatSession.objects.filter(pk=session.pk).update(state=SessionState.WAITING, taken_by=None, team=to_team)
    session.refresh_from_db()
    text = f"担当が{to_user}に代わります。" if to_user else "担当を交代します。次の担当者が参りますので、少々お待ちください。"
    do_system_message(session, text)
    return session


def do_end(session: ChatSession, *, by: User | None) -> ChatSession:
    if session.state == SessionState.ENDED:
        return session
    ChatSession.objects.filter(pk=session.pk).update(state=SessionState.ENDED, ended_at=timezone.now())
    session.refresh_from_db()
    tail = "続きはメールでご連絡します。" if session.email else ""
    who = "担当者" if by is not None else "お客様"
    do_system_message(session, f"{who}がチャットを終了しました。ありがとうございました。{tail}")
    return session


# --- the visitor's presence; waiting chats nobody waits in any more -------------------------------


def do_visitor_here(session_id: int, process: str | None = None) -> bool:
    """One more of the visitor's sockets is open on the chat, in web process `process` (this
    one). True if they had left (the agents are told they are back)."""
    with transaction.atomic():
        back = ChatSession.objects.filter(pk=session_id, visitor_left_at__isnull=False).update(
            visitor_sockets=F("visitor_sockets") + 1, visitor_left_at=None
        )
        if not back and not ChatSession.objects.filter(pk=session_id).update(
                visitor_sockets=F("visitor_sockets") + 1):
            return False
        presence.count_in(session_id, process or presence.PROCESS_ID)
    return bool(back)


def do_visitor_socket_closed(session_id: int, *, counted: bool = True, process: str | None = None) -> dt.datetime | None:
    """One of the visitor's sockets closed; when it was the last, they left now (returned).
    `counted=False`: a socket that closed before it was counted in (nothing to take off)."""
    now = timezone.now()
    with transaction.atomic():
        # The chat's row first, as do_visitor_here and the sweep take it (one lock order).
        list(ChatSession.objects.select_for_update().filter(pk=session_id).values_list("pk"))
        if counted and presence.count_out(session_id, process or presence.PROCESS_ID):
            ChatSession.objects.filter(pk=session_id, visitor_sockets__gt=0).update(
                visitor_sockets=F("visitor_sockets") - 1)
        left = ChatSession.objects.filter(pk=session_id, visitor_sockets=0, visitor_left_at__isnull=True).exclude(
            state=SessionState.ENDED
        ).update(visitor_left_at=now)
    return now if left else None


def expire_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings.MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES)


def expire_waiting_chats(now: dt.datetime | None = None, batch: int = 100) -> int:
    """End the waiting chats whose visitor left MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES ago or
    more (the periodic job). Nothing is lost: the case keeps every message and stays open, with
    a note saying what happened and how to answer (by e-mail when the visitor gave one)."""
    now = now or timezone.now()
    due = list(
        ChatSession.objects.filter(state=SessionState.WAITING, visitor_left_at__lte=now - expire_after())
        .order_by("visitor_left_at", "id").values_list("id", flat=True)[:batch]
    )
    return sum(1 for session_id in due if do_expire(session_id, now=now))


def do_expire(session_id: int, *, now: dt.datetime) -> bool:
    from madoguchi.chat import events

    with transaction.atomic():
        # Only if still waiting with the visitor gone: one who came back meanwhile keeps the chat.
        ended = ChatSession.objects.filter(
            pk=session_id, state=SessionState.WAITING, visitor_left_at__lte=now - expire_after()
        ).update(state=SessionState.ENDED, ended_at=now)
        if not ended:
            return False
        session = ChatSession.objects.select_related("case").get(pk=session_id)
        assert session.visitor_left_at is not None
        left = timezone.localtime(session.visitor_left_at).strftime("%H:%M")
        do_system_message(session, "お客様がページを離れたため、チャットを終了しました。")
        if session.case is not None:
            mail = reply_address(session.case)
            how = (f"返信はこの案件からメールで {mail} 宛に送れます。" if mail
                   else "お客様のメールアドレスがないため、チャットでもメールでも返信できません。")
            do_add_interaction(
                session.case, actor=None, kind=InteractionKind.SYSTEM, channel=Channel.CHAT,
                body=f"お客様が {left} にページを離れ、{settings.MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES}分たっても"
                     f"戻らなかったため、待機中のチャットを終了しました。{how}",
                occurred_at=now,
            )
        events.publish_session(session.pk, "state", session=session_payload(session))
        events.publish_queue_changed()
    return True


def reply_address(case: Case) -> str:
    """Where a reply by e-mail would go ("" if nowhere): the mail app decides."""
    from madoguchi.mail.outbound import customer_address

    return customer_address(case)


# --- presence, queue, opening hours ---------------------------------------------------------------


def do_agent_seen(channel_name: str, user: User) -> None:
    AgentPresence.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "last_seen_at": timezone.now()}
    )


def do_agent_gone(channel_name: str) -> None:
    AgentPresence.objects.filter(channel_name=channel_name).delete()


def agents_online(now: dt.datetime | None = None) -> int:
    since = (now or timezone.now()) - dt.timedelta(seconds=PRESENCE_SECONDS)
    return AgentPresence.objects.filter(last_seen_at__gte=since).values("user").distinct().count()


def within_business_hours(now: dt.datetime | None = None) -> bool:
    """Chat is offered within the shop's business hours (unless the widget's settings say to
    ignore them) and within the widget's own daily window, when one is set."""
    from madoguchi.chat import widget_settings

    widget = widget_settings.current()
    now = now or timezone.now()
    if not widget.within_chat_hours(now):
        return False
    if not widget.follow_business_hours:
        return True
    try:
        from madoguchi.businesshours import is_open
    except ImportError:  # the calendar app is optional; then only agents' presence counts
        return True
    return is_open(now)


def chat_open(now: dt.datetime | None = None) -> bool:
    """Live chat is offered when the shop is open and at least one agent is online."""
    return within_business_hours(now) and agents_online(now) > 0


def average_seconds_to_take(recent: int = 20) -> float:
    recent_ids = ChatSession.objects.filter(taken_at__isnull=False).order_by("-taken_at").values_list("id", flat=True)[:recent]
    avg = ChatSession.objects.filter(id__in=list(recent_ids)).aggregate(
        avg=Avg(F("taken_at") - F("customer_first_message_at"))
    )["avg"]
    return avg.total_seconds() if avg else float(DEFAULT_SECONDS_PER_CHAT)


def queue_snapshot() -> dict[str, Any]:
    """Waiting chats in order and the seconds each place is expected to take."""
    order = list(
        ChatSession.objects.filter(state=SessionState.WAITING, customer_first_message_at__isnull=False)
        .order_by("customer_first_message_at", "id").values_list("id", flat=True)[:1000]
    )
    per_place = average_seconds_to_take() / max(agents_online(), 1)
    return {"order": order, "seconds_per_place": round(per_place)}


def waiting_sessions(limit: int = 50) -> list[ChatSession]:
    return list(
        ChatSession.objects.filter(state=SessionState.WAITING, customer_first_message_at__isnull=False)
        .select_related("case__customer", "team").order_by("customer_first_message_at", "id")[:limit]
    )


# --- what goes over the wire ---------------------------------------------------------------------


def message_payload(message: ChatMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": message.pk, "client_id": message.client_id, "sender": message.sender, "text": message.text,
        "created_at": message.created_at.isoformat(), "read": message.read_at is not None,
    }
    if message.sender == Sender.AGENT and message.author is not None:
        payload["author"] = str(message.author)
    if message.upload_id:
        upload = message.upload
        assert upload is not None
        payload["upload"] = {"id": upload.pk, "name": upload.name, "is_image": upload.is_image, "size": upload.size}
    return payload


def transcript(session: ChatSession, limit: int = 500) -> list[dict[str, Any]]:
    messages = session.messages.select_related("author", "upload").order_by("-id")[:limit]
    return [message_payload(m) for m in reversed(list(messages))]


def session_payload(session: ChatSession) -> dict[str, Any]:
    return {
        "id": session.pk, "state": session.state, "agent": str(session.taken_by) if session.taken_by_id else "",
        "left_at": session.visitor_left_at.isoformat() if session.visitor_left_at else "",
    }


def waiting_payload(limit: int = 50) -> list[dict[str, Any]]:
    rows = []
    for session in waiting_sessions(limit):
        case = session.case
        rows.append({
            "id": session.pk,
            "case_id": session.case_id,
            "name": session.name or (case.customer.name if case else ""),
            "subject": case.subject if case else "",
            "team": str(session.team) if session.team else "",
            "since": session.customer_first_message_at.isoformat() if session.customer_first_message_at else "",
            "page_url": session.page_url,
            "left_at": session.visitor_left_at.isoformat() if session.visitor_left_at else "",
        })
    return rows
