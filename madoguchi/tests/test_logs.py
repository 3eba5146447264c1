"""Log lines (issue 21): personal data masked, a request id on each line, JSON lines on demand."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import tempfile

import pytest
from django.urls import reverse

from madoguchi.logs import JsonFormatter, PersonalDataFilter, RequestIdFilter, mask


@pytest.mark.parametrize(("text", "shown"), [
    ("from hanako.yamada+shop@example.co.jp", "from ***@example.co.jp"),
    ("tel 090-1234-5678.", "tel [電話番号]."),
    ("tel 09012345678", "tel [電話番号]"),
    ("tel 03-1234-5678", "tel [電話番号]"),
    ("tel +81 90 1234 5678", "tel [電話番号]"),
    ("tel (03) 1234-5678", "tel ([電話番号]"),
])
def test_emails_and_phone_numbers_are_masked(text, shown):
    assert mask(text) == shown


@pytest.mark.parametrize("text", [
    "order ORD-2026-001234", "case #1042", "on 2026-12-06 10:00", "12,800 yen", "tracking 1234-5678-9012",
    "id 550e8400-e29b-41d4-a716-446655440000",
])
def test_what_is_not_personal_is_left(text):
    assert mask(text) == text


def handler_to(stream: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonFormatter())
    return handler


@pytest.mark.django_db
def test_a_request_s_log_lines_carry_its_id_and_no_address(client):
    stream = io.StringIO()
    handler = handler_to(stream)
    logging.getLogger().addHandler(handler)
    try:
        response = client.post(reverse("login"), {"username": "yamada@example.jp", "password": "x" * 12},
                               HTTP_X_REQUEST_ID="req-8f2c")
    finally:
        logging.getLogger().removeHandler(handler)
    assert response["X-Request-ID"] == "req-8f2c"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [line for line in lines if "login failed" in line["message"]]
    assert failed and failed[0]["request_id"] == "req-8f2c" and failed[0]["level"] == "WARNING"
    assert "yamada@" not in stream.getvalue() and "***@example.jp" in failed[0]["message"]
    assert client.get(reverse("login"))["X-Request-ID"] != "req-8f2c"  # a new id for each request


def test_madoguchi_writes_json_lines_when_asked():
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "MADOGUCHI_DATA_DIR": data_dir, "MADOGUCHI_LOG_FORMAT": "json"}
        code = "import logging; logging.getLogger('madoguchi.mail').warning('bounce from %s (%s)', 'taro@example.jp', '080-1111-2222')"
        done = subprocess.run([sys.executable, "-m", "madoguchi.cli", "shell", "-c", code], env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "bounce from ***@example.jp ([電話番号])"
    assert line["logger"] == "madoguchi.mail" and line["request_id"] == "-" and line["time"].endswith("+00:00")
