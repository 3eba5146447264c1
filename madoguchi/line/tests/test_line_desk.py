"""Issue 19 item 5 on LINE: the rest of the desk works the same for a LINE case: its SLA
clocks (a LINE policy, stopped by the agent's LINE reply), the after-hours answer with the FAQ
links sent as one LINE message, the survey invitation sent as a LINE message, its own row in
the metrics by channel, and its messages found by search. Against the fake LINE API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case, Channel, Status
from madoguchi.cases.services import do_send_reply
from madoguchi.knowledge import search
from madoguchi.knowledge.seed import load_sample_articles
from madoguchi.knowledge.tests.conftest import jst
from madoguchi.line.models import LineOutbound, OutboundState
from madoguchi.line.tests.conftest import USER, deliver, text
from madoguchi.metrics import rollup, survey
from madoguchi.metrics.dashboard import Period, breakdown
from madoguchi.metrics.models import CaseSla, SlaPolicy, Survey, SurveyState
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event

pytestmark = pytest.mark.django_db


def pushed_texts(server: Any) -> list[str]:
    return [entry["json"]["messages"][0]["text"] for entry in server.delivered]


def test_a_line_case_runs_on_the_line_sla_policy_and_the_agents_line_reply_stops_the_first_clock(
        client, fake, django_capture_on_commit_callbacks):
    policy = SlaPolicy.objects.create(name="LINEは1時間", channel=Channel.LINE, first_response_minutes=60,
                                      next_response_minutes=60, resolution_minutes=60 * 24, position=0)
    deliver(client, django_capture_on_commit_callbacks, text("S1", "届いたお皿が欠けていました"))
    case = Case.objects.get()
    clocks = CaseSla.objects.get(case=case)
    assert clocks.policy == policy and clocks.first_due is not None and clocks.first_done_at is None
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(case, actor=UserFactory(), body="大変申し訳ございません。すぐにお取り替えします。")
    clocks.refresh_from_db()
    assert clocks.first_done_at is not None
    assert LineOutbound.objects.get().state == OutboundState.SENT


def test_after_hours_a_line_customer_gets_one_line_message_with_the_faq_links(client, settings, django_capture_on_commit_callbacks):
    load_sample_articles()
    sunday_night = jst(2026, 11, 22, 22, 0)
    with FakeLine() as server:
        server.profiles[USER] = {"displayName": "山田 花子"}
        settings.LINE_CHANNEL_SECRET, settings.LINE_CHANNEL_ACCESS_TOKEN = SECRET, TOKEN
        settings.LINE_API_BASE = settings.LINE_DATA_API_BASE = server.url
        at = int(sunday_night.timestamp() * 1000)
        deliver(client, django_capture_on_commit_callbacks,
                event("message", USER, "N1", at, message={"type": "text", "id": "n1", "text": "注文した荷物がまだ届きません。追跡番号で見ても進んでいません。"}))
        deliver(client, django_capture_on_commit_callbacks,
                event("message", USER, "N2", at + 60000, message={"type": "text", "id": "n2", "text": "早く届けてください"}))
        [answer] = pushed_texts(server)  # one answer, however many messages
    assert "商品が届かない・配送が遅れている場合" in answer and "/faq/" in answer
    assert "11月24日（火）9時00分以降" in answer


def test_the_survey_invitation_goes_to_a_line_customer_as_a_line_message(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("S1", "届いたお皿が欠けていました"))
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = survey.do_schedule(case, now=timezone.now() - dt.timedelta(days=2))  # resolved two days ago
    with django_capture_on_commit_callbacks(execute=True):
        assert survey.send_due_invitations() == 1
    invitation.refresh_from_db()
    assert invitation.state == SurveyState.SENT and invitation.channel == Channel.LINE
    [message] = pushed_texts(fake)
    token = message.split("/metrics/survey/")[1].split("/")[0]
    assert survey.survey_from_token(token).pk == invitation.pk  # the link opens this case's survey
    assert LineOutbound.objects.get().interaction.author_id is None


def test_a_line_customer_who_blocked_the_account_gets_no_survey_and_the_case_says_so(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("S1", "届いたお皿が欠けていました", seconds_ago=5))
    deliver(client, django_capture_on_commit_callbacks, event("unfollow", USER, "B1", int(timezone.now().timestamp() * 1000)))
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    survey.do_schedule(case, now=timezone.now() - dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert survey.send_due_invitations() == 1
    assert Survey.objects.get().state == SurveyState.NOT_DELIVERABLE
    assert not fake.delivered
    assert case.interactions.filter(body__contains="満足度アンケートを送れませんでした").exists()


def test_line_cases_have_their_own_row_in_the_metrics_by_channel(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("S1", "届いたお皿が欠けていました"))
    rollup.refresh_dirty()
    today = timezone.localdate()
    rows = dict(breakdown(Period(today, today), "channel"))
    assert "line" in rows and rows["line"]["cases"] == 1
    lead = UserFactory(role="lead")
    client.force_login(lead)
    page = client.get("/metrics/breakdown/channel/").content.decode()
    assert "LINE" in page


def test_a_line_message_is_found_by_search(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("S1", "届いたお皿が欠けていました", seconds_ago=5))
    deliver(client, django_capture_on_commit_callbacks, text("S2", "縁の部分がギザギザで危ないです"))
    case = Case.objects.get()
    hits = search.search("ギザギザ", kinds=["case", "message"], limit=10)
    assert case.pk in {hit.case_id for hit in hits}
    client.force_login(UserFactory())
    page = client.get("/knowledge/search/", {"q": "ギザギザ"}).content.decode()
    assert f"/cases/{case.pk}/" in page
