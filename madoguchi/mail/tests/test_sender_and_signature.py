"""How the shop's mail looks to the customer, read back from a real SMTP sink (aiosmtpd):
the subject of a first mail, the From display name, signatures, and how receipts address people."""

from __future__ import annotations

import email
import email.header
from email.message import Message

import pytest

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.cases.models import Channel, InteractionKind, Status
from madoguchi.cases.services import do_send_reply
from madoguchi.cases.tests.test_bad_input import new_case_data
from madoguchi.chat.public import do_contact
from madoguchi.customers.models import Customer
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import Mailbox, OutboundKind, OutboundMessage
from madoguchi.mail.tests.conftest import wait_for
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import UserFactory, category

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]

SHOP_SIGNATURE = "――――――――\nこもれび堂 カスタマーサポート\n担当: {agent_name}\n{agent_signature}\nTEL 03-1234-5678（平日 10:00〜18:00）"


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox.objects.create(name="こもれび堂 カスタマーサポート", address="support@komorebi.example.jp",
                                  shop_name="こもれび堂", signature=SHOP_SIGNATURE)


@pytest.fixture
def agent():  # type: ignore[no-untyped-def]
    return UserFactory(username="sato", display_name="佐藤 花子", email="sato@komorebi.example.jp",
                       signature="返品・交換担当 佐藤 花子（内線 204）")


def received(sink, row: OutboundMessage) -> Message:  # type: ignore[no-untyped-def]
    """The one mail of this outbox row that the sink took."""
    def found() -> list[Message]:
        return [m for m in (email.message_from_bytes(raw) for raw in list(sink.received)) if str(m["Message-ID"]).strip() == row.message_id]  # a long one is folded

    [message] = wait_for(found, timeout=5)
    return message


def header(message: Message, name: str) -> str:
    return str(email.header.make_header(email.header.decode_header(message[name])))


def text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8").replace("\r\n", "\n")


def test_first_mail_of_a_form_case_has_the_shops_subject_and_later_replies_thread(
        smtp_sink, mailbox, agent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = do_contact(name="山田 太郎", email="taro@example.jp", category=category(), order_number="",
                          message="注文した急須の蓋が割れていました。交換できますか。")
    receipt = OutboundMessage.objects.get(case=case)
    first = received(smtp_sink, receipt)
    assert header(first, "Subject") == f"【こもれび堂】お問い合わせの件 [#{case.pk}]"
    assert first["In-Reply-To"] is None

    with django_capture_on_commit_callbacks(execute=True):
        answer = do_send_reply(case, actor=agent, body="ご不便をおかけして申し訳ございません。新しい急須をお送りします。")
    reply = received(smtp_sink, OutboundMessage.objects.get(interaction=answer))
    assert header(reply, "Subject") == f"【こもれび堂】お問い合わせの件 [#{case.pk}]"  # still no 「Re:」: nothing of theirs answered
    assert receipt.message_id in reply["References"]

    customer_mail = japanese_mail(subject=f"Re: 【こもれび堂】お問い合わせの件 [#{case.pk}]", body="ありがとうございます。待っています。",
                                  message_id="<taro-2@example.jp>",
                                  headers={"In-Reply-To": OutboundMessage.objects.get(interaction=answer).message_id})
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(customer_mail, "smtp", mailbox)
    row.refresh_from_db()
    assert row.case_id == case.pk
    with django_capture_on_commit_callbacks(execute=True):
        later = do_send_reply(case, actor=agent, body="本日発送いたしました。")
    third = received(smtp_sink, OutboundMessage.objects.get(interaction=later))
    assert header(third, "Subject") == f"Re: 【こもれび堂】お問い合わせの件 [#{case.pk}]"  # one 「Re:」, one token
    assert third["In-Reply-To"] == "<taro-2@example.jp>"
    assert third["References"].split()[-1] == "<taro-2@example.jp>"


def test_reply_to_a_customers_mail_is_re_their_subject_not_the_cases_title(
        smtp_sink, mailbox, agent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(subject="RE: 商品が届きません", message_id="<m1@example.jp>"), "smtp", mailbox)
    row.refresh_from_db()
    case = row.case
    case.subject = "【要対応】配送遅延・返金検討"  # the desk's own title for it
    case.save(update_fields=["subject"])
    with django_capture_on_commit_callbacks(execute=True):
        answer = do_send_reply(case, actor=agent, body="確認いたします。")
    message = received(smtp_sink, OutboundMessage.objects.get(interaction=answer))
    assert header(message, "Subject") == f"Re: 商品が届きません [#{case.pk}]"
    assert message["In-Reply-To"] == "<m1@example.jp>"


def test_mail_leaves_with_the_shops_display_name_encoded_and_the_signatures(
        smtp_sink, mailbox, agent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(), "smtp", mailbox)
    row.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        answer = do_send_reply(row.case, actor=agent, body="ご不便をおかけして申し訳ございません。")
    message = received(smtp_sink, OutboundMessage.objects.get(interaction=answer))
    assert message["From"].isascii() and "=?utf-8?" in message["From"].lower()  # RFC 2047, UTF-8
    assert header(message, "From") == "こもれび堂 カスタマーサポート <support@komorebi.example.jp>"
    body = text(message)
    assert body.startswith("ご不便をおかけして申し訳ございません。\n\n――――――――\nこもれび堂 カスタマーサポート\n")
    assert "担当: 佐藤 花子\n返品・交換担当 佐藤 花子（内線 204）\nTEL 03-1234-5678" in body  # the agent's inside the shop's
    answer.refresh_from_db()
    assert answer.body.strip() == body.strip()  # the timeline keeps what the customer got


def test_a_signature_without_the_placeholder_gets_the_agents_above_it_and_automatic_mail_only_the_shops(
        smtp_sink, mailbox, agent, django_capture_on_commit_callbacks) -> None:
    mailbox.signature = "こもれび堂 カスタマーサポート\n{agent.__class__} {"
    mailbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(), "smtp", mailbox)
    row.refresh_from_db()
    ack = received(smtp_sink, OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK))
    assert text(ack).rstrip().endswith("こもれび堂 カスタマーサポート\n{agent.__class__} {")  # no agent, nothing evaluated
    with django_capture_on_commit_callbacks(execute=True):
        answer = do_send_reply(row.case, actor=agent, body="承知しました。")
    assert answer.body == "承知しました。\n\n返品・交換担当 佐藤 花子（内線 204）\nこもれび堂 カスタマーサポート\n{agent.__class__} {"
    # The agent pasted the signature already: it is not added twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = do_send_reply(row.case, actor=agent, body=answer.body)
    assert again.body == answer.body


def test_acknowledgement_never_repeats_the_name_a_mail_claims(smtp_sink, mailbox, django_capture_on_commit_callbacks) -> None:
    forged = "【重要】再認証 https://evil.example/login"
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(name=forged, sender="victim@example.jp"), "smtp", mailbox)
    row.refresh_from_db()
    ack = text(received(smtp_sink, OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK)))
    assert ack.startswith("お客様\n") and "evil.example" not in ack


def test_acknowledgement_uses_the_name_staff_took_down(smtp_sink, mailbox, client, django_capture_on_commit_callbacks) -> None:
    """An agent logged a call from 山田 花子 with her address; her mail (whatever name its From
    claims) is acknowledged to 「山田 花子 様」."""
    agent = UserFactory(username="phone-agent", role=Role.AGENT)
    client.force_login(agent)
    response = client.post("/cases/new/", new_case_data(
        customer_name="山田 花子", customer_kana="ヤマダ ハナコ", phone="090-1234-5678", email="hanako@example.jp",
        channel=Channel.PHONE, subject="届いた商品の色が違う", complaint="注文した藍色ではなく緑色のマグカップが届いた。"))
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(identities__value="hanako@example.jp")
    assert customer.name_confirmed and customer.name_confirmed_by == agent
    customer.cases.update(status=Status.CLOSED)  # that call is settled; her next mail opens a case
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(name="はなこ", sender="hanako@example.jp", subject="写真を送ります"), "smtp", mailbox)
    row.refresh_from_db()
    assert row.case.customer_id == customer.pk
    ack = text(received(smtp_sink, OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK)))
    assert ack.startswith("山田 花子 様\n")


def test_form_receipt_says_okyakusama_until_staff_confirm_the_name(
        smtp_sink, mailbox, agent, client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = do_contact(name="http://evil.example 様の口座へ", email="taro@example.jp", category=category(), order_number="",
                          message="返品したいです。")
    receipt = text(received(smtp_sink, OutboundMessage.objects.get(case=case)))
    assert receipt.startswith("お客様\n") and "evil" not in receipt
    client.force_login(agent)
    response = client.post(f"/customers/{case.customer_id}/name/", {"name": "山田 太郎"})
    assert response.status_code == 302
    case.customer.refresh_from_db()
    assert case.customer.name == "山田 太郎" and case.customer.name_confirmed_by == agent
    page = client.get(f"/customers/{case.customer_id}/").content.decode()
    assert "確認済み" in page and "佐藤 花子" in page
    from madoguchi.knowledge.afterhours import compose

    assert compose(case, case.received_at, [], "t").startswith("山田 太郎 様\n")


def test_admin_edits_the_mailbox_sender_and_an_agent_their_own_signature_audited(client, mailbox) -> None:
    admin = UserFactory(username="owner", role=Role.ADMIN)
    agent = UserFactory(username="suzuki", display_name="鈴木 一郎")
    client.force_login(agent)
    assert client.post(f"/settings/mailbox/{mailbox.pk}/", {f"mb{mailbox.pk}-name": "x"}).status_code == 403
    response = client.post("/settings/me/", {"signature": "配送担当 鈴木 一郎"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.signature == "配送担当 鈴木 一郎"
    page = client.get("/settings/me/").content.decode()
    assert "担当: 鈴木 一郎" in page and "配送担当 鈴木 一郎" in page  # the preview in the shop's frame
    mine = SettingsChange.objects.get(actor=agent)
    assert mine.changes == [{"field": "signature", "label": "メールの署名", "old": "", "new": "配送担当 鈴木 一郎"}]

    client.force_login(admin)
    assert "こもれび堂 カスタマーサポート" in client.get("/settings/").content.decode()
    response = client.post(f"/settings/mailbox/{mailbox.pk}/", {
        f"mb{mailbox.pk}-name": "こもれび堂 お客様窓口", f"mb{mailbox.pk}-shop_name": "こもれび堂",
        f"mb{mailbox.pk}-signature": SHOP_SIGNATURE,
    })
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "こもれび堂 お客様窓口"
    change = SettingsChange.objects.filter(actor=admin).get()
    assert change.changes == [{"field": "name", "label": "名前", "old": "こもれび堂 カスタマーサポート", "new": "こもれび堂 お客様窓口"}]


def test_without_a_mailbox_the_settings_page_offers_to_add_the_sender(client, settings) -> None:
    admin = UserFactory(username="owner2", role=Role.ADMIN)
    client.force_login(admin)
    page = client.get("/settings/").content.decode()
    assert settings.DEFAULT_FROM_EMAIL in page and "差出人名も署名もなく" in page
    response = client.post("/settings/mailbox/", {"mbnew-name": "こもれび堂 カスタマーサポート", "mbnew-address": "support@komorebi.example.jp",
                                                  "mbnew-shop_name": "こもれび堂", "mbnew-signature": "こもれび堂"})
    assert response.status_code == 302
    assert Mailbox.objects.get().shop_name == "こもれび堂"
    assert SettingsChange.objects.get(actor=admin).action == "add"


def test_composer_shows_the_signature_a_mail_reply_gets(client, mailbox, agent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(), "smtp", mailbox)
    row.refresh_from_db()
    client.force_login(agent)
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert 'data-testid="mail-signature"' in page and "返品・交換担当 佐藤 花子（内線 204）" in page
    assert row.case.interactions.filter(kind=InteractionKind.OUTBOUND).count() == 0
