"""Issue 19 item 4: contacts of any kind are added on the customer page (not only in the
admin); one another customer holds is linked unconfirmed, as an address typed by the public
is, and merged from the page once staff have checked."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import AuditEvent
from madoguchi.customers.models import Customer, Identity, IdentityKind, MatchState, PossibleMatch
from madoguchi.testing.factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
LINE_ID = "U4af4980629f6f0a8b0f8e5a9e1a2b3c4"


@pytest.fixture
def agent_client(client):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(display_name="田中 健太"))
    return client


def add(client, customer: Customer, kind: str, value: str):  # type: ignore[no-untyped-def]
    return client.post(f"/customers/{customer.pk}/identities/", {"kind": kind, "value": value})


@pytest.mark.parametrize(("kind", "typed", "stored"), [
    (IdentityKind.EMAIL, "Ｈａｎａｋｏ＠Example.jp", "hanako@example.jp"),
    (IdentityKind.PHONE, "０９０－１１１１－２２２２", "09011112222"),
    (IdentityKind.LINE, LINE_ID, LINE_ID),
    (IdentityKind.X, "@Hanako_Komorebi", "hanako_komorebi"),
])
def test_a_contact_nobody_holds_is_added_from_the_customer_page(agent_client, kind, typed, stored):
    customer = CustomerFactory(name="佐藤 花子")
    case = CaseFactory(customer=customer)
    response = add(agent_client, customer, kind, typed)
    assert response.status_code == 302
    assert Identity.objects.get(customer=customer, kind=kind).value == stored
    page = agent_client.get(response["Location"]).content.decode()
    assert "連絡先を追加しました" in page
    audit = AuditEvent.objects.get(case=case, action="identity_added")
    assert audit.changes == {"identity": [None, f"{kind}:{stored}"]}


@pytest.mark.parametrize(("kind", "value", "message"), [
    (IdentityKind.LINE, "山田花子", "LINEユーザーIDは「U」と32文字"),
    (IdentityKind.X, "komorebi shop!", "Xのユーザー名は英数字"),
    (IdentityKind.PHONE, "でんわ", "電話番号は数字で"),
    (IdentityKind.EMAIL, "hanako@", "有効なメールアドレス"),
    (IdentityKind.EMAIL, "", "このフィールドは必須です"),
])
def test_a_contact_that_is_not_one_gets_a_japanese_message_and_nothing_changes(agent_client, kind, value, message):
    customer = CustomerFactory(name="佐藤 花子")
    response = add(agent_client, customer, kind, value)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Identity.objects.exists()


def test_a_contact_the_customer_has_already_is_refused_politely(agent_client):
    customer = CustomerFactory(name="佐藤 花子")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="hanako@example.jp")
    response = add(agent_client, customer, IdentityKind.EMAIL, "HANAKO@example.jp")
    assert response.status_code == 400
    assert "すでにこのお客様に登録されています" in response.content.decode()


def test_another_customers_contact_is_linked_unconfirmed_not_taken(agent_client):
    """The same rule as an address typed by the public: the holder keeps it, the page warns,
    and nothing of the holder's shows until staff have checked."""
    holder = CustomerFactory(name="山田 太郎")
    Identity.objects.create(customer=holder, kind=IdentityKind.LINE, value=LINE_ID)
    OrderFactory(customer=holder, number="ORD-2026-004512", tracking_number="438912345670")
    customer = CustomerFactory(name="やまだ")
    case = CaseFactory(customer=customer)
    response = add(agent_client, customer, IdentityKind.LINE, LINE_ID)
    assert response.status_code == 302
    assert Identity.objects.get(kind=IdentityKind.LINE).customer == holder
    match = PossibleMatch.objects.get()
    assert (match.customer, match.existing, match.kind, match.state) == (customer, holder, IdentityKind.LINE, MatchState.UNCONFIRMED)
    assert AuditEvent.objects.filter(case=case, action="identity_claimed").exists()
    page = agent_client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"追加したLINE「{LINE_ID}」は既存のお客様『山田 太郎』の連絡先です（本人確認前）" in page
    assert "438912345670" not in page and "ORD-2026-004512" not in page
    # the case page warns too
    side = agent_client.get(f"/cases/{case.pk}/parts/side/").content.decode()
    assert 'data-testid="same-person-warning"' in side
    # adding it again does not make a second link
    assert add(agent_client, customer, IdentityKind.LINE, LINE_ID).status_code == 400
    assert PossibleMatch.objects.count() == 1


def test_after_checking_the_agent_merges_from_the_customer_page(agent_client):
    holder = CustomerFactory(name="山田 太郎")
    Identity.objects.create(customer=holder, kind=IdentityKind.X, value="yamada_t")
    customer = CustomerFactory(name="やまだ")
    Identity.objects.create(customer=customer, kind=IdentityKind.PHONE, value="09011112222")
    case = CaseFactory(customer=customer)
    add(agent_client, customer, IdentityKind.X, "@Yamada_T")
    match = PossibleMatch.objects.get()
    assert agent_client.post(f"/customers/same-person/{match.pk}/confirm/", {"note": ""}).status_code == 302
    assert Customer.objects.get(pk=customer.pk).merged_into is None  # a reason is required
    response = agent_client.post(f"/customers/same-person/{match.pk}/confirm/", {"note": "Xのダイレクトメッセージで注文番号を確認"})
    assert response["Location"] == f"/customers/{holder.pk}/"
    customer.refresh_from_db(), case.refresh_from_db()
    assert customer.merged_into == holder and case.customer == holder
    assert set(holder.identities.values_list("kind", "value")) == {(IdentityKind.X, "yamada_t"), (IdentityKind.PHONE, "09011112222")}


def test_several_waiting_links_are_all_shown(agent_client):
    first, second = CustomerFactory(name="山田 太郎"), CustomerFactory(name="山田 次郎")
    Identity.objects.create(customer=first, kind=IdentityKind.EMAIL, value="taro@example.jp")
    Identity.objects.create(customer=second, kind=IdentityKind.PHONE, value="0312345678")
    customer = CustomerFactory(name="やまだ")
    add(agent_client, customer, IdentityKind.EMAIL, "taro@example.jp")
    add(agent_client, customer, IdentityKind.PHONE, "03-1234-5678")
    page = agent_client.get(f"/customers/{customer.pk}/").content.decode()
    assert page.count('data-testid="same-person-warning"') == 2
    assert "『山田 太郎』" in page and "『山田 次郎』" in page
    assert "メールでの返信はこのアドレスに届きます。" in page


def test_a_merged_customers_page_cannot_take_contacts(agent_client):
    target, source = CustomerFactory(), CustomerFactory()
    source.merged_into = target
    source.save()
    response = add(agent_client, source, IdentityKind.EMAIL, "x@example.jp")
    assert response.status_code in (302, 400)
    assert not Identity.objects.filter(customer=source).exists()


def test_adding_needs_a_signed_in_staff_member_and_a_post(client):
    customer = CustomerFactory()
    assert client.post(f"/customers/{customer.pk}/identities/", {"kind": "email", "value": "a@example.jp"}).status_code == 302
    assert not Identity.objects.exists()
    client.force_login(UserFactory())
    assert client.get(f"/customers/{customer.pk}/identities/").status_code == 405
