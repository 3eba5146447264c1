"""`madoguchi poll_mail`: fetch new mail from every IMAP mailbox now (or keep doing it)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.mail.imap import poll_mailbox, watch_mailbox
from madoguchi.mail.models import Mailbox


class Command(BaseCommand):
    help = "IMAP メールボックスから新しいメールを取り込みます。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", action="store_true", help="間隔をおいて取り込み続ける")
        parser.add_argument("--interval", type=int, default=60)
        parser.add_argument("--idle", default="", metavar="ADDRESS",
                            help="このメールボックスを IMAP IDLE で待ち受け、届いたらすぐ取り込む")

    def handle(self, *args: Any, loop: bool, interval: int, idle: str, **options: Any) -> None:
        if idle:
            self._idle(idle)
            return
        while True:
            for mailbox in Mailbox.objects.filter(active=True).exclude(imap_host=""):
                result = poll_mailbox(mailbox)
                self.stdout.write(
                    f"{mailbox.address}: 新着 {result.stored} 件、重複 {result.duplicates} 件、"
                    f"大きすぎ {result.too_large} 件、エラー {len(result.errors)} 件"
                )
                for error in result.errors:
                    self.stderr.write(f"  {error}")
            if not loop:
                return
            time.sleep(interval)

    def _idle(self, address: str) -> None:
        mailbox = Mailbox.objects.get(address=address)
        self.stdout.write(f"{address} を IMAP IDLE で待ち受けています（Ctrl+C で停止）")
        while True:
            try:
                watch_mailbox(mailbox)
            except KeyboardInterrupt:
                return
            except Exception as error:  # noqa: BLE001 - the server went away: reconnect shortly
                self.stderr.write(f"接続が切れました: {error}。{mailbox.poll_seconds}秒後に再接続します。")
                time.sleep(mailbox.poll_seconds)
