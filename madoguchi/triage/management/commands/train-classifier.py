"""`madoguchi train-classifier`: train the shop's message reader now (the starter set plus the
categories agents corrected) into the data folder."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.triage import services


class Command(BaseCommand):
    help = "メッセージの分類モデルを学習し直す（プロジェクトの学習セット＋担当者が直した分類）"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        reader = services.do_train()
        self.stdout.write(
            f"学習しました: {reader.trained_on} 件の学習用メッセージと {reader.shop_labels} 件のお店の正解"
            f"（{time.monotonic() - started:.1f} 秒）→ {services.model_path()}"
        )
