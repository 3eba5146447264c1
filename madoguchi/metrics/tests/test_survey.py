"""The survey: sent after resolution by the minute job, one answer, clear Japanese page on
every bad input. (When and by which channel it goes: test_survey_delivery.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from madoguchi.cases import services
from madoguchi.cases.models import Interaction, Status
from madoguchi.metrics.models import FollowUp, Survey
from madoguchi.metrics.survey import delay as survey_delay
from madoguchi.metrics.survey import send_due_invitations, survey_from_token, token_for
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import IdentityFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved_case():
    lead = UserFactory(role="lead")
    agent = UserFactory(team=TeamFactory(lead=lead))
    case = services.do_create_case(actor=agent, customer=IdentityFactory().customer, subject="破損", channel="email",
                                   category=category("defect"), complaint="割れていました", assignee=agent)
    services.do_send_reply(case, actor=agent, body="申し訳ございません。")
    case.refresh_from_db()
    services.do_update_case(case, actor=agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    assert Survey.objects.get(case=case).state == "waiting"  # not at once: after the shop's delay
    with time_machine.travel(timezone.now() + survey_delay() + dt.timedelta(minutes=1)):
        assert send_due_invitations() == 1
    case.lead = lead
    return case


def test_an_email_case_gets_one_invitation_that_is_not_counted_as_a_reply(resolved_case):
    survey = Survey.objects.get(case=resolved_case)
    invitation = Interaction.objects.filter(case=resolved_case, kind="outbound").order_by("-id").first()
    token = invitation.body.split("/metrics/survey/")[1].split("/")[0]
    assert survey_from_token(token) == survey and "アンケート" in invitation.body
    assert resolved_case.sla.targets_due == 2  # first response + resolution, not the invitation


def test_low_score_creates_follow_up_for_the_lead_and_a_timeline_note(client, resolved_case):
    url = f"/metrics/survey/{token_for(resolved_case.survey)}/"
    page = client.get(url)
    assert page.status_code == 200 and "満足度" in page.content.decode()
    response = client.post(url, {"rating": "2", "nps": "3", "comment": "対応が遅かった"})
    assert "ご回答ありがとうございました" in response.content.decode()
    follow_up = FollowUp.objects.get(case=resolved_case)
    assert follow_up.assigned_to == resolved_case.lead
    assert Notification.objects.filter(user=resolved_case.lead, kind="survey_low").exists()
    assert Interaction.objects.filter(case=resolved_case, kind="note", body__contains="対応が遅かった").exists()


def test_answering_twice_is_refused_and_the_first_answer_kept(client, resolved_case):
    url = f"/metrics/survey/{token_for(resolved_case.survey)}/"
    client.post(url, {"rating": "5"})
    again = client.post(url, {"rating": "1"})
    assert again.status_code == 400 and "すでにご回答" in again.content.decode()
    resolved_case.survey.refresh_from_db()
    assert resolved_case.survey.rating == 5 and not FollowUp.objects.exists()


def test_rating_seven_or_missing_is_refused_nothing_recorded(client, resolved_case):
    url = f"/metrics/survey/{token_for(resolved_case.survey)}/"
    for form, message in (({"rating": "7"}, "1〜5"), ({"rating": ""}, "満足度を選んでください"),
                          ({"rating": "4", "nps": "11"}, "0〜10"), ({"rating": "abc"}, "1〜5")):
        response = client.post(url, form)
        assert response.status_code == 400 and message in response.content.decode()
    resolved_case.survey.refresh_from_db()
    assert resolved_case.survey.answered_at is None and resolved_case.survey.rating is None


def test_forged_and_expired_tokens_get_a_clear_page(client, resolved_case):
    token = token_for(resolved_case.survey)
    forged = client.get(f"/metrics/survey/{token[:-2]}xx/")
    assert forged.status_code == 400 and "リンクは正しくありません" in forged.content.decode()
    with time_machine.travel(resolved_case.survey.expires_at + dt.timedelta(seconds=1)):
        expired = client.post(f"/metrics/survey/{token}/", {"rating": "5"})
    assert expired.status_code == 400 and "回答期限が過ぎています" in expired.content.decode()
    resolved_case.survey.refresh_from_db()
    assert resolved_case.survey.answered_at is None


def test_follow_up_list_shows_the_task_and_can_be_closed(client, resolved_case):
    from madoguchi.testing.factories import PASSWORD

    client.post(f"/metrics/survey/{token_for(resolved_case.survey)}/", {"rating": "1"})
    client.login(username=resolved_case.lead.username, password=PASSWORD)
    body = client.get("/metrics/follow-ups/").content.decode()
    assert resolved_case.subject in body
    follow_up = FollowUp.objects.get()
    client.post(f"/metrics/follow-ups/{follow_up.pk}/done/", {"note": "電話でお詫び済み"})
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.note == "電話でお詫び済み"


def test_another_agent_cannot_close_someone_elses_follow_up(client, resolved_case):
    from madoguchi.testing.factories import PASSWORD

    client.post(f"/metrics/survey/{token_for(resolved_case.survey)}/", {"rating": "1"})
    follow_up = FollowUp.objects.get()
    outsider = UserFactory()
    client.login(username=outsider.username, password=PASSWORD)
    response = client.post(f"/metrics/follow-ups/{follow_up.pk}/done/", {"note": "閉じます"}, follow=True)
    assert "割り当てられた人" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is None and follow_up.done_by is None
