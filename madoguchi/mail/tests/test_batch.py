"""Mails are filed in batches (one transaction, a savepoint per mail): one bad mail fails
alone, a reply in the same batch still joins its case, nothing is filed twice."""

from __future__ import annotations

import pytest
from django.db import transaction

from madoguchi.after_commit import collect, first_in_transaction
from madoguchi.cases.models import Case, InteractionKind
from madoguchi.customers.models import Customer
from madoguchi.knowledge.search import search
from madoguchi.mail.ingest import do_ingest_raw, process_pending, process_raw_messages
from madoguchi.mail.models import RawMessage, RawState
from madoguchi.mail.tests.helpers import japanese_mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def store(*mails: bytes) -> list[int]:
    """Stored as the receivers store them, without running the worker yet."""
    return [do_ingest_raw(raw, "smtp", enqueue=False)[0].pk for raw in mails]


def test_one_unreadable_mail_fails_alone_and_the_rest_of_the_batch_is_filed(django_capture_on_commit_callbacks) -> None:
    pks = store(
        japanese_mail(sender="a@example.jp", subject="一通目", message_id="<a1@example.jp>"),
        b"Subject: =?UTF-8?B?5beu5Ye65Lq644Gq44GX?=\r\n\r\nFrom header is missing",
        japanese_mail(sender="b@example.jp", subject="三通目", message_id="<b1@example.jp>"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
    states = dict(RawMessage.objects.values_list("pk", "state"))
    assert [states[pk] for pk in pks] == [RawState.PARSED, RawState.FAILED, RawState.PARSED]
    failed = RawMessage.objects.get(pk=pks[1])
    assert "差出人" in failed.error and failed.attempts == 1 and failed.case is None
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["一通目", "三通目"]


def test_replies_within_one_batch_join_the_case_opened_earlier_in_it(django_capture_on_commit_callbacks) -> None:
    pks = store(
        japanese_mail(sender="taro@example.jp", subject="急須が割れていました", message_id="<first@example.jp>"),
        # a reply by In-Reply-To from the same customer (the address differently spelt)
        japanese_mail(sender="Taro@Example.jp", subject="Re: 急須が割れていました", body="写真を送ります。",
                      headers={"In-Reply-To": "<first@example.jp>"}),
        # another address (a family member's phone) referring to it: a case of its own, with a note
        japanese_mail(sender="hanako@example.jp", subject="Re: 急須が割れていました", body="妻です。",
                      headers={"In-Reply-To": "<first@example.jp>"}),
        # the same sender again, without headers or token: their open case
        japanese_mail(sender="TARO@example.jp", subject="追記", body="箱も潰れていました。"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
    case = Case.objects.get(customer__identities__value="taro@example.jp")
    inbound = list(case.interactions.filter(kind=InteractionKind.INBOUND).order_by("pk").values_list("body", flat=True))
    assert inbound[1:] == ["写真を送ります。", "箱も潰れていました。"]
    assert Customer.objects.filter(identities__value="taro@example.jp").count() == 1
    other = Case.objects.get(customer__identities__value="hanako@example.jp")
    assert other.interactions.filter(kind=InteractionKind.SYSTEM, body__contains=f"#{case.pk}").exists()
    # the worker indexed the whole batch after the commit
    assert {hit.case_id for hit in search("写真")} == {case.pk}


def test_filing_again_changes_nothing_and_the_worker_takes_what_is_waiting(django_capture_on_commit_callbacks) -> None:
    pks = store(*(japanese_mail(sender=f"c{n}@example.jp", subject=f"件名{n}") for n in range(3)))
    with django_capture_on_commit_callbacks(execute=True):
        assert process_pending(pks[0]) == 3  # the first mail's job files all three
        assert process_pending(pks[1]) == 0  # already filed: nothing to do
        process_raw_messages(pks)
    assert Case.objects.count() == 3
    assert set(RawMessage.objects.values_list("attempts", flat=True)) == {1}


def test_a_mail_whose_earlier_try_did_not_finish_is_filed_on_its_own(django_capture_on_commit_callbacks) -> None:
    pks = store(*(japanese_mail(sender=f"d{n}@example.jp", subject=f"件名{n}") for n in range(3)))
    RawMessage.objects.filter(pk=pks[1]).update(attempts=1)  # a worker died while filing it
    with django_capture_on_commit_callbacks(execute=True):
        assert process_pending() == 3
    assert dict(RawMessage.objects.values_list("pk", "attempts")) == {pks[0]: 1, pks[1]: 2, pks[2]: 1}
    assert set(RawMessage.objects.values_list("state", flat=True)) == {RawState.PARSED}


def test_work_collected_in_a_transaction_is_handed_over_once_after_the_commit(django_capture_on_commit_callbacks) -> None:
    flushed: list[list[int]] = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        collect("test", [1, 2], flushed.append)
        with pytest.raises(RuntimeError), transaction.atomic():
            collect("test", [3], flushed.append)
            raise RuntimeError
        collect("test", [2, 4], flushed.append)
    assert flushed == [[1, 2, 3, 4]]  # 3 was rolled back: the worker finds no row for it


def test_once_per_transaction_counts_again_after_a_rolled_back_savepoint() -> None:
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            assert first_in_transaction("day")
            raise RuntimeError
        assert first_in_transaction("day")  # the work was rolled back: do it again
        assert not first_in_transaction("day")
        with transaction.atomic():
            assert not first_in_transaction("day")


def test_cases_opened_by_a_batch_get_their_sla_clocks_from_the_worker(django_capture_on_commit_callbacks) -> None:
    from madoguchi.metrics import sla
    from madoguchi.metrics.models import CaseSla

    pks = store(japanese_mail(sender="e@example.jp"), japanese_mail(sender="f@example.jp", subject="別件"))
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
        assert not CaseSla.objects.exists()  # not in the filing transaction
    clocks = {row.case_id: (row.policy_id, row.first_due, row.resolution_due) for row in CaseSla.objects.all()}
    assert len(clocks) == 2 and all(due is not None for _policy, due, _resolution in clocks.values())
    CaseSla.objects.all().delete()
    for case in Case.objects.all():  # the same clocks as a case opened on its own would get
        started = sla.sla_for(case)
        assert clocks[case.pk] == (started.policy_id, started.first_due, started.resolution_due)


def test_large_mails_are_not_held_in_memory_together(django_capture_on_commit_callbacks, settings) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mails = [japanese_mail(sender=f"g{n}@example.jp", subject=f"件名{n}", body="写真です。" * 200) for n in range(3)]
    settings.MAIL_BATCH_BYTES = len(mails[0]) + 10  # room for one of them per batch
    store(*mails)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        assert process_pending() == 3
    loads = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "mail_rawmessage"."id", "mail_rawmessage"."mailbox_id"')]
    assert len(loads) == 3  # three batches of one
    assert set(RawMessage.objects.values_list("state", flat=True)) == {RawState.PARSED}


def test_a_fetched_group_is_stored_in_one_transaction_and_a_duplicate_skips_only_itself(django_capture_on_commit_callbacks) -> None:
    from madoguchi.mail.ingest import do_ingest_many

    known = japanese_mail(sender="h@example.jp", message_id="<h1@example.jp>")
    store(known)
    group = [japanese_mail(sender="i@example.jp", subject="一通目"), known, japanese_mail(sender="j@example.jp", subject="三通目")]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        results = do_ingest_many(group, "imap")
    assert [created for _row, created in results] == [True, False, True]
    assert len(callbacks) == 1  # one commit, one task for the group's new mails
    assert RawMessage.objects.filter(state=RawState.PENDING).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert RawMessage.objects.filter(state=RawState.PARSED).count() == 3


# --- the bulk path: a batch written with a few statements in all ---------------------------------


def test_a_mail_failing_in_the_middle_of_a_bulk_batch_fails_alone_and_leaves_no_rows(django_capture_on_commit_callbacks, monkeypatch) -> None:
    from madoguchi.mail import ingest

    real = ingest.clean_subject

    def broken(subject: str) -> str:  # a bug met by one mail only, after its customer was looked up
        if "壊れた" in subject:
            raise ValueError("broken subject")
        return real(subject)

    monkeypatch.setattr(ingest, "clean_subject", broken)
    pks = store(
        japanese_mail(sender="k@example.jp", subject="一通目", message_id="<k1@example.jp>"),
        japanese_mail(sender="l@example.jp", subject="壊れた件名", message_id="<l1@example.jp>"),
        japanese_mail(sender="k@example.jp", subject="Re: 一通目", body="追記です。", headers={"In-Reply-To": "<k1@example.jp>"}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
    rows = RawMessage.objects.in_bulk(pks)
    assert [rows[pk].state for pk in pks] == [RawState.PARSED, RawState.FAILED, RawState.PARSED]
    assert "ValueError: broken subject" in rows[pks[1]].error and rows[pks[1]].case_id is None
    assert rows[pks[0]].case_id == rows[pks[2]].case_id  # the reply after the failed mail joined its case
    assert list(Case.objects.values_list("subject", flat=True)) == ["一通目"]
    assert rows[pks[0]].case.interactions.count() == 2
    assert {hit.case_id for hit in search("追記")} == {rows[pks[0]].case_id}


def test_a_new_sender_created_by_another_worker_meanwhile_makes_the_batch_go_one_by_one(django_capture_on_commit_callbacks, monkeypatch) -> None:
    from madoguchi.customers.models import Identity, IdentityKind
    from madoguchi.mail import ingest

    other = Customer.objects.create(name="別のワーカー")
    Identity.objects.create(customer=other, kind=IdentityKind.EMAIL, value="m@example.jp")
    real = ingest.Lookups.for_batch

    def read_before_the_other_worker_committed(messages):  # type: ignore[no-untyped-def]
        lookups = real(messages)
        lookups.customers["m@example.jp"] = None
        monkeypatch.setattr(ingest.Lookups, "for_batch", real)
        return lookups

    monkeypatch.setattr(ingest.Lookups, "for_batch", read_before_the_other_worker_committed)
    pks = store(japanese_mail(sender="m@example.jp", subject="一通目"), japanese_mail(sender="n@example.jp", subject="二通目"))
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
    assert set(RawMessage.objects.values_list("state", flat=True)) == {RawState.PARSED}
    assert Customer.objects.filter(identities__value="m@example.jp").get().name == "別のワーカー"
    assert Case.objects.count() == 2 and Customer.objects.count() == 2
    assert set(RawMessage.objects.values_list("attempts", flat=True)) == {1}


def test_a_reply_that_reopens_its_case_is_filed_on_its_own_and_the_rest_in_bulk(django_capture_on_commit_callbacks) -> None:
    from madoguchi.cases.models import AuditEvent, Status

    first = store(japanese_mail(sender="o@example.jp", subject="一通目", message_id="<o1@example.jp>"))
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(first)
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    pks = store(
        japanese_mail(sender="p@example.jp", subject="別件"),
        japanese_mail(sender="o@example.jp", subject="Re: 一通目", body="まだ届きません。", headers={"In-Reply-To": "<o1@example.jp>"}),
        japanese_mail(sender="o@example.jp", subject="Re: 一通目", body="至急お願いします。", headers={"In-Reply-To": "<o1@example.jp>"}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(pks)
    case.refresh_from_db()
    # one version for reopening, and one if the reader (triage) categorised the case
    assert case.status == Status.OPEN
    assert case.version == 2 + AuditEvent.objects.filter(case=case, action="classified").count()
    assert AuditEvent.objects.filter(case=case, action="status_changed").count() == 1
    assert case.interactions.count() == 3
    assert set(RawMessage.objects.values_list("state", flat=True)) == {RawState.PARSED}


def test_filing_a_batch_costs_the_same_statements_for_5_or_20_mails(django_capture_on_commit_callbacks, settings) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MAIL_SEND_ACKNOWLEDGEMENT = False  # acknowledgements cost their own statements per new case

    def statements(count: int, tag: str) -> int:
        pks = store(*(japanese_mail(sender=f"{tag}{n}@example.jp", subject=f"件名{n}") for n in range(count)))
        with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
            process_raw_messages(pks)
        assert RawMessage.objects.filter(pk__in=pks, state=RawState.PARSED).count() == count
        return len(queries.captured_queries)

    statements(1, "warm")  # the calendar is read once per process
    assert statements(5, "q") == statements(20, "r") <= 20
