"""The daily backup, with retention: MADOGUCHI_BACKUP_HOUR (shop time, default 3; -1 turns it
off) and MADOGUCHI_BACKUP_KEEP archives (default 7)."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.backup import services


def _daily() -> crontab:
    """Huey's clock is UTC: the shop's hour (its zone's offset today) in UTC."""
    hour = settings.MADOGUCHI_BACKUP_HOUR if settings.MADOGUCHI_BACKUP_HOUR >= 0 else 3
    offset = datetime.datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset() or datetime.timedelta()
    return crontab(minute="17", hour=str(int(hour - offset.total_seconds() // 3600) % 24))


@db_periodic_task(_daily())
def daily_backup_job() -> str:
    if settings.MADOGUCHI_BACKUP_HOUR < 0:
        return "off"
    path = services.do_backup()
    services.prune(settings.MADOGUCHI_BACKUP_KEEP, path.parent)
    return path.name
