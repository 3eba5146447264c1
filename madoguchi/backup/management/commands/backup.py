"""`madoguchi backup [--to FOLDER] [--keep N]`: one archive of the database, attachments and
secret key (madoguchi/backup/services.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.backup import services


class Command(BaseCommand):
    help = "データベース・添付ファイル・秘密鍵をひとつのバックアップにまとめます"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, help="保存先のフォルダ（初期値: データフォルダの backups）")
        parser.add_argument("--keep", type=int, default=0, help="新しいものから N 個を残して古いバックアップを削除する（0: 削除しない）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path = services.do_backup(options["to"])
        except services.BackupError as error:
            raise CommandError(str(error)) from error
        except OSError as error:  # the folder cannot be written (permissions, a full disk)
            raise CommandError(f"バックアップを書き込めませんでした: {error}") from error
        self.stdout.write(f"バックアップを作成しました: {path}")
        if options["keep"]:
            for old in services.prune(options["keep"], path.parent):
                self.stdout.write(f"古いバックアップを削除しました: {old}")
