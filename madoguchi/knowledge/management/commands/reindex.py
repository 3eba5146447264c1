from django.core.management.base import BaseCommand

from madoguchi.knowledge.indexing import reindex


class Command(BaseCommand):
    help = "検索インデックスを作り直します（案件・やりとり・お客様・注文・記事）。"

    def handle(self, *args: object, **options: object) -> None:
        count = reindex()
        self.stdout.write(f"{count} 件をインデックスしました。")
