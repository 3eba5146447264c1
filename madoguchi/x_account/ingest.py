"""Mentions and DMs: fetched on a schedule and stored raw (`fetch`), filed on cases by the
worker afterwards (`file_items`, deferred work `x_account.items`).

Mentions are read with `since_id` (the newest id of the last walk's first page) and paged with
`next_token`; DM events have no since_id in the API, so a walk pages back until it meets an id
it has (ids are time-ordered). Each page's items and the cursor move in one transaction. A 429
sets `wait_until` to X's x-rate-limit-reset (and a run then is skipped); the caller schedules a
one-off fetch for that moment instead of sleeping, so no worker thread waits on X."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from madoguchi import channel_queue
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import (
    do_add_interaction,
    do_create_case,
    open_channel_case,
    other_category,
)
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.customers.services import find_customer, get_or_create_customer, normalise_identity
from madoguchi.jobs import work
from madoguchi.x_account import client
from madoguchi.x_account.models import ItemKind, Stream, XAccount, XCursor, XRawItem, XUser

log = logging.getLogger(__name__)
ITEMS_WORK = "x_account.items"
DEFAULT_NAME = "Xのお客様"


# --- the account ---------------------------------------------------------------------------------

def account() -> XAccount:
    """The shop's account: from MADOGUCHI_X_USER_ID, the OAuth 1.0a token, or asked of X once."""
    found = XAccount.objects.first()
    wanted = settings.X_USER_ID or client.account_id_from_token()
    if found is not None and (not wanted or found.user_id == wanted):
        return found
    user_id, username = (wanted, "") if wanted else client.me()
    if not user_id:
        raise client.XApiError(None, "X: /2/users/me gave no account id")
    XAccount.objects.all().delete()
    return XAccount.objects.create(user_id=user_id, username=username)


# --- fetching ------------------------------------------------------------------------------------

def cursor(stream: str) -> XCursor:
    return XCursor.objects.get_or_create(stream=stream)[0]


def _moment(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return timezone.now()


def _id(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def _users(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    users = (data.get("includes") or {}).get("users") or []
    return {str(user.get("id")): user for user in users if isinstance(user, dict)}


def _row(kind: str, item: dict[str, Any], users: dict[str, dict[str, Any]]) -> XRawItem:
    author = str(item.get("author_id") or item.get("sender_id") or "")
    raw = {**item, "author": users.get(author, {})}
    conversation = item.get("conversation_id") if kind == ItemKind.MENTION else item.get("dm_conversation_id")
    return XRawItem(kind=kind, item_id=str(item.get("id"))[:32], author_id=author[:32],
                    conversation_id=str(conversation or "")[:64],
                    raw=json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
                    occurred_at=_moment(item.get("created_at")))


def _store(rows: list[XRawItem], current: XCursor, **moves: Any) -> None:
    """A page's items and the cursor's move, together."""
    with transaction.atomic():
        if rows:
            XRawItem.objects.bulk_create(rows, ignore_conflicts=True)
            work.defer(ITEMS_WORK, [f"{row.kind}:{row.item_id}" for row in rows])
        XCursor.objects.filter(pk=current.pk).update(**moves)
    for key, value in moves.items():
        setattr(current, key, value)


def _limits(current: XCursor, answer: client.Answer) -> dict[str, Any]:
    """A page that used the last request of the window waits for the reset without a 429."""
    wait = answer.reset_at if answer.requests_left == 0 else None
    return {"requests_left": answer.requests_left, "wait_until": wait}


def fetch_mentions(account_id: str, now: dt.datetime, stored: list[int]) -> None:
    current = cursor(Stream.MENTIONS)
    for _page in range(settings.X_MAX_PAGES):
        first = not current.next_token
        start = None
        if not current.since_id:  # a desk's first walk reads back X_FIRST_FETCH_HOURS, on every page
            start = current.walk_start if not first and current.walk_start else now - dt.timedelta(hours=settings.X_FIRST_FETCH_HOURS)
        answer = client.mentions(account_id, since_id=current.since_id, pagination_token=current.next_token,
                                 start_time=start)
        users, items = _users(answer.data), [i for i in answer.data.get("data") or [] if isinstance(i, dict)]
        meta = answer.data.get("meta") or {}
        newest = str(meta.get("newest_id") or "") if first else current.walk_newest_id
        following = str(meta.get("next_token") or "")
        moves: dict[str, Any] = {**_limits(current, answer), "next_token": following[:200]}
        if following:
            moves["walk_newest_id"], moves["walk_start"] = newest, start
        else:  # the walk is over: the next one starts after its newest post
            moves["walk_newest_id"], moves["walk_start"] = "", None
            if _id(newest) > _id(current.since_id):
                moves["since_id"] = newest
        rows = [_row(ItemKind.MENTION, item, users) for item in items if str(item.get("author_id")) != account_id]
        _store(rows, current, **moves)
        stored.append(len(rows))
        if not following or current.wait_until:
            break


def fetch_dms(account_id: str, now: dt.datetime, stored: list[int]) -> None:
    current = cursor(Stream.DMS)
    since = _id(current.since_id)
    oldest = now - dt.timedelta(hours=settings.X_FIRST_FETCH_HOURS)
    for _page in range(settings.X_MAX_PAGES):
        first = not current.next_token
        answer = client.dm_events(pagination_token=current.next_token)
        users = _users(answer.data)
        events = [e for e in answer.data.get("data") or [] if isinstance(e, dict) and e.get("event_type", "MessageCreate") == "MessageCreate"]
        newer = [e for e in events if _id(e.get("id")) > since and (since or _moment(e.get("created_at")) >= oldest)]
        page_newest = max((_id(e.get("id")) for e in events), default=0)
        newest = max(page_newest, _id(current.walk_newest_id)) if not first else page_newest
        following = str((answer.data.get("meta") or {}).get("next_token") or "")
        more = bool(following) and len(newer) == len(events) and bool(events)
        moves: dict[str, Any] = {**_limits(current, answer), "next_token": following[:200] if more else ""}
        if more:
            moves["walk_newest_id"] = str(newest or "")
        else:
            moves["walk_newest_id"] = ""
            if newest > since:
                moves["since_id"] = str(newest)
        rows = [_row(ItemKind.DM, event, users) for event in newer if str(event.get("sender_id")) != account_id]
        _store(rows, current, **moves)
        stored.append(len(rows))
        if not more or current.wait_until:
            break


def due(now: dt.datetime) -> bool:
    """Whether the scheduled fetch runs now: every MADOGUCHI_X_FETCH_MINUTES after the last."""
    # The latest run of any stream: one still waiting for its rate limit is skipped, not run.
    last = XCursor.objects.aggregate(last=Max("last_run_at"))["last"]
    return last is None or now - last >= dt.timedelta(minutes=settings.X_FETCH_MINUTES) - dt.timedelta(seconds=5)


class FetchError(Exception):
    """A stream could not be fetched (not a rate limit): wrong keys, a plan without the endpoint,
    X down. Raised after both streams ran, so the job's run log shows it to the admins."""

    def __init__(self, message: str, wait_until: dt.datetime | None) -> None:
        super().__init__(message)
        self.wait_until = wait_until


def fetch(now: dt.datetime | None = None) -> tuple[int, dt.datetime | None]:
    """One run over both streams. A stream still waiting for its rate limit is skipped; one that
    fails keeps its error on its cursor and does not stop the other (FetchError at the end).
    Returns how many items were stored and the earliest moment a stream waits for (to schedule
    a fetch then), if any."""
    now = now or timezone.now()
    if not client.configured():
        return 0, None
    streams = [(Stream.MENTIONS, fetch_mentions)] + ([(Stream.DMS, fetch_dms)] if settings.X_FETCH_DMS else [])
    stored: list[int] = []  # per page, kept when a later page fails
    waits, errors = [], []
    try:
        account_id = account().user_id
    except client.XApiError as error:
        XCursor.objects.filter(pk=cursor(Stream.MENTIONS).pk).update(last_run_at=now, last_error=str(error)[:2000])
        raise
    for stream, run in streams:
        current = cursor(stream)
        if current.wait_until and current.wait_until > now:
            waits.append(current.wait_until)
            continue
        XCursor.objects.filter(pk=current.pk).update(last_run_at=now)
        try:
            run(account_id, now, stored)
        except client.XApiError as error:
            moves: dict[str, Any] = {"last_error": f"{error}"[:2000]}
            if error.status == 429:
                # x-rate-limit-reset; without one, a quarter hour (X's rate-limit window).
                moves["wait_until"] = error.reset_at or now + dt.timedelta(minutes=15)
                moves["requests_left"] = 0
                waits.append(moves["wait_until"])
            else:
                errors.append(f"X {stream}: {error}")
            XCursor.objects.filter(pk=current.pk).update(**moves)
            log.warning("x: fetching %s failed: %s", stream, error)
        else:
            current.refresh_from_db()
            XCursor.objects.filter(pk=current.pk).update(last_ok_at=now, last_error="")
            if current.wait_until and current.wait_until > now:
                waits.append(current.wait_until)
    if errors:
        raise FetchError(" / ".join(errors), min(waits, default=None))
    return sum(stored), min(waits, default=None)


# --- filing ----------------------------------------------------------------------------------------

def file_items(keys: list[str]) -> int:
    """File the stored items ("kind:id") not filed yet, oldest first, each in its own transaction;
    one that fails does not stop the others (the first error is raised at the end: the work backs off)."""
    pks: list[int] = []
    for key in keys:
        kind, _sep, item_id = str(key).partition(":")
        pks += XRawItem.objects.filter(kind=kind, item_id=item_id, processed_at__isnull=True).values_list("pk", flat=True)
    rows = XRawItem.objects.filter(pk__in=pks).order_by("occurred_at", "pk").values_list("pk", flat=True)
    return channel_queue.file_each(XRawItem, list(rows), file_item, "x")


def file_item(pk: int) -> bool:
    with transaction.atomic():
        # Of two workers filing the same item, one wins this update; the other files nothing.
        if not XRawItem.objects.filter(pk=pk, processed_at__isnull=True).update(processed_at=timezone.now(), error=""):
            return False
        row = XRawItem.objects.get(pk=pk)
        item = json.loads(row.raw)
        _file(row, item, x_user_for(row.author_id, item.get("author") or {}))
    return True


def x_user_for(user_id: str, user: dict[str, Any]) -> XUser:
    """The X user and their customer. Known by id; else the customer whose X handle it is (an
    agent typed it on the intake form); else a new customer. A changed handle joins the record."""
    username = str(user.get("username") or "")[:50]
    name = str(user.get("name") or "")[:200]
    picture = str(user.get("profile_image_url") or "")[:1000]
    found = XUser.objects.select_related("customer").filter(user_id=user_id).first()
    if found is None:
        customer = find_customer(IdentityKind.X, username) if username else None
        if customer is None:
            customer, _created = get_or_create_customer(name=name or (f"@{username}" if username else DEFAULT_NAME),
                                                        kind=IdentityKind.X, value=username)
        return XUser.objects.create(user_id=user_id, customer=customer, username=username, name=name,
                                    profile_image_url=picture)
    if username and (username, name, picture) != (found.username, found.name, found.profile_image_url):
        XUser.objects.filter(pk=found.pk).update(username=username, name=name, profile_image_url=picture)
        handle = normalise_identity(IdentityKind.X, username)
        if not Identity.objects.filter(kind=IdentityKind.X, value=handle).exists():
            Identity.objects.create(customer=found.customer, kind=IdentityKind.X, value=handle)
        found.username, found.name, found.profile_image_url = username, name, picture
    return found


def text_of(row: XRawItem, item: dict[str, Any]) -> str:
    """What the customer wrote, verbatim (X sends &amp; &lt; &gt; escaped in post texts)."""
    text = str(item.get("text") or "")
    if row.kind == ItemKind.MENTION:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def _file(row: XRawItem, item: dict[str, Any], x_user: XUser) -> None:
    body = text_of(row, item)
    case: Case | None = open_channel_case(x_user.customer_id, Channel.X)
    if case is None:
        label = "X DM" if row.kind == ItemKind.DM else "X"
        case = do_create_case(
            actor=None, customer=x_user.customer, subject=(f"{label}: " + body.splitlines()[0])[:60] if body else label,
            channel=Channel.X, category=other_category(), complaint=body, received_at=row.occurred_at,
        )
        interaction = Interaction.objects.filter(case=case).order_by("pk").first()
    else:
        interaction = do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.X, body=body,
                                         occurred_at=row.occurred_at, external_id=f"x:{row.kind}:{row.item_id}")
    XRawItem.objects.filter(pk=row.pk).update(interaction=interaction)
