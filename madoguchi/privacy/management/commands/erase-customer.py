"""madoguchi erase-customer ID_OR_EMAIL --yes: remove a person, keep the cases' facts (APPI)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.privacy.services import PrivacyError, do_erase_customer, find_person


class Command(BaseCommand):
    help = ("お客様の個人データを消去します（名前・連絡先・メッセージ本文・添付ファイル）。案件の事実"
            "（分類・日時・金額・約束の状態）は残ります。元に戻せません。")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("key", help="お客様の番号、メールアドレスまたは電話番号")
        parser.add_argument("--yes", action="store_true", help="確認なしで消去する（これがないと何もしません）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            customer = find_person(options["key"])
        except PrivacyError as error:
            raise CommandError(str(error)) from error
        if not options["yes"]:
            raise CommandError(
                f"お客様 #{customer.pk}（{customer.name}）の個人データを消去します。元に戻せません。"
                "よろしければ --yes を付けてもう一度実行してください。"
            )
        done = do_erase_customer(customer)
        self.stdout.write(
            f"お客様 #{customer.pk} の個人データを消去しました（案件 {done['cases']} 件、メッセージ {done['messages']} 件、"
            f"メール {done['mails']} 通、添付 {done['attachments']} 件、連絡先 {done['identities']} 件）。"
        )
