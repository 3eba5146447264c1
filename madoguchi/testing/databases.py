"""Migrated databases for the desks the tests start as real processes.

Migrating a new database takes about ten seconds, and some thirty tests each start a desk of
their own: the suite migrates once per database kind and copies the result. A new SQLite file
is a copy of a migrated template file; a new PostgreSQL database is created with the migrated
template database as its TEMPLATE (PostgreSQL copies its files). A database that already
exists (a desk restarted, a backup restored over) is migrated as `bin/start` would."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import dj_database_url

MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))
_lock = threading.Lock()
_sqlite_template: list[Path] = []
_postgres_template: list[str] = []
# Databases made from a template here: migrated already.
_from_template: set[str] = set()


def _migrate(database_url: str, data_dir: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env.update(DATABASE_URL=database_url, MADOGUCHI_DATA_DIR=data_dir)
    subprocess.run([MADOGUCHI, "migrate", "-v", "0"], env=env, check=True, timeout=600)


def _sqlite_path(database_url: str) -> Path:
    return Path(urllib.parse.urlsplit(database_url).path.removeprefix("/"))


def _sqlite_template_file() -> Path:
    with _lock:
        if not _sqlite_template:
            folder = tempfile.mkdtemp(prefix="madoguchi-template-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = Path(folder) / "desk.sqlite3"
            _migrate(f"sqlite:///{path}", folder)
            _sqlite_template.append(path)
        return _sqlite_template[0]


def _admin(config: Any) -> dict[str, Any]:
    return {"host": config["HOST"], "port": config["PORT"] or 5432, "user": config["USER"], "dbname": "postgres"}


def drop_postgres_database(url: str) -> None:
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(**_admin(config), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')


def _postgres_template_name(server_url: str) -> str:
    """A migrated database of this test run's own, never connected to except to be copied."""
    import psycopg

    with _lock:
        if not _postgres_template:
            name = f"madoguchi_template_{os.getpid()}"
            url = urllib.parse.urlunsplit(urllib.parse.urlsplit(server_url)._replace(path=f"/{name}"))
            with psycopg.connect(**_admin(dj_database_url.parse(server_url)), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            atexit.register(drop_postgres_database, url)
            with tempfile.TemporaryDirectory(prefix="madoguchi-template-") as folder:
                _migrate(url, folder)
            _postgres_template.append(name)
        return _postgres_template[0]


def create_postgres_database(server_url: str, name: str) -> str:
    """A new, migrated PostgreSQL database on the server `server_url` names; its URL."""
    import psycopg

    template = _postgres_template_name(server_url)
    with psycopg.connect(**_admin(dj_database_url.parse(server_url)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(server_url)._replace(path=f"/{name}"))
    _from_template.add(url)
    return url


def migrated(database_url: str, data_dir: str | Path) -> None:
    """Make the database `database_url` names ready for a desk: a new SQLite file is a copy of
    the template; a database made by `create_postgres_database` is ready; any other is
    migrated by `madoguchi migrate`."""
    if database_url in _from_template:
        return
    if database_url.startswith("sqlite:"):
        path = _sqlite_path(database_url)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template_file(), path)
            path.chmod(0o600)
            return
    _migrate(database_url, str(data_dir))
