"""`/healthz`: whether this desk can do its work, for a load balancer, systemd or a monitor.

Checks the database (a query), the channel layer (Redis answers, in scale mode), the task
queue (readable, and its backlog) and the periodic jobs (each finished within three of its
periods: otherwise no worker is running them). 200 with {"status": "ok"} when every check
passes, 503 with the failing ones otherwise. No names, addresses or counts of cases: only
what an operator needs, so the page can be open to the monitor without a login.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

log = logging.getLogger(__name__)


def database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True}
    except DatabaseError as error:
        log.warning("healthz: database: %s", error)
        return {"ok": False, "error": type(error).__name__}


def channel_layer() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "backend": "in-memory"}
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        return {"ok": True, "backend": "redis"}
    except Exception as error:  # noqa: BLE001 - any failure of Redis is "not healthy"
        log.warning("healthz: redis: %s", error)
        return {"ok": False, "backend": "redis", "error": type(error).__name__}


def queue_and_jobs() -> tuple[dict[str, Any], dict[str, Any]]:
    from huey.contrib.djhuey import HUEY

    from madoguchi.jobs.status import job_statuses, queue_sizes

    sizes = queue_sizes()
    queue = {"ok": sizes["pending"] is not None, **sizes}
    if HUEY.immediate:
        return queue, {"ok": True, "mode": "immediate"}
    now = timezone.now()
    try:
        statuses = [s for s in job_statuses(now) if s.job.periodic]
    except DatabaseError:
        return queue, {"ok": False, "error": "database"}
    late = sorted(s.job.name.rsplit(".", 1)[-1] for s in statuses if s.overdue(now))
    failing = sorted(s.job.name.rsplit(".", 1)[-1] for s in statuses if s.failing)
    last = max((s.run.last_finished_at for s in statuses if s.run and s.run.last_finished_at), default=None)
    return queue, {"ok": not late, "late": late, "failing": failing, "last_finished_at": last.isoformat() if last else None}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    queue, jobs = queue_and_jobs()
    checks = {"database": database(), "channel_layer": channel_layer(), "queue": queue, "jobs": jobs}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
