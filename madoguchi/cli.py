"""The `madoguchi` console command: serve, worker, demo, and any Django management command."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madoguchi.worker_process import EmbeddedWorker


def _setup_django(pool: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    if pool:
        # A long-running process on PostgreSQL takes its connections from psycopg's pool:
        # Django under ASGI keeps none between requests, and a new server connection per
        # request cost a page 15-30 ms (docs/benchmarks.md). MADOGUCHI_DB_POOL=false turns it off.
        os.environ.setdefault("MADOGUCHI_DB_POOL", "true")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def ensure_first_admin() -> tuple[str, str] | None:
    """On first run, create the admin account; returns (username, password to show) when
    created. A password given in MADOGUCHI_ADMIN_PASSWORD is a secret of the environment and
    is never printed (it would end up in console and service logs)."""
    from madoguchi.accounts.models import Role, User

    if User.objects.exists():
        return None
    username = os.environ.get("MADOGUCHI_ADMIN_USER", "admin")
    given = os.environ.get("MADOGUCHI_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    User.objects.create_superuser(username=username, password=password, email="", role=Role.ADMIN, display_name="管理者")
    return username, "（MADOGUCHI_ADMIN_PASSWORD の値）" if given else password


def tune_garbage_collector() -> None:
    """Objects loaded so far (Django, the apps) live as long as the process: keep them out of
    the garbage collector's full passes, and run those passes less often. With 1,000 chat
    sockets a full pass over everything took 100-300 ms every few seconds, a stall of every
    socket (docs/benchmarks.md, live chat); page requests paid the same pauses at p95.
    The youngest generation is collected every 5,000 new objects: a pass costs about 1 µs per
    object, so the 50,000 we had before made one inbox request in 75 take 25-55 ms longer;
    5,000 spreads the same work in passes of a few ms (measured in docs/benchmarks.md)."""
    gc.freeze()
    gc.set_threshold(5_000, 20, 100)


def serve(args: argparse.Namespace) -> None:
    _setup_django(pool=True)
    from django.conf import settings

    _migrate()
    created = ensure_first_admin()
    # The listeners start before the banner, so the banner says what really listens.
    worker, failed = _start_beside_web(args)
    print(banner(args.host, args.port, created, failed, settings.DATA_DIR), flush=True)
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from madoguchi.asgi import application
    from madoguchi.chat.bridge import event_bridge
    from madoguchi.chat.presence import start_heartbeat
    from madoguchi.lifespan import with_lifespan

    app = ASGIStaticFilesHandler(application)
    tune_garbage_collector()
    try:
        # No permessage-deflate: chat frames are small JSON, and compressing them cost CPU on every
        # frame and ~40 MiB of zlib state per 1,000 sockets (docs/benchmarks.md, live chat).
        parts = [start_heartbeat] + ([event_bridge(worker.events_socket)] if worker else [])
        uvicorn.run(with_lifespan(app, *parts), host=args.host, port=args.port,
                    log_level="warning", ws_max_size=2 * 1024 * 1024, ws_per_message_deflate=False, lifespan="on")
    finally:
        if worker is not None:
            worker.stop()
            shutil.rmtree(Path(worker.events_socket).parent, ignore_errors=True)


def banner(host: str, port: int, created: tuple[str, str] | None, failed: dict[str, OSError], data_dir: Path) -> str:
    """What `serve` prints at start: every address it listens on, where replies go, where the
    data is, and how to log in (the admin just created, or the demo's accounts file)."""
    from django.conf import settings

    lines = ["", "  窓口 Madoguchi を起動しました", f"  画面（Web）: http://{host}:{port}/"]
    lines.append(f"  メール受信（SMTP）: {_smtp_receiver(failed)}")
    lines += _outgoing_mail()
    lines.append(f"  データの保存先: {data_dir}")
    lines.append(f"  データベース: {_database()}")
    lines.append(f"  Redis: {_redis(settings.REDIS_URL)}")
    for name, error in failed.items():
        if name != "start_smtp_receiver":
            lines.append(f"  警告: {name} を起動できませんでした: {error}")
    lines.append("")
    lines += _login_lines(created, data_dir)
    lines.append("  設定の一覧: madoguchi serve --help")
    lines.append("")
    return "\n".join(lines)


def _smtp_receiver(failed: dict[str, OSError]) -> str:
    from django.conf import settings

    if not settings.MAIL_SMTP_PORT:
        return "停止中（MADOGUCHI_SMTP_PORT=0）"
    address = f"{settings.MAIL_SMTP_HOST}:{settings.MAIL_SMTP_PORT}"
    error = failed.get("start_smtp_receiver")
    if error is not None:
        return (f"{address} で起動できませんでした（{error}）。"
                "MADOGUCHI_SMTP_PORT で別のポートを指定してください（0 で停止）")
    return f"{address}（このアドレスに届いたメールが案件になります）"


def _outgoing_mail() -> list[str]:
    """Where replies to customers are sent, and a warning when that is the default 127.0.0.1:25,
    where a laptop usually has no mail server: the replies would stay unsent."""
    from django.conf import settings

    where = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    lines = [f"  返信メールの送信先: {where}（MADOGUCHI_SMTP_HOST / MADOGUCHI_SMTP_OUT_PORT で変更）"]
    if (settings.EMAIL_HOST, settings.EMAIL_PORT) == DEFAULT_OUTGOING:
        reachable = _answers(settings.EMAIL_HOST, settings.EMAIL_PORT)
        lines.append("  ！注意: 送信先は初期設定のままです。このコンピューターでメールサーバーが動いていなければ、"
                     "お客様への返信メールは送られません。")
        if not reachable:
            lines.append(f"  　　　　いま {where} に接続できません。お使いのメールサーバーを指定してください。")
    return lines


DEFAULT_OUTGOING = ("127.0.0.1", 25)


def _answers(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _database() -> str:
    """The database without its password."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite（{db['NAME']}）"
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"PostgreSQL（{where} / {db['NAME']}）"


def _redis(url: str) -> str:
    if not url:
        return "使いません（1台構成: 処理の待ち行列はデータフォルダの SQLite）"
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


def _login_lines(created: tuple[str, str] | None, data_dir: Path) -> list[str]:
    from madoguchi.accounts.models import Role, User

    if created:
        return [f"  最初の管理者を作成しました。ユーザー名: {created[0]}  パスワード: {created[1]}",
                "  （このパスワードは今回だけ表示されます。ログイン後に変更してください）", ""]
    lines = []
    demo_accounts = data_dir / "demo-accounts.txt"
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").values_list("username", flat=True)[:3])
    if demo_accounts.exists():  # never the passwords themselves: only where they are
        lines.append(f"  デモデータが入っています。ログインに使うユーザー名とパスワード: {demo_accounts}")
        if admins:
            lines.append(f"  管理者アカウント（{'、'.join(admins)}）は作成済みです。")
    else:
        if admins:
            lines.append(f"  管理者アカウント（{'、'.join(admins)}）は作成済みです。登録済みのユーザー名でログインしてください。")
        lines.append("  デモデータを入れるには: madoguchi demo")
    lines.append("  パスワードを忘れた場合: madoguchi changepassword ユーザー名")
    lines.append("")
    return lines


def _start_beside_web(args: argparse.Namespace) -> tuple[EmbeddedWorker | None, dict[str, OSError]]:
    """The background jobs and the listeners (SMTP, …) run in the embedded worker process, so
    their CPU never holds the web's interpreter lock (madoguchi/worker_process.py). With
    --no-worker (`madoguchi worker` processes take the jobs) or jobs run at once, the listeners
    run in this process."""
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from madoguchi.embedded import run_starters
    from madoguchi.worker_process import EmbeddedWorker

    if args.no_worker or HUEY.immediate:
        return None, run_starters()
    events_socket = str(Path(tempfile.mkdtemp(prefix="madoguchi-")) / "events.sock")  # mode 0700
    worker = EmbeddedWorker(events_socket, workers=int(settings.HUEY["consumer"]["workers"]))  # type: ignore[index]
    return worker, worker.start()


def worker(args: argparse.Namespace) -> None:
    """A worker of the scale mode: Huey's consumer on Redis. With --listeners it also runs the
    receivers (SMTP, …) that `serve` runs in its embedded worker, so the web processes can run
    with MADOGUCHI_SMTP_PORT=0 and one worker receives the mail."""
    _setup_django(pool=True)
    from django.core.management import call_command

    if args.listeners:
        from madoguchi.embedded import run_starters

        for name, error in run_starters().items():
            print(f"警告: {name} を起動できませんでした: {error}", file=sys.stderr, flush=True)
    call_command("run_huey", workers=args.workers)


def demo(args: argparse.Namespace) -> None:
    _setup_django()
    _migrate()
    from madoguchi.demo import load_demo

    # The demo's accounts are still in the access log (/settings/access/); their log lines,
    # one per account, would only bury the summary on the console of a first `bin/start`.
    access_lines = logging.getLogger("madoguchi.access")
    level = access_lines.level
    access_lines.setLevel(logging.WARNING)
    try:
        created = ensure_first_admin()
        summary = load_demo(cases=args.cases, admin=created)
    finally:
        access_lines.setLevel(level)
    print(summary)
    if created:
        print(f"管理者: {created[0]} / パスワード: {created[1]}（デモ用アカウントのファイルにも保存しました）")


# The settings a newcomer needs, with their defaults (madoguchi/settings.py reads them; every
# other setting is listed in docs/architecture.md). Shown by `madoguchi serve --help` and
# `bin/start --help`; read from the environment only, so --help creates nothing.
SETTINGS_HELP: list[tuple[str, str, str]] = [
    ("MADOGUCHI_PORT", "8000", "画面（Web）のポート（--port と同じ）"),
    ("MADOGUCHI_HOST", "127.0.0.1", "画面（Web）で待ち受けるアドレス（--host と同じ。0.0.0.0 で他のコンピューターからも開けます）"),
    ("MADOGUCHI_DATA_DIR", "./madoguchi-data", "データフォルダ（データベース・添付ファイル・鍵）"),
    ("DATABASE_URL", "データフォルダの SQLite", "データベース（例: postgres://user@host:5432/madoguchi）"),
    ("REDIS_URL", "なし", "Redis（複数のプロセスで動かすとき。例: redis://127.0.0.1:6379/0）"),
    ("MADOGUCHI_SMTP_PORT", "2525", "メール受信（SMTP）のポート。0 で受信しない"),
    ("MADOGUCHI_SMTP_LISTEN", "127.0.0.1", "メール受信（SMTP）で待ち受けるアドレス"),
    ("MADOGUCHI_SMTP_HOST", "127.0.0.1", "返信メールを送る SMTP サーバー"),
    ("MADOGUCHI_SMTP_OUT_PORT", "25", "返信メールを送る SMTP サーバーのポート"),
    ("MADOGUCHI_SMTP_USER", "なし", "送信用 SMTP サーバーのユーザー名（パスワードは MADOGUCHI_SMTP_PASSWORD）"),
    ("MADOGUCHI_SMTP_TLS", "false", "送信用 SMTP サーバーに STARTTLS で接続する"),
    ("MADOGUCHI_FROM_EMAIL", "support@example.jp", "返信メールの差出人アドレス"),
    ("MADOGUCHI_SITE_URL", "http://127.0.0.1:8000", "お客様に送るリンクに使う、この窓口の公開アドレス"),
    ("MADOGUCHI_LANGUAGE", "ja", "画面の言語（ja または en）"),
    ("MADOGUCHI_TIME_ZONE", "Asia/Tokyo", "タイムゾーン（営業時間・日付の基準）"),
    ("MADOGUCHI_HTTPS", "false", "HTTPS で公開するとき true（安全な Cookie・HTTPS への転送・HSTS）"),
    ("MADOGUCHI_BEHIND_PROXY", "false", "nginx などのリバースプロキシの後ろで動かすとき true（X-Forwarded-For / -Proto を信頼）"),
    ("MADOGUCHI_BACKUP_HOUR", "3", "毎日のバックアップの時刻（-1 で行わない。保存先はデータフォルダの backups）"),
    ("MADOGUCHI_BACKUP_KEEP", "7", "残すバックアップの数"),
    ("MADOGUCHI_LINE_CHANNEL_SECRET", "なし", "LINE公式アカウントのチャネルシークレット（Webhook の URL は <公開アドレス>/line/webhook/）"),
    ("MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN", "なし", "LINE公式アカウントのチャネルアクセストークン（返信の送信・プロフィールとファイルの取得）"),
    ("MADOGUCHI_X_CONSUMER_KEY", "なし", "Xのショップアカウント: アプリの API Key（OAuth 1.0a。MADOGUCHI_X_CONSUMER_SECRET・MADOGUCHI_X_ACCESS_TOKEN・MADOGUCHI_X_ACCESS_TOKEN_SECRET も。メンションとDMの取得・返信）"),
    ("MADOGUCHI_X_CONSUMER_SECRET", "なし", "Xのアプリの API Key Secret"),
    ("MADOGUCHI_X_ACCESS_TOKEN", "なし", "Xのショップアカウントの Access Token"),
    ("MADOGUCHI_X_ACCESS_TOKEN_SECRET", "なし", "Xのショップアカウントの Access Token Secret"),
    ("MADOGUCHI_X_BEARER_TOKEN", "なし", "OAuth 1.0a の代わりに: OAuth 2.0 のユーザーアクセストークン（アプリ専用のトークンではメンションの取得だけ）"),
    ("MADOGUCHI_X_FETCH_MINUTES", "5", "Xのメンション・DMを取りに行く間隔（分。API の利用枠に合わせて）"),
    ("MADOGUCHI_X_LISTENING_QUERY", "なし", "ソーシャルリスニング: Xの最近の投稿をこの検索語（例: ショップ名）で15分ごとに取り込む（空なら取り込まない）"),
    ("MADOGUCHI_NO_DEMO", "0", "bin/start だけ: 1 にすると初回起動時にデモデータを入れない"),
]
SECRET_SETTINGS = ("DATABASE_URL", "REDIS_URL", "MADOGUCHI_LINE_CHANNEL_SECRET", "MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN",
                   "MADOGUCHI_X_CONSUMER_KEY", "MADOGUCHI_X_CONSUMER_SECRET", "MADOGUCHI_X_ACCESS_TOKEN",
                   "MADOGUCHI_X_ACCESS_TOKEN_SECRET", "MADOGUCHI_X_BEARER_TOKEN")  # never echoed


def settings_help() -> str:
    lines = ["設定（環境変数。括弧内は初期値）:"]
    for name, default, what in SETTINGS_HELP:
        now = os.environ.get(name)
        shown = ""
        if now:
            shown = "  ← いまは設定済み" if name in SECRET_SETTINGS else f"  ← いまの値: {now}"
        lines.append(f"  {name}（{default}）{shown}\n      {what}")
    lines.append("")
    lines.append("例: MADOGUCHI_SMTP_HOST=smtp.example.jp MADOGUCHI_SMTP_OUT_PORT=587 MADOGUCHI_SMTP_TLS=1 madoguchi serve")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    # Everything the desk writes (database, WAL, task queue, uploads, backups) is this user's
    # only; the data folder itself is made 0700 by settings (env.private_data_dir).
    os.umask(0o077)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="madoguchi", description="窓口 Madoguchi — クレーム対応ヘルプデスク")
    sub = parser.add_subparsers(dest="command")
    p_serve = sub.add_parser(
        "serve", help="デスクを起動する（HTTP と WebSocket）", description="窓口 Madoguchi を起動します（画面・チャット・メール受信）。",
        epilog=settings_help(), formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False,
    )
    p_serve.add_argument("-h", "--help", action="help", help="この説明を表示して終了する（何も起動・作成しません）")
    p_serve.add_argument("--host", default=os.environ.get("MADOGUCHI_HOST", "127.0.0.1"),
                         help="画面（Web）で待ち受けるアドレス（初期値: %(default)s）")
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("MADOGUCHI_PORT", "8000")),
                         help="画面（Web）のポート（初期値: %(default)s）")
    p_serve.add_argument("--no-worker", action="store_true", help="バックグラウンド処理を別の worker に任せる（madoguchi worker）")
    p_worker = sub.add_parser("worker", help="バックグラウンド処理だけを動かす（大規模構成）")
    p_worker.add_argument("--workers", type=int, default=4)
    p_worker.add_argument("--listeners", action="store_true",
                          help="メール受信（SMTP）などの受信口もこの worker で動かす（大規模構成では1つの worker だけに付ける）")
    p_demo = sub.add_parser("demo", help="デモデータを読み込む")
    p_demo.add_argument("--cases", type=int, default=240)
    sub.add_parser("classify", help="標準入力のメッセージを1行ずつ分類し JSON で出力する（--help で詳細）")
    known = {"serve": serve, "worker": worker, "demo": demo}
    if argv[:1] == ["classify"]:
        # Before Django: with a model in the data folder, 1,000 lines take well under 2 s.
        from madoguchi.triage.command import main as classify

        classify(argv[1:])
        return
    if not argv or argv[0] in ("-h", "--help") or argv[0] in known:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return
        known[args.command](args)
        return
    # Anything else is a Django management command: `madoguchi createsuperuser`, …
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["madoguchi", *argv])


if __name__ == "__main__":
    main()
