"""Automatic messages do not act like an agent (issue 15 §7): the acknowledgement, the
after-hours answer and the contact form's receipt leave a new case 新規 and tick no step of
the seven; the first reply a person writes moves it to 対応中 and ticks 謝罪.

Mail comes in through the mail app's ingest entry point (as the SMTP receiver and the IMAP
poller hand it over), the worker's jobs run after the commit (Huey immediate mode), and what
the agent sees is read from the case page over the Django test client.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail as django_mail
from django.test import Client

from madoguchi.cases.models import Case, Interaction, InteractionKind, Status
from madoguchi.chat.tests.test_forms import contact
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import OutboundKind, OutboundMessage
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import UserFactory

JST = ZoneInfo("Asia/Tokyo")
SUNDAY_NIGHT = dt.datetime(2026, 11, 22, 22, 1, tzinfo=JST)  # the default calendar: closed
FRIDAY_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)  # open

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_calendar() -> Iterator[None]:
    from django.core.cache import cache

    from madoguchi.businesshours.calendar import forget

    forget()
    cache.clear()
    yield
    forget()


@pytest.fixture
def desk() -> Client:
    client = Client()
    client.force_login(UserFactory(username="suzuki", display_name="鈴木 一郎"))
    return client


def receive(raw: bytes, capture) -> Case:  # type: ignore[no-untyped-def]
    with capture(execute=True):  # the commit: the worker files the mail, then answers it
        row, _created = do_ingest_raw(raw, "smtp")
    row.refresh_from_db()
    assert row.case is not None
    return row.case


def status_and_apology(client: Client, case: Case) -> tuple[str, bool]:
    """The status label and whether step 2 (謝罪) is ticked, as the case page shows them."""
    page = client.get(f"/cases/{case.pk}/").content.decode()
    status = re.search(r'<span class="status s-[a-z_]+">([^<]+)</span>', page)
    step = re.search(r'<li class="([a-z]*)"[^>]*>\s*<span class="n">2</span>', page)
    assert status and step, page[:2000]
    return status.group(1), step.group(1) == "done"


def test_mail_at_night_gets_the_after_hours_answer_and_stays_new_until_a_person_answers(desk, django_capture_on_commit_callbacks):
    with time_machine.travel(SUNDAY_NIGHT, tick=False):
        case = receive(japanese_mail(subject="荷物が届かない", body="注文した急須がまだ届きません。"), django_capture_on_commit_callbacks)
        [answer] = Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND)
        assert answer.author_id is None and f"受付番号: #{case.pk}" in answer.body  # the acknowledgement at night
        assert [m.to for m in django_mail.outbox] == [["taro@example.jp"]]
        case.refresh_from_db()
        assert case.status == Status.NEW
        assert status_and_apology(desk, case) == ("新規", False)
        assert "お詫びがまだ記録されていません" in desk.get(f"/cases/{case.pk}/").content.decode()

    # Monday 9:00 (a holiday) passes; Tuesday an agent writes: now the case is being handled.
    with time_machine.travel(SUNDAY_NIGHT + dt.timedelta(days=2, hours=11), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            desk.post(f"/cases/{case.pk}/reply/", {"re-body": "ご不便をおかけし申し訳ございません。配送状況を確認いたします。"})
        assert status_and_apology(desk, case) == ("対応中", True)


def test_mail_in_business_hours_gets_the_acknowledgement_and_stays_new(desk, django_capture_on_commit_callbacks):
    with time_machine.travel(FRIDAY_NOON, tick=False):
        case = receive(japanese_mail(), django_capture_on_commit_callbacks)
        assert OutboundMessage.objects.get(case=case).kind == OutboundKind.ACK
        assert status_and_apology(desk, case) == ("新規", False)


def test_contact_form_receipt_leaves_the_case_new(client, desk):
    from django.core.cache import cache

    cache.clear()
    with time_machine.travel(FRIDAY_NOON, tick=True):
        assert contact(client).status_code == 200
        case = Case.objects.get()
        receipt = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND)
        assert receipt.author_id is None and case.number in receipt.body
        assert status_and_apology(desk, case) == ("新規", False)
