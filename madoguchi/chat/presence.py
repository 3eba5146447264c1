"""Which web process holds a chat visitor's sockets, so a process that dies outright takes its
visitors with it.

A socket counts its visitor in and out (services.do_visitor_here / do_visitor_socket_closed),
and ChatSession.visitor_sockets is the total. A web process killed with kill -9, or a machine
that lost power, closes no socket: its visitors stayed counted for ever, were never shown as
gone, and their waiting chats were never ended. Now each count is also kept per process
(VisitorPresence), each web process writes a heartbeat (WebProcess.seen_at), and every living
web process, at each beat, takes off the counts of any process silent for DEAD_BEATS beats:
its visitors are gone since it was last seen, unless another process holds one of their tabs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import uuid

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from madoguchi.chat.models import ChatSession, SessionState, VisitorPresence, WebProcess
from madoguchi.lifespan import Stop

log = logging.getLogger(__name__)

PROCESS_ID = str(uuid.uuid4())  # this process's, for as long as it runs
DEAD_BEATS = 4


def heartbeat_seconds() -> float:
    return float(settings.MADOGUCHI_WEB_HEARTBEAT_SECONDS)


def count_in(session_id: int, process: str) -> None:
    """Within the caller's transaction, after it updated the session's row (which serialises
    the counts of one chat)."""
    if VisitorPresence.objects.filter(session_id=session_id, process=process).update(sockets=F("sockets") + 1):
        return
    try:
        with transaction.atomic():
            VisitorPresence.objects.create(session_id=session_id, process=process, sockets=1)
    except IntegrityError:
        VisitorPresence.objects.filter(session_id=session_id, process=process).update(sockets=F("sockets") + 1)


def count_out(session_id: int, process: str) -> bool:
    """False when this process holds no count of the chat (it was declared dead meanwhile and
    its counts were taken off already: not twice)."""
    if not VisitorPresence.objects.filter(session_id=session_id, process=process, sockets__gt=0).update(
            sockets=F("sockets") - 1):
        return False
    VisitorPresence.objects.filter(session_id=session_id, process=process, sockets=0).delete()
    return True


def do_beat(now: dt.datetime | None = None) -> None:
    """This process is alive (its row is made again if a sweep took it while it was stalled)."""
    now = now or timezone.now()
    if not WebProcess.objects.filter(pk=PROCESS_ID).update(seen_at=now):
        WebProcess.objects.update_or_create(
            pk=PROCESS_ID, defaults={"pid": os.getpid(), "started_at": now, "seen_at": now})


def do_take_off_dead_processes(now: dt.datetime | None = None) -> list[tuple[int, dt.datetime]]:
    """Take off the counts of every web process silent for DEAD_BEATS beats; returns the chats
    whose visitor is now gone, with since when."""
    now = now or timezone.now()
    silent_since = now - dt.timedelta(seconds=DEAD_BEATS * heartbeat_seconds())
    gone: list[tuple[int, dt.datetime]] = []
    for process in WebProcess.objects.filter(seen_at__lt=silent_since).exclude(pk=PROCESS_ID):
        name = f"{process.pk[:8]} (pid {process.pid})"
        with transaction.atomic():
            held = list(VisitorPresence.objects.filter(process=process.pk).values_list("session_id", "sockets"))
            for session_id, sockets in held:
                ChatSession.objects.filter(pk=session_id).update(
                    visitor_sockets=Greatest(F("visitor_sockets") - sockets, Value(0)))
                if ChatSession.objects.filter(pk=session_id, visitor_sockets=0, visitor_left_at__isnull=True).exclude(
                        state=SessionState.ENDED).update(visitor_left_at=process.seen_at):
                    gone.append((session_id, process.seen_at))
            VisitorPresence.objects.filter(process=process.pk).delete()
            process.delete()
        log.warning("chat: web process %s silent since %s: %d chat visitors taken off",
                    name, process.seen_at.isoformat(), len(held))
    return gone


def beat_and_sweep() -> None:
    from madoguchi.chat import events

    do_beat()
    gone = do_take_off_dead_processes()
    for session_id, since in gone:
        events.publish_session(session_id, "presence", left_at=since.isoformat())
    if gone:
        events.publish_queue_changed()


async def start_heartbeat() -> Stop:
    """A lifespan part (madoguchi/lifespan.py): the first beat before the desk serves, then one
    every MADOGUCHI_WEB_HEARTBEAT_SECONDS on the web process's own loop, so the events of a
    sweep reach the sockets of this process."""
    beat = database_sync_to_async(beat_and_sweep)
    await beat()

    async def run() -> None:
        while True:
            await asyncio.sleep(heartbeat_seconds())
            try:
                await beat()
            except DatabaseError as error:  # the database is away: beat again later
                log.warning("web: heartbeat not written: %s", error)

    task = asyncio.create_task(run())

    async def stop() -> None:
        # The row stays: sockets may still be counting out, and what they leave counted is
        # taken off by the others' sweep as for a process that died.
        task.cancel()

    return stop
