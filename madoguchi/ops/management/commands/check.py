"""`madoguchi check`: Django's checks and Madoguchi's own (madoguchi/ops/checks.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.check import Command as DjangoCheck

from madoguchi.ops import checks


class Command(DjangoCheck):
    help = ("設定を確認します。Django の検査に加え、大規模構成（PostgreSQL・Redis）、HTTPS とプロキシ、秘密鍵と"
            "データフォルダの権限、メールの設定を調べます。エラーがあれば終了コードは 0 以外です。--deploy で本番向けの検査も行います。")

    def handle(self, *app_labels: Any, **options: Any) -> None:
        checks.ACTIVE = True
        super().handle(*app_labels, **options)
