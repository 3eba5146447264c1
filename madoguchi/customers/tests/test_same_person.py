"""A visitor who types (chat, forms) an address that already belongs to a customer is not that
customer until staff have checked: a record of their own, an unconfirmed link, and a warning
on the case page with a merge and a dismiss button, both recorded with the staff member."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import AuditEvent, Channel
from madoguchi.customers.models import Customer, Identity, IdentityKind, MatchState, PossibleMatch
from madoguchi.customers.services import (
    MatchError,
    customer_for_visitor,
    do_confirm_same_person,
    do_dismiss_same_person,
    do_merge_customers,
)
from madoguchi.testing.factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

TRACKING = "438912345670"


@pytest.fixture
def yamada() -> Customer:
    """A long-standing customer: an address, an order with its tracking number, a past case."""
    customer = CustomerFactory(name="山田 太郎", kana="ヤマダ タロウ")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="yamada@example.jp")
    OrderFactory(customer=customer, number="ORD-2026-004512", tracking_number=TRACKING, amount_yen=128000)
    CaseFactory(customer=customer, subject="定期便の解約と返金について")
    return customer


def visitor_case(name: str = "山田 太郎", email: str = "ＹＡＭＡＤＡ@example.jp"):  # type: ignore[no-untyped-def]
    visitor = customer_for_visitor(name=name, kind=IdentityKind.EMAIL, value=email, channel=Channel.CHAT)
    return CaseFactory(customer=visitor, channel=Channel.CHAT, subject="チャット: 注文した商品の配送状況を教えてください")


def side(client, case) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/cases/{case.pk}/parts/side/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_address_nobody_has_yet_becomes_the_visitors_own_identity():
    visitor = customer_for_visitor(name="中村 由美", kind=IdentityKind.EMAIL, value="Yumi@Example.jp ", channel=Channel.FORM)
    assert Identity.objects.get(value="yumi@example.jp").customer == visitor
    assert visitor.name == "中村 由美"
    assert not PossibleMatch.objects.exists()


def test_a_visitor_typing_a_customers_address_gets_a_record_of_their_own_and_an_unconfirmed_link(yamada):
    visitor = customer_for_visitor(name="山田 太郎", kind=IdentityKind.EMAIL, value="ＹＡＭＡＤＡ@Example.JP", channel=Channel.CHAT)
    assert visitor != yamada and visitor.merged_into is None
    assert Identity.objects.get(value="yamada@example.jp").customer == yamada  # the address stays theirs
    assert not visitor.identities.exists() and not visitor.orders.exists()
    match = PossibleMatch.objects.get()
    assert (match.customer, match.existing, match.value, match.channel, match.state) == (
        visitor, yamada, "yamada@example.jp", "chat", MatchState.UNCONFIRMED)
    assert match.created_at is not None and match.decided_by is None


def test_the_case_page_warns_in_japanese_and_shows_nothing_of_the_existing_customer(client, yamada):
    client.force_login(UserFactory())
    case = visitor_case()
    html = side(client, case)
    assert "入力されたメールアドレスは既存のお客様『山田 太郎』と同じです（本人確認前）。ご本人と確認できてから統合してください。" in html
    assert "ご本人と確認できたので統合する" in html and "別の方として扱う" in html
    assert TRACKING not in html and "ORD-2026-004512" not in html and "128,000円" not in html
    assert "定期便の解約と返金について" not in html
    assert "ありません" in html  # no past cases of the visitor's own


def test_merging_after_verification_moves_the_case_to_the_customer_and_is_recorded(client, yamada):
    agent = UserFactory(display_name="佐藤 花子")
    client.force_login(agent)
    case = visitor_case()
    match = PossibleMatch.objects.get()
    response = client.post(f"/customers/same-person/{match.pk}/confirm/",
                           {"note": "ご登録の電話番号と直近の注文番号 ORD-2026-004512 が一致", "case": case.pk})
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    case.refresh_from_db(), match.refresh_from_db()
    assert case.customer == yamada
    assert Customer.objects.get(pk=match.customer_id).merged_into == yamada
    assert match.state == MatchState.MERGED and match.decided_by == agent and match.decided_at is not None
    assert "注文番号 ORD-2026-004512 が一致" in match.note
    event = AuditEvent.objects.get(case=case, action="same_person_merged")
    assert event.actor == agent and event.changes == {"customer": [match.customer_id, yamada.pk]}
    html = side(client, case)
    assert TRACKING in html and "定期便の解約と返金について" in html
    assert "本人確認前" not in html
    assert "ご本人と確認して既存のお客様に統合" in client.get(f"/cases/{case.pk}/").content.decode()


def test_merging_needs_a_word_on_how_the_visitor_was_verified(client, yamada):
    client.force_login(UserFactory())
    case = visitor_case()
    match = PossibleMatch.objects.get()
    response = client.post(f"/customers/same-person/{match.pk}/confirm/", {"note": "　 ", "case": case.pk}, follow=True)
    assert "どのようにご本人と確認したかを入力してください" in response.content.decode()
    case.refresh_from_db(), match.refresh_from_db()
    assert case.customer != yamada and match.state == MatchState.UNCONFIRMED
    assert not AuditEvent.objects.filter(action="same_person_merged").exists()


def test_dismissing_keeps_the_records_apart_and_is_recorded(client, yamada):
    agent = UserFactory(display_name="鈴木 一郎")
    client.force_login(agent)
    case = visitor_case(name="山田 花子")
    match = PossibleMatch.objects.get()
    response = client.post(f"/customers/same-person/{match.pk}/dismiss/", {"case": case.pk})
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    case.refresh_from_db(), match.refresh_from_db()
    assert case.customer.name == "山田 花子" and case.customer.merged_into is None
    assert match.state == MatchState.DISMISSED and match.decided_by == agent and match.decided_at is not None
    assert AuditEvent.objects.get(case=case, action="same_person_dismissed").actor == agent
    html = side(client, case)
    assert "別の方と判断したため" in html and "鈴木 一郎" in html
    assert "ご本人と確認できたので統合する" not in html and TRACKING not in html


def test_a_decided_link_cannot_be_decided_again(yamada):
    agent = UserFactory()
    case = visitor_case()
    match = PossibleMatch.objects.get()
    do_dismiss_same_person(match.pk, user=agent)
    with pytest.raises(MatchError, match="すでに済んでいます"):
        do_confirm_same_person(match.pk, user=agent, note="電話で確認")
    case.refresh_from_db()
    assert case.customer != yamada


def test_merge_goes_to_where_the_existing_customer_was_merged_since(yamada):
    survivor = CustomerFactory(name="山田 太郎（LINE）")
    case = visitor_case()
    do_merge_customers(source=yamada, target=survivor, user=None, note="LINEとメールで同じ方")
    do_confirm_same_person(PossibleMatch.objects.get().pk, user=UserFactory(), note="LINEで本人確認済み")
    case.refresh_from_db()
    assert case.customer == survivor


def test_the_buttons_need_a_signed_in_staff_member_and_a_post(client, yamada):
    case = visitor_case()
    match = PossibleMatch.objects.get()
    response = client.post(f"/customers/same-person/{match.pk}/confirm/", {"note": "確認しました", "case": case.pk})
    assert response.status_code == 302 and "/login" in response.url
    client.force_login(UserFactory())
    assert client.get(f"/customers/same-person/{match.pk}/dismiss/").status_code == 405
    match.refresh_from_db(), case.refresh_from_db()
    assert match.state == MatchState.UNCONFIRMED and case.customer != yamada


def test_the_visitors_customer_page_warns_too(client, yamada):
    client.force_login(UserFactory())
    case = visitor_case()
    html = client.get(f"/customers/{case.customer_id}/").content.decode()
    assert "『山田 太郎』と同じです（本人確認前）" in html
    assert TRACKING not in html


def test_the_warning_is_translated_for_staff_who_chose_english(client, yamada):
    client.force_login(UserFactory())
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    html = side(client, visitor_case())
    assert "is the same as that of the existing customer \"山田 太郎\" (not verified)" in html.replace("&quot;", '"')
    assert "Verified: merge" in html and "入力されたメールアドレス" not in html
