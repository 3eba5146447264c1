"""What `madoguchi check` reports beyond Django's own checks (issue 21): settings that do not fit
together for the way the desk is run (scale mode, HTTPS, mail), an unreachable Redis, a secret key
or data folder others can read, a data folder the desk cannot write. Messages in Japanese; an
Error makes the command exit non-zero.

They talk to Redis and look at files, so they run only in `madoguchi check` (`ACTIVE`), not before
every `migrate`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

ACTIVE = False
TAG = "madoguchi"


@register(TAG)
def madoguchi_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not ACTIVE:
        return []
    return [*_scale(), *_https(), *_files(), *_mail(), *_hosts()]


def _scale() -> list[Any]:
    found: list[Any] = []
    if settings.REDIS_URL and settings.IS_SQLITE:
        found.append(Error(
            "REDIS_URL が設定されています（複数のプロセスで動かす構成）が、データベースが SQLite です。",
            hint="DATABASE_URL に PostgreSQL を指定してください（例: postgres://madoguchi@127.0.0.1:5432/madoguchi）。"
                 "SQLite は1台・1プロセスの組み込み構成でだけ使えます。",
            id="madoguchi.E001"))
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
        except Exception as error:  # noqa: BLE001 - any failure is reported as it is
            found.append(Error(
                f"Redis に接続できません（{_without_password(settings.REDIS_URL)}）: {error}",
                hint="Redis が動いているか、REDIS_URL のホスト・ポート・パスワードを確かめてください。チャットと"
                     "バックグラウンド処理が止まります。",
                id="madoguchi.E002"))
    return found


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":********@")
    return url


def _https() -> list[Any]:
    found: list[Any] = []
    if settings.HTTPS and not settings.MADOGUCHI_BEHIND_PROXY:
        found.append(Error(
            "MADOGUCHI_HTTPS=true ですが MADOGUCHI_BEHIND_PROXY が設定されていません。",
            hint="madoguchi serve は TLS を終端しません。nginx などのリバースプロキシで TLS を終端し、"
                 "MADOGUCHI_BEHIND_PROXY=true にしてください（このままでは HTTPS への転送が繰り返されます）。docs/deploy.md を参照。",
            id="madoguchi.E003"))
    if settings.DEBUG:
        found.append(Error("MADOGUCHI_DEBUG が有効です。", hint="本番では MADOGUCHI_DEBUG を外してください（エラー画面に設定や"
                           "データが表示されます）。", id="madoguchi.E007"))
    return found


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _files() -> list[Any]:
    found: list[Any] = []
    data = Path(settings.DATA_DIR)
    key = data / "secret_key"
    if not os.environ.get("SECRET_KEY") and key.exists() and _mode(key) & 0o077:
        found.append(Error(
            f"秘密鍵のファイル {key} をほかの利用者が読めます（{_mode(key):o}）。",
            hint=f"chmod 600 {key} を実行してください。読まれるとログインのセッションを偽造できます。",
            id="madoguchi.E004"))
    if data.exists() and _mode(data) & 0o077:
        found.append(Warning(
            f"データフォルダ {data} をほかの利用者が読めます（{_mode(data):o}）。",
            hint=f"chmod 700 {data} を実行してください（データベース・添付ファイル・秘密鍵があります）。",
            id="madoguchi.W005"))
    try:
        with tempfile.NamedTemporaryFile(dir=data, prefix=".check-"):
            pass
    except OSError as error:
        found.append(Error(
            f"データフォルダ {data} に書き込めません: {error.strerror}",
            hint="MADOGUCHI_DATA_DIR を、madoguchi を動かす利用者が書き込めるフォルダにしてください。",
            id="madoguchi.E006"))
    return found


def _mail() -> list[Any]:
    found: list[Any] = []
    if settings.DEFAULT_FROM_EMAIL == "support@example.jp":
        found.append(Warning(
            "MADOGUCHI_FROM_EMAIL が設定されていません（support@example.jp のままです）。",
            hint="お客様へのメールの差出人になる、店のアドレスを設定してください。", id="madoguchi.W008"))
    if settings.EMAIL_HOST in {"127.0.0.1", "localhost"} and settings.EMAIL_PORT == 25 and not settings.EMAIL_HOST_USER:
        found.append(Warning(
            "送信メールサーバーが既定のまま（127.0.0.1:25）です。",
            hint="MADOGUCHI_SMTP_HOST・MADOGUCHI_SMTP_OUT_PORT・MADOGUCHI_SMTP_USER・MADOGUCHI_SMTP_PASSWORD・"
                 "MADOGUCHI_SMTP_TLS を設定してください。このマシンでメールサーバーが動いていなければ返信が届きません。",
            id="madoguchi.W009"))
    return found


def _hosts() -> list[Any]:
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host and host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        return [Warning(
            f"MADOGUCHI_SITE_URL のホスト {host} が MADOGUCHI_ALLOWED_HOSTS にありません。",
            hint=f"MADOGUCHI_ALLOWED_HOSTS={host} を加えてください（このアドレスで開くと 400 になります）。",
            id="madoguchi.W010")]
    return []
