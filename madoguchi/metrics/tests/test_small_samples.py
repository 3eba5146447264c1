"""What the dashboard says about few answers, and the words it uses: a rate from fewer answers
than the admin's minimum is greyed with its n and projects nothing; the response-time charts
read in minutes or hours; SLA overruns past a day read in days; no developer words."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from madoguchi.accounts.models import SettingsChange
from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.metrics.rollup import refresh_dirty
from madoguchi.metrics.survey import delay as survey_delay
from madoguchi.metrics.survey import send_due_invitations, token_for
from madoguchi.metrics.tests.conftest import jst
from madoguchi.testing.factories import (
    PASSWORD,
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db
WEDNESDAY_NOON = jst(2026, 11, 18, 12, 0)


@pytest.fixture
def lead_client(client: Any) -> Any:
    lead = UserFactory(role="lead")
    TeamFactory(lead=lead)
    client.login(username=lead.username, password=PASSWORD)
    client.user = lead
    return client


def one_unhappy_answer(client: Any, agent: Any) -> None:
    """A resolved mail case whose customer answers the survey: 1 of 5, would not recommend."""
    case = services.do_create_case(actor=agent, customer=IdentityFactory().customer, subject="マグカップが割れていました",
                                   channel="email", category=category("defect"),
                                   complaint="届いたマグカップの取っ手が割れていました。", assignee=agent)
    services.do_send_reply(case, actor=agent, body="大変申し訳ございません。交換品をお送りいたします。")
    case.refresh_from_db()
    services.do_update_case(case, actor=agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    with time_machine.travel(timezone.now() + survey_delay() + dt.timedelta(minutes=1)):
        send_due_invitations()
    case.survey.refresh_from_db()
    client.post(f"/metrics/survey/{token_for(case.survey)}/", {"rating": "1", "nps": "0", "comment": "遅かったです"})
    refresh_dirty()


def test_dashboard_and_targets_page_speak_the_shops_language(lead_client: Any) -> None:
    one_unhappy_answer(lead_client, lead_client.user)
    from madoguchi.metrics.services import do_set_min_sample

    for minimum in (30, 1):  # with and without the impact estimate
        do_set_min_sample(minimum)
        for url in ("/metrics/", "/metrics/targets/"):
            html = lead_client.get(url).content.decode()
            for word in ("seed", ".md", "docs/"):
                assert word not in html, (url, word)


def test_one_survey_answer_is_greyed_with_its_n_and_projects_nothing(client: Any, lead_client: Any) -> None:
    one_unhappy_answer(lead_client, lead_client.user)
    html = lead_client.get("/metrics/").content.decode()
    csat = re.search(r'<td class="num thin"[^>]*><span data-testid="value-csat">0\.0%</span> <small class="n" data-testid="n-csat">n=1</small>', html)
    assert csat, html
    assert 'data-testid="n-nps">n=1<' in html
    assert 'data-testid="impact"' not in html and "1か月に失うお客様" not in html
    assert "アンケートの回答が1件のため、試算していません。30件以上" in html
    row = html.split('data-code="csat"')[1].split("</tr>")[0]
    assert "件数不足" in row and "未達" not in row  # a single answer is not judged against the target
    breakdown = lead_client.get("/metrics/breakdown/channel/").content.decode()
    assert '<td class="num thin">0.0% <small class="n">n=1</small></td>' in breakdown

    # The admin decides that one answer is enough (a tiny shop): the setting is audited.
    admin = UserFactory(role="admin")
    client.login(username=admin.username, password=PASSWORD)
    settings_page = client.get("/settings/").content.decode()
    assert 'name="min_sample"' in settings_page and 'value="30"' in settings_page
    assert client.post("/settings/dashboard/", {"min_sample": "1"}).status_code == 302
    change = SettingsChange.objects.get()
    assert (change.target, change.actor) == ("指標の表示の設定", admin)
    trail = client.get("/settings/audit/").content.decode()
    assert "数字を信頼できる最低件数" in trail and re.search(r"30\s*→\s*1\b", trail), trail
    html = lead_client.get("/metrics/").content.decode()
    assert 'data-testid="impact"' in html and '<span data-testid="value-csat">0.0%</span> <small class="n" data-testid="n-csat">n=1' in html
    assert 'class="num thin"' not in html.split('data-code="csat"')[1].split("</tr>")[0]
    assert client.post("/settings/dashboard/", {"min_sample": "0"}).status_code == 400


def test_response_time_charts_read_in_minutes_and_hours(lead_client: Any) -> None:
    agent = lead_client.user
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        mail = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="領収書の宛名", channel="email",
                                       category=category("billing"), complaint="領収書の宛名を会社名にしてください。",
                                       assignee=agent, received_at=jst(2026, 11, 16, 10, 0))
        chat = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="配送日時", channel="chat",
                                       category=category("delivery"), complaint="配達日を変えられますか。",
                                       assignee=agent, received_at=WEDNESDAY_NOON - dt.timedelta(minutes=4))
        services.do_send_reply(mail, actor=agent, body="承知いたしました。")
        services.do_send_reply(chat, actor=agent, body="はい、変更できます。")
        refresh_dirty()
        html = lead_client.get("/metrics/").content.decode()
    assert "メール：最初の返信までの時間（中央値・営業時間・時間）" in html  # 20 business hours, not 72,000 s
    assert "チャット：最初の応答までの待ち時間（中央値・分）" in html  # 4 minutes, its own axis
    assert "（中央値・秒）" not in html
    email_chart = html.split("メール：最初の返信までの時間")[1].split("</svg>")[0]
    assert ">20<" in email_chart and "72000" not in email_chart


@pytest.mark.parametrize(("late", "shown"), [
    (dt.timedelta(hours=150, minutes=35), "6日超過"),
    (dt.timedelta(hours=28, minutes=10), "1日4時間超過"),
    (dt.timedelta(hours=5, minutes=20, seconds=30), "5時間20分超過"),
])
def test_sla_overrun_reads_in_days_past_a_day(lead_client: Any, late: dt.timedelta, shown: str) -> None:
    agent = lead_client.user
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="返金がまだです", channel="email",
                                       category=category("billing"), complaint="返品した商品の返金がまだありません。",
                                       assignee=agent)
    due = case.sla.first_due
    with time_machine.travel(due + late, tick=False):
        page = lead_client.get(f"/cases/{case.pk}/").content.decode()
        inbox = lead_client.get("/?queue=all").content.decode()
    for html in (page, inbox):
        timer = html.split('data-testid="sla-timer"')[1].split("</span></span>")[0]
        assert f'<span class="left">{shown}' in timer, timer
