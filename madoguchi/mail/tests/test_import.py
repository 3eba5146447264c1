"""`madoguchi import-mail` brings mbox files and .eml folders in, once, without replying."""

from __future__ import annotations

import mailbox
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from madoguchi.cases.models import Case
from madoguchi.mail.models import OutboundMessage, RawMessage
from madoguchi.mail.tests.helpers import japanese_mail

CORPUS = Path(__file__).resolve().parent / "corpus"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def test_import_eml_folder_and_mbox_with_progress_and_no_replies(tmp_path, capsys) -> None:
    box = mailbox.mbox(str(tmp_path / "history.mbox"))
    for number in range(3):
        box.add(japanese_mail(subject=f"過去の問い合わせ{number}", sender=f"old{number}@example.jp"))
    box.flush()
    box.close()
    out = StringIO()
    call_command("import-mail", str(CORPUS), str(tmp_path / "history.mbox"), stdout=out)
    files = len(list(CORPUS.glob("*.eml")))  # expectations.json is not a mail: skipped
    assert RawMessage.objects.count() == files + 3
    assert Case.objects.filter(subject__startswith="過去の問い合わせ").count() == 3
    assert OutboundMessage.objects.count() == 0  # history gets no acknowledgement
    assert "取り込み完了" in out.getvalue()
    assert f"{files + 3}/{files + 3}" in capsys.readouterr().err  # the progress bar reached the end
    again = StringIO()
    call_command("import-mail", str(CORPUS), stdout=again)
    assert "新規 0 通" in again.getvalue() and RawMessage.objects.count() == files + 3


def test_imported_history_keeps_the_date_it_was_written(tmp_path) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    written = dt.datetime(2024, 3, 8, 14, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    (tmp_path / "old.eml").write_bytes(japanese_mail(subject="昨年の返品の件", sender="old@example.jp", date=written))
    call_command("import-mail", str(tmp_path), stdout=StringIO())
    case = Case.objects.get(subject="昨年の返品の件")
    assert case.received_at == written


def test_folder_import_takes_only_mail_files(tmp_path) -> None:
    (tmp_path / "README").write_text("# 過去メールの書き出し\nこのフォルダは2024年のサポート窓口のメールです。\n", encoding="utf-8")
    (tmp_path / "メモ.txt").write_text("注意: 3月分は別フォルダ\n", encoding="utf-8")
    (tmp_path / "outlook.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    maildir = tmp_path / "Maildir" / "cur"
    maildir.mkdir(parents=True)
    (maildir / "1700000000.M1P2.mail.example.jp:2,S").write_bytes(japanese_mail(subject="Maildirの問い合わせ", sender="m@example.jp"))
    (tmp_path / "saved.eml").write_bytes(japanese_mail(subject="保存したメール", sender="e@example.jp"))
    box = mailbox.mbox(str(tmp_path / "archive.mbox"))
    box.add(japanese_mail(subject="mboxの問い合わせ", sender="x@example.jp"))
    box.flush()
    box.close()
    call_command("import-mail", str(tmp_path), stdout=StringIO())
    assert sorted(Case.objects.values_list("subject", flat=True)) == sorted(["Maildirの問い合わせ", "保存したメール", "mboxの問い合わせ"])
    assert RawMessage.objects.count() == 3
