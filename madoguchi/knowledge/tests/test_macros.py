"""Macros (issue 22, item 6): a reply template that also sets status, category, assignee and a
promise due in N business hours, applied in one click with the reply it wrote."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
import time_machine

from madoguchi.accounts.models import Role
from madoguchi.businesshours.calendar import forget
from madoguchi.businesshours.models import CalendarOptions, WeeklyHours
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    Category,
    Commitment,
    Interaction,
    InteractionKind,
    Status,
)
from madoguchi.knowledge.models import ReplyTemplate
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
JST = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def weekdays_9_to_18():
    WeeklyHours.objects.all().delete()
    for weekday in range(5):
        WeeklyHours.objects.create(weekday=weekday, opens=dt.time(9), closes=dt.time(18))
    CalendarOptions.objects.update_or_create(pk=1, defaults={"closed_on_public_holidays": False})
    forget()
    yield
    forget()


@pytest.fixture
def desk():
    team = TeamFactory(name="サポート1課")
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    other = UserFactory(username="suzuki", display_name="鈴木 一郎", team=team, role=Role.LEAD)
    case = CaseFactory(assignee=None, team=team, status=Status.NEW, channel="phone", subject="割れたマグカップ")
    macro = ReplyTemplate.objects.create(
        name="物流部に確認します", body="{{ customer.name }}様\n物流部に確認のうえ、ご連絡いたします。",
        set_status=Status.WAITING_DEPT, set_category=Category.objects.get(code="defect"), assign_to_sender=True,
        promise="物流部に確認し、結果をお電話でご連絡する", promise_business_hours=2,
    )
    return case, agent, other, macro


def seen_on(page: str) -> str:
    return re.search(r'name="re-seen" value="(\d+)"', page).group(1)  # type: ignore[union-attr]


def test_sending_a_reply_from_a_macro_sets_the_fields_and_a_promise_in_business_hours(client, desk, weekdays_9_to_18):
    case, agent, _other, macro = desk
    client.force_login(agent)
    with time_machine.travel(dt.datetime(2026, 11, 27, 17, 0, tzinfo=JST), tick=False):  # a Friday, one hour before closing
        page = client.get(f"/cases/{case.pk}/").content.decode()
        data = json.loads(re.search(r'<script id="kb-reply-data" type="application/json">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
        shown = next(t for t in data["templates"] if t["id"] == macro.pk)
        assert "状態: 他部署の回答待ち" in shown["macro"] and "担当者を自分にする" in shown["macro"]
        response = client.post(f"/cases/{case.pk}/reply/", {"re-body": shown["text"], "re-seen": seen_on(page), "re-macro": macro.pk},
                               follow=True)
    assert "テンプレートの設定も反映しました" in response.content.decode()
    case.refresh_from_db()
    assert case.assignee == agent and case.status == Status.WAITING_DEPT and case.category.code == "defect"
    promise = Commitment.objects.get(case=case)
    assert promise.description == "物流部に確認し、結果をお電話でご連絡する" and promise.owner == agent
    assert promise.due_at.astimezone(JST) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=JST)  # 1 h on Friday, 1 h on Monday
    actions = set(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {"assigned", "updated", "commitment_added"} <= actions  # the first reply made it theirs already
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).count() == 1


def test_a_macro_naming_a_colleague_gives_them_the_case(desk, weekdays_9_to_18):
    from madoguchi.knowledge.macros import do_apply_macro

    case, agent, other, macro = desk
    macro.assign_to_sender, macro.set_assignee, macro.promise, macro.promise_business_hours = False, other, "", None
    macro.set_status = Status.RESOLVED
    macro.save()
    assert do_apply_macro(case, macro, actor=agent)
    case.refresh_from_db()
    assert case.assignee == other and case.status == Status.RESOLVED and case.resolved_at is not None


def test_a_template_the_agent_may_not_use_sends_nothing(client, desk):
    case, agent, other, macro = desk
    macro.owner = other  # the lead's personal template
    macro.save()
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(f"/cases/{case.pk}/reply/", {"re-body": "確認いたします。", "re-seen": seen_on(page), "re-macro": macro.pk})
    assert response.status_code == 400 and "選んだテンプレートが見つかりません" in response.content.decode()
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).exists()  # the reply was undone too
    assert Case.objects.get(pk=case.pk).status == Status.NEW


def test_the_template_editor_checks_a_macros_promise(client, desk):
    _case, agent, _other, _macro = desk
    client.force_login(agent)
    response = client.post("/knowledge/templates/new/", {
        "name": "確認します", "kind": "body", "body": "確認いたします。", "position": 0, "scope": "personal",
        "promise": "折り返しお電話する", "promise_business_hours": "",
    })
    assert response.status_code == 400 and "両方を入力してください" in response.content.decode()
    ok = client.post("/knowledge/templates/new/", {
        "name": "確認します", "kind": "body", "body": "確認いたします。", "position": 0, "scope": "personal",
        "set_status": "waiting_customer", "promise": "折り返しお電話する", "promise_business_hours": "4",
    })
    assert ok.status_code == 302
    saved = ReplyTemplate.objects.get(name="確認します")
    assert saved.set_status == "waiting_customer" and saved.promise_business_hours == 4


def test_a_held_reply_keeps_the_macro_for_それでも送信(client, desk, weekdays_9_to_18):
    from madoguchi.cases import services

    case, agent, other, macro = desk
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    services.do_send_reply(case, actor=other, body="鈴木です。確認いたします。")  # meanwhile
    held = client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。", "re-seen": seen_on(page), "re-macro": macro.pk})
    text = held.content.decode()
    assert held.status_code == 409
    assert re.search(rf'<input type="hidden" name="re-macro" value="{macro.pk}" id="kb-macro">', text)
    assert Case.objects.get(pk=case.pk).status != Status.WAITING_DEPT  # nothing applied while held
    again = client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。", "re-seen": seen_on(text), "re-confirm": "on", "re-macro": macro.pk})
    assert again.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Status.WAITING_DEPT
