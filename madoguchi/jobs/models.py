"""What the background jobs did, and work still to be done."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingWork(models.Model):
    """Work a write left for later (index these messages, start these SLA clocks, answer these
    mails after hours), inserted in the same transaction as the write. The row is deleted when
    the work is done; until then the sweep takes it again (`work.sweep`). `key` names the
    handler (`work.handler`), `items` are its arguments."""

    key = models.CharField(max_length=60)
    items = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Taken by one worker until this time (a crashed worker's claim runs out), or, after a
    # failure, not to be tried again before it (back-off).
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("未完了の処理")
        verbose_name_plural = _("未完了の処理")

    def __str__(self) -> str:
        return f"{self.key} #{self.pk}"


class JobRun(models.Model):
    """The last run of each job (one row per Huey task name), written by the consumer."""

    name = models.CharField(max_length=200, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # When a worker that runs this periodic job's schedule last started: a job that has never
    # run (every quarter hour, say) is late only once a worker has had the time to run it.
    watched_since = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("処理の実行記録")
        verbose_name_plural = _("処理の実行記録")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
