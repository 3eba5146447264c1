"""A case forwarded to another department by mail (issue 22 item 5): the mail goes over real SMTP
with the conversation quoted; the department's answer comes back through a real IMAP server
(dovecot), joins the case as an internal entry (never the customer's, never on their status
page), and the case leaves 「他部署の回答待ち」 by itself. The departments list is a settings
page: bad input refused in Japanese with nothing lost, every change audited."""

from __future__ import annotations

import email
from email.message import Message
from email.utils import make_msgid
from typing import Any

import pytest

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.cases.models import Case, InteractionKind, Status
from madoguchi.cases.queues import queue_queryset
from madoguchi.customers.models import Customer
from madoguchi.mail.imap import poll_mailbox
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import (
    Department,
    Forward,
    Mailbox,
    OutboundKind,
    OutboundMessage,
    RawMessage,
    RawState,
)
from madoguchi.mail.tests.conftest import Sink
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.mail.tests.test_mailflow import agent, team  # noqa: F401 - the same desk's people
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def forward_mail(sink: Sink, out: OutboundMessage) -> Message:
    [raw] = [raw for raw in sink.received if email.message_from_bytes(raw)["Message-ID"] == out.message_id]
    return email.message_from_bytes(raw)


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def answer_to(out: OutboundMessage, *, sender: str = "haiso@shop.example.jp", thread: bool = True, **extra: Any) -> bytes:
    headers = {"In-Reply-To": out.message_id, "References": out.message_id} if thread else {}
    return japanese_mail(subject=extra.pop("subject", f"Re: {out.subject}"), sender=sender, name="配送課 高橋",
                         body=extra.pop("body", "確認しました。12月8日にヤマト運輸で再発送済みです（伝票 1234-5678-9012）。"),
                         headers={**headers, **extra.pop("headers", {})}, message_id=make_msgid(domain="shop.example.jp"))


def test_a_forwarded_case_waits_for_the_department_whose_answer_from_imap_joins_it_as_an_internal_entry(
        client, smtp_sink, dovecot, team, agent, django_capture_on_commit_callbacks) -> None:  # noqa: F811
    mailbox = Mailbox(name="こもれび堂 カスタマーサポート", address="support@shop.example.jp", imap_host="127.0.0.1",
                      imap_port=dovecot.port, imap_tls=False, imap_user=dovecot.user)
    mailbox.set_imap_password(dovecot.password)
    mailbox.save()
    haiso = Department.objects.create(name="配送課", address="haiso@shop.example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(body="12月1日に注文した急須がまだ届きません。"), "smtp", mailbox)
    row.refresh_from_db()
    case = row.case
    Case.objects.filter(pk=case.pk).update(assignee=agent, status=Status.OPEN, team=team)
    customers = Customer.objects.count()

    client.force_login(agent)
    refused = client.post(f"/mail/cases/{case.pk}/forward/", {"fw-address": "haiso at shop", "fw-note": "配送状況を確認してください"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "宛先 の「haiso」はメールアドレスとして正しくありません" in page and "配送状況を確認してください</textarea>" in page
    neither = client.post(f"/mail/cases/{case.pk}/forward/", {"fw-note": "配送状況を確認してください"})
    assert "転送先の部署を選ぶか、宛先のメールアドレスを入力してください" in neither.content.decode()
    assert not Forward.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/mail/cases/{case.pk}/forward/", {"fw-department": haiso.pk, "fw-note": "配送状況を確認してください"})
    assert response.status_code == 302
    forward = Forward.objects.get()
    case.refresh_from_db()
    assert case.status == Status.WAITING_DEPT
    assert list(queue_queryset("waiting_dept", agent)) == [case]
    out = forward.outbound
    assert out is not None and out.kind == OutboundKind.FORWARD and out.to_address == "haiso@shop.example.jp"
    out.refresh_from_db()
    assert out.state == "sent", out.last_error
    sent = forward_mail(smtp_sink, out)
    text = body_of(sent)
    assert "配送状況を確認してください" in text and "> 12月1日に注文した急須がまだ届きません。" in text
    assert f"[fw:{forward.token}]" in str(email.header.make_header(email.header.decode_header(sent["Subject"])))
    assert sent["Reply-To"] == "support@shop.example.jp" and sent["Auto-Submitted"] is None
    assert "他部署（配送課 <haiso@shop.example.jp>）に転送しました" in case.interactions.get(kind=InteractionKind.SYSTEM).body

    # The department answers (their mail program keeps In-Reply-To); it reaches the desk by IMAP.
    dovecot.append(answer_to(out))
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_mailbox(mailbox).stored == 1
    raw = RawMessage.objects.get(source="imap")
    assert (raw.state, raw.case_id) == (RawState.PARSED, case.pk)
    note = case.interactions.get(kind=InteractionKind.NOTE)
    assert note.body.startswith("他部署からの回答（配送課 高橋 <haiso@shop.example.jp>、転送先 haiso@shop.example.jp）")
    assert "伝票 1234-5678-9012" in note.body
    assert Customer.objects.count() == customers and Case.objects.count() == 1  # nothing opened for the department
    assert not case.interactions.filter(kind=InteractionKind.INBOUND).exclude(pk=row.interaction_id).exists()
    case.refresh_from_db()
    assert case.status == Status.OPEN and not list(queue_queryset("waiting_dept", agent))
    forward.refresh_from_db()
    assert forward.answered_at is not None and forward.answer == note
    assert "他部署（配送課）から回答が届きました" in Notification.objects.get(user=agent, kind="department_answered").text
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REPLY).exists()  # nothing to the customer

    assert "伝票 1234-5678-9012" in client.get(f"/cases/{case.pk}/").content.decode()
    part = client.get(f"/mail/cases/{case.pk}/forward/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="forward-answered"' in part and "<html" not in part

    # Not on the customer's status page.
    from madoguchi.progress import services as progress

    link = progress.do_get_link(case, actor=agent)
    public = client.get(progress.url_for(link).replace("http://127.0.0.1:8000", "")).content.decode()
    assert "伝票 1234-5678-9012" not in public and "配送状況を確認" not in public


def test_an_answer_without_threading_headers_joins_by_the_token_and_a_stranger_does_not(
        client, smtp_sink, team, agent, django_capture_on_commit_callbacks) -> None:  # noqa: F811
    mailbox = Mailbox.objects.create(name="窓口", address="support@shop.example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(), "smtp", mailbox)
    row.refresh_from_db()
    case = row.case
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/mail/cases/{case.pk}/forward/", {"fw-address": "keiri@shop.example.jp", "fw-note": "返金済みか確認ください"})
    forward = Forward.objects.get()
    assert forward.department is None and forward.to_address == "keiri@shop.example.jp"
    assert forward.outbound is not None

    # A webmail that drops In-Reply-To: the token in the subject is enough. Filed with other mail.
    with django_capture_on_commit_callbacks(execute=True):
        do_ingest_raw(answer_to(forward.outbound, sender="keiri@shop.example.jp", thread=False), "smtp", mailbox)
        do_ingest_raw(japanese_mail(sender="other@example.jp", subject="別件です", body="別の注文の件です。"), "smtp", mailbox)
    case.refresh_from_db()
    assert case.interactions.filter(kind=InteractionKind.NOTE).count() == 1
    assert case.status != Status.WAITING_DEPT
    assert Case.objects.count() == 2  # the other sender's own case, nothing for the department

    # Guessing another token does nothing special: a new case of its own.
    with django_capture_on_commit_callbacks(execute=True):
        do_ingest_raw(japanese_mail(sender="x@evil.example", subject=f"Re: [#{case.pk}] [fw:0123456789abcdef]"), "smtp", mailbox)
    assert case.interactions.filter(kind=InteractionKind.NOTE).count() == 1
    assert Case.objects.count() == 3


def test_departments_are_kept_on_their_settings_page_bad_input_refused_and_every_change_audited(client) -> None:
    admin = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(UserFactory(username="agent"))
    assert client.get("/settings/departments/").status_code == 403
    client.force_login(admin)
    bad = client.post("/settings/departments/", {"dep-name": "配送課", "dep-address": "haiso@@shop", "dep-active": "on"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "メールアドレスとして正しくありません" in page and 'value="配送課"' in page
    assert not Department.objects.exists() and not SettingsChange.objects.exists()
    assert client.post("/settings/departments/", {"dep-name": "配送課", "dep-address": "haiso@shop.example.jp",
                                                  "dep-active": "on"}).status_code == 302
    same = client.post("/settings/departments/", {"dep-name": "配送課", "dep-address": "b@shop.example.jp"})
    assert same.status_code == 400 and "同じ名前の部署がすでにあります" in same.content.decode()
    department = Department.objects.get()
    assert client.post(f"/settings/departments/{department.pk}/", {"dep-name": "配送課", "dep-address": "butsuryu@shop.example.jp",
                                                                   "dep-active": "on"}).status_code == 302
    assert client.post(f"/settings/departments/{department.pk}/delete/").status_code == 302
    assert list(SettingsChange.objects.order_by("pk").values_list("action", flat=True)) == ["add", "change", "delete"]
    change = SettingsChange.objects.get(action="change")
    assert {"old": "haiso@shop.example.jp", "new": "butsuryu@shop.example.jp"}.items() <= change.changes[0].items()
