"""Bad input on the case desk: a clear Japanese message, never a 500, nothing lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case, Commitment, Compensation
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    agent = UserFactory()
    client.force_login(agent)
    client.agent = agent
    return client


def new_case_data(**overrides):
    data = {
        "customer_name": "山田 太郎", "phone": "090-1234-5678", "channel": "phone",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "subject": "商品が届かない",
        "category": "1", "priority": "2", "complaint": "注文した商品が届きません。",
    }
    from madoguchi.cases.models import Category

    data["category"] = str(Category.objects.get(code="delivery").pk)
    data.update(overrides)
    return data


def test_empty_required_fields_are_named_in_japanese(agent_client):
    response = agent_client.post("/cases/new/", new_case_data(customer_name="", subject="", complaint=""))
    assert response.status_code == 400
    assert "このフィールドは必須です" in response.content.decode()
    assert not Case.objects.exists()


def test_whitespace_only_fields_are_refused(agent_client):
    response = agent_client.post("/cases/new/", new_case_data(customer_name="　　", complaint="   \n "))
    body = response.content.decode()
    assert response.status_code == 400
    assert "必須" in body or "空白だけ" in body or "入力してください" in body
    assert not Case.objects.exists()


def test_over_long_subject_is_refused_and_input_kept(agent_client):
    long_subject = "配" * 201
    response = agent_client.post("/cases/new/", new_case_data(subject=long_subject))
    body = response.content.decode()
    assert response.status_code == 400
    assert "200 文字以下" in body
    assert "注文した商品が届きません。" in body  # what the agent typed is still in the form


def test_emoji_and_full_width_text_are_stored_exactly(agent_client):
    complaint = "ＡＢＣ１２３の商品が届きません🙇‍♀️　ｶﾀｶﾅも﨑も髙も大丈夫？"
    response = agent_client.post("/cases/new/", new_case_data(customer_name="髙橋 﨑子🌸", complaint=complaint))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.complaint == complaint and case.customer.name == "髙橋 﨑子🌸"
    page = agent_client.get(f"/cases/{case.pk}/").content.decode()
    assert "🙇‍♀️" in page and "髙橋 﨑子🌸" in page


def test_phone_or_email_is_required(agent_client):
    response = agent_client.post("/cases/new/", new_case_data(phone="", email=""))
    assert response.status_code == 400
    assert "電話番号かメールアドレス" in response.content.decode()


def test_due_date_in_the_past_is_refused(agent_client):
    case = CaseFactory()
    past = timezone.localtime() - dt.timedelta(days=1)
    response = agent_client.post(f"/cases/{case.pk}/commitments/", {
        "cm-description": "折り返し電話", "cm-due_at": past.strftime("%Y-%m-%dT%H:%M"),
    })
    assert response.status_code == 400
    assert "期限が過去の日時" in response.content.decode()
    assert not Commitment.objects.exists()


@pytest.mark.parametrize("amount", ["-5000", "0", "abc", "99999999999"])
def test_bad_compensation_amounts_are_refused(agent_client, amount):
    case = CaseFactory()
    response = agent_client.post(f"/cases/{case.pk}/compensations/", {
        "cp-kind": "refund", "cp-amount_yen": amount, "cp-reason": "二重請求",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "1円以上" in body or "整数" in body or "以下" in body
    assert not Compensation.objects.exists()


def test_editing_a_case_someone_else_just_changed_is_not_a_silent_overwrite(client):
    first, second = UserFactory(display_name="佐藤 花子"), UserFactory(display_name="鈴木 一郎")
    case = CaseFactory(assignee=first)
    form = {
        "edit-version": "1", "edit-subject": case.subject, "edit-category": str(case.category_id),
        "edit-priority": "2", "edit-status": "open", "edit-complaint": case.complaint,
    }
    client.force_login(first)
    assert client.post(f"/cases/{case.pk}/edit/", {**form, "edit-solution": "代替品を発送します"}).status_code == 302
    client.force_login(second)
    response = client.post(f"/cases/{case.pk}/edit/", {**form, "edit-solution": "全額返金します"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "佐藤 花子さんが先に更新しました" in body
    assert "全額返金します" in body  # the second agent's text is still in the form
    case.refresh_from_db()
    assert case.solution == "代替品を発送します"


def test_handover_without_note_is_refused(agent_client):
    case = CaseFactory(assignee=agent_client.agent)
    other = UserFactory()
    response = agent_client.post(f"/cases/{case.pk}/handover/", {"ho-version": "1", "ho-to_user": str(other.pk), "ho-note": ""})
    assert response.status_code == 400
    assert "このフィールドは必須です" in response.content.decode()
    case.refresh_from_db()
    assert case.assignee == agent_client.agent


def test_unknown_queue_and_broken_cursor_fall_back_instead_of_failing(agent_client):
    assert agent_client.get("/?queue=nope&cursor=garbage|x").status_code == 200
    assert agent_client.get("/?queue=all&cursor=2026-99-99|1").status_code == 200
    assert agent_client.get("/?queue=all&priority=abc").status_code == 200


def test_missing_case_is_a_japanese_404(agent_client):
    response = agent_client.get("/cases/999999/")
    assert response.status_code == 404
    assert "見つかりません" in response.content.decode()


def test_pages_need_login(client):
    assert client.get("/").status_code == 302
    assert client.get("/cases/new/").url.startswith("/login/")


def test_logging_a_call_on_an_existing_case_prefills_time_and_records_the_agent(agent_client):
    case = CaseFactory(assignee=agent_client.agent)
    page = agent_client.get(f"/cases/{case.pk}/").content.decode()
    assert f'hx-get="/cases/{case.pk}/parts/interaction/"' in page  # the form comes when the agent opens it
    page = agent_client.get(f"/cases/{case.pk}/parts/interaction/").content.decode()
    now_minute = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'name="ia-occurred_at" value="{now_minute}' in page
    response = agent_client.post(f"/cases/{case.pk}/interactions/", {
        "ia-kind": "inbound", "ia-channel": "phone",
        "ia-occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "ia-body": "再度お電話あり。まだ届いていないとのこと。",
    })
    assert response.status_code == 302
    entry = case.interactions.get(body__startswith="再度お電話")
    assert entry.author == agent_client.agent and entry.channel == "phone"


@pytest.mark.parametrize("query", ["?category=²", "?assignee=٣", "?category=" + "9" * 40, "?assignee=-1"])
def test_malformed_inbox_filters_show_the_inbox_not_an_error(agent_client, query):
    assert agent_client.get("/" + query).status_code == 200
