"""`madoguchi import-posts FILE`: bring posts about the shop into the listening queue from a
listening tool's CSV or JSON export, or a saved X API v2 search result (docs/listening.md).
Safe to run again: a post already there is left as it is (its text updated if it was edited)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.listening.importer import do_import_file
from madoguchi.terminal import import_file


class Command(BaseCommand):
    help = "SNSの投稿（CSV・JSON、X API の検索結果）をソーシャルの声に取り込みます（docs/listening.md）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="投稿のCSVまたはJSONファイル")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        for line in import_file(file, "投稿の取り込み", do_import_file):
            self.stdout.write(line)
