"""What Madoguchi's log lines carry (settings.LOGGING): no personal data, a request id, and one
JSON object per line when MADOGUCHI_LOG_FORMAT=json.

- `PersonalDataFilter` masks email addresses (the part before @) and phone numbers in every
  record's message, its arguments included, and in a traceback's text: a log is read by people
  and systems that have no business with customers' addresses (APPI).
- `RequestIdMiddleware` gives each request an id (the proxy's `X-Request-ID` when it is a sane
  token, else a new one), returns it in the response's `X-Request-ID`, and `RequestIdFilter` puts
  it on every record written while the request is served (`-` outside one).
- `JsonFormatter`: time (UTC, ISO 8601), level, logger, message, request_id, and the traceback.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("madoguchi_request_id", default="-")

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@((?:[\w-]{1,63}\.)+[\w-]{2,63})", re.UNICODE)
# A run of digits with dashes, spaces or dots that may be a phone number; judged by its digits.
PHONE = re.compile(r"(?<![\w\-])(\+?\d[\d\-\s.()]{7,16}\d)(?![\w\-])")
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _phone(match: re.Match[str]) -> str:
    text = match.group(1)
    digits = re.sub(r"\D", "", text)
    domestic = digits.startswith("0") and 10 <= len(digits) <= 11
    international = text.startswith("+") and 10 <= len(digits) <= 15
    return "[電話番号]" if domestic or international else text


def mask(text: str) -> str:
    """An email address keeps only its domain; a phone number (0… of 10-11 digits, or +…) goes."""
    if "@" in text:
        text = EMAIL.sub(lambda m: f"***@{m.group(1)}", text)
    return PHONE.sub(_phone, text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is
            message = str(record.msg)
        record.msg, record.args = mask(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        token = _request_id.set(given if SANE_ID.match(given) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = _request_id.get()
            return response
        finally:
            _request_id.reset(token)


def logging_config(level: str, json_lines: bool) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "personal_data": {"()": "madoguchi.logs.PersonalDataFilter"},
            "request_id": {"()": "madoguchi.logs.RequestIdFilter"},
        },
        "formatters": {
            "json": {"()": "madoguchi.logs.JsonFormatter"},
            "text": {"format": "%(message)s"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id", "personal_data"],
                                 "formatter": "json" if json_lines else "text"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"huey": {"level": "WARNING"}},
    }
