"""`madoguchi rebuild-customer-figures`: recount every customer's figures now (after restoring
old data, or to check); the worker does the same in the background after a rule change."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.fans import figures


class Command(BaseCommand):
    help = "お客様ごとの数字（注文回数・購入金額・案件・苦情）をすべて数え直します。"

    def handle(self, *args: Any, **options: Any) -> None:
        current = figures.rule()
        total = 0
        for start, end in figures.all_ranges():
            total += figures.rebuild_range(start, end, current)
        self.stdout.write(f"{total:,} 人のお客様の数字を数え直しました。")
