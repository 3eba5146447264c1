"""X as a source for social listening: the recent search (GET /2/tweets/search/recent) for the
admin's query (`MADOGUCHI_X_LISTENING_QUERY`, e.g. the shop's name), registered with the
listening app's hook in `apps.ready()` when the X credentials are set:

    sources.register("x-search", fetch)

The listening job (every 15 minutes) calls `fetch(newest)` and writes the X API v2 pages it returns
through the writer the file import uses. The walk is the mentions' one: asked with `since_id`,
paged with `next_token` (up to MADOGUCHI_X_MAX_PAGES), a desk's first walk reading back
MADOGUCHI_X_FIRST_FETCH_HOURS. The stream's `XCursor` keeps where it is. Because the posts are
written by the listening job after `fetch` returns, a finished walk's newest post waits on the
cursor (`walk_newest_id`, `walk_newest_at`) and its id becomes `since_id` only once the desk holds
a post that new (`newest`, the hook's argument): a write that failed is asked for again, never skipped. A 429 (or
a page that used the window's last request) sets `wait_until` to x-rate-limit-reset, and the
stream is skipped until then; the pages read before it are kept, and the walk resumes at its
`next_token`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from madoguchi.x_account import client
from madoguchi.x_account.ingest import _id, _limits, _moment, cursor
from madoguchi.x_account.models import Stream, XCursor

log = logging.getLogger(__name__)
SOURCE = "x-search"


def _move(current: XCursor, **moves: Any) -> None:
    XCursor.objects.filter(pk=current.pk).update(**moves)
    for key, value in moves.items():
        setattr(current, key, value)


def fetch(newest: tuple[str, str, Any] | None, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Search pages newer than what the desk holds; [] when off, unconfigured or rate-limited."""
    query = settings.X_LISTENING_QUERY.strip()
    if not query or not client.configured():
        return []
    now = now or timezone.now()
    current = cursor(Stream.SEARCH)
    if current.wait_until and current.wait_until > now:
        return []
    if not current.next_token and current.walk_newest_id:
        # The last walk is over: its newest post was written (the desk holds one as new) or is asked again.
        held_at = newest[2] if newest and newest[0] == "x" else None
        written = held_at is not None and current.walk_newest_at is not None and held_at >= current.walk_newest_at
        if written and _id(current.walk_newest_id) > _id(current.since_id):
            _move(current, since_id=current.walk_newest_id)
        _move(current, walk_newest_id="", walk_newest_at=None)
    _move(current, last_run_at=now)
    pages: list[dict[str, Any]] = []
    try:
        for _page in range(settings.X_MAX_PAGES):
            first = not current.next_token
            start = None
            if not current.since_id:
                start = current.walk_start if not first and current.walk_start else now - dt.timedelta(hours=settings.X_FIRST_FETCH_HOURS)
            answer = client.search_recent(query, since_id=current.since_id, pagination_token=current.next_token,
                                          start_time=start)
            meta = answer.data.get("meta") or {}
            following = str(meta.get("next_token") or "")
            items = [i for i in answer.data.get("data") or [] if isinstance(i, dict)]
            if first:
                top = next((i for i in items if str(i.get("id")) == str(meta.get("newest_id"))), items[0] if items else None)
                _move(current, walk_newest_id=str(top.get("id") or "") if top else "",
                      walk_newest_at=_moment(top.get("created_at")) if top else None)
            _move(current, **_limits(current, answer), next_token=following[:200], walk_start=start if following else None)
            if answer.data.get("data"):
                pages.append(answer.data)
            if not following or current.wait_until:
                break
    except client.XApiError as error:
        moves: dict[str, Any] = {"last_error": str(error)[:2000]}
        if error.status == 429:
            moves["wait_until"] = error.reset_at or now + dt.timedelta(minutes=15)
            moves["requests_left"] = 0
        _move(current, **moves)
        log.warning("x: listening search failed: %s", error)
        if error.status != 429 and not pages:
            raise  # the listening job logs a source that fails
        return pages
    _move(current, last_ok_at=now, last_error="")
    return pages


def register() -> None:
    """Called from `apps.ready()`: the source exists only when the X credentials are set."""
    if not client.configured():
        return
    from madoguchi.listening import sources

    sources.register(SOURCE, fetch, platform="x")
