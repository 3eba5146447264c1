"""`madoguchi restore ARCHIVE`: a backup into an empty database and data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.backup import services


class Command(BaseCommand):
    help = "バックアップを空のデータベースに復元します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["archive"].is_file():
            raise CommandError(f"ファイルがありません: {options['archive']}")
        try:
            manifest = services.do_restore(options["archive"])
        except services.BackupError as error:
            raise CommandError(str(error)) from error
        call_command("migrate", interactive=False, verbosity=0)  # a backup of an older version
        self.stdout.write(f"復元しました（{manifest['created_at']} のバックアップ、{manifest['engine']}）")
