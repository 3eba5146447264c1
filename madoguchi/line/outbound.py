"""Agents' replies on LINE cases: one `LineOutbound` row per reply, sent by the worker.

A reply goes with the reply token of the customer's latest message while it is young and
unused (free of the monthly quota), else by push with `X-Line-Retry-Key` (the row's UUID, the
same on every attempt, so LINE delivers it once). 5xx, 429 and no answer are tried again after
`Retry-After` when LINE gives one, else 30 s doubling; other 4xx fail at once with the reason."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from madoguchi import channel_queue
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.line import client
from madoguchi.line.models import LineOutbound, LineRawEvent, LineUser, OutboundState

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=2)


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Retry-After when LINE said it (at least 1 s), else 30 s, 1 min, 2 min … capped at an hour."""
    if retry_after is not None:
        return dt.timedelta(seconds=max(1.0, min(retry_after, 3600)))
    return dt.timedelta(seconds=min(30 * 2 ** max(0, attempts - 1), 3600))


def line_user_of_case(case_id: int, customer_id: int) -> str:
    """Whom a reply on the case goes to: the LINE user who wrote on it last, else the customer's."""
    return recipient_of_case(case_id, customer_id)[0]


def recipient_of_case(case_id: int, customer_id: int) -> tuple[str, int | None]:
    """The LINE user a reply on the case goes to and the account it goes through: those of the
    customer's last event on the case, else the customer's LINE user on the first account."""
    found = (LineRawEvent.objects.filter(interaction__case_id=case_id).exclude(user_id="")
             .order_by("-occurred_at").values_list("user_id", "account_id").first())
    if found is not None:
        return found[0], found[1]
    user_id = LineUser.objects.filter(customer_id=customer_id).values_list("user_id", flat=True).first()
    return user_id or "", None


def reaches_by_line(case: Case) -> bool:
    """An automatic message (after-hours answer, survey invitation) on a LINE case reaches the
    customer while their LINE user has not blocked the account (cases.automatic.REACHES)."""
    to = line_user_of_case(case.pk, case.customer_id)
    return bool(to) and LineUser.objects.filter(user_id=to, blocked_at__isnull=True).exists()


def queue_reply(interaction: Interaction) -> LineOutbound | None:
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.LINE:
        return None
    existing = LineOutbound.objects.filter(interaction=interaction).first()
    if existing is not None:
        return existing
    case = interaction.case
    to, account_id = recipient_of_case(case.pk, case.customer_id)
    row = LineOutbound.objects.create(
        interaction=interaction, case=case, to_user_id=to, account_id=account_id, body=interaction.body[:client.MAX_TEXT],
        state=OutboundState.PENDING if to else OutboundState.FAILED,
        last_error="" if to else "このお客様のLINEアカウントが分からないため送れません。",
    )
    if to:
        transaction.on_commit(lambda: enqueue(row.pk))
    return row


def enqueue(pk: int, delay: dt.timedelta | None = None) -> None:
    from madoguchi.line.tasks import send_line_task

    channel_queue.enqueue(send_line_task, pk, delay)


def _fresh_reply_token(row: LineOutbound, now: dt.datetime) -> str:
    """A reply token of the customer's latest message on the case, young and never used;
    taken by this reply (marked used) so no other reply spends it."""
    young = now - dt.timedelta(seconds=settings.LINE_REPLY_TOKEN_SECONDS)
    event = (LineRawEvent.objects.filter(user_id=row.to_user_id, account_id=row.account_id, interaction__case_id=row.case_id,
                                         reply_token_used_at__isnull=True, occurred_at__gte=young)
             .exclude(reply_token="").order_by("-occurred_at").first())
    if event is None:
        return ""
    taken = LineRawEvent.objects.filter(pk=event.pk, reply_token_used_at__isnull=True).update(reply_token_used_at=now)
    if not taken:
        return ""
    LineOutbound.objects.filter(pk=row.pk).update(reply_token=event.reply_token)
    return event.reply_token


def _usable_reply_token(row: LineOutbound, now: dt.datetime) -> str:
    """The first attempt takes a fresh token. A later one keeps to the token an earlier attempt
    used (its outcome unknown: a reply token is spent once, so trying it again can never deliver
    twice) while it is young; after that the reply is pushed."""
    if row.attempts == 1 and not row.reply_token:
        return _fresh_reply_token(row, now)
    if row.reply_token:
        young = now - dt.timedelta(seconds=settings.LINE_REPLY_TOKEN_SECONDS)
        if LineRawEvent.objects.filter(user_id=row.to_user_id, reply_token=row.reply_token, occurred_at__gte=young).exists():
            return row.reply_token
    return ""


def send(pk: int, now: dt.datetime | None = None) -> LineOutbound | None:
    now = now or timezone.now()
    row = channel_queue.claim(LineOutbound, pk, now, LEASE)
    if row is None:
        return None
    token = _usable_reply_token(row, now)
    method = "reply" if token else "push"
    buttons = list(row.quick_replies or [])
    try:
        if token:
            try:
                client.reply(token, row.body, buttons, row.account_id)
            except client.LineApiError as error:
                if error.temporary:
                    raise
                # The token was refused (expired, or LINE counts it used): push instead, now.
                method = "push"
                client.push(row.to_user_id, row.body, str(row.retry_key), buttons, row.account_id)
        else:
            client.push(row.to_user_id, row.body, str(row.retry_key), buttons, row.account_id)
    except client.LineApiError as error:
        if error.status == 409 and method == "push":
            _mark_sent(pk, method, "")  # the same retry key was accepted before: delivered once
        else:
            _failed(row, error, now)
    else:
        _mark_sent(pk, method, "")
    row.refresh_from_db()
    return row


def _mark_sent(pk: int, method: str, note: str) -> None:
    LineOutbound.objects.filter(pk=pk).update(state=OutboundState.SENT, sent_at=timezone.now(), method=method,
                                              last_error=note, next_attempt_at=None)


def _failed(row: LineOutbound, error: client.LineApiError, now: dt.datetime) -> None:
    final = row.attempts >= MAX_ATTEMPTS or not error.temporary
    reason = f"送信できませんでした（{row.attempts}回目）: {error}"
    wait = backoff(row.attempts, error.retry_after)
    if not error.temporary:
        reason += " — LINEがこのメッセージを受け付けなかったため、自動では再送しません。"
    elif not final:
        reason += f" — {int(wait.total_seconds())}秒後に再送します。"
    LineOutbound.objects.filter(pk=row.pk).update(
        state=OutboundState.FAILED if final else OutboundState.PENDING, last_error=reason[:2000],
        next_attempt_at=None if final else now + wait,
    )
    if not final:
        enqueue(row.pk, delay=wait)
    log.warning("line: outbound %s failed: %s", row.pk, error)


def send_due(now: dt.datetime | None = None, batch: int = 100) -> int:
    return channel_queue.send_due(LineOutbound, send, now or timezone.now(), batch)


def do_retry(row: LineOutbound) -> None:
    """An agent pressed 再送 on a failed message: it goes again, with the same retry key."""
    LineOutbound.objects.filter(pk=row.pk, state=OutboundState.FAILED).exclude(to_user_id="").update(
        state=OutboundState.PENDING, next_attempt_at=None, attempts=0)
    transaction.on_commit(lambda: enqueue(row.pk))
