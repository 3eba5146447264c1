"""madoguchi export-customer ID_OR_EMAIL [--out FILE]: everything about a person as JSON (APPI)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.privacy.services import PrivacyError, export_customer, find_person


class Command(BaseCommand):
    help = "お客様の個人データ（連絡先・案件・メッセージ・注文・添付ファイルの一覧）を JSON で書き出します。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("key", help="お客様の番号、メールアドレスまたは電話番号")
        parser.add_argument("--out", help="書き出すファイル（省略すると標準出力）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            customer = find_person(options["key"])
        except PrivacyError as error:
            raise CommandError(str(error)) from error
        text = json.dumps(export_customer(customer), ensure_ascii=False, indent=2)
        if not options["out"]:
            self.stdout.write(text)
            return
        try:
            fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise CommandError(f"ファイルに書き出せません: {options['out']}（{error.strerror}）") from error
        self.stderr.write(f"お客様 #{customer.pk} の個人データを {options['out']} に書き出しました。")
