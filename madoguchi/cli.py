"""The `madoguchi` console command: serve, worker, demo, and any Django management command."""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
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
    _setup_django()
    from django.conf import settings

    _migrate()
    created = ensure_first_admin()
    url = f"http://{args.host}:{args.port}/"
    print(f"\n  窓口 Madoguchi を起動しました: {url}")
    print(f"  データの保存先: {settings.DATA_DIR}")
    if created:
        print(f"  最初の管理者を作成しました。ユーザー名: {created[0]}  パスワード: {created[1]}")
        print("  （このパスワードは今回だけ表示されます。ログイン後に変更してください）")
    else:
        print("  既存の利用者でログインしてください。パスワードを忘れた場合: madoguchi changepassword ユーザー名")
    demo_accounts = settings.DATA_DIR / "demo-accounts.txt"
    if demo_accounts.exists():  # never the passwords themselves: only where they are
        print(f"  デモ用アカウントのユーザー名とパスワード: {demo_accounts}\n", flush=True)
    else:
        print("  デモデータを入れるには: madoguchi demo\n", flush=True)
    for extra in _embedded_services(args):
        try:
            extra()
        except OSError as error:
            # A listener that cannot bind (port taken) must not take the whole desk down.
            print(f"  警告: {getattr(extra, '__doc__', None) or extra.__name__} を起動できませんでした: {error}", flush=True)
            print("  ポートを変更するには環境変数を設定してください（docs/architecture.md）。", flush=True)
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from madoguchi.asgi import application

    tune_garbage_collector()
    # No permessage-deflate: chat frames are small JSON, and compressing them cost CPU on every
    # frame and ~40 MiB of zlib state per 1,000 sockets (docs/benchmarks.md, live chat).
    uvicorn.run(ASGIStaticFilesHandler(application), host=args.host, port=args.port, log_level="warning",
                ws_max_size=2 * 1024 * 1024, ws_per_message_deflate=False)


def _embedded_services(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    """Things `serve` starts inside its own process on the embedded default."""
    starters = []
    if not args.no_worker:
        starters.append(_start_task_consumer)
    # Channels (mail's SMTP receiver, …) register their own starters here.
    from madoguchi.embedded import embedded_starters

    starters.extend(embedded_starters())
    return starters


def _start_task_consumer() -> None:
    from huey.contrib.djhuey import HUEY

    if HUEY.immediate:
        return
    consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
    consumer.start()  # worker and scheduler threads; uvicorn keeps the main thread


def worker(args: argparse.Namespace) -> None:
    _setup_django()
    from django.core.management import call_command

    call_command("run_huey", workers=args.workers)


def demo(args: argparse.Namespace) -> None:
    _setup_django()
    _migrate()
    from madoguchi.demo import load_demo

    created = ensure_first_admin()
    summary = load_demo(cases=args.cases)
    print(summary)
    if created:
        print(f"管理者: {created[0]} / パスワード: {created[1]}")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="madoguchi", description="窓口 Madoguchi — クレーム対応ヘルプデスク")
    sub = parser.add_subparsers(dest="command")
    p_serve = sub.add_parser("serve", help="デスクを起動する（HTTP と WebSocket）")
    p_serve.add_argument("--host", default=os.environ.get("MADOGUCHI_HOST", "127.0.0.1"))
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("MADOGUCHI_PORT", "8000")))
    p_serve.add_argument("--no-worker", action="store_true", help="バックグラウンド処理を別の worker に任せる")
    p_worker = sub.add_parser("worker", help="バックグラウンド処理だけを動かす（大規模構成）")
    p_worker.add_argument("--workers", type=int, default=4)
    p_demo = sub.add_parser("demo", help="デモデータを読み込む")
    p_demo.add_argument("--cases", type=int, default=240)
    known = {"serve": serve, "worker": worker, "demo": demo}
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
