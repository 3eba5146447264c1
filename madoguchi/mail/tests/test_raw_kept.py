"""Whatever arrives is kept byte for byte, and ends parsed, ignored or failed: never lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.mail.ingest import (
    content_hash,
    do_ingest_raw,
    header_message_id,
    process_raw_message,
)
from madoguchi.mail.models import RawMessage, RawState

SAMPLES = [p.read_bytes() for p in sorted((Path(__file__).resolve().parent / "corpus").glob("*.eml"))]


@st.composite
def arriving_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(min_size=1, max_size=2000))
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, max(0, len(raw) - 1)))
        raw[position:position + draw(st.integers(0, 50))] = draw(st.binary(max_size=20))
    return bytes(raw) or b"x"


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(arriving_bytes())
def test_any_bytes_are_kept_and_end_in_a_final_state(shop_open, data: bytes) -> None:
    row, created = do_ingest_raw(data, "fuzz", enqueue=False)
    row = process_raw_message(row.pk)
    stored = RawMessage.objects.get(pk=row.pk)
    if created:
        assert bytes(stored.raw) == data
    else:  # an earlier example with the same bytes, or the same Message-ID and body
        assert stored.sha256 == hashlib.sha256(data).hexdigest() or (
            stored.message_id == header_message_id(data) and stored.content_hash == content_hash(data))
    assert stored.state in (RawState.PARSED, RawState.IGNORED, RawState.FAILED)
    assert stored.state != RawState.FAILED or stored.error


@pytest.mark.django_db
def test_nul_bytes_in_headers_are_kept_in_the_raw_mail_and_dropped_from_what_is_read(shop_open) -> None:
    # PostgreSQL text cannot hold NUL: a sender address with one made the whole batch fail
    encoded = __import__("base64").b64encode("返品\x00の件".encode()).decode()
    raw = (f"From: Taro <ta\x00ro@example.jp>\r\nSubject: =?UTF-8?B?{encoded}?=\r\n"
           "Message-ID: <nul\x00id@example.jp>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n交換\x00希望\r\n").encode()
    row, created = do_ingest_raw(raw, "smtp", enqueue=False)
    row = process_raw_message(row.pk)
    stored = RawMessage.objects.get(pk=row.pk)
    assert created and bytes(stored.raw) == raw
    assert stored.state == RawState.PARSED, stored.error
    assert (stored.from_address, stored.subject, stored.visible_text) == ("taro@example.jp", "返品の件", "交換希望")
    assert "\x00" not in stored.message_id


@pytest.mark.django_db
def test_stray_8bit_bytes_in_headers_are_kept_raw_and_the_mail_is_filed(shop_open) -> None:
    # Undecodable header bytes become lone surrogates in the email package, which UTF-8 (and so
    # PostgreSQL) cannot store: the mail stayed `pending` (a hypothesis example found it).
    raw = (b"From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro.yamada@example.jp>\r\nTo: shop\xed<\xa3@example.jp\r\n"
           b"Subject: \xed\xa0\x80\xe8\xbf\x94\xe5\x93\x81\r\nMessage-ID: <corpu\xed<\xa3s-20@example.jp>\r\n"
           b"Content-Type: text/plain; charset=UTF-8\r\n\r\n\xe4\xba\xa4\xe6\x8f\x9b\xe5\xb8\x8c\xe6\x9c\x9b\r\n")
    row, created = do_ingest_raw(raw, "smtp", enqueue=False)
    row = process_raw_message(row.pk)
    stored = RawMessage.objects.get(pk=row.pk)
    assert created and bytes(stored.raw) == raw
    assert stored.state == RawState.PARSED, stored.error
    for text in (stored.subject, stored.message_id, stored.from_address, stored.visible_text):
        assert not any("\ud800" <= ch <= "\udfff" for ch in text), text
    assert stored.visible_text == "交換希望"
