"""Agents' replies on X cases: one `XOutbound` row per reply, posted by the worker, as a public
reply to the customer's latest post or as a DM.

The route is the conversation's (a DM answers a DM, a reply answers a mention) unless the agent
chose on the case page (`apply_route`, a `cases.services.REPLY_ACTIONS` hook). A public reply
naming personal data is never posted: the form refuses it with a Japanese message suggesting a
DM; a reply that came another way (the API, an automatic message) is held with that reason and
a 「DMで送る」 button. 429 waits for x-rate-limit-reset; 5xx and no answer are tried again (30 s
doubling), other 4xx fail at once with the reason. X has no idempotency key: a try whose outcome
is unknown is looked for before the next (a DM in the conversation; a public reply X refuses
again as a duplicate), so a reply is posted once."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi import channel_queue
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import CaseError
from madoguchi.x_account import checks, client
from madoguchi.x_account.models import (
    ItemKind,
    OutboundState,
    Route,
    XAccount,
    XOutbound,
    XRawItem,
    XUser,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=2)
# X's answer to a post it already has (the same text, the same account, shortly after).
DUPLICATE = "duplicate content"


def route_for(case_id: int, customer_id: int, route: str | None = None) -> tuple[str, str, str]:
    """(route, the user it goes to, the post it answers): the conversation's route, or the one
    asked for. A public reply answers the customer's latest post on the case."""
    items = XRawItem.objects.filter(interaction__case_id=case_id).order_by("-occurred_at", "-pk")
    latest = items.first()
    route = route or (Route.DM if latest is None or latest.kind == ItemKind.DM else Route.PUBLIC)
    if route == Route.PUBLIC:
        mention = items.filter(kind=ItemKind.MENTION).first()
        return Route.PUBLIC, mention.author_id if mention else "", mention.item_id if mention else ""
    to = latest.author_id if latest is not None else ""
    return Route.DM, to or XUser.objects.filter(customer_id=customer_id).values_list("user_id", flat=True).first() or "", ""


def reaches_by_x(case: Case) -> bool:
    """An automatic message (after-hours answer, survey) on an X case goes only by DM, to a
    customer who wrote by DM last (cases.automatic.REACHES): never as a public post."""
    latest = XRawItem.objects.filter(interaction__case_id=case.pk).order_by("-occurred_at", "-pk").first()
    return latest is not None and latest.kind == ItemKind.DM


def _problem(route: str, to: str, in_reply_to: str, body: str) -> str:
    if route == Route.PUBLIC and not in_reply_to:
        return _("この案件にはお客様の公開の投稿がないため、公開リプライはできません。DMで送ってください。")
    if route == Route.DM and not to:
        return _("このお客様のXアカウントが分からないため送れません。")
    return checks.refusal(body) if route == Route.PUBLIC else ""


def queue_reply(interaction: Interaction) -> XOutbound | None:
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.X:
        return None
    existing = XOutbound.objects.filter(interaction=interaction).first()
    if existing is not None:
        return existing
    case = interaction.case
    route, to, in_reply_to = route_for(case.pk, case.customer_id)
    problem = _problem(route, to, in_reply_to, interaction.body)
    row = XOutbound.objects.create(interaction=interaction, case=case, route=route, to_user_id=to,
                                   in_reply_to=in_reply_to, body=interaction.body,
                                   state=OutboundState.HELD if problem else OutboundState.PENDING, last_error=problem)
    if not problem:
        transaction.on_commit(lambda: enqueue(row.pk))
    return row


def apply_route(case: Case, actor: Any, data: dict[str, Any]) -> list[str]:
    """REPLY_ACTIONS hook: the route the agent chose on the reply form, checked. A CaseError
    undoes the reply (nothing recorded, nothing sent) and the form shows why."""
    # The reply just recorded: the actor's latest reply on the case (the case row is locked).
    reply = (Interaction.objects.filter(case_id=case.pk, kind=InteractionKind.OUTBOUND, author=actor)
             .order_by("-pk").values_list("pk", flat=True).first())
    row = XOutbound.objects.filter(interaction_id=reply, state__in=[OutboundState.PENDING, OutboundState.HELD],
                                   attempts=0).first() if reply else None
    if row is None:
        return []
    chosen = data.get("route") if data.get("route") in Route.values else row.route
    route, to, in_reply_to = route_for(case.pk, case.customer_id, chosen)
    problem = _problem(route, to, in_reply_to, row.body)
    if not problem and route == Route.PUBLIC and not data.get("route_confirmed"):
        warning = checks.too_long(row.body)
        if warning:
            problem = warning + _("それでも送るときは「長いまま送る」にチェックを入れてください。")
    if problem:
        raise CaseError(problem)
    XOutbound.objects.filter(pk=row.pk).update(route=route, to_user_id=to, in_reply_to=in_reply_to,
                                               state=OutboundState.PENDING, last_error="")
    transaction.on_commit(lambda: enqueue(row.pk))
    return []


def enqueue(pk: int, delay: dt.timedelta | None = None) -> None:
    from madoguchi.x_account.tasks import send_x_task

    channel_queue.enqueue(send_x_task, pk, delay)


def _dm_already_sent(row: XOutbound) -> str:
    """The id of this DM in the conversation, when an earlier try whose answer was lost sent it."""
    me = XAccount.objects.values_list("user_id", flat=True).first() or client.account_id_from_token()
    since = (row.uncertain_since or row.created_at) - dt.timedelta(minutes=2)
    for event in client.conversation_events(row.to_user_id).data.get("data") or []:
        if not isinstance(event, dict) or str(event.get("sender_id")) != me or event.get("text") != row.body:
            continue
        try:
            created = dt.datetime.fromisoformat(str(event.get("created_at")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if created >= since:
            return str(event.get("id") or "")
    return ""


def send(pk: int, now: dt.datetime | None = None) -> XOutbound | None:
    now = now or timezone.now()
    row = channel_queue.claim(XOutbound, pk, now, LEASE)
    if row is None:
        return None
    try:
        posted = _dm_already_sent(row) if row.uncertain_since and row.route == Route.DM else ""
        if not posted:
            if row.route == Route.PUBLIC:
                posted = client.post_reply(row.body, row.in_reply_to)
            else:
                posted = client.send_dm(row.to_user_id, row.body)
    except client.XApiError as error:
        if row.route == Route.PUBLIC and row.uncertain_since and error.status == 403 and DUPLICATE in str(error):
            _mark_sent(pk, "", _("Xに同じ返信がすでに投稿されていました（前回の送信は届いていました）。"))
        else:
            _failed(row, error, now)
    else:
        _mark_sent(pk, posted, "")
    row.refresh_from_db()
    return row


def _mark_sent(pk: int, posted: str, note: str) -> None:
    XOutbound.objects.filter(pk=pk).update(state=OutboundState.SENT, sent_at=timezone.now(), posted_id=posted[:32],
                                           last_error=note, next_attempt_at=None)


def wait_after(attempts: int, error: client.XApiError, now: dt.datetime) -> dt.timedelta:
    """Until the rate limit resets (at least 1 s), else 30 s, 1 min, 2 min … capped at an hour."""
    if error.status == 429 and error.reset_at is not None:
        return max(dt.timedelta(seconds=1), min(error.reset_at - now, dt.timedelta(hours=1)))
    return dt.timedelta(seconds=min(30 * 2 ** max(0, attempts - 1), 3600))


def _failed(row: XOutbound, error: client.XApiError, now: dt.datetime) -> None:
    final = row.attempts >= MAX_ATTEMPTS or not error.temporary
    wait = wait_after(row.attempts, error, now)
    reason = _("送信できませんでした（%(n)s回目）: %(error)s") % {"n": row.attempts, "error": error}
    if not error.temporary:
        reason += " — " + _("Xがこのメッセージを受け付けなかったため、自動では再送しません。")
    elif not final:
        reason += " — " + _("%(seconds)s秒後に再送します。") % {"seconds": int(wait.total_seconds())}
    XOutbound.objects.filter(pk=row.pk).update(
        state=OutboundState.FAILED if final else OutboundState.PENDING, last_error=reason[:2000],
        next_attempt_at=None if final else now + wait,
        uncertain_since=row.uncertain_since or (now if error.uncertain else None),
    )
    if not final:
        enqueue(row.pk, delay=wait)
    log.warning("x: outbound %s failed: %s", row.pk, error)


def send_due(now: dt.datetime | None = None, batch: int = 100) -> int:
    return channel_queue.send_due(XOutbound, send, now or timezone.now(), batch)


def do_retry(row: XOutbound) -> None:
    """An agent pressed 再送 on a failed message: it goes again (a lost DM is looked for first)."""
    XOutbound.objects.filter(pk=row.pk, state=OutboundState.FAILED).update(
        state=OutboundState.PENDING, next_attempt_at=None, attempts=0)
    transaction.on_commit(lambda: enqueue(row.pk))


def do_send_by_dm(row: XOutbound) -> str:
    """「DMで送る」 on a reply held (or failed) as a public reply: the same words, by DM.
    Returns the problem (Japanese) when it cannot go, else ""."""
    route, to, _reply = route_for(row.case_id, row.case.customer_id, Route.DM)
    problem = _problem(route, to, "", row.body)
    if problem:
        return problem
    changed = XOutbound.objects.filter(pk=row.pk, state__in=[OutboundState.HELD, OutboundState.FAILED]).update(
        route=Route.DM, to_user_id=to, in_reply_to="", state=OutboundState.PENDING, next_attempt_at=None,
        attempts=0, uncertain_since=None, last_error="")
    if changed:
        transaction.on_commit(lambda: enqueue(row.pk))
    return ""
