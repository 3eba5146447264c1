"""Every customer message is read after it is filed, by the worker: the case gets the category
and priority its agents have not set, the message keeps its kind, anger and what it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.cases.models import AuditEvent, Case, Category, Channel, InteractionKind, Priority
from madoguchi.cases.services import do_add_interaction, do_create_case, do_update_case
from madoguchi.jobs import work
from madoguchi.jobs.models import PendingWork
from madoguchi.mail.ingest import do_ingest_raw, process_raw_messages
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import CustomerFactory, ProductFactory, UserFactory
from madoguchi.triage.models import MessageReading
from madoguchi.triage.services import READ_WORK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open", "huey_immediate", "starter_model")]

ANGRY = (
    "こもれび堂 ご担当者様\n\n注文番号 KM-204518 の土鍋ですが、ヤマトの追跡では一週間前から「輸送中」のまま"
    "まったく届きません。何度問い合わせても返事もない。いい加減にしてください！"
    "今日中に連絡がなければ消費者センターに相談します。\n\n山田"
)


def file_mails(django_capture_on_commit_callbacks, *mails: bytes) -> None:  # type: ignore[no-untyped-def]
    pks = [do_ingest_raw(raw, "smtp", enqueue=False)[0].pk for raw in mails]
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)


def test_a_mail_gets_its_category_priority_and_what_it_names(django_capture_on_commit_callbacks) -> None:
    product = ProductFactory(name="土鍋", sku="DONABE-1")
    file_mails(django_capture_on_commit_callbacks, japanese_mail(subject="届きません", body=ANGRY))
    case = Case.objects.get()
    assert case.category.code == "delivery"  # the mail channel's default was その他
    assert case.priority == Priority.URGENT
    reading = MessageReading.objects.get(interaction__case=case)
    assert reading.kind == "complaint" and reading.anger >= 3
    assert reading.orders == ["KM-204518"] and reading.carriers == ["yamato"]
    assert reading.products == [product.pk]
    event = AuditEvent.objects.get(case=case, action="classified")
    assert event.actor is None and event.changes["category"][1] == Category.objects.get(code="delivery").pk


def test_a_calm_question_is_read_but_raises_nothing(django_capture_on_commit_callbacks) -> None:
    file_mails(django_capture_on_commit_callbacks,
               japanese_mail(subject="お支払いについて", body="お世話になります。クレジットカードの分割払いは使えますか？"))
    case = Case.objects.get()
    assert case.priority == Priority.NORMAL and case.category.code == "billing"
    assert MessageReading.objects.get().kind == "question"


def test_what_an_agent_chose_is_kept(django_capture_on_commit_callbacks) -> None:
    agent = UserFactory()
    file_mails(django_capture_on_commit_callbacks,
               japanese_mail(sender="hanako@example.jp", subject="質問", body="営業時間を教えてください。"))
    case = Case.objects.get()
    do_update_case(case, actor=agent, expected_version=Case.objects.get().version,
                   changes={"category": Category.objects.get(code="other"), "priority": Priority.LOW})
    with django_capture_on_commit_callbacks(execute=True):
        do_add_interaction(Case.objects.get(), actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                           body="まだ届かないんだけど！いい加減にしろ！返金しろ！")
    case.refresh_from_db()
    assert (case.category.code, case.priority) == ("other", Priority.LOW)
    assert MessageReading.objects.filter(interaction__case=case).count() == 2  # read all the same


def test_a_phone_case_an_agent_opened_keeps_its_category(django_capture_on_commit_callbacks) -> None:
    agent = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        case = do_create_case(actor=agent, customer=CustomerFactory(), subject="電話", channel=Channel.PHONE,
                              category=Category.objects.get(code="other"),
                              complaint="届いたお皿が割れていたとのお電話。交換を希望。")
    case.refresh_from_db()
    assert case.category.code == "other"
    assert MessageReading.objects.get(interaction__case=case).category == "defect"


def test_a_burst_of_mail_is_filed_without_waiting_for_the_reader(django_capture_on_commit_callbacks) -> None:
    pks = [do_ingest_raw(japanese_mail(sender=f"c{i}@example.jp", subject=f"件{i}", body=f"注文した商品{i}がまだ届きません。"),
                         "smtp", enqueue=False)[0].pk for i in range(30)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process_raw_messages(pks)
    # The filing transaction only noted the work: nothing was read while the mails were filed.
    assert Case.objects.count() == 30 and MessageReading.objects.count() == 0
    rows = PendingWork.objects.filter(key=READ_WORK)
    assert rows.count() == 1 and len(work._load(rows.get().items)) == 30
    for callback in callbacks:
        callback()
    assert MessageReading.objects.count() == 30 and not PendingWork.objects.filter(key=READ_WORK).exists()
    assert set(Case.objects.values_list("category__code", flat=True)) == {"delivery"}


def test_the_worker_reads_with_the_model_in_the_data_folder(starter_model: Path) -> None:
    from madoguchi.triage import services

    assert services.current_reader() is services.current_reader()  # loaded once per process
    assert services.model_path() == starter_model
