"""Backup and restore of everything the desk keeps, in one archive (.tar.gz, mode 0600):

- the database: SQLite through its online backup API (a consistent copy while the desk runs),
  PostgreSQL through `pg_dump --format=custom` (the client of the server's version);
- the attachments and uploads (MEDIA_ROOT);
- the secret key (sessions and the mailbox passwords stored encrypted need it);
- a manifest (what, when, which database engine, the app's version).

The task queue is not kept: what it held is redone from the database (PendingWork, the mail
sweep). Restoring needs an empty database, so a backup never silently overwrites a live desk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

ARCHIVE_PREFIX = "madoguchi-backup-"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator (Japanese)."""


def backups_dir() -> Path:
    folder = Path(os.environ.get("MADOGUCHI_BACKUP_DIR", "") or settings.DATA_DIR / "backups")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGHOST": str(db.get("HOST") or ""), "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": str(db.get("USER") or ""), "PGDATABASE": str(db["NAME"])}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _dump_database(into: Path) -> str:
    if _engine() == "sqlite":
        target = into / "database.sqlite3"
        source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target.name
    target = into / "database.pgdump"
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target)], env=_pg_env(),
                          capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode != 0:
        raise BackupError(f"pg_dump が失敗しました: {done.stderr.strip()}")
    return target.name


def do_backup(to: Path | None = None, now: dt.datetime | None = None) -> Path:
    """Write one archive; returns its path."""
    now = now or timezone.now()
    folder = to or backups_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{ARCHIVE_PREFIX}{timezone.localtime(now):%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="madoguchi-backup-") as work:
        staging = Path(work)
        manifest = {"created_at": now.isoformat(), "engine": _engine(), "madoguchi": version("madoguchi"),
                    "database": _dump_database(staging)}
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        partial = folder / (name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(staging / "manifest.json", "manifest.json")
            archive.add(staging / manifest["database"], manifest["database"])
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, "media")
            key = Path(settings.DATA_DIR) / "secret_key"
            if key.is_file():
                archive.add(key, "secret_key")
        os.chmod(partial, 0o600)
        partial.rename(folder / name)  # whole or not at all: a crash leaves only a .partial
    return folder / name


def prune(keep: int, folder: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` archives; returns what was deleted."""
    archives = sorted((folder or backups_dir()).glob(f"{ARCHIVE_PREFIX}*.tar.gz"))
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


def _database_is_empty() -> bool:
    tables = set(connection.introspection.table_names())
    if "cases_case" not in tables:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM cases_case LIMIT 1")
        return cursor.fetchone() is None


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = archive.getmembers()
    for member in members:
        if member.name.startswith("/") or ".." in Path(member.name).parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"バックアップに不正な項目があります: {member.name}")
    return members


def do_restore(path: Path) -> dict[str, str]:
    """Restore an archive into this desk's (empty) database and data folder."""
    if not _database_is_empty():
        raise BackupError("データベースに案件があります。復元は空のデータベースにだけ行えます（新しい DATABASE_URL か空のデータフォルダを指定してください）。")
    with tempfile.TemporaryDirectory(prefix="madoguchi-restore-") as work:
        staging = Path(work)
        try:
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(work, members=_safe_members(archive), filter="data")
            manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
            if not isinstance(manifest, dict) or not {"engine", "database"} <= manifest.keys():
                raise ValueError("manifest.json lacks engine or database")
        except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as error:
            raise BackupError(f"Madoguchi のバックアップとして読めません（壊れているか、別のファイルです）: {error}") from error
        if manifest["engine"] != _engine():
            raise BackupError(f"このバックアップは {manifest['engine']} のものです。同じ種類のデータベースに復元してください。")
        connection.close()
        if _engine() == "sqlite":
            target = Path(str(settings.DATABASES["default"]["NAME"]))
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(staging / manifest["database"], target)
        else:
            done = subprocess.run(["pg_restore", "--no-owner", "--clean", "--if-exists", "--dbname", _pg_env()["PGDATABASE"],
                                   str(staging / manifest["database"])], env=_pg_env(), capture_output=True, text=True,
                                  timeout=6 * 3600)
            if done.returncode != 0:
                raise BackupError(f"pg_restore が失敗しました: {done.stderr.strip()}")
        if (staging / "media").is_dir():
            shutil.copytree(staging / "media", settings.MEDIA_ROOT, dirs_exist_ok=True)
        if (staging / "secret_key").is_file() and not os.environ.get("SECRET_KEY"):
            shutil.copyfile(staging / "secret_key", Path(settings.DATA_DIR) / "secret_key")
    return {key: str(value) for key, value in manifest.items()}
