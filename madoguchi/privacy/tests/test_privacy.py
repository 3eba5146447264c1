"""Personal data (APPI, issue 21): `madoguchi export-customer` gives everything about a person as
JSON; `madoguchi erase-customer` removes the person and keeps the cases' facts; both audited, both
also on the customer page for admins."""

from __future__ import annotations

import io
import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import AccessEvent, AccessKind, Role
from madoguchi.cases.models import (
    Case,
    CaseLink,
    CommitmentState,
    Compensation,
    CompensationState,
    Interaction,
)
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.knowledge.models import SearchDoc
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import Attachment, RawMessage
from madoguchi.privacy.services import ERASED
from madoguchi.testing.factories import CommitmentFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open", "huey_immediate")]
BODY = "11月20日に注文した有田焼の湯呑みが割れて届きました。写真を添付します。090-1234-5678 までご連絡ください。"


def mail_with_photo() -> bytes:
    msg = EmailMessage()
    msg["From"] = "山田 花子 <hanako.yamada@example.jp>"
    msg["To"] = "support@shop.example.jp"
    msg["Subject"] = "湯呑みが割れていました"
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(domain="example.jp")
    msg.set_content(BODY)
    msg.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 64, maintype="image", subtype="png", filename="湯呑み.png")
    return bytes(msg)


@pytest.fixture
def person():
    row, _ = do_ingest_raw(mail_with_photo(), "test")
    row.refresh_from_db()
    case = row.case
    customer = case.customer
    Identity.objects.create(customer=customer, kind=IdentityKind.PHONE, value="09012345678")
    order = OrderFactory(customer=customer, number="ORD-2026-004321", amount_yen=3300)
    Case.objects.filter(pk=case.pk).update(order=order)
    CommitmentFactory(case=case, description="代わりの湯呑みを発送する", state=CommitmentState.KEPT)
    Compensation.objects.create(case=case, kind="refund", amount_yen=3300, reason="破損のため返金", state=CompensationState.GRANTED)
    attachment = Attachment.objects.get(raw_message=row)
    assert attachment.file and Path(attachment.file.path).exists()
    return customer, case, attachment


class Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def madoguchi(*args: str) -> Done:
    """The command as `madoguchi NAME …` runs it (a CommandError is its message and exit 1)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return Done(1, out.getvalue(), str(error))
    return Done(0, out.getvalue(), err.getvalue())


def test_export_has_everything_about_the_person(person):
    customer, case, attachment = person
    done = madoguchi("export-customer", "Hanako.Yamada@example.jp")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["customer"]["id"] == customer.pk
    assert {(i["kind"], i["value"]) for i in data["identities"]} == {("email", "hanako.yamada@example.jp"), ("phone", "09012345678")}
    assert [o["number"] for o in data["orders"]] == ["ORD-2026-004321"]
    (exported,) = data["cases"]
    assert exported["number"] == case.number and BODY in exported["interactions"][0]["body"]
    assert exported["attachments"] == [{"source": "mail", "name": "湯呑み.png", "content_type": "image/png",
                                        "size": attachment.size, "file": attachment.file.name}]
    assert exported["commitments"][0]["state"] == "kept" and exported["compensations"][0]["amount_yen"] == 3300
    assert AccessEvent.objects.filter(kind=AccessKind.EXPORT, detail__contains=f"#{customer.pk}").exists()
    # By number, and a phone number as written; someone unknown is a clear error.
    assert json.loads(madoguchi("export-customer", "090-1234-5678").stdout)["customer"]["id"] == customer.pk
    unknown = madoguchi("export-customer", "nobody@example.jp")
    assert unknown.returncode != 0 and "お客様が見つかりません" in unknown.stderr


def test_erase_refuses_without_yes_then_removes_the_person_and_keeps_the_facts(person):
    customer, case, attachment = person
    path = Path(attachment.file.path)
    refused = madoguchi("erase-customer", str(customer.pk))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert Identity.objects.filter(customer=customer).count() == 2
    assert "湯呑み" in json.dumps(list(SearchDoc.objects.values("body")), ensure_ascii=False)  # indexed before
    other = Case.objects.create(customer=OrderFactory().customer, subject="同じ便で破損", channel="email",
                                category=case.category, received_at=timezone.now())
    link = CaseLink.objects.create(case_a=case, case_b=other, note="山田 花子様と同じ便の破損")

    done = madoguchi("erase-customer", "hanako.yamada@example.jp", "--yes")
    assert done.returncode == 0, done.stderr
    assert "消去しました" in done.stdout
    customer.refresh_from_db()
    case.refresh_from_db()
    assert customer.name == ERASED and not Identity.objects.filter(customer=customer).exists()
    assert set(Interaction.objects.filter(case=case).values_list("body", flat=True)) == {ERASED}
    assert case.complaint == ERASED and case.subject == ERASED
    raw = RawMessage.objects.get(case=case)
    assert bytes(raw.raw) == b"" and raw.from_address == "" and not Attachment.objects.filter(raw_message=raw).exists()
    assert not path.exists()
    # The facts stay: category, dates, the order's amount, the promise's state, the refund.
    assert case.category_id is not None and case.received_at is not None and case.order.amount_yen == 3300
    assert case.commitments.get().state == CommitmentState.KEPT
    assert case.compensations.get().amount_yen == 3300
    everything = json.dumps(list(SearchDoc.objects.values("title", "body", "tokens")), ensure_ascii=False)
    assert "hanako" not in everything and "湯呑み" not in everything
    assert AccessEvent.objects.filter(kind=AccessKind.ERASE, detail__contains=f"#{customer.pk}").exists()
    assert case.audit_events.filter(action="personal_data_erased").exists()
    link.refresh_from_db()
    assert link.note == ERASED  # a related case's note may name her


def test_admins_export_and_erase_from_the_customer_page(client, person):
    customer, case, _attachment = person
    agent = UserFactory(username="agent")
    client.force_login(agent)
    assert client.get(reverse("privacy:export", args=[customer.pk])).status_code == 403
    assert "個人データを書き出す" not in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    owner = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(owner)
    assert "個人データを書き出す" in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    download = client.get(reverse("privacy:export", args=[customer.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}.json"'
    assert json.loads(download.content)["cases"][0]["number"] == case.number
    assert AccessEvent.objects.get(kind=AccessKind.EXPORT).actor == owner
    wrong = client.post(reverse("privacy:erase", args=[customer.pk]), {"confirm": "0"}, follow=True)
    assert "お客様番号を入力してください" in wrong.content.decode()
    customer.refresh_from_db()
    assert customer.name != ERASED
    client.post(reverse("privacy:erase", args=[customer.pk]), {"confirm": str(customer.pk)})
    customer.refresh_from_db()
    assert customer.name == ERASED
    assert AccessEvent.objects.get(kind=AccessKind.ERASE).actor == owner
