"""A local stand-in for the X API v2 (the endpoints tweepy.Client calls for the shop's account:
users/me, a user's mentions, DM events, posting a reply, sending a DM, the recent search), for the
X channel's tests:
a threaded http.server on a free loopback port answering with the JSON X documents (data,
includes.users, meta.newest_id / oldest_id / next_token / result_count; problem details on
errors), keeping every request it got.

It checks OAuth 1.0a signatures (HMAC-SHA1 over the request as the client signed it, with the
consumer and token secrets) or the bearer token; pages by `max_results` (or its own smaller
`page_size`) with opaque next_tokens; honours since_id and start_time on mentions and the recent search (whose query matches a post
holding every plain word of it); answers
429 with x-rate-limit-reset, or a 5xx, when told to (per endpoint, consumed in order); refuses
a post whose text it already has with X's 403 "duplicate content"."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from oauthlib.oauth1.rfc5849 import signature
from oauthlib.oauth1.rfc5849.utils import escape

from madoguchi.testing.loopback import LoopbackServer, QuietHandler

ACCOUNT_ID = "1600000000000000001"
ACCOUNT = {"id": ACCOUNT_ID, "name": "うつわ屋 公式", "username": "utsuwaya_shop"}
CONSUMER_KEY, CONSUMER_SECRET = "x-test-consumer-key", "x-test-consumer-secret"
ACCESS_TOKEN, ACCESS_TOKEN_SECRET = f"{ACCOUNT_ID}-x-test-access-token", "x-test-access-token-secret"
BEARER = "x-test-oauth2-user-token"
CREDENTIALS = {"MADOGUCHI_X_CONSUMER_KEY": CONSUMER_KEY, "MADOGUCHI_X_CONSUMER_SECRET": CONSUMER_SECRET,
               "MADOGUCHI_X_ACCESS_TOKEN": ACCESS_TOKEN, "MADOGUCHI_X_ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET}
_ids = itertools.count(1_870_000_000_000_000_000)


def new_id() -> str:
    return str(next(_ids))


def stamp(moment: dt.datetime | None = None) -> str:
    """X's created_at: ISO 8601 in UTC with milliseconds and a Z."""
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(user_id: str, username: str, name: str) -> dict[str, str]:
    return {"id": user_id, "username": username, "name": name,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/normal.jpg"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    # Carry the request out anyway (as if the answer were lost on the way back).
    deliver: bool = False
    # x-rate-limit-reset this many seconds after the answer is given.
    reset_in: float | None = None

    def all_headers(self) -> dict[str, str]:
        if self.reset_in is None:
            return self.headers
        return {**self.headers, "x-rate-limit-reset": str(int(time.time() + self.reset_in))}


def rate_limited(seconds: float = 2) -> Answer:
    """X's 429: the window's requests are used up until x-rate-limit-reset (epoch seconds)."""
    return Answer(429, {"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0"}, reset_in=seconds)


PROBLEMS = {
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "You are not permitted to perform this action."),
    429: ("Too Many Requests", "Too Many Requests"),
    500: ("Internal Server Error", "Internal Server Error"),
    503: ("Service Unavailable", "Service Unavailable"),
}


@dataclass
class FakeX(LoopbackServer):
    users: dict[str, dict[str, str]] = field(default_factory=lambda: {ACCOUNT_ID: dict(ACCOUNT)})
    mentions: list[dict[str, Any]] = field(default_factory=list)
    # Anyone's public posts, newest first: what the recent search finds.
    public: list[dict[str, Any]] = field(default_factory=list)
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    sent_dms: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # What the next requests of an endpoint get (consumed in order; None: the normal answer):
    # keys "mentions", "dm_events", "tweets", "dm_send", "search".
    answers: dict[str, list[Answer | None]] = field(default_factory=dict)
    page_size: int = 100
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what customers do -----------------------------------------------------------------------

    def mention(self, author: dict[str, str], text: str, moment: dt.datetime | None = None,
                in_reply_to: str = "") -> dict[str, Any]:
        """A customer's post naming the shop's account (newest first in the timeline)."""
        self.users[author["id"]] = author
        post_id = new_id()
        post: dict[str, Any] = {"id": post_id, "text": text, "author_id": author["id"], "created_at": stamp(moment),
                "conversation_id": in_reply_to or post_id, "edit_history_tweet_ids": [post_id]}
        if in_reply_to:
            post["in_reply_to_user_id"] = ACCOUNT_ID
            post["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
        with self.lock:
            self.mentions.insert(0, post)
        return post

    def post(self, author: dict[str, str], text: str, moment: dt.datetime | None = None) -> dict[str, Any]:
        """Someone's public post (not naming the shop's account): found by the recent search."""
        self.users[author["id"]] = author
        post_id = new_id()
        post = {"id": post_id, "text": text, "author_id": author["id"], "created_at": stamp(moment),
                "conversation_id": post_id, "edit_history_tweet_ids": [post_id]}
        with self.lock:
            self.public.insert(0, post)
        return post

    def dm(self, sender: dict[str, str], text: str, moment: dt.datetime | None = None) -> dict[str, Any]:
        self.users[sender["id"]] = sender
        event = {"id": new_id(), "event_type": "MessageCreate", "text": text, "sender_id": sender["id"],
                 "dm_conversation_id": f"{min(sender['id'], ACCOUNT_ID)}-{max(sender['id'], ACCOUNT_ID)}",
                 "participant_ids": [sender["id"], ACCOUNT_ID], "created_at": stamp(moment)}
        with self.lock:
            self.dm_events.insert(0, event)
        return event

    # --- the server ------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):

            def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                limits = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                          "x-rate-limit-reset": str(int(time.time() + 900))}
                for key, value in {**limits, **(headers or {})}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _problem(self, status: int, headers: dict[str, str] | None = None, detail: str = "") -> None:
                title, default = PROBLEMS.get(status, ("Error", "Error"))
                self._answer(status, {"title": title, "detail": detail or default, "type": "about:blank",
                                      "status": status}, headers)

            def _record(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                entry = {"method": self.command, "path": parts.path, "query": dict(urllib.parse.parse_qsl(parts.query)),
                         "headers": dict(self.headers.items()), "json": json.loads(raw) if raw else None,
                         "at": time.time()}
                with fake.lock:
                    fake.requests.append(entry)
                return entry

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if header == f"Bearer {BEARER}":
                    return True
                if not header.startswith("OAuth "):
                    return False
                params = dict(signature.collect_parameters(headers={"Authorization": header}, exclude_oauth_signature=False))
                if params.get("oauth_consumer_key") != CONSUMER_KEY or params.get("oauth_token") != ACCESS_TOKEN:
                    return False
                query = urllib.parse.urlsplit(self.path).query
                signed = signature.collect_parameters(uri_query=query, headers={"Authorization": header})
                base = signature.signature_base_string(
                    self.command, signature.base_string_uri(f"http://{self.headers['Host']}{self.path}"),
                    signature.normalize_parameters(signed))
                key = f"{escape(CONSUMER_SECRET)}&{escape(ACCESS_TOKEN_SECRET)}".encode()
                expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
                return signature.safe_string_equals(expected, params.get("oauth_signature", ""))

            def _next_answer(self, key: str) -> Answer | None:
                with fake.lock:
                    queue = fake.answers.get(key) or []
                    return queue.pop(0) if queue else None

            def do_GET(self) -> None:  # noqa: N802
                entry = self._record()
                if not self._authorised():
                    return self._problem(401)
                path, query = entry["path"], entry["query"]
                if path == "/2/users/me":
                    return self._answer(200, {"data": dict(ACCOUNT)})
                if path == f"/2/users/{ACCOUNT_ID}/mentions":
                    answer = self._next_answer("mentions") or Answer(200)
                    if answer.status >= 400:
                        return self._problem(answer.status, answer.all_headers())
                    with fake.lock:
                        posts = list(fake.mentions)
                    since = int(query.get("since_id") or 0)
                    posts = [p for p in posts if int(p["id"]) > since]
                    if query.get("start_time"):
                        posts = [p for p in posts if p["created_at"] >= query["start_time"].replace("Z", ".000Z")]
                    return self._page(posts, query, "author_id", True, answer.all_headers())
                if path == "/2/tweets/search/recent":
                    answer = self._next_answer("search") or Answer(200)
                    if answer.status >= 400:
                        return self._problem(answer.status, answer.all_headers())
                    words = [w for w in query.get("query", "").split() if not w.startswith("-") and ":" not in w]
                    with fake.lock:
                        posts = [p for p in fake.public + fake.mentions if all(w.lower() in p["text"].lower() for w in words)]
                    posts.sort(key=lambda p: int(p["id"]), reverse=True)
                    since = int(query.get("since_id") or 0)
                    posts = [p for p in posts if int(p["id"]) > since]
                    if query.get("start_time"):
                        posts = [p for p in posts if p["created_at"] >= query["start_time"].replace("Z", ".000Z")]
                    if "next_token" in query:  # the search's name for the page token
                        query = {**query, "pagination_token": query["next_token"]}
                    return self._page(posts, query, "author_id", True, answer.all_headers())
                if path == "/2/dm_events" or path.startswith("/2/dm_conversations/with/"):
                    answer = (self._next_answer("dm_events") if path == "/2/dm_events" else None) or Answer(200)
                    if answer.status >= 400:
                        return self._problem(answer.status, answer.all_headers())
                    with fake.lock:
                        events = list(fake.dm_events)
                    if path.startswith("/2/dm_conversations/with/"):
                        other = path.split("/")[4]
                        events = [e for e in events if other in e["participant_ids"]]
                    return self._page(events, query, "sender_id", False, answer.all_headers())
                return self._problem(404)

            def _page(self, items: list[dict[str, Any]], query: dict[str, str], author_key: str, newest_oldest: bool,
                      headers: dict[str, str]) -> None:
                size = min(int(query.get("max_results") or 100), fake.page_size)
                start = int(query.get("pagination_token", "p0")[1:] or 0)
                page = items[start:start + size]
                meta: dict[str, Any] = {"result_count": len(page)}
                if page and newest_oldest:
                    meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
                if start + size < len(items):
                    meta["next_token"] = f"p{start + size}"
                if start:
                    meta["previous_token"] = f"p{max(0, start - size)}"
                body: dict[str, Any] = {"meta": meta}
                if page:
                    body["data"] = page
                    authors = dict.fromkeys(item[author_key] for item in page)
                    body["includes"] = {"users": [fake.users[a] for a in authors if a in fake.users]}
                self._answer(200, body, headers)

            def do_POST(self) -> None:  # noqa: N802
                entry = self._record()
                if not self._authorised():
                    return self._problem(401)
                path, sent = entry["path"], entry["json"] or {}
                if path == "/2/tweets":
                    answer = self._next_answer("tweets") or Answer(201)
                    with fake.lock:
                        if answer.status == 201 and any(p["text"] == sent.get("text") for p in fake.posted):
                            return self._problem(403, detail="You are not allowed to create a Tweet with duplicate content.")
                        post_id = new_id()
                        if answer.status == 201 or answer.deliver:
                            fake.posted.append({"id": post_id, **sent})
                    if answer.status != 201:
                        return self._problem(answer.status, answer.all_headers())
                    return self._answer(201, {"data": {"id": post_id, "text": sent.get("text", ""),
                                                       "edit_history_tweet_ids": [post_id]}})
                if path.startswith("/2/dm_conversations/with/") and path.endswith("/messages"):
                    other = path.split("/")[4]
                    answer = self._next_answer("dm_send") or Answer(201)
                    event_id = new_id()
                    conversation = f"{min(other, ACCOUNT_ID)}-{max(other, ACCOUNT_ID)}"
                    with fake.lock:
                        if answer.status == 201 or answer.deliver:
                            fake.sent_dms.append({"id": event_id, "to": other, **sent})
                            fake.dm_events.insert(0, {"id": event_id, "event_type": "MessageCreate",
                                                      "text": sent.get("text", ""), "sender_id": ACCOUNT_ID,
                                                      "dm_conversation_id": conversation,
                                                      "participant_ids": [other, ACCOUNT_ID], "created_at": stamp()})
                    if answer.status != 201:
                        return self._problem(answer.status, answer.all_headers())
                    return self._answer(201, {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}})
                return self._problem(404)

        return Handler

    def calls(self, path_prefix: str) -> list[dict[str, Any]]:
        with self.lock:
            return [entry for entry in self.requests if entry["path"].startswith(path_prefix)]
