"""Every mail of the corpus reads back to its expected subject, sender, text and attachments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from madoguchi.mail.parsing import case_number_in, clean_subject, parse_message

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTATIONS = json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))


def test_corpus_is_large_enough_and_complete() -> None:
    files = sorted(path.name for path in CORPUS.glob("*.eml"))
    assert len(files) >= 60
    assert files == sorted(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_corpus_message_reads_as_expected(name: str) -> None:
    expect = EXPECTATIONS[name]
    parsed = parse_message((CORPUS / name).read_bytes())
    assert parsed.subject == expect["subject"]
    assert parsed.from_address == expect["sender"]
    assert expect["text"] in parsed.visible_text, parsed.visible_text
    assert [a.filename for a in parsed.attachments] == expect["attachments"]
    assert "\ufffd" not in parsed.subject + parsed.visible_text
    if "hidden" in expect:
        assert expect["hidden"] not in parsed.visible_text
        assert expect["hidden"] in parsed.quoted_text or expect["hidden"] in parsed.html
    if "sender_name" in expect:
        assert parsed.from_name == expect["sender_name"]
    if "contains" in expect:
        assert expect["contains"] in parsed.text
    if expect.get("no_script"):
        assert "script" not in parsed.html and "alert" not in parsed.text and "tracker" not in parsed.html
    if "clean_subject" in expect:
        assert clean_subject(parsed.subject) == expect["clean_subject"]
    if "case_number" in expect:
        assert case_number_in(parsed.subject) == expect["case_number"]
    assert parsed.auto_reason == expect.get("auto_reason", "")
    assert parsed.is_bounce == expect.get("is_bounce", False)
    if "bounced" in expect:
        assert expect["bounced"] in parsed.bounced_message_ids


# --- forwarded mail is read, not folded away as a signature --------------------------------------

def test_mail_forwarded_as_an_attachment_is_visible_text() -> None:
    parsed = parse_message(next(CORPUS.glob("*-nested-rfc822.eml")).read_bytes())
    assert "---------- 転送されたメッセージ ----------" in parsed.visible_text
    assert "最初に送った内容です。" in parsed.visible_text and "最初に送った内容です。" not in parsed.quoted_text


GMAIL_FORWARD = """配送業者から届いた通知です。住所は合っているはずなのですが、確認していただけますか。

━━━━━━━━━━━━
山田 太郎
090-1234-5678

---------- Forwarded message ---------
From: 窓口運輸 <notice@unyu.example.jp>
Date: 2026年11月21日(土) 9:00
Subject: お荷物お届けできませんでした
To: <taro@example.jp>

お届け先のご住所が見つからなかったため、お荷物を営業所にお預かりしています。
保管期限は11月28日です。"""


def test_inline_forward_stays_visible_and_only_the_senders_signature_is_folded() -> None:
    from madoguchi.mail.cleaning import split_quoted

    visible, folded = split_quoted(GMAIL_FORWARD)
    assert visible.startswith("配送業者から届いた通知です。")
    assert "---------- Forwarded message ---------" in visible and "保管期限は11月28日です。" in visible
    assert "From: 窓口運輸" in visible
    assert folded == "━━━━━━━━━━━━\n山田 太郎\n090-1234-5678"


def test_forward_inside_quoted_history_stays_folded_with_it() -> None:
    from madoguchi.mail.cleaning import split_quoted

    text = ("写真を追加で送ります。\n\n2026年11月23日(月) 10:00 窓口 <support@shop.example.jp>:\n"
            "> ご不便をおかけしております。\n> ---------- 転送されたメッセージ ----------\n> 以前の案内です。")
    visible, folded = split_quoted(text)
    assert visible == "写真を追加で送ります。" and "以前の案内です。" in folded


def test_displayed_html_drops_the_head_title_and_style_with_their_text() -> None:
    from madoguchi.mail.cleaning import sanitise_html

    markup = ("<html><head><title>【こもれび堂】ご注文確認</title><style>p { color: red }</style></head>"
              "<body><p>急須の<b>蓋</b>が割れていました。</p></body></html>")
    assert sanitise_html(markup) == "<p>急須の<b>蓋</b>が割れていました。</p>"
