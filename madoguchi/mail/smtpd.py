"""The built-in SMTP receiver (aiosmtpd): point a forwarding address or an MX at it.

The reply "250" is given only after the exact bytes are committed to the database; if the
database is unreachable the sender gets "451" (try again later) and keeps the mail, so
nothing is lost while the database restarts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import Mailbox

log = logging.getLogger(__name__)
STORE_ATTEMPTS = 4
# A new attempt is begun only this many seconds into the first: a connection that broke (a
# server restarted under the pool) fails at once and the next one works, but when the
# database is away an attempt waits the pool's whole timeout (10 s) for a connection the pool
# has been trying to open all along. Four such waits made the 451 come 43 s after DATA (53 s
# after the sender connected): past the outage, and past a patient test sender's timeout, so a
# 30 s PostgreSQL stop looked like mail "accepted at the first try" (issue 21). Now the
# sender hears 451 after one wait, keeps the mail and comes back.
STORE_RETRY_WITHIN_SECONDS = 5.0
_running: list[Controller] = []


def store_with_retry(raw: bytes, recipients: list[str], envelope_sender: str | None = None) -> int:
    """Store one mail; on a lost database connection reconnect and try again a few times.
    `envelope_sender` is the MAIL FROM ("<>": the null sender), kept beside the bytes. The row
    is committed when this returns (autocommit): the receiver answers 250 only then. There is
    no spool on disk: while the database cannot store the mail it raises, and the sender is
    told 451 and keeps the mail."""
    started = time.monotonic()
    for attempt in range(STORE_ATTEMPTS):
        try:
            close_old_connections()
            mailbox = Mailbox.objects.filter(address__in=[r.lower() for r in recipients]).first()
            row, _created = do_ingest_raw(raw, "smtp", mailbox, envelope_sender=envelope_sender)
            return row.pk
        except DatabaseError as error:
            log.warning("mail: SMTP store attempt %s failed: %s", attempt + 1, error)
            connections.close_all()
            if attempt == STORE_ATTEMPTS - 1 or time.monotonic() - started > STORE_RETRY_WITHIN_SECONDS:
                raise
            time.sleep(0.5 * (attempt + 1))
        finally:
            close_old_connections()
    raise RuntimeError("unreachable")


def accepts(address: str) -> bool:
    """Once mailboxes are registered, only their addresses are taken (no catch-all for spam)."""
    try:
        close_old_connections()
        addresses = set(Mailbox.objects.filter(active=True).values_list("address", flat=True))
    except DatabaseError:
        return True  # decide at DATA time, where a database outage answers 451
    finally:
        close_old_connections()
    return not addresses or address.lower() in {a.lower() for a in addresses}


def _envelope_sender(envelope: Envelope) -> str:
    """MAIL FROM as given; aiosmtpd reports the null reverse path `MAIL FROM:<>` as "<>"."""
    sender = (envelope.mail_from or "").strip()
    return sender if sender not in ("", "<>") else "<>"


class Handler:
    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:  # noqa: N802
        if not await asyncio.get_running_loop().run_in_executor(None, accepts, address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            pk = await loop.run_in_executor(None, store_with_retry, data, list(envelope.rcpt_tos), _envelope_sender(envelope))
        except Exception:  # noqa: BLE001 - tell the sender to keep the mail and retry
            log.exception("mail: SMTP receiver could not store a message")
            return "451 4.3.0 Temporary failure, please try again later"
        return f"250 2.0.0 Stored as {pk}"


def make_controller(host: str | None = None, port: int | None = None) -> Controller:
    # aiosmtpd logs every command with the addresses at INFO; keep customers' addresses out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return Controller(
        Handler(), hostname=host or settings.MAIL_SMTP_HOST, port=settings.MAIL_SMTP_PORT if port is None else port,
        data_size_limit=settings.MAIL_MAX_MESSAGE_BYTES, decode_data=False, ident="Madoguchi",
        timeout=60,  # seconds a silent client may hold a connection
    )


def start_smtp_receiver() -> Any:
    """Starter for `madoguchi serve` (madoguchi.embedded.STARTERS); port 0 turns it off."""
    if not settings.MAIL_SMTP_PORT:
        return None
    controller = make_controller()
    controller.start()
    _running.append(controller)
    return controller  # `serve` prints the address in its start banner
