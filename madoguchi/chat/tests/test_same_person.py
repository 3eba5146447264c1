"""Chat and public-form visitors who type an address that already belongs to a customer land
on a record of their own (security review finding 10), and where the staff's mail then goes."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import do_send_reply
from madoguchi.chat import services, spam
from madoguchi.chat.models import Feedback
from madoguchi.customers.models import Customer, Identity, IdentityKind, MatchState, PossibleMatch
from madoguchi.customers.services import do_confirm_same_person, do_dismiss_same_person
from madoguchi.mail.models import OutboundMessage, OutboundState
from madoguchi.testing.factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def kato() -> Customer:
    customer = CustomerFactory(name="加藤 恵子", kana="カトウ ケイコ")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="keiko@example.jp")
    OrderFactory(customer=customer, number="ORD-2026-000777", tracking_number="498765432101")
    CaseFactory(customer=customer, subject="バスタオルの色違い")
    return customer


def old_stamp(seconds: float = 30) -> str:
    from django.core import signing

    return signing.dumps(time.time() - seconds, salt=spam.SALT)


def chat(email: str, name: str = "加藤 恵子", text: str = "注文した商品の配送状況を教えてください") -> services.Posted:
    return services.do_customer_message(services.start_session(email=email, name=name), client_id="c1", text=text)


def test_the_first_chat_visitor_of_an_address_owns_it_and_a_second_one_gets_a_record_of_their_own(django_capture_on_commit_callbacks):
    from madoguchi.mail.ingest import do_ingest_raw
    from madoguchi.mail.tests.helpers import japanese_mail

    first = chat("yumi@example.jp", name="中村 由美").session.case
    assert Identity.objects.get(value="yumi@example.jp").customer == first.customer
    with django_capture_on_commit_callbacks(execute=True):
        raw, _created = do_ingest_raw(japanese_mail(sender="yumi@example.jp", name="中村 由美", subject="チャットの続きです"), "smtp")
    raw.refresh_from_db()
    assert raw.case.customer == first.customer  # a later mail from the address joins its owner
    second = chat("Yumi@Example.jp", name="なかむら").session.case
    assert second.customer != first.customer and second.customer.name == "なかむら"
    assert PossibleMatch.objects.get().existing == first.customer


def test_a_chat_visitor_typing_a_customers_address_does_not_land_on_their_record(kato):
    posted = chat("KEIKO@example.jp")
    case = posted.session.case
    assert case.customer != kato and not case.customer.orders.exists()
    services.do_customer_message(posted.session, client_id="c2", text="問い合わせ番号も教えてください")
    assert kato.cases.count() == 1  # only their own old case; the stranger's words are not in their history
    assert Interaction.objects.filter(case__customer=kato, body__contains="問い合わせ番号も").count() == 0
    match = PossibleMatch.objects.get(customer=case.customer)
    assert (match.existing, match.channel, match.state) == (kato, "chat", MatchState.UNCONFIRMED)


def post_contact(client, email: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("chat:contact_form"), {
        "name": "加藤 恵子", "email": email, "order_number": "", "message": "届いたタオルの色が注文と違います。",
        "stamp": old_stamp()}, REMOTE_ADDR="203.0.113.5")


def post_offline(client, email: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("chat:widget_offline"), {"name": "加藤 恵子", "email": email, "message": "返品したいです。"},
                       HTTP_ORIGIN="http://shop.example.jp")


def post_feedback(client, email: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("chat:feedback_form"), {"rating": 1, "comment": "返信が遅すぎます。", "email": email,
                                                       "stamp": old_stamp()})


def case_of_the_post(form: str) -> Case:
    if form == "feedback":
        return Feedback.objects.get().case
    return Case.objects.exclude(subject="バスタオルの色違い").get()


@pytest.mark.parametrize(("form", "post", "channel"), [
    ("contact", post_contact, "form"), ("offline", post_offline, "chat"), ("feedback", post_feedback, "form"),
])
def test_each_public_form_with_a_customers_address_gets_a_record_of_its_own(client, kato, form, post, channel):
    assert post(client, "keiko@example.jp").status_code == 200
    case = case_of_the_post(form)
    assert case.customer != kato and case.customer.merged_into is None
    assert PossibleMatch.objects.get(customer=case.customer, existing=kato).channel == channel


def test_receipt_and_replies_go_to_the_typed_address_so_only_its_owner_reads_them(client, kato):
    post_contact(client, "Keiko@Example.jp")
    case = case_of_the_post("contact")
    receipt = OutboundMessage.objects.get(case=case)
    assert receipt.to_address == "keiko@example.jp"
    reply = do_send_reply(case, actor=UserFactory(), body="色違いの件、交換品を本日発送いたします。")
    row = OutboundMessage.objects.get(interaction=reply)
    assert row.to_address == "keiko@example.jp" and row.state == OutboundState.PENDING


def test_once_staff_judge_the_visitor_someone_else_no_mail_goes_to_that_address(client, kato):
    post_offline(client, "keiko@example.jp")
    case = case_of_the_post("offline")
    agent = UserFactory()
    do_dismiss_same_person(PossibleMatch.objects.get().pk, user=agent, note="お名前もご住所も一致しません")
    reply = do_send_reply(case, actor=agent, body="返品の手順をご案内します。")
    assert reply.channel == Channel.EMAIL
    row = OutboundMessage.objects.get(interaction=reply)
    assert row.state == OutboundState.FAILED and row.to_address == ""
    assert "ご本人ではないと判断" in row.last_error


def test_after_the_merge_replies_go_to_the_customers_own_address(client, kato):
    post_offline(client, "keiko@example.jp")
    case = case_of_the_post("offline")
    agent = UserFactory()
    do_confirm_same_person(PossibleMatch.objects.get().pk, user=agent, note="直近の注文番号とお届け先で確認")
    case.refresh_from_db()
    reply = do_send_reply(case, actor=agent, body="返品の手順をご案内します。")
    assert case.customer == kato
    assert OutboundMessage.objects.get(interaction=reply).to_address == "keiko@example.jp"
    assert kato.orders.count() == 1 and kato.cases.count() == 2
    assert Interaction.objects.filter(case=case, kind=InteractionKind.INBOUND).exists()
