"""A customer's LINE data (raw events, the LINE user, attachments, replies) in the personal-data
export and erasure, like X's: received through the real webhook from a fake Messaging API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from madoguchi.cases.models import Case
from madoguchi.cases.services import do_send_reply
from madoguchi.line.models import LineAttachment, LineOutbound, LineRawEvent, LineUser
from madoguchi.privacy.services import ERASED, do_erase_customer, export_customer
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body

USER = "U0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the broken cup"
pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings: Any, shop_open: None) -> Any:
    with FakeLine() as server:
        server.profiles[USER] = {"displayName": "山田 花子", "pictureUrl": "https://profile.line-scdn.net/hanako"}
        server.contents["photo1"] = (PHOTO, "image/jpeg")
        settings.LINE_CHANNEL_SECRET = SECRET
        settings.LINE_CHANNEL_ACCESS_TOKEN = TOKEN
        settings.LINE_API_BASE = server.url
        settings.LINE_DATA_API_BASE = server.url
        yield server


def deliver(client: Any, capture: Any, *events: dict[str, Any]) -> None:
    body = webhook_body(*events)
    with capture(execute=True):
        response = client.post("/line/webhook/", data=body, content_type="application/json",
                               HTTP_X_LINE_SIGNATURE=sign(body))
    assert response.status_code == 200, response.content


@pytest.fixture
def line_case(client, fake, django_capture_on_commit_callbacks):
    ms = int(time.time() * 1000)
    deliver(client, django_capture_on_commit_callbacks,
            event("message", USER, "EV1", ms - 3000,
                  message={"type": "text", "id": "m1", "text": "山田花子です。090-3333-4444 に電話ください", "quoteToken": "q"}),
            event("message", USER, "EV2", ms - 2000, message={"type": "image", "id": "photo1", "contentProvider": {"type": "line"}}),
            event("follow", USER, "EV3", ms - 1000, follow={"isUnblocked": False}))
    case = Case.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(case, actor=UserFactory(), body="山田様、お電話番号を承りました。")
    return case


def test_a_customers_line_data_is_exported(line_case):
    exported = export_customer(line_case.customer)
    assert exported["line_users"][0]["user_id"] == USER
    assert exported["line_users"][0]["display_name"] == "山田 花子"
    received = {e["webhook_event_id"]: e for e in exported["line_received"]}
    assert set(received) == {"EV1", "EV2", "EV3"}  # the follow event too, though it is on no case
    assert "090-3333-4444" in received["EV1"]["raw"]
    assert "reply_token" not in received["EV1"]  # a credential, not the person's data
    (case,) = exported["cases"]
    assert case["line_replies"][0]["body"] == "山田様、お電話番号を承りました。"
    attachment = LineAttachment.objects.get()
    assert {"source": "line", "name": attachment.filename, "content_type": "image/jpeg", "size": len(PHOTO),
            "file": attachment.file.name} in case["attachments"]
    json.dumps(exported)  # JSON-ready


def test_a_customers_line_data_is_erased_and_the_photo_deleted(line_case, django_capture_on_commit_callbacks):
    path = Path(LineAttachment.objects.get().file.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = do_erase_customer(line_case.customer)
    assert done["line_received"] == 3
    assert set(LineRawEvent.objects.values_list("raw", flat=True)) == {"{}"}
    assert set(LineRawEvent.objects.values_list("reply_token", flat=True)) == {""}
    assert not LineUser.objects.exists()
    assert not LineAttachment.objects.exists() and not path.exists()
    assert LineOutbound.objects.get().body == ERASED
    assert done["attachments"] == 1
