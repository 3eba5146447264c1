"""LINE webhook events: stored raw by the webhook (`store_events`), filed on cases by the
worker afterwards (`file_events`, deferred work `line.events`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from madoguchi import channel_queue
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import (
    do_add_interaction,
    do_create_case,
    open_channel_case,
    other_category,
)
from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import get_or_create_customer
from madoguchi.jobs import work
from madoguchi.line import client
from madoguchi.line.models import LineAttachment, LineRawEvent, LineUser

EVENTS_WORK = "line.events"
MEDIA = {"image": "画像", "video": "動画", "audio": "音声", "file": "ファイル"}
# What the desk files as a customer's words (a timeline entry, a new case when none is open).
SPOKEN = {"message", "postback"}
DEFAULT_NAME = "LINEのお客様"


class BadWebhook(ValueError):
    """The body is not a webhook LINE sends; the message is the answer (Japanese)."""


def _moment(millis: Any) -> dt.datetime:
    """The event's time (ms since the epoch); now if missing or not believable."""
    now = timezone.now()
    try:
        moment = dt.datetime.fromtimestamp(int(millis) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return moment if now - dt.timedelta(days=30) < moment <= now + dt.timedelta(minutes=5) else now


def _part(event: dict[str, Any], name: str) -> dict[str, Any]:
    found = event.get(name)
    return found if isinstance(found, dict) else {}


def raw_event(event: dict[str, Any]) -> LineRawEvent:
    """The row of one event as LINE sent it (not saved)."""
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    source, message, unsend, context = (_part(event, name) for name in ("source", "message", "unsend", "deliveryContext"))
    event_id = str(event.get("webhookEventId") or "") or hashlib.sha256(text.encode()).hexdigest()
    return LineRawEvent(
        webhook_event_id=event_id[:64], event_type=str(event.get("type") or "")[:30],
        user_id=str(source.get("userId") or "")[:64], raw=text, occurred_at=_moment(event.get("timestamp")),
        is_redelivery=bool(context.get("isRedelivery")),
        message_id=str(message.get("id") or unsend.get("messageId") or "")[:64],
        reply_token=str(event.get("replyToken") or "")[:255],
    )


def parse_events(body: bytes) -> list[LineRawEvent]:
    """The rows of a (signature-checked) webhook body's events, not saved yet."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise BadWebhook("JSONとして読めませんでした。") from error
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        raise BadWebhook("events の一覧がありません。")
    return [raw_event(event) for event in events]


def save_events(rows: list[LineRawEvent]) -> None:
    """Store the events in one transaction and leave their filing to the worker. A redelivered
    event (its webhookEventId stored already) is not stored again. The webhook's writer
    (line/webhook.py) stores the events of many requests at once."""
    if rows:
        with transaction.atomic():
            LineRawEvent.objects.bulk_create(rows, ignore_conflicts=True)
            work.defer(EVENTS_WORK, list(dict.fromkeys(row.webhook_event_id for row in rows)))


def store_events(body: bytes) -> int:
    """Store each event of a (signature-checked) webhook body before anything else. Returns how
    many events the body had."""
    rows = parse_events(body)
    save_events(rows)
    return len(rows)


def file_events(event_ids: list[str]) -> int:
    """File the stored events not filed yet, oldest first, each in its own transaction; one that
    fails (LINE's API down while fetching a profile or a file) does not stop the others and is
    tried again (the first error is raised at the end, so the deferred work backs off)."""
    pks = list(LineRawEvent.objects.filter(webhook_event_id__in=event_ids, processed_at__isnull=True)
               .order_by("occurred_at", "pk").values_list("pk", flat=True))
    return channel_queue.file_each(LineRawEvent, pks, file_event, "line")


def file_event(pk: int) -> bool:
    row = LineRawEvent.objects.filter(pk=pk, processed_at__isnull=True).first()
    if row is None:
        return False
    event = json.loads(row.raw)
    # Outside the transaction: the calls to LINE (a profile, a file) hold no database lock.
    line_user = line_user_for(row.user_id, row.account_id) if row.user_id else None
    content = _content(row, event)
    with transaction.atomic():
        # Of two workers filing the same event, one wins this update; the other files nothing.
        if not LineRawEvent.objects.filter(pk=pk, processed_at__isnull=True).update(processed_at=timezone.now(), error=""):
            return False
        _file(row, event, line_user, content)
    return True


def line_user_for(user_id: str, account_id: int | None = None) -> LineUser:
    """The LINE user and their customer, made on their first event from the profile API (of
    the account the event came through)."""
    found = LineUser.objects.select_related("customer").filter(user_id=user_id).first()
    if found is not None:
        return found
    profile = client.get_profile(user_id, account_id)
    name = (profile.display_name if profile else "") or DEFAULT_NAME
    with transaction.atomic():
        customer, _created = get_or_create_customer(name=name, kind=IdentityKind.LINE, value=user_id)
        line_user, _created = LineUser.objects.get_or_create(user_id=user_id, defaults={
            "customer": customer, "display_name": profile.display_name if profile else "",
            "picture_url": profile.picture_url if profile else "",
            "profile_fetched_at": timezone.now() if profile else None,
        })
    return line_user


def _content(row: LineRawEvent, event: dict[str, Any]) -> LineAttachment | None:
    """The file of a media message, fetched from the content API (not saved yet); a file LINE
    no longer has, or one too large, is kept as a row saying so. Raises on a temporary failure."""
    message = _part(event, "message")
    kind = message.get("type")
    if row.event_type != "message" or kind not in MEDIA or not row.message_id:
        return None
    if _part(message, "contentProvider").get("type") == "external":
        return None  # the shop's own server has it; the entry shows the address
    filename = str(message.get("fileName") or "")[:255]
    attachment = LineAttachment(event=row, filename=filename or f"{MEDIA[kind]}-{row.message_id}")
    try:
        data, content_type = client.get_content(row.message_id, row.account_id)
    except client.LineApiError as error:
        if error.temporary:
            raise
        attachment.error = f"LINEからファイルを取得できませんでした（{error}）。保存期間を過ぎた可能性があります。"[:500]
        return attachment
    attachment.content_type = content_type[:100]
    attachment.size = len(data)
    if not filename:
        attachment.filename += mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    if len(data) > settings.LINE_MAX_CONTENT_BYTES:
        attachment.error = "ファイルが大きすぎるため保存していません。"
        return attachment
    attachment.file.save(attachment.filename, ContentFile(data), save=False)
    return attachment


def text_of(event: dict[str, Any]) -> str:
    """What the customer sent, as the timeline shows it (stored verbatim on the entry)."""
    if event.get("type") == "postback":
        postback = _part(event, "postback")
        params = _part(postback, "params")
        extra = "".join(f"\n{key}: {value}" for key, value in params.items())
        return f"［ボタンを押しました］{postback.get('data', '')}{extra}"
    message = _part(event, "message")
    kind = message.get("type")
    if kind == "text":
        return str(message.get("text") or "")
    if kind == "sticker":
        keywords = [str(word) for word in message.get("keywords") or []]
        said = str(message.get("text") or "")
        return "［スタンプ］" + (f" {said}" if said else "") + (f"（{'、'.join(keywords)}）" if keywords else "")
    if kind in MEDIA:
        name = f" {message.get('fileName')}" if message.get("fileName") else ""
        provider = _part(message, "contentProvider")
        link = f"\n{provider.get('originalContentUrl')}" if provider.get("type") == "external" else ""
        return f"［{MEDIA[kind]}］{name}{link}"
    if kind == "location":
        title = str(message.get("title") or "")
        address = str(message.get("address") or "")
        lat, lon = message.get("latitude"), message.get("longitude")
        lines = [f"［位置情報］{title}".rstrip(), address, f"https://www.google.com/maps?q={lat},{lon}"]
        return "\n".join(line for line in lines if line)
    return f"［{kind or '不明'}のメッセージ］"


def open_line_case(customer_id: int) -> Case | None:
    return open_channel_case(customer_id, Channel.LINE)


def _file(row: LineRawEvent, event: dict[str, Any], line_user: LineUser | None, content: LineAttachment | None) -> None:
    now = timezone.now()
    if line_user is None:
        return  # a group event without a user: nobody to answer
    case = open_line_case(line_user.customer_id)
    if row.event_type in SPOKEN:
        body = text_of(event)
        if case is None:
            case = do_create_case(
                actor=None, customer=line_user.customer, subject=("LINE: " + body.splitlines()[0])[:60] if body else "LINE",
                channel=Channel.LINE, category=other_category(), complaint=body, received_at=row.occurred_at,
            )
            interaction = Interaction.objects.filter(case=case).order_by("pk").first()
        else:
            interaction = do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.LINE,
                                             body=body, occurred_at=row.occurred_at,
                                             external_id=f"line:{row.webhook_event_id}")
        LineRawEvent.objects.filter(pk=row.pk).update(interaction=interaction)
        if content is not None:
            content.save()
        return
    note = ""
    if row.event_type == "follow":
        LineUser.objects.filter(pk=line_user.pk).update(blocked_at=None)
        note = "お客様がLINE公式アカウントを友だち追加しました。" if not _part(event, "follow").get("isUnblocked") \
            else "お客様がLINE公式アカウントのブロックを解除しました。"
    elif row.event_type == "unfollow":
        LineUser.objects.filter(pk=line_user.pk).update(blocked_at=now)
        note = "お客様がLINE公式アカウントをブロックしました。LINEでの返信は届きません。"
    elif row.event_type == "unsend":
        target = (LineRawEvent.objects.filter(message_id=row.message_id, event_type="message", user_id=row.user_id)
                  .exclude(pk=row.pk).select_related("interaction").first())
        if target is not None:
            LineRawEvent.objects.filter(pk=target.pk).update(unsent_at=row.occurred_at)
            if target.interaction is not None:
                case = Case.objects.get(pk=target.interaction.case_id)
        note = "お客様がLINEのメッセージの送信を取り消しました（元の内容は記録に残っています）。"
    if note and case is not None:
        interaction = do_add_interaction(case, actor=None, kind=InteractionKind.SYSTEM, channel=Channel.LINE, body=note,
                                         occurred_at=row.occurred_at, external_id=f"line:{row.webhook_event_id}")
        LineRawEvent.objects.filter(pk=row.pk).update(interaction=interaction)
