"""Polling a shop's existing mailbox over IMAP (imap-tools for the session, raw FETCH for the
exact bytes). Messages are fetched in groups of up to 50 (16 MB), each group stored in one
transaction and only after its commit flagged \\Seen, so a crash loses nothing (the messages
stay unseen and are fetched again; the Message-ID + hash dedupe makes that harmless). A group
that fails is tried one message at a time, and a message over the size limit goes alone, so
one huge or broken message never stops the others."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted

from madoguchi.mail.ingest import do_ingest_many, do_ingest_raw
from madoguchi.mail.models import Mailbox

log = logging.getLogger(__name__)
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0
    errors: list[str] = field(default_factory=list)


def connect(mailbox: Mailbox, timeout: float = 30) -> BaseMailBox:
    password = mailbox.imap_password()  # refuses a variable not meant for it, before connecting
    client_class = MailBox if mailbox.imap_tls else MailBoxUnencrypted
    client = client_class(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    return client.login(mailbox.imap_user, password, initial_folder=mailbox.imap_folder)


def _sizes(client: BaseMailBox, uids: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for start in range(0, len(uids), 500):
        _typ, data = client.client.uid("FETCH", ",".join(uids[start:start + 500]), "(RFC822.SIZE)")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(line or b"")
            if match:
                uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                sizes[uid.decode()] = int(size)
    return sizes


def _fetch(client: BaseMailBox, uid: str, part: str) -> bytes:
    _typ, data = client.client.uid("FETCH", uid, f"(BODY.PEEK[{part}])")
    for item in data:
        if isinstance(item, tuple) and len(item) > 1:
            return bytes(item[1])
    raise ValueError(f"UID {uid}: サーバーが本文を返しませんでした")


def _store_too_large(client: BaseMailBox, mailbox: Mailbox, uid: str, size: int) -> None:
    """Keep the headers, say why the rest is not here; the mail itself stays on the server."""
    header = _fetch(client, uid, "HEADER")
    limit_mb = settings.MAIL_MAX_MESSAGE_BYTES / 1024 / 1024
    reason = (
        f"メールが大きすぎるため取り込めませんでした（{size / 1024 / 1024:.1f} MB、上限 {limit_mb:.0f} MB）。"
        f"ヘッダーだけ保存しています。本文はメールサーバー（{mailbox.address}）に残っています。"
    )
    do_ingest_raw(header, "imap", mailbox, too_large=reason, full_size=size)


def _fetch_new(client: BaseMailBox, mailbox: Mailbox, result: PollResult, limit: int) -> None:
    uids = list(client.uids(AND(seen=False)))[:limit]
    sizes = _sizes(client, uids) if uids else {}
    group: list[str] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > settings.MAIL_MAX_MESSAGE_BYTES:
            _poll_one(client, mailbox, uid, size, result)
            continue
        if group and (len(group) >= GROUP_SIZE or held + size > GROUP_BYTES):
            _poll_group(client, mailbox, group, result)
            group, held = [], 0
        group.append(uid)
        held += size
    if group:
        _poll_group(client, mailbox, group, result)


GROUP_SIZE = 50  # fetched mails stored in one transaction
GROUP_BYTES = 16 * 1024 * 1024


def _poll_group(client: BaseMailBox, mailbox: Mailbox, uids: list[str], result: PollResult) -> None:
    """Fetch a group, store it in one transaction, and only after the commit mark the mails
    \\Seen: until then the server still offers them, so nothing is lost if we crash. If the
    group fails as a whole, each mail is tried alone (one broken mail must not stop the rest)."""
    try:
        raws = [_fetch(client, uid, "") for uid in uids]
        results = do_ingest_many(raws, "imap", mailbox)
    except Exception as error:  # noqa: BLE001 - retried one by one below
        log.warning("mail: %s group of %d failed (%s); one by one", mailbox.address, len(uids), error)
        for uid in uids:
            _poll_one(client, mailbox, uid, 0, result)
        return
    for uid, (_row, created) in zip(uids, results, strict=True):
        result.stored += created
        result.duplicates += not created
        try:
            client.flag(uid, "\\Seen", True)
        except Exception as error:  # noqa: BLE001 - stored; the next poll finds it a duplicate
            result.errors.append(f"UID {uid}: {type(error).__name__}: {error}")


def _record(mailbox: Mailbox, result: PollResult) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="\n".join(result.errors)[:2000])


def poll_mailbox(mailbox: Mailbox, limit: int = 500) -> PollResult:
    result = PollResult()
    try:
        with connect(mailbox) as client:
            _fetch_new(client, mailbox, result, limit)
    except Exception as error:  # noqa: BLE001 - a server problem is shown on the mailbox, retried next time
        result.errors.append(f"{type(error).__name__}: {error}")
        log.warning("mail: polling %s failed: %s", mailbox.address, error)
    _record(mailbox, result)
    return result


def watch_mailbox(mailbox: Mailbox, *, rounds: int | None = None, limit: int = 500) -> PollResult:
    """IMAP IDLE: fetch, then wait on the open connection until the server says something
    changed (or the mailbox's interval passes, at most 29 minutes as RFC 2177 asks), fetch
    again. `rounds` bounds the loop (tests); the caller reconnects after an error."""
    total = PollResult()
    with connect(mailbox) as client:
        done = 0
        while rounds is None or done < rounds:
            result = PollResult()
            _fetch_new(client, mailbox, result, limit)
            _record(mailbox, result)
            total.stored += result.stored
            total.duplicates += result.duplicates
            total.too_large += result.too_large
            total.errors += result.errors
            done += 1
            if rounds is not None and done >= rounds:
                break
            client.idle.wait(timeout=min(mailbox.poll_seconds, 29 * 60))
    return total


def _poll_one(client: BaseMailBox, mailbox: Mailbox, uid: str, size: int, result: PollResult) -> None:
    try:
        if size > settings.MAIL_MAX_MESSAGE_BYTES:
            _store_too_large(client, mailbox, uid, size)
            result.too_large += 1
        else:
            _row, created = do_ingest_raw(_fetch(client, uid, ""), "imap", mailbox)
            result.stored += created
            result.duplicates += not created
        client.flag(uid, "\\Seen", True)  # only after the bytes are safely stored
    except Exception as error:  # noqa: BLE001 - one broken message must not stop the rest
        result.errors.append(f"UID {uid}: {type(error).__name__}: {error}")
        log.warning("mail: %s UID %s: %s", mailbox.address, uid, error)


def poll_due_mailboxes(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    polled = 0
    for mailbox in Mailbox.objects.filter(active=True).exclude(imap_host=""):
        if mailbox.last_polled_at and mailbox.last_polled_at + dt.timedelta(seconds=mailbox.poll_seconds) > now:
            continue
        poll_mailbox(mailbox)
        polled += 1
    return polled
