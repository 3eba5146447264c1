"""Which customer a logged call is filed under: nobody is mixed up, nothing the caller gave is dropped."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import Case
from madoguchi.cases.tests.test_bad_input import agent_client, new_case_data  # noqa: F401 - fixture
from madoguchi.customers.models import Identity, PossibleMatch
from madoguchi.customers.services import get_or_create_customer, normalise_identity
from madoguchi.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phone", ["abcdefg", "🙇‍♀️", "不明", "12"])
def test_a_phone_number_without_digits_is_refused_in_japanese(agent_client, phone):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone=phone))
    assert response.status_code == 400
    assert "電話番号は数字で入力してください" in response.content.decode()
    assert not Case.objects.exists()


def test_two_callers_without_an_identity_are_never_the_same_customer():
    first, _ = get_or_create_customer(name="テスト 太郎", kind="phone", value="不明")
    second, created = get_or_create_customer(name="別人 花子", kind="phone", value="―")
    assert created and first.pk != second.pk
    assert not Identity.objects.filter(value="").exists()


def test_full_width_phone_and_email_are_accepted_and_stored_half_width(agent_client):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone="０９０－１１１１－２２２２", email="ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ"))
    assert response.status_code == 302
    customer = Case.objects.get().customer
    assert set(customer.identities.values_list("kind", "value")) == {("phone", "09011112222"), ("email", "yamada@example.jp")}


def test_an_international_japanese_number_finds_the_customer_known_by_the_domestic_one():
    assert normalise_identity("phone", "+81 90-1111-2222") == normalise_identity("phone", "090-1111-2222") == "09011112222"
    assert normalise_identity("phone", "+1 415 555 0100") == "+14155550100"


def test_the_email_a_new_caller_gives_is_kept_on_their_record(agent_client):  # noqa: F811
    agent_client.post("/cases/new/", new_case_data(phone="080-5555-1111", email="yuto@example.jp"))
    customer = Case.objects.get().customer
    assert customer.identities.filter(kind="email", value="yuto@example.jp").exists()


def test_an_email_held_by_another_customer_is_linked_for_staff_to_check(agent_client):  # noqa: F811
    holder = CustomerFactory(name="金子 悠斗")
    Identity.objects.create(customer=holder, kind="email", value="yuto162@example.jp")
    response = agent_client.post("/cases/new/", new_case_data(customer_name="金子 悠斗", phone="080-5555-1111", email="yuto162@example.jp"))
    assert response.status_code == 302
    case = Case.objects.get()
    match = PossibleMatch.objects.get(customer=case.customer)
    assert match.existing == holder and match.value == "yuto162@example.jp"
    panel = agent_client.get(f"/cases/{case.pk}/parts/side/").content.decode()
    assert "same-person-warning" in panel and "既存のお客様『金子 悠斗』" in panel


def test_a_reply_on_a_phone_case_says_it_was_recorded_not_sent(agent_client):  # noqa: F811
    agent_client.post("/cases/new/", new_case_data(phone="090-1111-2222"))
    case = Case.objects.get()
    response = agent_client.post(f"/cases/{case.pk}/reply/", {"re-body": "明日、代替品を発送いたします。"}, follow=True)
    body = response.content.decode()
    assert "電話の案件のため送信はされません" in body and "返信を登録しました" not in body
    assert case.interactions.filter(kind="outbound", body="明日、代替品を発送いたします。").exists()
