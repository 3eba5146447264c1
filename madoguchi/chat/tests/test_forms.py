"""The public contact and feedback forms: a case, a receipt, spam checks, safe embedding."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.chat import spam
from madoguchi.chat.models import Feedback, FormAttachment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def old_stamp(seconds: float = 30) -> str:
    from django.core import signing

    return signing.dumps(time.time() - seconds, salt=spam.SALT)


def contact(client, **extra):
    data = {"name": "加藤 恵子", "email": "keiko@example.jp", "order_number": "ORD-2026-000123",
            "message": "届いたタオルの色が注文と違います。", "stamp": old_stamp(), **extra}
    return client.post(reverse("chat:contact_form"), data, REMOTE_ADDR=extra.pop("ip", "203.0.113.5"))


def test_contact_form_creates_a_case_with_attachments_and_an_email_receipt(client):
    photo = SimpleUploadedFile("towel.png", PNG, content_type="image/png")
    response = contact(client, attachments=[photo])
    assert response.status_code == 200, response.content.decode()
    case = Case.objects.get()
    assert case.channel == Channel.FORM and case.fact_order_number == "ORD-2026-000123"
    assert case.number in response.content.decode()
    assert FormAttachment.objects.get(case=case).content_type == "image/png"
    receipt = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND)
    assert receipt.channel == Channel.EMAIL and case.number in receipt.body


def test_contact_form_refuses_a_disguised_executable(client):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff", content_type="image/png")
    response = contact(client, attachments=[fake])
    assert response.status_code == 400
    assert "この種類のファイルは送れません" in response.content.decode()
    assert not Case.objects.exists()


def test_a_form_sent_faster_than_a_person_can_type_is_refused(client):
    response = contact(client, stamp=spam.stamp())
    assert response.status_code == 400
    assert "送信が早すぎます" in response.content.decode()
    assert not Case.objects.exists()


def test_a_filled_honeypot_is_thanked_and_ignored(client):
    response = contact(client, website="http://spam.example")
    assert response.status_code == 200
    assert not Case.objects.exists()


def test_one_address_is_rate_limited(client, settings):
    settings.MADOGUCHI_FORM_PER_IP_PER_HOUR = 2
    assert contact(client).status_code == 200
    assert contact(client).status_code == 200
    refused = contact(client)
    assert refused.status_code == 400 and "送信回数が多すぎます" in refused.content.decode()
    assert Case.objects.count() == 2
    assert contact(client, ip="198.51.100.7").status_code == 200


def test_forms_can_be_framed_by_allowed_shops_only(client):
    response = client.get(reverse("chat:contact_form"))
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors 'self' http://shop.example.jp" in response.headers["Content-Security-Policy"]
    desk = client.get(reverse("login"))
    assert desk.headers["X-Frame-Options"] == "DENY"


def test_low_feedback_with_words_becomes_a_case_and_high_feedback_is_kept(client):
    url = reverse("chat:feedback_form")
    ok = client.post(url, {"rating": 5, "comment": "梱包が丁寧でした。", "stamp": old_stamp()})
    assert ok.status_code == 200 and "ありがとうございました" in ok.content.decode()
    bad = client.post(url, {"rating": 1, "comment": "返信が遅すぎます。", "email": "sho@example.jp", "stamp": old_stamp()})
    assert bad.status_code == 200
    assert Feedback.objects.count() == 2
    case = Feedback.objects.get(rating=1).case
    assert case is not None and case.number in bad.content.decode()
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, channel=Channel.EMAIL).exists()


def test_html_in_a_form_message_is_shown_as_text_on_the_case_page(client, admin_client):
    contact(client, message='<script>alert("x")</script><b>太字</b>')
    case = Case.objects.get()
    page = admin_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


def test_offline_message_from_the_widget_creates_a_case_answered_by_email(client):
    response = client.post(
        reverse("chat:widget_offline"),
        {"name": "小林 誠", "email": "makoto@example.jp", "message": "返品したいです。", "page_url": "http://shop.example.jp/a"},
        HTTP_ORIGIN="http://shop.example.jp",
    )
    assert response.status_code == 200 and response.json()["ok"] is True
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.example.jp"
    case = Case.objects.get()
    assert case.channel == Channel.CHAT
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, channel=Channel.EMAIL).exists()


def test_offline_message_from_a_foreign_site_is_refused(client):
    response = client.post(
        reverse("chat:widget_offline"), {"email": "a@example.jp", "message": "x"}, HTTP_ORIGIN="http://evil.example"
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_the_receipt_repeats_nothing_a_stranger_typed(client):
    phishing = "アカウントがロックされました。https://phish.example/login からログインしてください。"
    assert contact(client, name="サポート窓口 https://phish.example", message=phishing).status_code == 200
    case = Case.objects.get()
    receipt = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND)
    assert "phish.example" not in receipt.body and "ロックされました" not in receipt.body
    assert "phish.example" not in case.subject  # the receipt's subject comes from it
    assert case.number in receipt.body
    assert phishing in case.complaint  # the staff still read every word


def test_receipts_to_one_address_are_limited_per_hour_whatever_the_ip(client, settings):
    settings.MAIL_ACK_PER_SENDER_PER_HOUR = 2
    for n in range(3):
        assert contact(client, ip=f"198.51.100.{n + 1}").status_code == 200
    receipts = Interaction.objects.filter(kind=InteractionKind.OUTBOUND, channel=Channel.EMAIL)
    assert receipts.count() == 2
    third = Case.objects.order_by("-pk").first()
    assert third.interactions.filter(kind=InteractionKind.NOTE, body__contains="受付メールは送っていません").exists()


def test_a_page_address_that_is_not_http_is_not_kept(client):
    client.post(
        reverse("chat:widget_offline"),
        {"email": "makoto@example.jp", "message": "返品したいです。", "page_url": "javascript:alert(document.cookie)//"},
        HTTP_ORIGIN="http://shop.example.jp",
    )
    assert "javascript:" not in Case.objects.get().complaint
    from madoguchi.chat.services import start_session, web_url

    assert start_session(page_url="javascript:alert(1)").page_url == ""
    assert web_url(" https://shop.example.jp/item/1 ") == "https://shop.example.jp/item/1"


def test_a_typed_order_number_never_links_someone_elses_order(client):
    """The order (items, amount, tracking number) is shown to the agent on the case page: a
    visitor who types someone else's order number gets the number kept as typed, not the order.
    A visitor who types an existing customer's address is not that customer until staff verify
    it (customers.PossibleMatch), so their order is not linked either."""
    from madoguchi.testing.factories import CustomerFactory, IdentityFactory, OrderFactory

    someone = CustomerFactory(name="山田 花子")
    IdentityFactory(customer=someone, kind="email", value="hanako@example.jp")
    OrderFactory(customer=someone, number="ORD-2026-000777")

    assert contact(client, order_number="ORD-2026-000777", email="stranger@example.jp").status_code == 200
    assert contact(client, order_number="ORD-2026-000777", email="hanako@example.jp", ip="203.0.113.9").status_code == 200
    for case in Case.objects.all():
        assert case.order is None
        assert case.fact_order_number == "ORD-2026-000777"  # kept as typed, for the agent to check
