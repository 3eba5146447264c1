"""The X API v2 through tweepy's `Client`, pointed at `X_API_BASE` (a local fake server in the
tests): tweepy builds every URL on https://api.twitter.com, and `_RebasedSession` (the
requests Session tweepy sends through) moves them to the base set, before OAuth signs them.

Answers are read as JSON (the raw items are stored as X sent them) with the rate-limit headers.
Every failure comes out as `XApiError` with the HTTP status and, on 429, the time the limit
resets (x-rate-limit-reset), so the callers decide: wait, retry or give up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import requests
import tweepy
from django.conf import settings

TWEEPY_HOST = "https://api.twitter.com"
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"
USER_FIELDS = "username,name,profile_image_url"
DM_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids"


class XApiError(Exception):
    def __init__(self, status: int | None, message: str, reset_at: dt.datetime | None = None,
                 codes: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.reset_at = reset_at
        self.codes = codes

    @property
    def temporary(self) -> bool:
        """Worth trying again: no answer at all, 429 (rate limit) or a server error."""
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def uncertain(self) -> bool:
        """The request may have been carried out (no answer, or a server error after it arrived)."""
        return self.status is None or self.status >= 500


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any]
    requests_left: int | None
    reset_at: dt.datetime | None


class _RebasedSession(requests.Session):
    def __init__(self, base: str, timeout: float) -> None:
        super().__init__()
        self.base, self.timeout = base, timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith(TWEEPY_HOST):
            url = self.base + url[len(TWEEPY_HOST):]
        kwargs.setdefault("timeout", (5, self.timeout))
        return super().request(method.decode() if isinstance(method, bytes) else method, url, *args, **kwargs)


def oauth1() -> bool:
    return all((settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET, settings.X_ACCESS_TOKEN,
                settings.X_ACCESS_TOKEN_SECRET))


def configured() -> bool:
    return oauth1() or bool(settings.X_BEARER_TOKEN)


def _client() -> tuple[tweepy.Client, bool]:
    """The client and whether its calls use OAuth 1.0a user context (else the bearer token:
    an OAuth 2.0 user token acts for the account as well)."""
    if oauth1():
        found = tweepy.Client(consumer_key=settings.X_CONSUMER_KEY, consumer_secret=settings.X_CONSUMER_SECRET,
                              access_token=settings.X_ACCESS_TOKEN, access_token_secret=settings.X_ACCESS_TOKEN_SECRET,
                              return_type=requests.Response)
    else:
        found = tweepy.Client(bearer_token=settings.X_BEARER_TOKEN, return_type=requests.Response)
    found.session = _RebasedSession(settings.X_API_BASE, settings.X_HTTP_TIMEOUT)
    return found, oauth1()


def _reset(value: str | None) -> dt.datetime | None:
    if not value or not value.strip().isdigit():
        return None
    return dt.datetime.fromtimestamp(int(value.strip()), tz=dt.UTC)


def _detail(response: Any) -> str:
    """The `detail` of a v2 problem answer ({"title": "Forbidden", "detail": "…", "status": 403})."""
    try:
        found = response.json()
    except ValueError:
        return ""
    return str(found.get("detail") or found.get("title") or "") if isinstance(found, dict) else ""


def _error(error: Exception) -> XApiError:
    if isinstance(error, tweepy.HTTPException):
        response = error.response
        status = int(getattr(response, "status_code", 0) or 0) or None
        text = "; ".join(str(m) for m in error.api_messages) or _detail(response) or str(error)
        codes = tuple(int(c) for c in error.api_codes if str(c).isdigit())
        return XApiError(status, f"HTTP {status}: {text}"[:500], _reset(response.headers.get("x-rate-limit-reset")), codes)
    return XApiError(None, f"{type(error).__name__}: {error}"[:500])


def _call(name: str, *args: Any, **kwargs: Any) -> Answer:
    client, user_auth = _client()
    try:
        response = getattr(client, name)(*args, user_auth=user_auth, **kwargs)
        data = response.json() if response.content else {}
    except (tweepy.TweepyException, requests.RequestException, ValueError) as error:
        raise _error(error) from error
    left = response.headers.get("x-rate-limit-remaining", "")
    return Answer(data if isinstance(data, dict) else {}, int(left) if left.strip().isdigit() else None,
                  _reset(response.headers.get("x-rate-limit-reset")))


def me() -> tuple[str, str]:
    """The account's id and handle (GET /2/users/me)."""
    user = _call("get_me").data.get("data") or {}
    return str(user.get("id") or ""), str(user.get("username") or "")


def account_id_from_token() -> str:
    """An OAuth 1.0a access token starts with the account's id (`12345-abc…`), as tweepy reads it."""
    return settings.X_ACCESS_TOKEN.partition("-")[0] if oauth1() else ""


def _posts_page(since_id: str, page_token: tuple[str, str], start_time: dt.datetime | None) -> dict[str, Any]:
    """A page of posts with their authors: newer than since_id, else from start_time; `page_token`
    is the endpoint's name for its page token and the token (mentions: pagination_token; search: next_token)."""
    params: dict[str, Any] = {"max_results": 100, "expansions": "author_id", "tweet_fields": TWEET_FIELDS,
                              "user_fields": USER_FIELDS}
    if since_id:
        params["since_id"] = since_id
    elif start_time is not None:
        params["start_time"] = start_time
    if page_token[1]:
        params[page_token[0]] = page_token[1]
    return params


def mentions(account_id: str, *, since_id: str = "", pagination_token: str = "",
             start_time: dt.datetime | None = None) -> Answer:
    """One page (up to 100, newest first) of GET /2/users/:id/mentions."""
    params = _posts_page(since_id, ("pagination_token", pagination_token), start_time)
    return _call("get_users_mentions", account_id, **params)


def search_recent(query: str, *, since_id: str = "", pagination_token: str = "",
                  start_time: dt.datetime | None = None) -> Answer:
    """One page (up to 100, newest first) of GET /2/tweets/search/recent, with the authors."""
    return _call("search_recent_tweets", query, **_posts_page(since_id, ("next_token", pagination_token), start_time))


def dm_events(*, pagination_token: str = "") -> Answer:
    """One page (up to 100, newest first) of GET /2/dm_events (messages only)."""
    params: dict[str, Any] = {"max_results": 100, "event_types": "MessageCreate", "dm_event_fields": DM_FIELDS,
                              "expansions": "sender_id", "user_fields": USER_FIELDS}
    if pagination_token:
        params["pagination_token"] = pagination_token
    return _call("get_direct_message_events", **params)


def conversation_events(participant_id: str) -> Answer:
    """The latest DM events with one user (GET /2/dm_conversations/with/:id/dm_events)."""
    return _call("get_direct_message_events", participant_id=participant_id, max_results=50,
                 event_types="MessageCreate", dm_event_fields=DM_FIELDS)


def post_reply(text: str, in_reply_to: str) -> str:
    """A public reply (POST /2/tweets); the new post's id."""
    return str((_call("create_tweet", text=text, in_reply_to_tweet_id=in_reply_to).data.get("data") or {}).get("id") or "")


def send_dm(participant_id: str, text: str) -> str:
    """A DM (POST /2/dm_conversations/with/:id/messages); the new event's id."""
    data = _call("create_direct_message", participant_id=participant_id, text=text).data.get("data") or {}
    return str(data.get("dm_event_id") or "")
