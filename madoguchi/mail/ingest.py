"""Inbound mail: store the exact bytes first, then parse, thread and file it on a case.

`do_ingest_raw` is all a receiver (SMTP, IMAP, import) calls; it writes one row and returns.
The rest happens in the background (tasks.process_raw_message_task). A failure at any later
step leaves the row in state `failed` with the reason, listed on /mail/failed/ with a retry
button; a crash leaves it `pending`, and the periodic sweep picks it up again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import re
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Field, Model, Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from madoguchi import after_commit
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import (
    do_add_interaction,
    do_add_interaction_in_savepoint,
    do_create_case_in_savepoint,
    do_create_in_bulk,
    new_case,
    new_interaction,
    status_updates,
)
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.services import normalise_identity
from madoguchi.mail.models import (
    Attachment,
    Mailbox,
    OutboundMessage,
    OutboundState,
    RawMessage,
    RawState,
)
from madoguchi.mail.parsing import ParsedMessage, clean_subject, parse_message, without_case_tokens
from madoguchi.mail.threading import Lookups

log = logging.getLogger(__name__)
_HEADER_MSGID = re.compile(rb"^message-id:[ \t]*(<[^<>\s\x00]+>)", re.IGNORECASE | re.MULTILINE)


def content_hash(raw: bytes) -> str:
    """Hash of the body only, so one mail delivered twice (different Received headers, line
    endings changed by a relay, a final newline added by SMTP) is recognised as one."""
    body = raw
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = raw.partition(separator)
        if found:
            body = rest
            break
    return hashlib.sha256(body.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def header_message_id(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:200_000]
    match = _HEADER_MSGID.search(head)
    return match.group(1).decode("ascii", "replace")[:255] if match else ""


def find_duplicate(raw: bytes) -> RawMessage | None:
    existing = RawMessage.objects.filter(sha256=hashlib.sha256(raw).hexdigest()).defer("raw").first()
    if existing is not None:
        return existing
    message_id = header_message_id(raw)
    if message_id:
        return RawMessage.objects.filter(message_id=message_id, content_hash=content_hash(raw)).defer("raw").first()
    return None


def do_ingest_raw(
    raw: bytes, source: str, mailbox: Mailbox | None = None, *, too_large: str = "", full_size: int = 0,
    enqueue: bool = True, envelope_sender: str | None = None,
) -> tuple[RawMessage, bool]:
    """Keep the mail, exactly as received; (row, created). A duplicate returns the first copy.

    The unique constraints on the hash and on Message-ID + body hash find duplicates: the
    insert is tried first, so a new mail (the usual case) costs one statement. Called outside a
    transaction (the SMTP receiver) that statement runs in autocommit: it is its own
    transaction, committed when it returns, with no BEGIN and COMMIT round trips around it.
    `too_large` (a Japanese reason) stores only what was given (the headers) as failed, with
    `full_size` the real size; such a row is never parsed into a case. `envelope_sender`: the
    SMTP MAIL FROM ("<>" for the null sender), kept beside the bytes, which stay exact."""
    row = RawMessage(
        mailbox=mailbox, source=source[:20], raw=raw, size=max(len(raw), full_size),
        sha256=hashlib.sha256(raw).hexdigest(), content_hash=content_hash(raw),
        message_id=header_message_id(raw), envelope_sender=envelope_sender[:254] if envelope_sender is not None else None,
    )
    if too_large:
        _describe(row, parse_message(raw, row.envelope_sender))
        row.state, row.error = RawState.FAILED, too_large
    try:
        # In a group's transaction (do_ingest_many) a savepoint, so a duplicate skips only itself.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            row.save(force_insert=True)
    except IntegrityError:  # already stored (a refetch, a second delivery, a race)
        duplicate = find_duplicate(raw)
        if duplicate is None:
            raise
        return duplicate, False
    if enqueue and not too_large:
        transaction.on_commit(lambda: _enqueue(row.pk))  # now, or after the group's commit
    return row, True


def do_ingest_many(
    raws: list[bytes], source: str, mailbox: Mailbox | None = None, *, enqueue: bool = True,
) -> list[tuple[RawMessage, bool]]:
    """Keep a group of fetched mails in ONE transaction (one commit, one WAL flush on
    PostgreSQL, instead of one per mail); each mail keeps its own savepoint so a duplicate
    only skips itself. Only for sources that still hold the mails until we have committed
    (IMAP: the \\Seen flag is set after this returns; an import reads files): a crash before
    the commit loses nothing. The SMTP receiver keeps `do_ingest_raw`, one commit per mail,
    as it answers 250 only after its mail is stored. One worker task per BATCH_SIZE new mails."""
    with transaction.atomic():
        results = [do_ingest_raw(raw, source, mailbox, enqueue=False) for raw in raws]
        fresh = [row.pk for row, created in results if created and row.state == RawState.PENDING]
        if enqueue:
            for start in range(0, len(fresh), BATCH_SIZE):
                first = fresh[start]
                transaction.on_commit(functools.partial(_enqueue, first))
    return results


def _enqueue(pk: int) -> None:
    from madoguchi.mail.tasks import process_raw_message_task

    try:
        process_raw_message_task(pk)
    except Exception:  # noqa: BLE001 - the row is kept; the sweep retries it
        log.exception("mail: could not queue raw message %s", pk)


# --- Processing -------------------------------------------------------------------------------

class MailRejected(Exception):
    """The mail cannot become part of a case; the message says why, in Japanese."""


BATCH_SIZE = 100  # mails filed in one transaction by the worker


def _wants_processing(row: RawMessage) -> bool:
    return row.state not in (RawState.PARSED, RawState.IGNORED) and not row.is_truncated


def process_raw_message(pk: int) -> RawMessage:
    """Parse, thread and file one stored mail. Safe to run twice: a filed mail is left alone."""
    rows = process_raw_messages([pk])
    if not rows:
        raise RawMessage.DoesNotExist(f"RawMessage {pk} does not exist")
    return rows[0]


def process_raw_messages(pks: list[int]) -> list[RawMessage]:
    """Parse, thread and file stored mails, oldest first, in ONE transaction: a mail that fails
    only fails itself (it is kept as `failed` with the reason, on the 読み取れなかったメール list)
    and the others are filed. Lookups for threading are read for the whole batch at once
    (threading.Lookups). Safe to run twice or in two workers at once: filed mails are skipped,
    and on PostgreSQL rows another worker holds are left to it.

    The batch is first filed in bulk (`_file_in_bulk`: one insert per table for the whole
    batch). If the database refuses any of it (another worker created the same new customer
    meanwhile, a value it will not take), that try is rolled back and the batch is filed one
    mail at a time, each in its own savepoint (`_file_one`), as before.

    Each mail's `attempts` is counted (and committed) before the batch starts, so a mail that
    crashes the whole process is seen on the next try (attempts > 0 while pending) and then
    processed alone (`process_pending`): one poisonous mail cannot hold back the others."""
    rows = sorted(RawMessage.objects.filter(pk__in=pks), key=lambda row: row.pk)
    todo = _take([row for row in rows if _wants_processing(row)])
    if not todo:
        return rows
    parsed = {row.pk: parse_message(bytes(row.raw), row.envelope_sender) for row in todo}
    with transaction.atomic(), after_commit.batch():
        claimed = _claim([row.pk for row in todo])
        filing = [row for row in todo if row.pk in claimed]
        for row in filing:
            row.attempts += 1
        before = _snapshot(filing)
        try:
            with transaction.atomic():
                _file_in_bulk(filing, parsed)
        except Exception:  # noqa: BLE001 - rolled back whole; one by one finds the mail to blame
            log.warning("mail: %d mails could not be filed together; filing them one by one", len(filing), exc_info=True)
            _restore(before)
            lookups = Lookups.for_batch(parsed[row.pk] for row in filing)
            for row in filing:
                _file_one(row, parsed[row.pk], lookups)
    return rows


def _no_try_running(now: dt.datetime) -> Q:
    return Q(attempt_started_at__isnull=True) | Q(attempt_started_at__lt=now - dt.timedelta(seconds=settings.MAIL_ATTEMPT_LEASE_SECONDS))


def _take(todo: list[RawMessage]) -> list[RawMessage]:
    """The mails of `todo` that no other worker is trying now, their try counted (committed
    before the work, so a try that crashes the process is seen). A mail that its own task and
    the minute sweep reach at once is counted and filed by one of them only: a healthy mail
    must not reach MAIL_MAX_ATTEMPTS by being counted twice. A try older than the lease was
    cut short (the worker died) and may be taken again."""
    if not todo:
        return []
    now = timezone.now()
    pks = [row.pk for row in todo]
    RawMessage.objects.filter(_no_try_running(now), pk__in=pks).exclude(state__in=[RawState.PARSED, RawState.IGNORED]).update(
        attempts=F("attempts") + 1, attempt_started_at=now
    )
    taken = set(RawMessage.objects.filter(pk__in=pks, attempt_started_at=now).values_list("pk", flat=True))
    for row in todo:
        row.attempt_started_at = None  # the try ends with the row's save (FILED_FIELDS)
    return [row for row in todo if row.pk in taken]


def _file_one(row: RawMessage, message: ParsedMessage, lookups: Lookups) -> None:
    """One mail in its own savepoint; if it fails it is kept as failed with the reason."""
    try:
        customer = _file_in_savepoint(row, message, lookups)
    except Exception as error:  # noqa: BLE001 - never drop a mail: keep it with the reason
        lookups.forget_cases()
        _fail(row, message, _reason(row, error))
    else:
        lookups.filed(row.message_id, message.from_address, customer, row.case)


def _reason(row: RawMessage, error: Exception) -> str:
    if isinstance(error, MailRejected):
        return str(error)
    log.error("mail: raw message %s could not be filed", row.pk, exc_info=error)
    return f"取り込み中にエラーが発生しました（{type(error).__name__}: {error}）"


def _file_in_bulk(rows: list[RawMessage], parsed: dict[int, ParsedMessage]) -> None:
    """File the batch with a few statements in all: new senders' customers first, then every
    mail is decided in order (threading learns from the mails before it, cases not inserted
    yet included) and its rows are written together with the others' (`_WriteInBulk`).

    A mail the bulk path does not take (see `_WriteInBulk.takes`) is filed on its own, in its
    savepoint, after what was decided before it is written. A mail that fails while being
    decided (no sender, a rule of the case desk) has written nothing yet: its planned rows
    are dropped and it alone is kept as failed. A database error is not a mail's failure: it
    goes up, and the caller files the batch again one by one."""
    lookups = Lookups.for_batch(parsed[row.pk] for row in rows)
    _create_customers(rows, parsed, lookups)
    out = _WriteInBulk(lookups)
    for row in rows:
        message = parsed[row.pk]
        if not out.takes(row, message):
            out.flush()
            _file_one(row, message, lookups)
            continue
        mark = out.mark()
        try:
            customer = _file(row, message, lookups, out)
        except DatabaseError:
            raise
        except Exception as error:  # noqa: BLE001 - never drop a mail: keep it with the reason
            out.discard(mark)
            _fail(row, message, _reason(row, error))
        else:
            lookups.filed(row.message_id, message.from_address, customer, row.case)
    out.flush()


def _files_a_case(row: RawMessage, message: ParsedMessage, lookups: Lookups) -> bool:
    """The mail would be filed on a case in bulk (not own mail, a bounce, an auto-reply, a retry)."""
    return (row.attempts == 1 and bool(message.from_address) and not message.is_bounce and not message.auto_reason
            and message.from_address.lower() not in lookups.own_addresses() and not lookups.answers_forward(message))


def _create_customers(rows: list[RawMessage], parsed: dict[int, ParsedMessage], lookups: Lookups) -> None:
    """The customer records of the batch's new senders, one insert for the customers and one
    for their addresses (named as the sender's first mail names them). The save signals are
    sent for each row as Model.save sends them (the search index notes new customers). A
    sender another worker created meanwhile breaks the unique address: the batch goes one by one."""
    names: dict[str, str] = {}
    for row in rows:
        message = parsed[row.pk]
        if _files_a_case(row, message, lookups) and lookups.customer(message.from_address) is None:
            address = normalise_identity(IdentityKind.EMAIL, message.from_address)
            names.setdefault(address, message.from_name.strip() or message.from_address)
    if not names:
        return
    customers = {address: Customer(name=name) for address, name in names.items()}
    # In address order: two workers inserting the same new addresses wait for each other in
    # the same order (the unique index) instead of deadlocking.
    identities = [Identity(customer=customers[address], kind=IdentityKind.EMAIL, value=address) for address in sorted(customers)]
    _insert_sending_signals(Customer, list(customers.values()))
    _insert_sending_signals(Identity, identities)
    for address, customer in customers.items():
        lookups.new_customer(address, customer)


_M = TypeVar("_M", bound=Model)


def _insert_sending_signals(model: type[_M], objs: list[_M]) -> None:
    """One insert for `objs`, with the save signals Model.save would send for each."""
    for obj in objs:
        pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
    model._default_manager.bulk_create(objs)  # = `objects` (neither model declares a manager)
    for obj in objs:
        post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=connection.alias)


class _WriteNow:
    """How `_file` writes in the one-by-one path: each row at once, in the mail's savepoint."""

    def customer(self, parsed: ParsedMessage) -> Customer:
        customer = Customer.objects.create(name=parsed.from_name.strip() or parsed.from_address)
        Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL,
                                value=normalise_identity(IdentityKind.EMAIL, parsed.from_address))
        return customer

    def attachments(self, row: RawMessage, attachments: list[Attachment]) -> None:
        if row.attempts > 1:
            row.attachments.all().delete()  # a retry stores them again
        for attachment in attachments:
            attachment.save()

    def case(self, **fields: object) -> Case:
        return do_create_case_in_savepoint(actor=None, first_message_from_customer=False, **fields)

    def message(self, case: Case, **fields: object) -> Interaction:
        return do_add_interaction_in_savepoint(case, actor=None, **fields)

    def row(self, row: RawMessage) -> None:
        row.save(update_fields=FILED_FIELDS)

    def later(self, work: Callable[[], object]) -> None:
        work()


class _WriteInBulk(_WriteNow):
    """How `_file` writes in the bulk path: rows are planned (cases and messages built and
    checked by cases.services, not saved) and `flush` writes all planned so far with one
    statement per table, then sends the signals and does the work that needs the rows."""

    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups
        self.entries: list[Case | Interaction] = []
        self.files: list[Attachment] = []
        self.rows: list[RawMessage] = []
        self.work: list[Callable[[], object]] = []

    def takes(self, row: RawMessage, message: ParsedMessage) -> bool:
        """Not a retry (its earlier attachments are replaced), not a bounce (it marks our outbox
        and notes it on a case at once), not a reply that reopens its case (a status change),
        not a mail whose note names a case planned but not inserted (it has no number yet)."""
        if row.attempts > 1 or message.is_bounce or self.lookups.answers_forward(message):
            return False  # a department's answer changes its case's status: filed on its own
        if not _files_a_case(row, message, self.lookups):
            return True
        case, refused = self.lookups.thread(message, self.lookups.customer(message.from_address))
        if refused is not None and refused.pk is None:
            return False
        return case is None or not status_updates(case, InteractionKind.INBOUND)

    def attachments(self, row: RawMessage, attachments: list[Attachment]) -> None:
        self.files += attachments

    def case(self, **fields: object) -> Case:
        case = new_case(**fields)  # type: ignore[arg-type]
        self.entries.append(case)
        return case

    def message(self, case: Case, **fields: object) -> Interaction:
        interaction = new_interaction(case, actor=None, **fields)  # type: ignore[arg-type]
        self.entries.append(interaction)
        return interaction

    def row(self, row: RawMessage) -> None:
        self.rows.append(row)

    def later(self, work: Callable[[], object]) -> None:
        self.work.append(work)

    def mark(self) -> tuple[int, int, int, int]:
        return len(self.entries), len(self.files), len(self.rows), len(self.work)

    def discard(self, mark: tuple[int, int, int, int]) -> None:
        """Forget what was planned since `mark` (a mail that failed before anything was written)."""
        entries, files, rows, work = mark
        del self.entries[entries:]
        del self.files[files:]
        del self.rows[rows:]
        del self.work[work:]

    def flush(self) -> None:
        do_create_in_bulk(self.entries)
        Attachment.objects.bulk_create(self.files)
        for row in self.rows:
            row.case, row.interaction = row.case, row.interaction  # their ids, now that they are saved
        _save_filed(self.rows)
        self.lookups.saved(entry for entry in self.entries if isinstance(entry, Case))
        for work in self.work:
            work()
        self.discard((0, 0, 0, 0))


def _save_filed(rows: list[RawMessage]) -> None:
    """FILED_FIELDS of these rows: one UPDATE statement run for every row with executemany
    (psycopg sends them in one pipeline, one round trip) instead of a save() per mail."""
    if not rows:
        return
    fields = [_filed_field(name) for name in FILED_FIELDS]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(RawMessage._meta.db_table)} SET {', '.join(f'{quote(_column(f))} = %s' for f in fields)} "
           f"WHERE {quote(_column(RawMessage._meta.pk))} = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
                                 for row in rows])


def _snapshot(rows: list[RawMessage]) -> list[tuple[RawMessage, dict[str, object]]]:
    return [(row, {name: row.__dict__.get(name) for name in _FILED_ATTNAMES}) for row in rows]


def _restore(snapshot: list[tuple[RawMessage, dict[str, object]]]) -> None:
    """Rows as they were before a rolled-back try: its values, and no cached case or message."""
    for row, values in snapshot:
        row.__dict__.update(values)
        row._state.fields_cache.pop("case", None)
        row._state.fields_cache.pop("interaction", None)


def _file_in_savepoint(row: RawMessage, message: ParsedMessage, lookups: Lookups) -> Customer | None:
    """One mail in its own savepoint (the services it calls open none of their own). A unique
    identity taken meanwhile by another worker (the same new sender) is read and tried once more."""
    try:
        with transaction.atomic():
            return _file(row, message, lookups)
    except IntegrityError:
        lookups.forget_cases()
        lookups.forget_customer(message.from_address)
        attempts = row.attempts
        row.refresh_from_db()  # what the rolled-back savepoint left
        row.attempts, row.attempt_started_at = attempts, None
        with transaction.atomic():
            return _file(row, message, lookups)


def _claim(pks: list[int]) -> set[int]:
    """Of these mails, those still to be filed, locked for this transaction. SQLite: the
    transaction already holds the write lock (BEGIN IMMEDIATE), so the state read is final."""
    rows = RawMessage.objects.filter(pk__in=pks).exclude(state__in=[RawState.PARSED, RawState.IGNORED])
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return set(rows.values_list("pk", flat=True))


def process_pending(first: int | None = None, limit: int = BATCH_SIZE) -> int:
    """The worker's job for a stored mail: file it together with the other mails waiting (up
    to `limit`, oldest first) in one transaction. When `first` was already filed by an earlier
    batch this costs one query. Mails whose earlier try did not finish go alone."""
    if first is not None and not RawMessage.objects.filter(pk=first, state=RawState.PENDING).exists():
        return 0
    waiting = list(RawMessage.objects.filter(state=RawState.PENDING).order_by("pk").values_list("pk", "attempts", "size")[:limit])
    if first is not None and first not in {pk for pk, _attempts, _size in waiting}:
        found = RawMessage.objects.filter(pk=first).values_list("pk", "attempts", "size").first()
        waiting = [*([found] if found else []), *waiting[: limit - 1]]
    _process_in_batches(waiting)
    return len(waiting)


BATCH_BYTES = 16 * 1024 * 1024  # raw bytes one batch holds in memory (settings.MAIL_BATCH_BYTES)


def _process_in_batches(waiting: list[tuple[int, int, int]]) -> None:
    """(pk, attempts, size) of waiting mails: fresh ones in batches of at most BATCH_SIZE mails
    and BATCH_BYTES, retried ones (an earlier try did not finish) one by one, and those tried
    MAIL_MAX_ATTEMPTS times already set aside as failed (`_set_aside`), not tried again."""
    most = getattr(settings, "MAIL_BATCH_BYTES", BATCH_BYTES)
    most_tries = max(1, settings.MAIL_MAX_ATTEMPTS)
    for pk, attempts, _size in waiting:
        if attempts >= most_tries:
            _set_aside(pk, attempts)
    waiting = [entry for entry in waiting if entry[1] < most_tries]
    batch: list[int] = []
    held = 0
    for pk, attempts, size in waiting:
        if attempts > 0:
            continue
        if batch and (len(batch) >= BATCH_SIZE or held + size > most):
            process_raw_messages(batch)
            batch, held = [], 0
        batch.append(pk)
        held += size
    if batch:
        process_raw_messages(batch)
    for pk, attempts, _size in waiting:
        if attempts > 0:
            process_raw_message(pk)


GAVE_UP = (
    "このメールは{attempts}回取り込もうとしましたが、いずれも処理が最後まで終わりませんでした（処理中にデスクが"
    "停止したか、メールの処理に時間がかかりすぎた可能性があります）。デスクを守るため、自動ではもう取り込みません。"
    "「元のメール」で内容を確認し、「もう一度取り込む」を押してください。"
)
HEAD_BYTES = 64 * 1024  # of a set-aside mail's header read for its sender and subject


def _set_aside(pk: int, attempts: int) -> None:
    """A mail whose every try stopped before it finished (the process was killed, or hung on
    it): failed with the reason, on the 読み取れなかったメール list, where its retry button files
    it by hand. Only its headers are read (for the list's sender and subject), not its body,
    which may be what stopped the tries; another worker that has just filed it keeps it."""
    raw = RawMessage.objects.filter(pk=pk).values_list("raw", flat=True).first()
    if raw is None:
        return
    head = bytes(raw)[:HEAD_BYTES].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    headers = parse_message(head + b"\r\n\r\n")
    reason = GAVE_UP.format(attempts=attempts)
    log.warning("mail: raw message %s set aside as failed after %s tries", pk, attempts)
    RawMessage.objects.filter(_no_try_running(timezone.now()), pk=pk, state=RawState.PENDING).update(
        state=RawState.FAILED, error=reason, subject=headers.subject[:200], from_address=headers.from_address[:254],
        parsed_at=timezone.now(),
    )


def _fail(row: RawMessage, parsed: ParsedMessage, reason: str) -> RawMessage:
    attempts = row.attempts
    row.refresh_from_db()  # what the rolled-back savepoint left
    row.attempts, row.attempt_started_at = attempts, None
    _describe(row, parsed)
    row.state, row.error, row.case, row.interaction = RawState.FAILED, reason[:2000], None, None
    row.save(update_fields=FILED_FIELDS)
    return row


# Everything _file may change; saving only these never rewrites the raw bytes.
FILED_FIELDS = [
    "subject", "from_address", "message_id", "visible_text", "quoted_text", "html", "auto_reason", "error",
    "parsed_at", "state", "case", "interaction", "attempts", "attempt_started_at",
]


def _filed_field(name: str) -> Field:
    field = RawMessage._meta.get_field(name)
    assert isinstance(field, Field)  # FILED_FIELDS name RawMessage's own fields, no reverse relation
    return field


def _column(field: Field) -> str:
    assert field.column is not None  # a concrete field's; only a virtual one has none
    return field.column


_FILED_ATTNAMES = [_filed_field(name).attname for name in FILED_FIELDS]


def _describe(row: RawMessage, parsed: ParsedMessage) -> None:
    row.subject = parsed.subject[:200]
    row.from_address = parsed.from_address[:254]
    row.message_id = row.message_id or parsed.message_id
    row.visible_text = parsed.visible_text
    row.quoted_text = parsed.quoted_text
    row.html = parsed.html
    row.auto_reason = parsed.auto_reason
    row.error = "\n".join(parsed.warnings)[:2000]
    row.parsed_at = timezone.now()


IMPORTED = "imported"
HISTORY_SOURCES = {"import"}  # `madoguchi import-mail`: old mail, not live
REFUSED_NOTE = (
    "このメールは案件 #{number} を参照していますが、差出人 {address} はその案件のお客様のアドレスとして"
    "登録されていないため、新しい案件として受け付けました。同じお客様からのメールであれば、"
    "内容を確認のうえ案件をつないでください（お客様の統合など）。"
)
REFUSED_JOINED_NOTE = (
    "このメールは案件 #{number} を参照していますが、差出人 {address} はその案件のお客様のアドレスとして"
    "登録されていないため、差出人の対応中のこの案件に追加しました。案件 #{number} に関わる内容であれば、"
    "内容を確認のうえ案件をつないでください（お客様の統合など）。"
)


_WRITE_NOW = _WriteNow()


def _file(row: RawMessage, parsed: ParsedMessage, lookups: Lookups, out: _WriteNow = _WRITE_NOW) -> Customer | None:
    """File one mail (inside its savepoint, or planned by the bulk path: `out`); returns the
    sender's customer record if known."""
    _describe(row, parsed)
    if row.source in HISTORY_SOURCES and not parsed.auto_reason:
        # History, not a live message: no acknowledgement or after-hours answer goes out for it
        # (the knowledge app checks auto_reason too). The mail is still filed on its case.
        row.auto_reason = IMPORTED
    out.attachments(row, _attachments(row, parsed))
    if parsed.from_address.lower() in lookups.own_addresses():
        row.state, row.error = RawState.IGNORED, "このデスク自身のアドレスから送られたメールです。"
        out.row(row)
        return None
    if parsed.is_bounce:
        _record_bounce(row, parsed)
        return None
    if lookups.answers_forward(parsed):
        from madoguchi.mail import forwarding

        forward = forwarding.answered(parsed, lookups.forward_ids)
        if forward is not None:
            forwarding.file_answer(row, parsed, forward, out)
            return None
    if not parsed.from_address:
        raise MailRejected("差出人のメールアドレスが読み取れませんでした。元のメールを確認してください。")
    customer = lookups.customer(parsed.from_address)
    case, refused = lookups.thread(parsed, customer)
    if parsed.auto_reason:
        # Auto-replies, lists and daemons never open or reopen a case; kept for the record.
        row.case, row.state = case, RawState.IGNORED
        row.error = f"自動送信のメールのため案件にしていません（{parsed.auto_reason}）。"
        out.row(row)
        return customer
    if customer is None:
        # Lookups already asked for this address (in the batch read): create without asking
        # again. A worker that created it meanwhile makes the insert fail (unique identity):
        # the mail's savepoint rolls back and it is filed once more (process_raw_messages).
        customer = out.customer(parsed)
    occurred = _occurred_at(row, parsed)
    body = parsed.visible_text or parsed.text or "（本文なし）"
    opens_case = case is None
    if case is None:
        case = out.case(
            customer=customer, subject=(clean_subject(without_case_tokens(parsed.subject)) or "（件名なし）")[:200],
            channel=Channel.EMAIL, category=lookups.default_category(), complaint=body, received_at=occurred,
            team=lookups.team_for(row.mailbox_id), find_team=False,
        )
    row.case = case
    row.state = RawState.PARSED
    # The other apps' reactions that read this row (the after-hours answer: auto_reason) run
    # after the commit, by when the row below is saved in the same transaction.
    row.interaction = out.message(
        case, kind=InteractionKind.INBOUND, channel=Channel.EMAIL, body=body,
        occurred_at=occurred, external_id=parsed.message_id,
    )
    out.row(row)
    if refused is not None:
        note = REFUSED_NOTE if opens_case else REFUSED_JOINED_NOTE
        out.message(case, kind=InteractionKind.SYSTEM, channel=Channel.EMAIL,
                    body=note.format(number=refused.pk, address=parsed.from_address))
    if opens_case and row.auto_reason != IMPORTED:
        from madoguchi.mail.outbound import queue_acknowledgement

        out.later(lambda: queue_acknowledgement(case, row))
    return customer


def _occurred_at(row: RawMessage, parsed: ParsedMessage) -> dt.datetime:
    """When the mail counts as received: for live mail (SMTP, IMAP) the time it reached us,
    which is what the shop's SLA counts from and what the acknowledgement's promise and the
    business-hours decision are based on (so case.received_at of a live mail is its arrival).
    The Date header is the sender's clock, and a mail that sat in an outbox for days or comes
    from a wrong clock must not start a promise that is already past or in the future. (From
    IMAP, "reached us" is when the poll stored it: later than the server's arrival only while
    polling was down.) Imported history keeps its Date header, the only time it has."""
    if row.source not in HISTORY_SOURCES:
        return row.received_at or timezone.now()
    return _sender_date(parsed)


def _sender_date(parsed: ParsedMessage) -> dt.datetime:
    now = timezone.now()
    if parsed.date is None or parsed.date > now or parsed.date < now - dt.timedelta(days=3650):
        return now
    return parsed.date


def _attachments(row: RawMessage, parsed: ParsedMessage) -> list[Attachment]:
    """The mail's attachments, their files written to storage, their rows not saved yet."""
    limit = settings.MAIL_MAX_ATTACHMENT_BYTES
    attachments = []
    for position, item in enumerate(parsed.attachments):
        attachment = Attachment(
            raw_message=row, position=position, filename=item.filename[:255], size=item.size,
            content_type=item.content_type[:100], inline=item.inline, too_large=item.size > limit,
        )
        if not attachment.too_large:
            attachment.file.save(str(position), ContentFile(item.payload), save=False)
        attachments.append(attachment)
    return attachments


def _record_bounce(row: RawMessage, parsed: ParsedMessage) -> None:
    bounced = OutboundMessage.objects.filter(message_id__in=parsed.bounced_message_ids).select_related("case").first()
    row.state = RawState.IGNORED
    row.error = "配信エラーの通知です。"
    row.case = None
    if bounced is not None:
        reason = (parsed.visible_text or parsed.text)[:500]
        OutboundMessage.objects.filter(pk=bounced.pk).update(state=OutboundState.BOUNCED, last_error=reason)
        row.case = bounced.case
        if bounced.case is not None:
            do_add_interaction(
                bounced.case, actor=None, kind=InteractionKind.SYSTEM, channel=Channel.EMAIL,
                body=f"{bounced.to_address} 宛のメールが届きませんでした（配信エラー）。アドレスをお客様に確認してください。\n{reason}",
            )
    row.save(update_fields=FILED_FIELDS)


TRUNCATED_NOT_RETRYABLE = (
    "このメールは大きすぎたため、見出し（ヘッダー）だけを保存しています。本文がないため、もう一度取り込むことは"
    "できません。メールボックスで元のメールを確認し、必要であれば送信者に小さく分けて送り直していただいてください。"
)


def retry_raw_message(pk: int) -> RawMessage:
    """The retry button of /mail/failed/. A mail kept as headers only (over the size limit)
    cannot be retried: there is nothing more to read, and clearing its state would take it off
    the failed list into a pending state no worker ever files (MailRejected says why)."""
    row = RawMessage.objects.get(pk=pk)
    if row.is_truncated:
        raise MailRejected(TRUNCATED_NOT_RETRYABLE)
    RawMessage.objects.filter(pk=pk, state=RawState.FAILED).update(state=RawState.PENDING, error="")
    return process_raw_message(pk)


def sweep_pending(older_than: dt.timedelta = dt.timedelta(minutes=5), batch: int = 200) -> int:
    """Mails stored but never processed (the worker was down or crashed) get processed, in
    batches; one whose earlier try did not finish goes alone, and one tried MAIL_MAX_ATTEMPTS
    times is set aside as failed (so a mail that stops the process is not tried forever)."""
    cutoff = timezone.now() - older_than
    waiting = list(RawMessage.objects.filter(state=RawState.PENDING, received_at__lt=cutoff)
                   .order_by("received_at", "pk").values_list("pk", "attempts", "size")[:batch])
    _process_in_batches(waiting)
    return len(waiting)

