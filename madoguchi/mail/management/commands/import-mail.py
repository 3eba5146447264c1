"""`madoguchi import-mail PATH…`: bring a shop's mail history in from mbox files, .eml files or
folders of them (Maildir cur/new too). Each mail is stored raw and filed like a live one,
but no acknowledgement or automatic answer is sent for history. Safe to run twice."""

from __future__ import annotations

import mailbox as mailboxes
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.mail.ingest import BATCH_BYTES, BATCH_SIZE, do_ingest_many, process_raw_messages
from madoguchi.mail.models import Mailbox, RawState


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


_HEADER_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")  # RFC 5322 2.2: printable name, colon
_MAIL_HEADERS = {b"from", b"date", b"message-id", b"received", b"return-path", b"subject"}


def _looks_like_mail(path: Path) -> bool:
    """The file starts with an RFC 5322 header block (fields and folded lines up to the blank
    line) that names at least one field every mail has. A README, notes or an Outlook .msg
    (a binary container) do not."""
    with path.open("rb") as handle:
        head = handle.read(16_384)
    lines = head.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    names: set[bytes] = set()
    for index, line in enumerate(lines):
        if line[:1] in (b" ", b"\t") and index > 0:
            continue  # a folded line of the field above
        match = _HEADER_FIELD.match(line)
        if match is None:
            return False
        names.add(match.group(0).rstrip(b": \t").lower())
    return bool(names & _MAIL_HEADERS)


def _is_mail_file(item: Path) -> bool:
    """In a folder: .eml files, mbox files, and other files (Maildir's, whatever their names)
    that look like a mail; anything else (README, .msg, .json) is not imported as mail."""
    if not item.is_file() or item.name.startswith("."):
        return False
    if item.suffix.lower() in (".eml", ".mbox"):
        return True
    return item.suffix.lower() != ".msg" and (_is_mbox(item) or _looks_like_mail(item))


def _count(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += _count([item for item in path.rglob("*") if _is_mail_file(item)])
        elif _is_mbox(path):
            total += sum(1 for line in path.open("rb") if line.startswith(b"From "))
        else:
            total += 1
    return total


def _messages(path: Path) -> Iterator[bytes]:
    if path.is_dir():
        for item in sorted(path.rglob("*")):
            if _is_mail_file(item):
                yield from _messages(item)
    elif _is_mbox(path):
        box = mailboxes.mbox(str(path), create=False)
        for key in box.iterkeys():
            # get_bytes keeps the message exactly, minus the mbox "From " separator line.
            yield box.get_bytes(key)
    else:
        yield path.read_bytes()


class Progress:
    def __init__(self, total: int, out: Any) -> None:
        self.total, self.done, self.out, self.started = max(total, 1), 0, out, time.monotonic()

    def step(self, note: str = "") -> None:
        self.done += 1
        width = 30
        filled = int(width * min(self.done, self.total) / self.total)
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        self.out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} ({rate:.0f}通/秒) {note[:30]:<30}")
        self.out.flush()


class Command(BaseCommand):
    help = "mbox ファイル、.eml ファイル、またはそれらのフォルダからメールの履歴を取り込みます。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--mailbox", default="", help="取り込み先のメールボックスのアドレス")

    def handle(self, *args: Any, paths: list[str], mailbox: str, **options: Any) -> None:
        targets = [Path(p) for p in paths]
        missing = [str(p) for p in targets if not p.exists()]
        if missing:
            raise CommandError(f"見つかりません: {', '.join(missing)}")
        box = Mailbox.objects.filter(address=mailbox).first() if mailbox else None
        if mailbox and box is None:
            raise CommandError(f"メールボックス {mailbox} が登録されていません。")
        progress = Progress(_count(targets), sys.stderr)
        counts = {"new": 0, "duplicate": 0, "failed": 0}
        group: list[bytes] = []
        held = 0

        def flush() -> None:
            # A group is stored in one transaction, then filed in one (the files stay on disk
            # until then, so a crash loses nothing; running again skips what was stored).
            results = do_ingest_many(group, "import", box, enqueue=False)
            filed = {row.pk: row for row in process_raw_messages([row.pk for row, created in results if created])}
            for row, created in results:
                row = filed.get(row.pk, row)
                counts["new" if created else "duplicate"] += 1
                counts["failed"] += row.state == RawState.FAILED
                progress.step(row.subject)
            group.clear()

        for target in targets:
            for raw in _messages(target):
                group.append(raw)
                held += len(raw)
                if len(group) >= BATCH_SIZE or held >= BATCH_BYTES:
                    flush()
                    held = 0
        if group:
            flush()
        sys.stderr.write("\n")
        self.stdout.write(
            f"取り込み完了: 新規 {counts['new']} 通、取り込み済みのため省略 {counts['duplicate']} 通、"
            f"読み取れなかった {counts['failed']} 通（/mail/failed/ で確認できます）"
        )
