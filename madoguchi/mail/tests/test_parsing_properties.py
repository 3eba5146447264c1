"""Property tests: whatever bytes arrive, the parser returns a result and never raises."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.mail.charsets import decode_bytes, decode_iso2022jp, encode_iso2022jp
from madoguchi.mail.parsing import decode_header_value, parse_message

CORPUS = sorted((Path(__file__).resolve().parent / "corpus").glob("*.eml"))
SAMPLES = [path.read_bytes() for path in CORPUS]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(data: bytes) -> None:
    parsed = parse_message(data)
    assert isinstance(parsed.text, str)
    assert len(parsed.sha256) == 64


@st.composite
def mutated_message(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        position = draw(st.integers(0, max(0, len(raw) - 1)))
        if action == "flip" and raw:
            raw[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[position:position + draw(st.integers(1, 200))]
        elif action == "insert":
            raw[position:position] = draw(st.sampled_from([b"\x1b$B", b"=?", b"?=", b"\r\n--", b"\n\n", b"\xff\xfe", b"; filename*0*=x'';", b"\x00"]))
        else:
            raw[position:position] = raw[position:position + 300]
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_message())
def test_mutated_real_messages_never_raise(data: bytes) -> None:
    parsed = parse_message(data)
    assert isinstance(parsed.visible_text, str) and isinstance(parsed.subject, str)
    for attachment in parsed.attachments:
        assert attachment.filename and "/" not in attachment.filename


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500), st.sampled_from([None, "iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "bogus", "latin-1"]))
def test_decoding_never_raises(data: bytes, charset: str | None) -> None:
    assert isinstance(decode_bytes(data, charset)[0], str)
    assert isinstance(decode_header_value(data.decode("ascii", "surrogateescape")), str)
    assert isinstance(decode_iso2022jp(data, strict=False), str)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("あア亜①②㈱Ⅳ～髙ｶﾅABC 123\n、。「」―"), max_size=200))
def test_iso2022jp_round_trip_keeps_windows_characters(text: str) -> None:
    import unicodedata

    expected = "".join(unicodedata.normalize("NFKC", c) if "\uff61" <= c <= "\uff9f" else c for c in text)
    # Half-width katakana are sent full-width (as CP50220 does), so compare after that step.
    assert decode_iso2022jp(encode_iso2022jp(text)) == unicodedata.normalize("NFC", expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("急須が割れて届きました。①㈱Ⅳ～ABC abc 123\n")), max_size=1500), st.integers(20, 200))
def test_folded_iso2022jp_lines_fit_and_lose_no_character(chars: list[str], limit: int) -> None:
    from madoguchi.mail.charsets import fold_for_iso2022jp

    text = "".join(chars)
    folded = fold_for_iso2022jp(text, limit)
    encoded = encode_iso2022jp(folded)
    assert all(len(line) <= limit for line in encoded.split(b"\n"))
    assert folded.replace("\n", "") == text.replace("\n", "") and folded.count("\n") >= text.count("\n")
    assert decode_iso2022jp(encoded) == folded
