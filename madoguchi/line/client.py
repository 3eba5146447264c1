"""The Messaging API through the official SDK (line-bot-sdk v3), pointed at
`LINE_API_BASE` / `LINE_DATA_API_BASE` (a local fake server in the tests).

Every failure comes out as `LineApiError` with the HTTP status and the Retry-After LINE gave,
so the callers decide: retry (5xx, 429, no answer) or give up (other 4xx)."""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)

# LINE refuses a text message longer than this (characters).
MAX_TEXT = 5000


class LineApiError(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def temporary(self) -> bool:
        """Worth trying again: no answer at all, 429 (rate limit) or a server error."""
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Profile:
    display_name: str
    picture_url: str


def access_token(account_id: int | None) -> str:
    """The account's access token: the environment's for the first account (None)."""
    if account_id is None:
        return str(settings.LINE_CHANNEL_ACCESS_TOKEN)
    from madoguchi.line.models import LineAccount

    account = LineAccount.objects.filter(pk=account_id).first()
    return account.access_token if account is not None else ""


def _client(data: bool = False, account_id: int | None = None) -> ApiClient:
    host = settings.LINE_DATA_API_BASE if data else settings.LINE_API_BASE
    return ApiClient(Configuration(host=host, access_token=access_token(account_id)))


def _timeout() -> tuple[int, int]:
    return (5, settings.LINE_HTTP_TIMEOUT)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110: a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _error(error: Exception) -> LineApiError:
    if isinstance(error, ApiException):
        headers = dict(error.headers or {})
        retry = retry_after_seconds(next((v for k, v in headers.items() if k.lower() == "retry-after"), None))
        detail = error.body if isinstance(error.body, str) else (error.body or b"").decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("message", detail)
        except (ValueError, AttributeError):
            pass
        return LineApiError(error.status, f"HTTP {error.status}: {str(detail)[:300]}", retry)
    return LineApiError(None, f"{type(error).__name__}: {error}"[:300])


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, _request_timeout=_timeout(), **kwargs)
    except Exception as error:  # noqa: BLE001 - ApiException, urllib3's connection errors, timeouts
        raise _error(error) from error


def get_profile(user_id: str, account_id: int | None = None) -> Profile | None:
    """The user's display name and picture; None when LINE has no profile for us (404: not a
    friend of the account, or the user blocked it)."""
    with _client(account_id=account_id) as client:
        try:
            found = _call(MessagingApi(client).get_profile, user_id)
        except LineApiError as error:
            if error.status == 404:
                return None
            raise
    return Profile(display_name=found.display_name or "", picture_url=found.picture_url or "")


def get_content(message_id: str, account_id: int | None = None) -> tuple[bytes, str]:
    """The file of an image, video, audio or file message, and its content type."""
    with _client(data=True, account_id=account_id) as client:
        response = _call(MessagingApiBlob(client).get_message_content_with_http_info, message_id)
    headers = {k.lower(): v for k, v in dict(response.headers or {}).items()}
    return bytes(response.data or b""), headers.get("content-type", "application/octet-stream")


def text_message(text: str, quick_replies: list[str] | None = None) -> TextMessage:
    """A text message; with quick-reply buttons, each sending its label as the user's message."""
    if not quick_replies:
        return TextMessage(text=text)
    items = [QuickReplyItem(action=MessageAction(label=label, text=label)) for label in quick_replies]
    return TextMessage(text=text, quick_reply=QuickReply(items=items))


def reply(reply_token: str, text: str, quick_replies: list[str] | None = None, account_id: int | None = None) -> None:
    with _client(account_id=account_id) as client:
        _call(MessagingApi(client).reply_message,
              ReplyMessageRequest(reply_token=reply_token, messages=[text_message(text, quick_replies)]))


def push(to: str, text: str, retry_key: str, quick_replies: list[str] | None = None,
         account_id: int | None = None) -> None:
    """A push with X-Line-Retry-Key: LINE accepts a key once, and answers 409 to the same key
    again (the message was already accepted), so a retry never delivers twice."""
    with _client(account_id=account_id) as client:
        _call(MessagingApi(client).push_message,
              PushMessageRequest(to=to, messages=[text_message(text, quick_replies)]), x_line_retry_key=retry_key)


@dataclass(frozen=True)
class Quota:
    limited: bool
    limit: int | None
    used: int


def get_quota(account_id: int | None = None) -> Quota:
    """The month's message quota and what was used of it (GET /v2/bot/message/quota and
    /v2/bot/message/quota/consumption)."""
    with _client(account_id=account_id) as client:
        api = MessagingApi(client)
        quota = _call(api.get_message_quota)
        used = _call(api.get_message_quota_consumption)
    limited = quota.type == "limited"
    return Quota(limited=limited, limit=quota.value if limited else None, used=int(used.total_usage or 0))
