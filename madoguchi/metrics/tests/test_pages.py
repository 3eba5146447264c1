"""The pages render with real data: inbox SLA column (one query for the page), case banner
and panel, dashboard, CSV exports, targets, reviews, follow-ups."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.cases import services
from madoguchi.metrics.models import Target
from madoguchi.testing.factories import (
    PASSWORD,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client):
    lead = UserFactory(role="lead")
    TeamFactory(lead=lead)
    client.login(username=lead.username, password=PASSWORD)
    client.user = lead
    return client


def _case(agent, channel="email"):
    return services.do_create_case(actor=agent, customer=CustomerFactory(), subject="未着", channel=channel,
                                   category=category("delivery"), complaint="届きません", assignee=agent)


def test_inbox_shows_an_sla_timer_per_row_with_one_query_for_the_page(lead_client):
    for _ in range(3):
        _case(lead_client.user)
    lead_client.get("/?queue=all")  # the inbox keeps its filter lists per process: fill them first
    with CaptureQueriesContext(connection) as three:
        body = lead_client.get("/?queue=all").content.decode()
    assert body.count('data-testid="sla-timer"') == 3
    for _ in range(5):
        _case(lead_client.user)
    with CaptureQueriesContext(connection) as eight:
        body = lead_client.get("/?queue=all").content.decode()
    assert body.count('data-testid="sla-timer"') == 8
    sla_queries = [q for q in eight.captured_queries if "metrics_casesla" in q["sql"]]
    assert len(sla_queries) == 1
    assert len(eight.captured_queries) == len(three.captured_queries)


def test_case_page_has_timer_banner_and_outcome_form(lead_client):
    case = _case(lead_client.user)
    body = lead_client.get(f"/cases/{case.pk}/").content.decode()
    body += lead_client.get(f"/cases/{case.pk}/parts/side/").content.decode()  # the side panels load by htmx
    assert 'data-testid="sla-timer"' in body and "対応結果を記録" in body and "応対品質を評価する" in body
    response = lead_client.post(f"/metrics/cases/{case.pk}/outcome/", {"resolved": "yes", "kept": "on"})
    assert response.status_code == 302
    assert case.outcome.kept and case.outcome.resolved and not case.outcome.cancelled


def test_dashboard_renders_chart_as_inline_svg_without_any_remote_script(lead_client):
    _case(lead_client.user, "chat")
    body = lead_client.get("/metrics/").content.decode()
    assert "<svg" in body and "受付件数" in body
    assert "kozea.github.io" not in body
    assert 'src="http' not in body and "src='http" not in body and 'href="http' not in body


def test_every_table_exports_as_csv(lead_client):
    _case(lead_client.user)
    for table in ("summary", "trend", "team", "agent", "channel", "category", "quality"):
        response = lead_client.get(f"/metrics/?format=csv&table={table}")
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
    summary = lead_client.get("/metrics/?format=csv&table=summary").content.decode("utf-8-sig")
    assert "chat_first_answer_median" in summary and "cancellations_change" in summary
    assert lead_client.get("/metrics/?format=csv&table=nope").status_code == 404


def test_bad_period_shows_a_japanese_message_not_an_error(lead_client):
    body = lead_client.get("/metrics/?start=2026-13-45&end=x").content.decode()
    assert "日付の形式が正しくありません" in body


def test_lead_edits_targets_agent_may_not(lead_client, client):
    response = lead_client.post("/metrics/targets/", {"csat": "90", "chat_first_answer_median": ""})
    assert response.status_code == 302
    assert Target.objects.get(code="csat").value == 90
    assert not Target.objects.filter(code="chat_first_answer_median").exists()
    agent = UserFactory()
    client.login(username=agent.username, password=PASSWORD)
    assert client.get("/metrics/targets/").status_code == 403


def test_lead_reviews_a_case_and_the_agent_sees_it(lead_client, client):
    agent = UserFactory(team=lead_client.user.led_teams.first())
    case = _case(agent)
    form = {d: "4" for d in ("first_impression", "speed", "accuracy", "empathy", "flexibility")}
    response = lead_client.post(f"/metrics/cases/{case.pk}/review/", {**form, "comment": "共感が伝わる"})
    assert "6つの観点すべて" in response.content.decode()  # reassurance missing
    response = lead_client.post(f"/metrics/cases/{case.pk}/review/",
                                {**form, "reassurance": "2", "comment": "共感が伝わる", "note-reassurance": "次の連絡日を伝えていない"})
    assert response.status_code == 302
    client.login(username=agent.username, password=PASSWORD)
    body = client.get("/metrics/reviews/").content.decode()
    assert "共感が伝わる" in body and "3.67" in body  # (4×5 + 2) / 6
    assert "安心感: 次の連絡日を伝えていない" in body
    assert client.get(f"/metrics/cases/{case.pk}/review/").status_code == 403


def test_a_lead_cannot_review_another_teams_case(lead_client):
    other_lead = UserFactory(role="lead")
    agent = UserFactory(team=TeamFactory(lead=other_lead))
    case = _case(agent)
    form = {d: "1" for d in ("first_impression", "speed", "accuracy", "empathy", "flexibility", "reassurance")}
    response = lead_client.post(f"/metrics/cases/{case.pk}/review/", form)
    assert response.status_code == 403
    from madoguchi.metrics.models import QualityReview

    assert not QualityReview.objects.exists()


@pytest.mark.parametrize("query", [
    "?team=²", "?agent=²&category=٣", "?start=0001-01-01&end=0001-01-05", "?start=9999-12-30&end=9999-12-31",
])
def test_malformed_filters_and_dates_get_a_page_not_an_error(lead_client, query):
    assert lead_client.get(f"/metrics/{query}").status_code == 200
    assert lead_client.get(f"/metrics/breakdown/team/{query}").status_code == 200


def test_targets_that_are_not_finite_numbers_are_refused_and_nothing_is_saved(lead_client):
    for bad in ("nan", "inf", "1e999"):
        response = lead_client.post("/metrics/targets/", {"resolution_rate": "95", "csat": bad}, follow=True)
        assert "目標は数字で入力してください" in response.content.decode()
    assert not Target.objects.exists()


def test_agents_see_their_own_figures_but_not_each_others(client):
    agent, colleague = UserFactory(), UserFactory()
    client.login(username=agent.username, password=PASSWORD)
    assert client.get("/metrics/breakdown/agent/").status_code == 403
    assert client.get("/metrics/?table=agent&format=csv").status_code == 403
    page = client.get(f"/metrics/?agent={colleague.pk}").content.decode()
    assert "チームリーダーと管理者が見られます" in page
    assert client.get(f"/metrics/?agent={agent.pk}").status_code == 200
    assert client.get(f"/metrics/breakdown/channel/?agent={agent.pk}").status_code == 200
    assert client.get(f"/metrics/breakdown/channel/?agent={colleague.pk}").status_code == 403
