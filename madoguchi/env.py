"""Small helpers that read settings from environment variables.

Every setting Madoguchi has is read here or in settings.py through these helpers, so
`grep MADOGUCHI_` finds them all. Secrets are never given defaults that live in the repo.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder.

    The key is written with mode 0600 next to the database, never into the repository.
    """
    from_env = os.environ.get("SECRET_KEY", "")
    if from_env:
        return from_env
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def private_data_dir(data_dir: Path) -> Path:
    """The data folder holds the database (sessions, password hashes), the task queue, the
    uploads and the secret key: readable by this user only. The folder is 0700 (and every file a
    `madoguchi` process creates is 0600: the command sets umask 077, madoguchi/cli.py); a folder
    made before with looser modes is fixed once, files included (issue 21, finding 5)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir.stat().st_mode & 0o077:
        for folder, _dirs, files in os.walk(data_dir):
            os.chmod(folder, 0o700)
            for name in files:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o600)
    return data_dir
