"""A backup of a running desk, restored into an empty database and data folder, finds every
case, message and attachment (issue 21: backup and restore). On PostgreSQL when the suite runs
on it (pg_dump / pg_restore), else SQLite (its online backup API)."""

from __future__ import annotations

import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from madoguchi.backup import services
from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.databases import migrated
from madoguchi.testing.desk_process import (
    MADOGUCHI,
    MailSink,
    Sending,
    ServedDesk,
    send_until_accepted,
)

TALLY = """
import hashlib
from madoguchi.cases.models import Case, Interaction
from madoguchi.mail.models import Attachment
files = sorted(hashlib.sha256(a.file.read()).hexdigest() for a in Attachment.objects.exclude(file=""))
print(Case.objects.count(), Interaction.objects.count(), Attachment.objects.count(), ",".join(files))
"""
RECEIPT = "領収書の再発行をお願いします".encode() + bytes(range(256)) * 40


def mail_with_attachment(number: int) -> tuple[str, bytes]:
    message = EmailMessage()
    message["From"] = f"中村 美咲 <misaki{number}@example.jp>"
    message["To"] = "support@example.jp"
    message["Subject"] = f"注文 KM-2000{number} の領収書について"
    message.set_content("先日の注文の領収書を添付します。宛名が違っていました。\n中村", charset="utf-8")
    message.add_attachment(RECEIPT + bytes([number]), maintype="application", subtype="pdf", filename="領収書.pdf")
    return f"misaki{number}@example.jp", message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # SMTP lines


def wait_for(check, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.5)


def test_a_backup_of_a_running_desk_restores_every_case_message_and_attachment(tmp_path: Path) -> None:
    with MailSink() as sink, own_database("backup_from") as source_db, own_database("backup_into") as target_db:
        desk = ServedDesk.create(tmp_path / "desk", source_db,
                                 sink.port, MADOGUCHI_MAIL_ACK="false")
        desk.start()
        try:
            progress = Sending()
            send_until_accepted(desk.smtp_port, [mail_with_attachment(n) for n in range(3)], progress, seconds=120)
            wait_for(lambda: desk.shell(TALLY).split()[:1] == ["3"], 90)
            before = desk.shell(TALLY)
            made = subprocess.run([MADOGUCHI, "backup", "--to", str(tmp_path / "backups")], env=desk.env,
                                  capture_output=True, text=True, timeout=600)
            assert made.returncode == 0, made.stderr
        finally:
            desk.stop()
        archive = next((tmp_path / "backups").glob("madoguchi-backup-*.tar.gz"))
        assert oct(archive.stat().st_mode & 0o777) == "0o600"

        fresh = {**desk.env, "DATABASE_URL": target_db, "MADOGUCHI_DATA_DIR": str(tmp_path / "restored")}
        migrated(target_db, fresh["MADOGUCHI_DATA_DIR"])
        restored = subprocess.run([MADOGUCHI, "restore", str(archive)], env=fresh, capture_output=True, text=True, timeout=600)
        assert restored.returncode == 0, restored.stderr
        assert "復元しました" in restored.stdout
        after = subprocess.run([MADOGUCHI, "shell", "-c", TALLY], env=fresh, capture_output=True, text=True,
                               timeout=300, check=True).stdout.strip().splitlines()[-1]
        assert after == before
        assert before.split()[2] == "3" and len(before.split()[3].split(",")) == 3
        assert (tmp_path / "restored" / "secret_key").read_text() == (tmp_path / "desk" / "secret_key").read_text()

        again = subprocess.run([MADOGUCHI, "restore", str(archive)], env=fresh, capture_output=True, text=True, timeout=600)
        assert again.returncode != 0 and "空のデータベースにだけ" in again.stderr


def test_old_backups_beyond_the_number_kept_are_deleted(tmp_path: Path) -> None:
    for day in range(1, 10):
        (tmp_path / f"madoguchi-backup-202612{day:02d}-031700.tar.gz").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("keep me")
    deleted = services.prune(7, tmp_path)
    assert [p.name for p in deleted] == ["madoguchi-backup-20261201-031700.tar.gz", "madoguchi-backup-20261202-031700.tar.gz"]
    assert len(list(tmp_path.glob("madoguchi-backup-*"))) == 7 and (tmp_path / "notes.txt").exists()


@pytest.mark.django_db
def test_the_daily_backup_is_a_registered_job_and_not_late_before_its_first_run() -> None:
    from madoguchi.jobs.status import job_statuses

    statuses = {s.job.name: s for s in job_statuses()}
    daily = statuses["madoguchi.backup.tasks.daily_backup_job"]
    assert daily.job.period is not None and daily.job.period.days == 1
    assert daily.job.next_run is not None and daily.job.next_run.minute == 17
    assert not daily.overdue(daily.job.next_run)


@pytest.mark.django_db
@pytest.mark.parametrize("content", [b"", b"not a backup at all", b"\x1f\x8b\x08\x00broken gzip"])
def test_a_file_that_is_not_a_backup_is_refused_in_japanese(tmp_path: Path, content: bytes) -> None:
    from django.core.management import CommandError, call_command

    bad = tmp_path / "madoguchi-backup-broken.tar.gz"
    bad.write_bytes(content)
    with pytest.raises(CommandError, match="バックアップとして読めません"):
        call_command("restore", str(bad))


@pytest.mark.django_db
def test_a_backup_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("x")
    with pytest.raises(CommandError, match="書き込めませんでした|バックアップ"):
        call_command("backup", "--to", str(blocked / "backups"))
