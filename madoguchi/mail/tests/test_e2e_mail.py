"""End to end in Chromium: a customer's mail becomes a case, the agent replies on the case
page, the customer's answer with quoted history joins the same case with the quote folded."""

from __future__ import annotations

import email
import smtplib

import pytest

from madoguchi.cases.models import Case
from madoguchi.conftest import login, screenshot
from madoguchi.mail.models import RawMessage, RawState
from madoguchi.mail.parsing import parse_message
from madoguchi.mail.smtpd import make_controller
from madoguchi.mail.tests.conftest import free_port, wait_for
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


def send(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("hanako@example.jp", ["support@shop.example.jp"], raw)


def test_mail_to_case_reply_and_threaded_answer_in_chromium(new_page, smtp_sink) -> None:
    agent = UserFactory(username="mail-e2e", email="agent@shop.example.jp")
    receiver = make_controller("127.0.0.1", free_port())
    receiver.start()
    try:
        send(receiver.port, japanese_mail(subject="①番の急須が割れていました", sender="hanako@example.jp", name="佐藤 花子",
                                          body="本日届いた南部鉄器の急須の蓋が割れていました。交換できますか。", message_id="<first@example.jp>"))
        row = wait_for(lambda: RawMessage.objects.filter(message_id="<first@example.jp>", state=RawState.PARSED).first())
        case = Case.objects.get(pk=row.case_id)
        page = new_page()
        login(page, agent.username)
        page.goto(f"/cases/{case.pk}/")
        assert page.locator("h1").inner_text().endswith("①番の急須が割れていました")
        assert page.locator("text=蓋が割れていました").count() >= 1
        page.fill("#reply-body", "ご迷惑をおかけし申し訳ございません。新しい急須を本日発送いたします。")
        page.click("button:has-text('返信する')")
        page.wait_for_url(f"**/cases/{case.pk}/")
        sent = wait_for(lambda: [email.message_from_bytes(raw) for raw in smtp_sink.received
                                 if parse_message(raw).subject.startswith("Re: ①番の急須")])
        our_id = sent[0]["Message-ID"]
        assert sent[0]["In-Reply-To"] == "<first@example.jp>"
        answer = japanese_mail(
            subject="Re: ①番の急須が割れていました", sender="hanako@example.jp", name="佐藤 花子", message_id="<second@example.jp>",
            headers={"In-Reply-To": our_id, "References": f"<first@example.jp> {our_id}"},
            body="ありがとうございます。到着を待っています。\n\n2026年11月23日(月) 10:00 窓口ショップ <support@shop.example.jp>:\n"
                 "> ご迷惑をおかけし申し訳ございません。\n> 新しい急須を本日発送いたします。\n",
        )
        send(receiver.port, answer)
        second = wait_for(lambda: RawMessage.objects.filter(message_id="<second@example.jp>", state=RawState.PARSED).first())
        assert second.case_id == case.pk and Case.objects.count() == 1
        page.reload()
        entry = page.locator("li.entry", has_text="到着を待っています")
        assert entry.count() == 1
        quote = entry.locator("details.mail-quote")
        assert quote.count() == 1 and not quote.get_attribute("open")
        assert not entry.locator("text=新しい急須を本日発送いたします").first.is_visible()  # folded away
        screenshot(page, "mail-thread-folded")
        quote.locator("summary").click()
        assert entry.locator("text=新しい急須を本日発送いたします").first.is_visible()
        assert page.locator("[data-testid=mail-delivery]").first.inner_text().startswith("✉ 送信済み")
    finally:
        receiver.stop()
