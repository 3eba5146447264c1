"""Work a write leaves for later is recorded with the write and done until done (jobs.work).

These tests play what a crash does to the worker: the commit happened, the task that should
have done the work never ran (the callbacks of the commit are captured, not executed). The
row is still there, and the sweep does the work."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from madoguchi import after_commit
from madoguchi.cases.models import Channel, InteractionKind
from madoguchi.cases.services import do_add_interaction, do_create_case
from madoguchi.jobs import work
from madoguchi.jobs.models import PendingWork
from madoguchi.knowledge.models import DocKind, SearchDoc
from madoguchi.testing.factories import CaseFactory, CustomerFactory, category

pytestmark = pytest.mark.django_db


def _indexed(kind: str, ref_id: int) -> bool:
    return SearchDoc.objects.filter(kind=kind, ref_id=ref_id).exists()


def _new_case(text: str = "注文した靴のサイズが違っていました。交換をお願いします。"):
    return do_create_case(actor=None, customer=CustomerFactory(), subject="サイズ違い", channel=Channel.EMAIL,
                          category=category(), complaint=text)


def test_a_committed_write_leaves_its_work_in_the_same_transaction(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        case = _new_case()
    keys = set(PendingWork.objects.values_list("key", flat=True))
    assert "knowledge.index" in keys
    assert not _indexed(DocKind.CASE, case.pk)


def test_work_is_done_after_the_commit_and_its_row_is_gone(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _new_case()
    assert _indexed(DocKind.CASE, case.pk)
    assert not PendingWork.objects.exists()


def test_a_rolled_back_write_leaves_no_work(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            _new_case()
            raise RuntimeError("the write fails")
    assert not PendingWork.objects.exists()


def test_work_whose_task_never_ran_is_done_by_the_sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the worker was killed
        case = _new_case()
        message = do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                     body="追記です。箱もつぶれていました。", occurred_at=timezone.now())
    left = set(PendingWork.objects.values_list("pk", flat=True))
    assert work.sweep() == 0  # young rows are left to their own task for a while
    with time_machine.travel(timezone.now() + work.grace() + dt.timedelta(seconds=1)):
        assert work.sweep() >= 2
    assert _indexed(DocKind.CASE, case.pk) and _indexed(DocKind.MESSAGE, message.pk)
    # (The work may have left new work of its own: an after-hours answer is a message to index.)
    assert not PendingWork.objects.filter(pk__in=left).exists()


def test_a_failing_handler_keeps_its_work_with_the_error_and_backs_off(django_capture_on_commit_callbacks):
    calls: list[list[object]] = []

    def flaky(items: list[object]) -> None:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("検索の索引に書けません")

    work.HANDLERS["test.flaky"] = flaky
    try:
        with django_capture_on_commit_callbacks(execute=False):
            work.defer("test.flaky", [("message", 1), ("message", 2)])
        row = PendingWork.objects.get(key="test.flaky")
        with pytest.raises(ConnectionError):
            work.complete([row.pk])
        row.refresh_from_db()
        assert row.attempts == 1 and "検索の索引に書けません" in row.last_error
        assert work.complete([row.pk]) == 0  # backing off: not tried again at once
        with time_machine.travel(timezone.now() + max(work.backoff(1), work.grace()) + dt.timedelta(seconds=1)):
            assert work.sweep() == 1
        assert calls[-1] == [("message", 1), ("message", 2)]  # tuples again, not JSON lists
        assert not PendingWork.objects.filter(key="test.flaky").exists()
    finally:
        del work.HANDLERS["test.flaky"]


def test_a_row_held_by_a_live_worker_is_not_taken_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        case = _new_case()
    now = timezone.now() + work.grace() + dt.timedelta(seconds=1)
    pks = list(PendingWork.objects.values_list("pk", flat=True))
    PendingWork.objects.filter(pk__in=pks).update(claim="other-worker", claimed_until=now + dt.timedelta(minutes=1))
    with time_machine.travel(now):
        assert work.sweep() == 0
    assert not _indexed(DocKind.CASE, case.pk)
    # The other worker died: its claim runs out and the sweep takes the row.
    with time_machine.travel(now + work.claim()):
        assert work.sweep() >= 1
    assert _indexed(DocKind.CASE, case.pk)


def test_a_batch_writes_one_row_per_kind_of_work(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        with transaction.atomic(), after_commit.batch():
            for n in range(20):
                work.defer("knowledge.index", [(DocKind.CASE, CaseFactory(subject=f"件名{n}").pk)])
    rows = list(PendingWork.objects.filter(key="knowledge.index"))
    assert len(rows) == 1  # the cases and their new customers, all in one row
    # Other kinds (the customers' figures, fans app) have one row each too.
    assert {row["n"] for row in PendingWork.objects.values("key").annotate(n=Count("id")).order_by()} == {1}
    assert sum(1 for kind, _ in rows[0].items if kind == DocKind.CASE) == 20


def test_a_failed_batch_leaves_no_work(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic(), after_commit.batch():
            work.defer("knowledge.index", [(DocKind.CASE, CaseFactory().pk)])
            raise RuntimeError("the batch fails")
    assert not PendingWork.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        with transaction.atomic(), after_commit.batch():
            pass
    assert not PendingWork.objects.exists()  # nothing left over from the failed batch


def test_one_bad_row_backs_off_alone_and_the_others_are_done(django_capture_on_commit_callbacks):
    done: list[object] = []

    def picky(items: list[object]) -> None:
        if 13 in items:
            raise ValueError("13 番は処理できません")
        done.extend(items)

    work.HANDLERS["test.picky"] = picky
    try:
        with django_capture_on_commit_callbacks(execute=False):
            for items in ([1, 2], [13], [3]):
                work.defer("test.picky", items)
        with time_machine.travel(timezone.now() + work.grace() + dt.timedelta(seconds=1)):
            assert work.sweep() == 2
        assert sorted(done) == [1, 2, 3]
        left = PendingWork.objects.get(key="test.picky")
        assert left.items == [13] and left.attempts == 1 and "13 番" in left.last_error
    finally:
        del work.HANDLERS["test.picky"]


def test_a_large_backlog_goes_to_its_handler_in_bounded_calls(django_capture_on_commit_callbacks):
    sizes: list[int] = []
    work.HANDLERS["test.sizes"] = lambda items: sizes.append(len(items))
    try:
        with django_capture_on_commit_callbacks(execute=False):
            for start in range(0, 3000, 300):
                work.defer("test.sizes", list(range(start, start + 300)))
        with time_machine.travel(timezone.now() + work.grace() + dt.timedelta(seconds=1)):
            assert work.sweep() == 10
        assert sum(sizes) == 3000 and max(sizes) <= work.MAX_ITEMS
    finally:
        del work.HANDLERS["test.sizes"]


def test_times_keep_their_microseconds(django_capture_on_commit_callbacks):
    at = timezone.now().replace(microsecond=123456)
    with django_capture_on_commit_callbacks(execute=False):
        work.defer("metrics.customer_messages", [(1, at)])
    assert PendingWork.objects.get().items == [[1, at.isoformat()]]
