"""Every app's background jobs, registered in every process from one place.

Huey knows a task only once the module defining it has been imported. `run_huey` imports the
`tasks` module of each app, but `madoguchi serve` starts its consumer itself, and a process
that only enqueues (the web, a command) must know the tasks it sends. So `JobsConfig.ready`
calls `discover()` in every process: each app keeps its jobs in `<app>/tasks.py`, and a task
queued anywhere is known wherever it runs. `discover` also connects the run log (`JobRun`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from huey import signals as huey_signals
from huey.contrib.djhuey import HUEY

log = logging.getLogger(__name__)

# What each job does, for the admins' page; a job missing here shows its Python name.
LABELS: dict[str, Any] = {
    "madoguchi.cases.tasks.escalate_overdue_commitments_job": _("期限を過ぎた約束をリーダーに知らせる"),
    "madoguchi.progress.tasks.prepare_late_notices_job": _("間に合わない見込みのお客様への約束に、遅れのお知らせを準備する（送信は担当者の承認後）"),
    "madoguchi.chat.tasks.expire_waiting_chats_job": _("お客様が離れた待機中のチャットを終了する（案件は残す）"),
    "madoguchi.mail.tasks.mail_sweep_job": _("未処理のメール・未送信のメール・約束のリマインダー"),
    "madoguchi.mail.tasks.poll_mailboxes_job": _("IMAP メールボックスの受信"),
    "madoguchi.mail.tasks.process_raw_message_task": _("受信したメールを案件にする"),
    "madoguchi.mail.tasks.send_outbound_task": _("メールを送信する"),
    "madoguchi.metrics.tasks.check_sla_job": _("SLA の期限の警告と超過"),
    "madoguchi.metrics.tasks.refresh_rollups_job": _("集計の更新"),
    "madoguchi.metrics.tasks.send_due_surveys_job": _("満足度アンケートの送信（解決から設定の時間が過ぎたもの）"),
    "madoguchi.jobs.tasks.complete_work_task": _("書き込みの後の処理（検索の索引・時間外の自動応答・SLA）"),
    "madoguchi.jobs.tasks.sweep_work_job": _("やり残した後処理のやり直し"),
    "madoguchi.shopify.tasks.shopify_sync_job": _("Shopify の注文・商品の同期（と処理し残した Webhook）"),
    "madoguchi.shopify.tasks.shopify_sync_task": _("Shopify の今すぐ同期"),
    "madoguchi.shopify.tasks.process_webhook_task": _("Shopify の Webhook を処理する"),
    "madoguchi.base_shop.tasks.base_sync_job": _("BASE の注文・商品の同期"),
    "madoguchi.base_shop.tasks.base_sync_task": _("BASE の今すぐ同期"),
    "madoguchi.triage.tasks.retrain_classifier_job": _("メッセージ分類モデルの学習し直し（担当者が分類を直したとき）"),
    "madoguchi.patterns.tasks.cluster_complaints_job": _("苦情をまとまりに分け、週ごとの件数と急増を数える（急増はリーダーに知らせる）"),
    "madoguchi.notifications.tasks.send_notification_mails_task": _("通知をメールで送る"),
    "madoguchi.notifications.tasks.notification_mails_job": _("通知のメール（まとめて送る分と送り残し）"),
    "madoguchi.notifications.tasks.daily_summary_job": _("リーダーへの毎日のまとめメール（各自の時刻に）"),
    "madoguchi.x_account.tasks.x_fetch_job": _("X のメンションと DM の取得（設定の間隔ごと。利用回数の上限では解除の時刻まで待つ）"),
    "madoguchi.x_account.tasks.x_fetch_task": _("X の利用回数の上限が解除された時刻の取得"),
    "madoguchi.x_account.tasks.send_x_task": _("X に返信を送る（公開リプライ・DM）"),
    "madoguchi.x_account.tasks.x_sweep_job": _("X の送り残した返信の再送"),
    "madoguchi.backup.tasks.daily_backup_job": _("毎日のバックアップ（古いものは設定の数だけ残して削除）"),
    "madoguchi.line.tasks.send_line_task": _("LINE のメッセージを送信する"),
    "madoguchi.line.tasks.line_sweep_job": _("LINE の再送（待ち時間の過ぎたもの）"),
    "madoguchi.line.tasks.line_quota_job": _("LINE の月間メッセージ数を確認する"),
}

_connected = threading.Lock()
_started: dict[str, float] = {}


def discover() -> None:
    autodiscover_modules("tasks")
    with _connected:
        if not getattr(HUEY, "_madoguchi_run_log", False):
            HUEY.signal(huey_signals.SIGNAL_EXECUTING)(_on_executing)
            HUEY.signal(huey_signals.SIGNAL_COMPLETE)(_on_complete)
            HUEY.signal(huey_signals.SIGNAL_ERROR)(_on_error)
            HUEY.signal(huey_signals.SIGNAL_CANCELED)(_on_canceled)
            HUEY.pre_execute("madoguchi-periodic-once")(once_per_schedule)
            HUEY.on_startup("madoguchi-watch-periodic")(watch_periodic_jobs)
            HUEY._madoguchi_run_log = True


# How long the claim on one scheduled run of a periodic job is kept: longer than any delay
# between the schedulers of two workers, shorter than the shortest period (one minute runs
# are claimed per minute, so a claim never stops the next one).
CLAIM_SECONDS = 600


def once_per_schedule(task: Any) -> None:
    """Each scheduled run of a periodic job runs in ONE worker. Every Huey consumer has its own
    scheduler, so with several `madoguchi worker` processes (or serve processes each with its
    worker) on Redis, each would enqueue and run every periodic job once a minute: the SLA
    warnings, the promise escalation and the backup as many times as there are workers. The
    first worker to claim the scheduled minute runs it; the others cancel their copy. The
    embedded SQLite queue has one consumer and needs no claim."""
    from huey.exceptions import CancelExecution

    if not claim_scheduled_run(HUEY, task):
        raise CancelExecution(f"{task_name(task)}: this minute's run is another worker's")


def claim_scheduled_run(huey: Any, task: Any, now: float | None = None) -> bool:
    """Whether this copy of a periodic job is the one to run this minute (always for other
    tasks and for a queue with one consumer)."""
    from huey.api import PeriodicTask
    from huey.storage import RedisStorage

    if not isinstance(task, PeriodicTask) or not isinstance(huey.storage, RedisStorage):
        return True
    # The minute the schedulers fired in: each enqueues its periodic jobs in the first second of
    # the minute, and a copy run a few seconds later still falls in it.
    minute = int((time.time() if now is None else now) // 60)
    key = f"{huey.name}.periodic.{task_name(task)}.{minute}"
    return bool(huey.storage.conn.set(key, task.id, nx=True, ex=CLAIM_SECONDS))


def watch_periodic_jobs() -> None:
    """Called as each consumer's worker starts: from now on a worker runs every periodic job's
    schedule, so a job that never ran is late only after its own period (`JobStatus.overdue`).
    A database that cannot be written must not stop the worker: logged and skipped."""
    from madoguchi.jobs.models import JobRun

    now = timezone.now()
    try:
        for task in HUEY._registry.periodic_tasks:
            name = task_name(task)
            if not JobRun.objects.filter(name=name).update(watched_since=now):
                try:
                    with transaction.atomic():
                        JobRun.objects.create(name=name, watched_since=now)
                except IntegrityError:
                    JobRun.objects.filter(name=name).update(watched_since=now)
    except DatabaseError:
        log.warning("jobs: could not note the worker's start", exc_info=True)
    finally:
        if not HUEY.immediate:  # a worker thread's own connection, not a request's or a test's
            close_old_connections()


def _on_canceled(signal: str, task: Any) -> None:
    _started.pop(task.id, None)


def task_name(task: Any) -> str:
    return HUEY._registry.task_to_string(type(task))  # type: ignore[no-any-return]


def _on_executing(signal: str, task: Any) -> None:
    _started[task.id] = time.monotonic()


def _on_complete(signal: str, task: Any) -> None:
    _record(task, error=None)


def _on_error(signal: str, task: Any, exc: BaseException | None = None) -> None:
    _record(task, error=f"{type(exc).__name__}: {exc}" if exc is not None else "error")


def _record(task: Any, error: str | None) -> None:
    """One short write per run. A run log that cannot be written (database down) must not
    fail the job: it is logged and skipped."""
    started = _started.pop(task.id, None)
    now = timezone.now()
    fields: dict[str, Any] = {"last_finished_at": now, "runs": F("runs") + 1}
    if started is not None:
        duration = time.monotonic() - started
        fields["last_duration_ms"] = int(duration * 1000)
        fields["last_started_at"] = now - dt.timedelta(seconds=duration)
    if error is None:
        fields["last_succeeded_at"] = now
    else:
        fields.update(last_failed_at=now, last_error=error[:2000], failures=F("failures") + 1)
    from madoguchi.jobs.models import JobRun

    name = task_name(task)
    try:
        with transaction.atomic():
            if not JobRun.objects.filter(name=name).update(**fields):
                try:
                    with transaction.atomic():
                        JobRun.objects.create(name=name)
                except IntegrityError:
                    pass  # another worker created it meanwhile
                JobRun.objects.filter(name=name).update(**fields)
    except DatabaseError:
        log.warning("jobs: could not record the run of %s", name, exc_info=True)
    finally:
        if not HUEY.immediate:
            close_old_connections()


@dataclass
class Job:
    name: str
    label: str
    periodic: bool
    next_run: dt.datetime | None
    period: dt.timedelta | None = None  # between two runs of a periodic job


def jobs(now: dt.datetime | None = None) -> list[Job]:
    """Every registered job, periodic ones first, with the next time each periodic one runs."""
    now = now or timezone.now()
    periodic = {task_name(task): task for task in HUEY._registry.periodic_tasks}
    found = []
    for name in sorted(HUEY._registry._registry):
        task = periodic.get(name)
        next_run = _next_run(task, now) if task is not None else None
        after = _next_run(task, next_run) if next_run is not None else None
        found.append(Job(name=name, label=str(LABELS.get(name, name)), periodic=task is not None, next_run=next_run,
                         period=after - next_run if after is not None and next_run is not None else None))
    return sorted(found, key=lambda job: (not job.periodic, job.label))


def _next_run(task: Any, now: dt.datetime, horizon_minutes: int = 8 * 24 * 60) -> dt.datetime | None:
    """The consumer checks periodic jobs once a minute, on Huey's clock (UTC, naive)."""
    minute = now.astimezone(dt.UTC).replace(second=0, microsecond=0, tzinfo=None)
    for step in range(1, horizon_minutes):
        candidate = minute + dt.timedelta(minutes=step)
        if task.validate_datetime(candidate):
            return candidate.replace(tzinfo=dt.UTC)
    return None
