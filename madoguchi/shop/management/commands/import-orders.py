"""`madoguchi import-orders FILE`: bring a shop's orders in from Shopify's order export, BASE's
注文 CSV or the generic format (docs/import-orders.md). Safe to run again on the same or a
newer file: what changed is updated, the rest is left alone."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.shop.importer import do_import_file
from madoguchi.terminal import import_file


class Command(BaseCommand):
    help = "Shopify・BASE・汎用形式の注文CSVを取り込みます（docs/import-orders.md）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="注文CSVファイル")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        for line in import_file(file, "注文の取り込み", do_import_file):
            self.stdout.write(line)
