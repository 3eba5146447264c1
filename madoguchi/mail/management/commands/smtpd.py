"""`madoguchi smtpd`: run only the SMTP receiver, in the foreground."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.mail.smtpd import make_controller


class Command(BaseCommand):
    help = "メール受信用の SMTP サーバーを起動します（MADOGUCHI_SMTP_PORT、既定 2525）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args: Any, host: str | None, port: int | None, **options: Any) -> None:
        controller = make_controller(host, port)
        controller.start()
        self.stdout.write(f"SMTP 受信を開始しました: {controller.hostname}:{controller.port}（Ctrl+C で停止）")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
