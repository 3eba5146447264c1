"""Periodic jobs of the chat (found by madoguchi.jobs.registry in every process)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.chat.services import expire_waiting_chats


@db_periodic_task(crontab(minute="*"))
def expire_waiting_chats_job() -> int:
    return expire_waiting_chats()
