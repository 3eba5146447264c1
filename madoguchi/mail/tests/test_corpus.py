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
