from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from madoguchi.metrics.rollup import rebuild_all


class Command(BaseCommand):
    help = "ダッシュボードの集計（日別・月別）を案件から作り直します。省略時は最初の案件から最後の案件まで。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", help="開始日（例: 2026-01-01）")
        parser.add_argument("--end", help="終了日（例: 2026-12-31）")

    def handle(self, *args: object, **options: object) -> None:
        try:
            first = parse_date(str(options["start"])) if options["start"] else None
            last = parse_date(str(options["end"])) if options["end"] else None
        except ValueError as error:
            raise CommandError("日付の形式が正しくありません（例: 2026-11-01）。") from error
        if (options["start"] and first is None) or (options["end"] and last is None):
            raise CommandError("日付の形式が正しくありません（例: 2026-11-01）。")
        days = rebuild_all(first, last)
        self.stdout.write(f"{days} 日分の集計を作り直しました。")
