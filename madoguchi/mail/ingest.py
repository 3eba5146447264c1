"""Inbound mail: store the exact bytes first, then parse, thread and file it on a case.

`do_ingest_raw` is all a receiver (SMTP, IMAP, import) calls; it writes one row and returns.
The rest happens in the background (tasks.process_raw_message_task). A failure at any later
step leaves the row in state `failed` with the reason, listed on /mail/failed/ with a retry
button; a crash leaves it `pending`, and the periodic sweep picks it up again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from madoguchi.cases.models import Category, Channel, InteractionKind
from madoguchi.cases.services import do_add_interaction, do_create_case
from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import find_customer, get_or_create_customer
from madoguchi.mail.models import (
    Attachment,
    Mailbox,
    OutboundMessage,
    OutboundState,
    RawMessage,
    RawState,
)
from madoguchi.mail.parsing import ParsedMessage, clean_subject, parse_message
from madoguchi.mail.threading import find_case

log = logging.getLogger(__name__)
_HEADER_MSGID = re.compile(rb"^message-id:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def content_hash(raw: bytes) -> str:
    """Hash of the body only, so one mail delivered twice (different Received headers, line
    endings changed by a relay, a final newline added by SMTP) is recognised as one."""
    body = raw
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = raw.partition(separator)
        if found:
            body = rest
            break
    return hashlib.sha256(body.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def header_message_id(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:200_000]
    match = _HEADER_MSGID.search(head)
    return match.group(1).decode("ascii", "replace")[:255] if match else ""


def find_duplicate(raw: bytes) -> RawMessage | None:
    existing = RawMessage.objects.filter(sha256=hashlib.sha256(raw).hexdigest()).defer("raw").first()
    if existing is not None:
        return existing
    message_id = header_message_id(raw)
    if message_id:
        return RawMessage.objects.filter(message_id=message_id, content_hash=content_hash(raw)).defer("raw").first()
    return None


def do_ingest_raw(
    raw: bytes, source: str, mailbox: Mailbox | None = None, *, too_large: str = "", full_size: int = 0,
    enqueue: bool = True,
) -> tuple[RawMessage, bool]:
    """Keep the mail, exactly as received; (row, created). A duplicate returns the first copy.

    The unique constraints on the hash and on Message-ID + body hash find duplicates: the
    insert is tried first, so a new mail (the usual case) costs one statement.
    `too_large` (a Japanese reason) stores only what was given (the headers) as failed, with
    `full_size` the real size; such a row is never parsed into a case."""
    row = RawMessage(
        mailbox=mailbox, source=source[:20], raw=raw, size=max(len(raw), full_size),
        sha256=hashlib.sha256(raw).hexdigest(), content_hash=content_hash(raw),
        message_id=header_message_id(raw),
    )
    if too_large:
        _describe(row, parse_message(raw))
        row.state, row.error = RawState.FAILED, too_large
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            if enqueue and not too_large:
                transaction.on_commit(lambda: _enqueue(row.pk))
    except IntegrityError:  # already stored (a refetch, a second delivery, a race)
        duplicate = find_duplicate(raw)
        if duplicate is None:
            raise
        return duplicate, False
    return row, True


def _enqueue(pk: int) -> None:
    from madoguchi.mail.tasks import process_raw_message_task

    try:
        process_raw_message_task(pk)
    except Exception:  # noqa: BLE001 - the row is kept; the sweep retries it
        log.exception("mail: could not queue raw message %s", pk)


# --- Processing -------------------------------------------------------------------------------

class MailRejected(Exception):
    """The mail cannot become part of a case; the message says why, in Japanese."""


def process_raw_message(pk: int) -> RawMessage:
    """Parse, thread and file one stored mail. Safe to run twice: a filed mail is left alone."""
    row = RawMessage.objects.get(pk=pk)
    if row.state in (RawState.PARSED, RawState.IGNORED) or row.is_truncated:
        return row
    parsed = parse_message(bytes(row.raw))
    row.attempts += 1
    try:
        with transaction.atomic():
            _file(row, parsed)
    except MailRejected as reason:
        return _fail(row, parsed, str(reason))
    except Exception as error:  # noqa: BLE001 - never drop a mail: keep it with the reason
        log.exception("mail: raw message %s could not be filed", pk)
        return _fail(row, parsed, f"取り込み中にエラーが発生しました（{type(error).__name__}: {error}）")
    return row


def _fail(row: RawMessage, parsed: ParsedMessage, reason: str) -> RawMessage:
    attempts = row.attempts
    row = RawMessage.objects.get(pk=row.pk)  # what the rolled-back transaction left
    row.attempts = attempts
    _describe(row, parsed)
    row.state, row.error, row.case, row.interaction = RawState.FAILED, reason[:2000], None, None
    row.save(update_fields=FILED_FIELDS)
    return row


# Everything _file may change; saving only these never rewrites the raw bytes.
FILED_FIELDS = [
    "subject", "from_address", "message_id", "visible_text", "quoted_text", "html", "auto_reason", "error",
    "parsed_at", "state", "case", "interaction", "attempts",
]


def _describe(row: RawMessage, parsed: ParsedMessage) -> None:
    row.subject = parsed.subject[:200]
    row.from_address = parsed.from_address[:254]
    row.message_id = row.message_id or parsed.message_id
    row.visible_text = parsed.visible_text
    row.quoted_text = parsed.quoted_text
    row.html = parsed.html
    row.auto_reason = parsed.auto_reason
    row.error = "\n".join(parsed.warnings)[:2000]
    row.parsed_at = timezone.now()


IMPORTED = "imported"


def _own_addresses() -> set[str]:
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)} | {settings.DEFAULT_FROM_EMAIL.lower()}


def _file(row: RawMessage, parsed: ParsedMessage) -> None:
    _describe(row, parsed)
    if row.source == "import" and not parsed.auto_reason:
        # History, not a live message: no acknowledgement or after-hours answer goes out for it
        # (the knowledge app checks auto_reason too). The mail is still filed on its case.
        row.auto_reason = IMPORTED
    _store_attachments(row, parsed)
    if parsed.from_address in _own_addresses():
        row.state, row.error = RawState.IGNORED, "このデスク自身のアドレスから送られたメールです。"
        row.save(update_fields=FILED_FIELDS)
        return
    if parsed.is_bounce:
        _record_bounce(row, parsed)
        return
    if not parsed.from_address:
        raise MailRejected("差出人のメールアドレスが読み取れませんでした。元のメールを確認してください。")
    customer = find_customer(IdentityKind.EMAIL, parsed.from_address)
    case = find_case(parsed, customer)
    if parsed.auto_reason:
        # Auto-replies, lists and daemons never open or reopen a case; kept for the record.
        row.case, row.state = case, RawState.IGNORED
        row.error = f"自動送信のメールのため案件にしていません（{parsed.auto_reason}）。"
        row.save(update_fields=FILED_FIELDS)
        return
    if customer is None:
        customer, _created = get_or_create_customer(name=parsed.from_name, kind=IdentityKind.EMAIL, value=parsed.from_address)
    occurred = _occurred_at(parsed)
    body = parsed.visible_text or parsed.text or "（本文なし）"
    new_case = case is None
    if case is None:
        case = do_create_case(
            actor=None, customer=customer, subject=(clean_subject(parsed.subject) or "（件名なし）")[:200],
            channel=Channel.EMAIL, category=_default_category(), complaint=body, received_at=occurred,
            first_message_from_customer=False,
        )
    row.case = case
    row.state = RawState.PARSED
    # Saved before the interaction is added, so the other apps' receivers of interaction_added
    # (after-hours answer, …) already see this mail's case and auto_reason.
    row.save(update_fields=FILED_FIELDS)
    row.interaction = do_add_interaction(
        case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL, body=body,
        occurred_at=occurred, external_id=parsed.message_id,
    )
    row.save(update_fields=["interaction"])
    if new_case and row.auto_reason != IMPORTED:
        from madoguchi.mail.outbound import queue_acknowledgement

        queue_acknowledgement(case, row)


def _occurred_at(parsed: ParsedMessage) -> dt.datetime:
    now = timezone.now()
    if parsed.date is None or parsed.date > now or parsed.date < now - dt.timedelta(days=3650):
        return now
    return parsed.date


def _default_category() -> Category:
    code = settings.MAIL_DEFAULT_CATEGORY
    found = Category.objects.filter(code=code).first() or Category.objects.order_by("position").first()
    # A case needs a category; an emptied list must not make mail fail.
    return found or Category.objects.get_or_create(code="other", defaults={"name": "その他"})[0]


def _store_attachments(row: RawMessage, parsed: ParsedMessage) -> None:
    limit = settings.MAIL_MAX_ATTACHMENT_BYTES
    if row.attempts > 1:
        row.attachments.all().delete()  # a retry stores them again
    for position, item in enumerate(parsed.attachments):
        attachment = Attachment(
            raw_message=row, position=position, filename=item.filename[:255], size=item.size,
            content_type=item.content_type[:100], inline=item.inline, too_large=item.size > limit,
        )
        if not attachment.too_large:
            attachment.file.save(str(position), ContentFile(item.payload), save=False)
        attachment.save()


def _record_bounce(row: RawMessage, parsed: ParsedMessage) -> None:
    bounced = OutboundMessage.objects.filter(message_id__in=parsed.bounced_message_ids).select_related("case").first()
    row.state = RawState.IGNORED
    row.error = "配信エラーの通知です。"
    row.case = None
    if bounced is not None:
        reason = (parsed.visible_text or parsed.text)[:500]
        OutboundMessage.objects.filter(pk=bounced.pk).update(state=OutboundState.BOUNCED, last_error=reason)
        row.case = bounced.case
        if bounced.case is not None:
            do_add_interaction(
                bounced.case, actor=None, kind=InteractionKind.SYSTEM, channel=Channel.EMAIL,
                body=f"{bounced.to_address} 宛のメールが届きませんでした（配信エラー）。アドレスをお客様に確認してください。\n{reason}",
            )
    row.save(update_fields=FILED_FIELDS)


def retry_raw_message(pk: int) -> RawMessage:
    RawMessage.objects.filter(pk=pk, state=RawState.FAILED).update(state=RawState.PENDING, error="")
    return process_raw_message(pk)


def sweep_pending(older_than: dt.timedelta = dt.timedelta(minutes=5), batch: int = 200) -> int:
    """Mails stored but never processed (the worker was down or crashed) get processed."""
    cutoff = timezone.now() - older_than
    pks = list(RawMessage.objects.filter(state=RawState.PENDING, received_at__lt=cutoff)
               .order_by("received_at").values_list("pk", flat=True)[:batch])
    for pk in pks:
        process_raw_message(pk)
    return len(pks)

