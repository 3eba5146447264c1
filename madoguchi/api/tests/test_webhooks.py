"""Outbound webhooks against a local receiver: registered on the admins' page, signed with the
endpoint's secret, retried after a 500, given up after the set number of attempts and shown to
the admin with each attempt's answer; nothing of it runs inside the desk's transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.api import webhooks
from madoguchi.api.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from madoguchi.api.tests.conftest import Staff, caller_for
from madoguchi.api.tests.receiver import Receiver
from madoguchi.cases import services
from madoguchi.cases.models import CompensationKind, InteractionKind, Status
from madoguchi.testing.factories import PASSWORD, CaseFactory, CommitmentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["case.created", "case.status_changed", "message.added", "promise.overdue", "compensation.decided"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def register(staff: Staff, url: str, events: list[str]) -> str:
    """Register an endpoint as an admin does, on the page; returns the secret the page shows once."""
    client = Client()
    assert client.login(username=staff.admin.username, password=PASSWORD)
    response = client.post("/settings/webhooks/", {"url": url, "events": events, "active": "on"})
    assert response.status_code == 200, response.content.decode()[:2000]
    found = re.search(r'data-testid="webhook-secret">(whsec_[A-Za-z0-9_-]+)<', response.content.decode())
    assert found, "the secret is shown once, on registering"
    return found.group(1)


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_a_500_is_retried_and_the_delivery_arrives_once_signed(staff: Staff, receiver: Receiver,
                                                               django_capture_on_commit_callbacks: Any) -> None:
    secret = register(staff, receiver.url, ["case.created"])
    assert WebhookEndpoint.objects.get().secret_encrypted and secret not in WebhookEndpoint.objects.get().secret_encrypted
    receiver.answers = deque([500])
    call = caller_for(staff.agent)
    with django_capture_on_commit_callbacks(execute=True):
        created = call("POST", "/cases", {"subject": "届いた商品が違います", "complaint": "青を頼んだのに赤が届きました。",
                                          "category": "delivery", "customer": {"name": "山田 太郎", "email": "yamada@example.jp"}})
    assert created.status_code == 201
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert len(receiver.received) == 1
    assert webhooks.attempt(delivery.pk) is None  # not due yet: the backoff holds it
    assert webhooks.attempt(delivery.pk, now=later(31)) is None  # due: sent, 200, done
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 2
    assert webhooks.attempt(delivery.pk, now=later(3600)) is None  # delivered once, never again
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert all(hit.signed_with(secret) for hit in receiver.received)
    assert not first.signed_with(secret + "x")
    assert first.headers["X-Madoguchi-Delivery"] == second.headers["X-Madoguchi-Delivery"] == delivery.delivery_id
    assert second.payload["event"] == "case.created"
    assert second.payload["data"]["case"]["id"] == created.json()["id"]
    assert second.payload["data"]["case"]["subject"] == "届いた商品が違います"
    assert second.payload["data"]["actor_id"] == staff.agent.pk
    assert [(a.number, a.status_code) for a in WebhookAttempt.objects.order_by("number")] == [(1, 500), (2, 200)]
    assert len(WebhookAttempt.objects.get(number=1).response) <= webhooks.RESPONSE_KEPT


def test_always_500_is_given_up_after_the_set_attempts_and_shown_to_the_admin(
        staff: Staff, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    register(staff, receiver.url, ["message.added"])
    receiver.always = 500
    case = CaseFactory(status=Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_add_interaction(case, actor=staff.agent, kind=InteractionKind.NOTE, channel=case.channel,
                                    body="倉庫に在庫を確認しています。")
    delivery = WebhookDelivery.objects.get()
    waits = [webhooks.attempt(delivery.pk, now=later(seconds)) for seconds in (31, 31 + 61)]
    assert waits == [dt.timedelta(seconds=60), None]  # 30 s after the 1st, 60 s after the 2nd, the 3rd is the last
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.GAVE_UP and delivery.attempts == 3 and len(receiver.received) == 3
    assert webhooks.attempt(delivery.pk, now=later(100000)) is None and len(receiver.received) == 3
    admin = Client()
    admin.login(username=staff.admin.username, password=PASSWORD)
    page = admin.get("/settings/webhooks/").content.decode()
    assert f'data-delivery="{delivery.delivery_id}" data-state="gave_up"' in page
    assert page.count("<strong>500</strong>") == 3 and "内部エラー" in page and "送信をあきらめた" in page
    agent = Client()
    agent.login(username=staff.agent.username, password=PASSWORD)
    assert agent.get("/settings/webhooks/").status_code == 403


def test_a_4xx_is_not_retried_and_an_unreachable_receiver_is(staff: Staff, receiver: Receiver,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    register(staff, receiver.url, ["case.status_changed"])
    receiver.answers = deque([410])
    case = CaseFactory(status=Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_update_case(case, actor=staff.agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.GAVE_UP and delivery.attempts == 1
    assert receiver.received[0].payload["data"]["old_status"] == "open"
    assert receiver.received[0].payload["data"]["new_status"] == "resolved"
    WebhookEndpoint.objects.update(url="http://127.0.0.1:9/closed")  # nothing listens on the discard port
    with django_capture_on_commit_callbacks(execute=True):
        services.do_update_case(case, actor=staff.agent, expected_version=case.version + 1, changes={"status": Status.OPEN})
    refused = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert refused.state == DeliveryState.PENDING and refused.next_attempt_at is not None
    assert WebhookAttempt.objects.get(delivery=refused).error


def test_every_event_reaches_an_endpoint_that_wants_it(staff: Staff, receiver: Receiver,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    secret = register(staff, receiver.url, ALL_EVENTS)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.do_create_case(actor=staff.agent, customer=CustomerFactory(), subject="返金のお願い",
                                       channel="phone", category=CaseFactory.build().category, complaint="返品したので返金してください。",
                                       assignee=staff.agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_send_reply(case, actor=staff.agent, body="確認のうえご連絡いたします。")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_update_case(case, actor=staff.agent, expected_version=case.version, changes={"status": Status.WAITING_DEPT})
    with django_capture_on_commit_callbacks(execute=True):
        requested = services.do_request_compensation(case, actor=staff.agent, kind=CompensationKind.REFUND,
                                                     amount_yen=9000, reason="商品代金の返金")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_decide_compensation(requested, actor=staff.lead, approve=True)
    promise = CommitmentFactory(case=case, owner=staff.agent)
    promise.__class__.objects.filter(pk=promise.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_overdue_commitments()
    events = [hit.payload["event"] for hit in receiver.received]
    assert sorted(set(events)) == sorted(ALL_EVENTS)
    assert events.count("compensation.decided") == 1  # the request waited; only the lead's approval decided it
    decided = next(hit for hit in receiver.received if hit.payload["event"] == "compensation.decided")
    assert decided.payload["data"]["compensation"]["state"] == "granted"
    assert decided.payload["data"]["actor_id"] == staff.lead.pk
    overdue = next(hit for hit in receiver.received if hit.payload["event"] == "promise.overdue")
    assert overdue.payload["data"]["promise"]["id"] == promise.pk
    assert all(hit.signed_with(secret) for hit in receiver.received)
    assert WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).count() == 0


def test_the_desk_transaction_touches_no_webhook_table(staff: Staff, receiver: Receiver,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    register(staff, receiver.url, ALL_EVENTS)
    webhooks.wanted_events()  # the endpoint list as a running process has it
    case = CaseFactory(status=Status.OPEN)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
        services.do_add_interaction(case, actor=staff.agent, kind=InteractionKind.NOTE, channel=case.channel, body="メモ")
    assert not [q for q in queries.captured_queries if "api_" in q["sql"]]
    assert receiver.received == []  # nothing sent before the commit
    for callback in callbacks:
        callback()
    assert [hit.payload["event"] for hit in receiver.received] == ["message.added"]


def test_no_endpoint_no_task(staff: Staff, django_capture_on_commit_callbacks: Any, monkeypatch: Any) -> None:
    queued: list[Any] = []
    from madoguchi.api import tasks

    monkeypatch.setattr(tasks, "fan_out_task", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        CaseFactory()
        services.do_create_case(actor=staff.agent, customer=CustomerFactory(), subject="件名", channel="phone",
                                category=CaseFactory.build().category, complaint="本文")
    assert queued == [] and WebhookDelivery.objects.count() == 0


def test_a_lost_delivery_is_sent_by_the_sweep(staff: Staff, receiver: Receiver) -> None:
    register(staff, receiver.url, ["case.created"])
    case = CaseFactory()
    pks = webhooks.fan_out([("case.created", case.pk, "{}", timezone.now().isoformat())])  # its task never ran
    WebhookDelivery.objects.filter(pk__in=pks).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    from madoguchi.api.tasks import webhook_sweep_job

    assert webhook_sweep_job.call_local() == 1
    assert WebhookDelivery.objects.get().state == DeliveryState.DELIVERED and len(receiver.received) == 1
