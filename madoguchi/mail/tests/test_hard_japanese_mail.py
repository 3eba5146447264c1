"""Japanese mail as real mailers send it, in the forms that used to lose text (issue 15, defect
10): format=flowed from Apple Mail and iPhone, charset labels that lie, raw Shift_JIS display
names whose second byte is a backslash, SoftBank web-code emoji, MIME nested hundreds deep.

The mails are in mails/hard/ (written byte by byte by make_hard_mails.py). Each is read by the
parser and sent through the real SMTP receiver into a case."""

from __future__ import annotations

import smtplib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.mail.parsing import TOO_DEEP, parse_message, unflow

HARD = Path(__file__).resolve().parent / "mails" / "hard"

APPLE_TEXT = (
    "先日注文した信楽焼の急須（注文番号 A-20261120-0042）が本日届きましたが、箱を開けたところ"
    "注ぎ口が欠けていました。写真を添付しますので、交換の手続きをお願いできますでしょうか。"
)
IPHONE_TEXT = (
    "お世話になっております。昨日届いたマグカップ２個のうち１個の取っ手にひびが入っていました。"
    "返品か交換をお願いしたいのですが、どちらが早いでしょうか？😢"
)

# name: (sender name, address, subject, exact lines that must be in the visible text)
EXPECTED: dict[str, tuple[str, str, str, list[str]]] = {
    "apple-mail-flowed-delsp-iso2022jp.eml": (
        "佐藤 花子", "hanako.sato@example.ne.jp", "急須の注ぎ口が欠けていました", [APPLE_TEXT, "よろしくお願いいたします。"],
    ),
    "iphone-flowed-delsp-qp-utf8.eml": (
        "田中 一郎", "ichiro.tanaka@i.softbank.jp", "マグカップの取っ手にひびがありました",
        [IPHONE_TEXT, " 注文番号：1120-7781（先頭に空白のある行）"],
    ),
    "apple-mail-flowed-delsp-no-utf8.eml": (
        "Ken Watanabe", "ken.watanabe@example.com", "Order A-1188 の配送について",
        ["Hello, my order A-1188 has not arrived yet although the tracking page says it was delivered on November 21."
         " 配達済みになっていますが 届いていません。"],
    ),
    "euc-jp-labelled-shift-jis.eml": (
        "中村 修", "osamu@example.co.jp", "色違いの商品が届きました",
        ["届いた湯呑みの色が注文したものと違いました。藍色を注文したのですが、緑色が届いています。"],
    ),
    "iso-2022-jp-labelled-us-ascii.eml": (
        "小林 誠", "makoto@ezweb.ne.jp", "再配達のお願い", ["明日の午前中に再配達をお願いします。不在票の番号は４４１２です。"],
    ),
    "utf-8-labelled-iso-2022-jp.eml": (
        "加藤 恵", "megumi.kato@example.jp", "ポイント未付与", ["ポイントが付与されていません。①会員番号 55-0192、②注文日 11月18日です。"],
    ),
    "shift-jis-labelled-utf-8.eml": (
        "吉田 直樹", "naoki@example.jp", "表示が崩れます", ["ソフトの表示が崩れます。能書きどおりに動きません。予備の部品を送ってください。"],
    ),
    "utf-8-labelled-shift-jis.eml": (
        "松本 由美", "yumi@example.jp", "ソファーカバーの件", ["ありがとうございます。ソファーカバーの件、了解しました。"],
    ),
    "shift-jis-raw-display-name-backslash.eml": (
        "能登 表", "noto.hyo@example.jp", "領収書の宛名について", ["領収書の宛名を「能登表具店」にしていただけますか。"],
    ),
    "softbank-webcode-emoji-shift-jis.eml": (
        "森 さくら", "sakura-mori@softbank.ne.jp", "お礼😊", ["届きました☀ありがとう❤❤"],
    ),
    "softbank-webcode-emoji-iso-2022-jp.eml": (
        # ESC $ E ~ is a code we have no emoji for: the geta mark, as Japanese mailers show it
        "森 さくら", "sakura-mori@softbank.ne.jp", "配達🚗", ["雨の日☔でも届けてくださって〓感謝です"],
    ),
    "mime-nested-300-deep.eml": (
        "山口 健", "ken.yamaguchi@example.jp", "請求書の再発行をお願いします", ["11月分の請求書を紛失しました。再発行をお願いします。"],
    ),
    "mime-nested-1500-deep.eml": (
        "山口 健", "ken.yamaguchi@example.jp", "請求書の再発行をお願いします", ["11月分の請求書を紛失しました。再発行をお願いします。"],
    ),
}


def test_every_hard_mail_has_an_expectation() -> None:
    assert sorted(path.name for path in HARD.glob("*.eml")) == sorted(EXPECTED)


def _no_controls(text: str) -> bool:
    return all(char in "\t\n" or unicodedata.category(char) != "Cc" for char in text)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hard_mail_reads_as_the_sender_wrote_it(name: str) -> None:
    sender_name, address, subject, lines = EXPECTED[name]
    parsed = parse_message((HARD / name).read_bytes())
    assert (parsed.from_name, parsed.from_address, parsed.subject) == (sender_name, address, subject)
    assert parsed.to == ["support@shop.example.jp"]
    visible = parsed.visible_text.split("\n")
    for line in lines:
        assert line in visible, parsed.visible_text
    assert "\ufffd" not in parsed.subject + parsed.text and _no_controls(parsed.subject + parsed.text)


def test_flowed_quotes_are_rejoined_at_their_depth() -> None:
    parsed = parse_message((HARD / "apple-mail-flowed-delsp-iso2022jp.eml").read_bytes())
    lines = parsed.text.split("\n")
    assert "> ご注文ありがとうございます。商品は11月22日に発送いたしました。到着まで今しばらくお待ちください。" in lines
    assert ">> 以前のお問い合わせ：色違いの在庫はありますか。" in lines
    assert "ご注文ありがとうございます" not in parsed.visible_text


def test_flowed_signature_separator_is_not_joined() -> None:
    parsed = parse_message((HARD / "iphone-flowed-delsp-qp-utf8.eml").read_bytes())
    assert parsed.text.endswith("\n-- \n田中 一郎")


def test_mime_nested_too_deep_says_so_and_keeps_what_is_reachable() -> None:
    for name in ("mime-nested-300-deep.eml", "mime-nested-1500-deep.eml"):
        parsed = parse_message((HARD / name).read_bytes())
        assert TOO_DEEP in parsed.warnings
        assert parsed.visible_text == "11月分の請求書を紛失しました。再発行をお願いします。"


# --- through the real SMTP receiver into a case ---------------------------------------------------

@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    from madoguchi.mail.smtpd import make_controller
    from madoguchi.mail.tests.conftest import free_port

    controller = make_controller("127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hard_mail_over_smtp_becomes_a_case_with_the_right_text(receiver, name: str) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.cases.models import Case
    from madoguchi.mail.models import RawMessage, RawState
    from madoguchi.mail.tests.conftest import wait_for

    sender_name, address, subject, lines = EXPECTED[name]
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
        client.sendmail(address, ["support@shop.example.jp"], (HARD / name).read_bytes())
    row = wait_for(lambda: RawMessage.objects.filter(state__in=[RawState.PARSED, RawState.FAILED]).first(), timeout=60)
    assert row.state == RawState.PARSED, row.error
    case = Case.objects.select_related("customer").get(pk=row.case_id)
    assert (case.customer.name, case.subject) == (sender_name, subject)
    for line in lines:
        assert line in case.complaint.split("\n"), case.complaint
    if name.startswith("mime-nested"):
        assert TOO_DEEP in row.error  # the row says what happened to the rest of the mail


# --- format=flowed properties -----------------------------------------------------------------------

def _flowed(paragraphs: list[tuple[int, str]], cuts: list[int]) -> str:
    """Paragraphs as a delsp=yes flowed body: each cut into pieces, every piece but the last
    ending in an added space, stuffed where it begins with a space, ">" or "From "."""
    lines: list[str] = []
    widths = iter(cuts * 50)
    for depth, text in paragraphs:
        pieces: list[str] = []
        rest = text
        while len(rest) > 1:
            width = min(next(widths, 5), len(rest) - 1)
            pieces.append(rest[:width] + " ")
            rest = rest[width:]
        pieces.append(rest)
        for piece in pieces:
            if depth:
                lines.append(">" * depth + " " + piece)
            else:
                lines.append(" " + piece if piece.startswith((" ", ">", "From ")) else piece)
    return "\n".join(lines)


PARAGRAPH_TEXT = st.text(alphabet=st.sampled_from(list("急須が割れて届きました。ｶﾅＡＢabc >From ")), max_size=60).filter(
    lambda text: not text.endswith(" ")
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), PARAGRAPH_TEXT), min_size=1, max_size=8), st.lists(st.integers(1, 20), min_size=1, max_size=5))
def test_flowed_round_trip_gives_back_each_paragraph(paragraphs: list[tuple[int, str]], cuts: list[int]) -> None:
    expected = "\n".join((">" * depth + (" " + text if text else "")) if depth else text for depth, text in paragraphs)
    # Two paragraphs of the same depth in a row stay apart: the first one's last line is fixed.
    assert unflow(_flowed(paragraphs, cuts), delsp=True) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("急須が届きました。ｶﾅabc> \n-\r")), max_size=300), st.booleans())
def test_flowed_decoding_never_loses_a_character(text: str, delsp: bool) -> None:
    def kept(value: str) -> str:
        return "".join(char for char in value if char not in " >\r\n")

    assert kept(unflow(text, delsp)) == kept(text)
