"""Reply templates render their variables safely; hints are gentle and never block."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Team
from madoguchi.cases.models import Commitment
from madoguchi.knowledge.models import ReplyTemplate, Rule, TemplateKind
from madoguchi.knowledge.replies import (
    default_frame,
    render_template,
    reply_hints,
    templates_for,
    variables_for,
)
from madoguchi.testing.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_template_fills_customer_order_tracking_and_agent(make_case: Any, agent: Any) -> None:
    customer = CustomerFactory(name="山田 太郎")
    order = OrderFactory(customer=customer, number="ORD-2026-000777", tracking_number="123456789012")
    case = make_case(customer=customer, order=order)
    text = render_template(
        "{{ customer.name }}様\n注文番号：{{ order.number }}\n{{ order.tracking_url }}\n担当：{{ agent.name }}",
        variables_for(case, agent),
    )
    assert text == (
        "山田 太郎様\n注文番号：ORD-2026-000777\n"
        "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01=123456789012\n担当：佐藤 花子"
    )


def test_values_are_escaped_for_html_and_never_expanded_again(make_case: Any, agent: Any) -> None:
    case = make_case(customer=CustomerFactory(name="<script>alert(1)</script>{{ agent.name }}"))
    values = variables_for(case, agent)
    html = render_template("{{ customer.name }}様", values, html=True)
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;{{ agent.name }}様"
    text = render_template("{{ customer.name }}様", values)
    assert "佐藤" not in text  # the customer's own braces are left as typed


def test_only_variables_no_tags_and_unknown_names_stay_visible(make_case: Any, agent: Any) -> None:
    values = variables_for(make_case(), agent)
    assert render_template("{% load static %}{{ settings.SECRET_KEY }}{{ user.password }}", values) == (
        "{% load static %}{{ settings.SECRET_KEY }}{{ user.password }}"
    )


def test_user_sees_shared_team_and_own_templates_only(db: Any) -> None:
    team, other = Team.objects.create(name="配送チーム"), Team.objects.create(name="請求チーム")
    me = UserFactory(username="me", team=team)
    someone = UserFactory(username="someone", team=other)
    mine = ReplyTemplate.objects.create(name="私の定型文", body="x", owner=me)
    ours = ReplyTemplate.objects.create(name="チームの定型文", body="x", team=team)
    ReplyTemplate.objects.create(name="他チーム", body="x", team=other)
    ReplyTemplate.objects.create(name="他人の", body="x", owner=someone)
    names = {t.name for t in templates_for(me)}
    assert {mine.name, ours.name, "書き出し（標準）", "配送状況のご案内"} <= names
    assert "他チーム" not in names and "他人の" not in names


def test_personal_greeting_wins_over_the_shared_one(db: Any) -> None:
    me = UserFactory(username="greeter")
    ReplyTemplate.objects.create(name="私の挨拶", kind=TemplateKind.GREETING, body="いつもありがとうございます。", owner=me)
    greeting, closing = default_frame(templates_for(me))
    assert greeting.name == "私の挨拶"
    assert closing.name == "結び（標準）"


def test_decline_template_cites_its_rule(make_case: Any, agent: Any) -> None:
    template = ReplyTemplate.objects.get(name="お断り（返品期限を過ぎている）")
    rule = Rule.objects.get(code="returns")
    assert template.rule == rule
    text = render_template(template.body, variables_for(make_case(), agent, rule))
    assert "「返品・交換の基準」" in text
    assert "/faq/policy/#rule-returns" in text


def test_hint_when_reply_has_no_greeting(make_case: Any) -> None:
    case = make_case()
    assert "書き出しの挨拶がありません" in " ".join(reply_hints(case, "配送状況を確認します。"))
    assert not any("挨拶" in h for h in reply_hints(case, "山田様\n\nお世話になっております。確認します。"))


def test_hint_when_solution_comes_before_any_question(make_case: Any) -> None:
    case = make_case()
    hints = reply_hints(case, "お世話になっております。全額を返金いたします。")
    assert any("質問をしないまま" in h for h in hints)
    asked = reply_hints(case, "お世話になっております。状態を教えていただけますか？交換いたします。")
    assert not any("質問" in h for h in asked)


def test_hint_for_open_and_overdue_promises(make_case: Any, agent: Any) -> None:
    case = make_case()
    Commitment.objects.create(case=case, description="物流部に確認して折り返す", due_at=timezone.now() - dt.timedelta(hours=1))
    Commitment.objects.create(case=case, description="交換品を発送する", due_at=timezone.now() + dt.timedelta(days=1))
    hints = " ".join(reply_hints(case, "お世話になっております。"))
    assert "期限" in hints and "過ぎた約束" in hints and "物流部に確認して折り返す" in hints
    assert "まだ果たしていない約束" in hints and "交換品を発送する" in hints


def test_hints_endpoint_answers_json_and_the_reply_still_sends(client: Any, agent: Any, make_case: Any) -> None:
    case = make_case()
    client.force_login(agent)
    response = client.post(f"/knowledge/cases/{case.pk}/hints/", {"body": "確認します。"})
    assert response.status_code == 200
    assert response.json()["hints"]
    sent = client.post(f"/cases/{case.pk}/reply/", {"re-body": "確認します。"})
    assert sent.status_code == 302  # hints never block sending


def test_case_page_offers_templates_with_greeting_and_closing(client: Any, agent: Any, make_case: Any) -> None:
    case = make_case(customer=CustomerFactory(name="中村 由美"))
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()  # the picker is in the page
    data = json.loads(re.search(r'id="kb-reply-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert data["greeting"].startswith("中村 由美様") and "今後ともよろしくお願いいたします" in data["closing"]
    assert "配送状況のご案内" in [t["name"] for t in data["templates"]]


def test_agent_creates_a_personal_template_but_not_a_shared_one(client: Any, agent: Any) -> None:
    client.force_login(agent)
    base = {"name": "私の定型文", "kind": "body", "body": "{{ customer.name }}様、確認いたします。", "rule": "", "position": 0}
    assert client.post("/knowledge/templates/new/", {**base, "scope": "personal"}).status_code == 302
    assert ReplyTemplate.objects.get(name="私の定型文").owner == agent
    refused = client.post("/knowledge/templates/new/", {**base, "name": "全員用", "scope": "shared"})
    assert refused.status_code == 400 and "権限がありません" in refused.content.decode()
    decline = client.post("/knowledge/templates/new/", {**base, "name": "断り", "kind": "decline", "scope": "personal"})
    assert "引用する顧客対応ルールを選んでください" in decline.content.decode()
    assert client.get("/knowledge/templates/").status_code == 200
