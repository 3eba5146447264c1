"""Through the process users run: `madoguchi serve` with its embedded worker. A case created
over the API with a token reaches a local webhook receiver, signed, from the worker's queue;
the receiver's first answer is a 500, so the delivery also shows the retry in the real queue."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import deque
from pathlib import Path

import pytest

from madoguchi.api.tests.receiver import Receiver
from madoguchi.testing.desk_process import MailSink, ServedDesk

SETUP = """
from madoguchi.accounts.models import Role, User
from madoguchi.api import tokens, webhooks
from madoguchi.api.models import WebhookEndpoint
user = User.objects.create_user("renkei", password="x" * 20, role=Role.AGENT, display_name="連携 担当")
_row, token = tokens.do_create_token(user, name="受注システム", scope="write", resources=["cases"])
secret = webhooks.new_secret()
WebhookEndpoint.objects.create(url="{url}", events=["case.created"], secret_encrypted=webhooks.seal(secret))
print(token + " " + secret)
"""
STATE = "from madoguchi.api.models import WebhookDelivery as D\nprint([(d.state, d.attempts) for d in D.objects.all()])"


@pytest.mark.own_database
def test_a_case_created_over_the_api_reaches_the_receiver_from_the_embedded_worker(tmp_path: Path) -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the process layout is the same on both databases")
    with MailSink() as sink, Receiver(answers=deque([500])) as receiver:
        desk = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port,
                                 MADOGUCHI_MAIL_ACK="false", MADOGUCHI_WEBHOOK_RETRY_SECONDS="1")
        token, secret = desk.shell(SETUP.replace("{url}", receiver.url)).split()
        desk.start()
        try:
            body = json.dumps({"subject": "ギフト包装がされていません", "complaint": "のし付きで注文したのに包装なしで届きました。",
                               "category": "delivery", "channel": "form",
                               "customer": {"name": "加藤 恵子", "email": "kato@example.jp"}}).encode()
            request = urllib.request.Request(desk.url + "/api/v1/cases", data=body, method="POST", headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 201
                case = json.loads(response.read())
            deadline = time.monotonic() + 90
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.3)
            assert len(receiver.received) == 2, f"the receiver got {len(receiver.received)} requests; see {desk.log_path}"
            assert all(hit.signed_with(secret) for hit in receiver.received)
            assert receiver.received[1].payload["data"]["case"]["id"] == case["id"]
            assert receiver.received[0].headers["X-Madoguchi-Delivery"] == receiver.received[1].headers["X-Madoguchi-Delivery"]
            deadline = time.monotonic() + 30
            while desk.shell(STATE) != "[('delivered', 2)]" and time.monotonic() < deadline:
                time.sleep(0.5)
            assert desk.shell(STATE) == "[('delivered', 2)]"
        finally:
            desk.stop()
