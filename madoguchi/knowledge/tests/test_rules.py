"""Handling rules: versions with effective dates, the one in force at the case's date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.knowledge import services
from madoguchi.knowledge.models import Rule
from madoguchi.knowledge.tests.conftest import jst
from madoguchi.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def returns_rule(lead: Any) -> Rule:
    rule = Rule.objects.get(code="returns")  # 2026-01-01 version installed by migration
    services.do_add_rule_version(rule, actor=lead, effective_from=dt.date(2026, 4, 1), body="返品は到着後14日以内に延長します。")
    return rule


def test_version_in_force_is_the_latest_not_after_the_date(returns_rule: Rule) -> None:
    assert services.version_in_force(returns_rule, dt.date(2025, 12, 31)) is None
    assert services.version_in_force(returns_rule, dt.date(2026, 3, 31)).effective_from == dt.date(2026, 1, 1)
    assert services.version_in_force(returns_rule, dt.date(2026, 4, 1)).effective_from == dt.date(2026, 4, 1)


def test_case_shows_the_rule_in_force_when_it_was_received(returns_rule: Rule, make_case: Any) -> None:
    march = make_case("サイズ違い", "返品したい", category="description", received_at=jst(2026, 3, 31, 23, 30))
    april = make_case("サイズ違い", "返品したい", category="description", received_at=jst(2026, 4, 1, 0, 30))
    in_march = {v.rule.code: v for v in services.rules_for_case(march)}
    in_april = {v.rule.code: v for v in services.rules_for_case(april)}
    assert in_march["returns"].effective_from == dt.date(2026, 1, 1)
    assert in_april["returns"].effective_from == dt.date(2026, 4, 1)
    assert "delivery" not in in_march  # other categories' rules are not shown
    assert "abusive" in in_march  # rules for every category are


def test_two_versions_on_the_same_day_are_refused(returns_rule: Rule, lead: Any) -> None:
    with pytest.raises(services.KnowledgeError):
        services.do_add_rule_version(returns_rule, actor=lead, effective_from=dt.date(2026, 4, 1), body="x")


def test_an_agent_cannot_change_a_handling_rule(client: Any, agent: Any) -> None:
    """The public policy page shows these rules: only a lead or an admin changes them."""
    rule = Rule.objects.get(code="returns")
    with pytest.raises(services.KnowledgeError, match="リーダーと管理者だけ"):
        services.do_add_rule_version(rule, actor=agent, effective_from=dt.date(2026, 5, 1), body="返品は不可とします。")
    client.force_login(agent)
    page = client.get(f"/knowledge/rules/{rule.pk}/").content.decode()
    assert "新しい版を登録" not in page and "リーダーか管理者が登録します" in page
    response = client.post(f"/knowledge/rules/{rule.pk}/", {"effective_from": "2026-05-01", "body": "返品は不可とします。"})
    assert response.status_code == 400
    assert rule.versions.count() == 1
    assert "返品は不可" not in client.get("/faq/policy/").content.decode()


def test_a_lead_adds_a_rule_version_from_the_rule_page(client: Any, lead: Any) -> None:
    rule = Rule.objects.get(code="returns")
    client.force_login(lead)
    response = client.post(f"/knowledge/rules/{rule.pk}/", {"effective_from": "2026-05-01", "body": "返品は到着後30日以内とします。"})
    assert response.status_code == 302
    assert rule.versions.filter(effective_from=dt.date(2026, 5, 1), author=lead).exists()


def test_flagging_a_customer_requires_a_rule(agent: Any) -> None:
    customer = CustomerFactory()
    with pytest.raises(services.KnowledgeError, match="ルール"):
        services.do_flag_customer(customer, actor=agent, rule_version=None, reason="大声で1時間")
    version = services.version_in_force(Rule.objects.get(code="abusive"), dt.date(2026, 6, 1))
    flag = services.do_flag_customer(customer, actor=agent, rule_version=version, reason="電話で1時間、大声で返金を要求")
    assert services.active_flags(customer) == [flag]


def test_flag_form_without_rule_shows_a_japanese_error(client: Any, agent: Any, make_case: Any) -> None:
    case = make_case()
    client.force_login(agent)
    response = client.post(f"/knowledge/cases/{case.pk}/flag/", {"reason": "暴言"}, follow=True)
    assert "根拠となる顧客対応ルールを選んでください" in response.content.decode()
    assert services.active_flags(case.customer) == []


def test_public_policy_page_shows_public_rules_in_force(client: Any) -> None:
    html = client.get("/faq/policy/").content.decode()
    assert "返品・交換の基準" in html and "不当な要求への対応" in html
    assert "補償の権限と承認" not in html  # internal rule


def test_authority_rule_page_shows_the_live_limits(client: Any, agent: Any) -> None:
    from madoguchi.accounts.models import AuthorityLimit, Role

    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=5000)
    client.force_login(agent)
    html = client.get(f"/knowledge/rules/{Rule.objects.get(code='authority').pk}/").content.decode()
    assert "5,000円" in html


def test_case_page_shows_the_rules_of_its_category(client: Any, agent: Any, make_case: Any) -> None:
    case = make_case("届かない", "荷物が届きません。")
    client.force_login(agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()  # the side panels are in the page
    rules = html[html.index('id="kb-rules"'):]
    assert "配送遅延への対応" in rules and "返品・交換の基準" not in rules
