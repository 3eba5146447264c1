"""Reading one raw mail into plain data: headers decoded, body as text, attachments, loop
signals. `parse_message` never raises; anything it cannot read becomes a warning and a
best-effort value. No Django here, so the corpus tests and the benchmark run it directly.

The stdlib parser runs with the compat32 policy because it hands back raw header bytes
(as surrogate escapes); the newer policies decode ISO-2022-JP with Python's codec, which
loses ①㈱Ⅳ～, and raise on some broken headers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import email.parser
import email.utils
import hashlib
import math
import quopri
import re
import time
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import Message

from madoguchi.mail.charsets import decode_bytes, decode_text
from madoguchi.mail.cleaning import html_to_text, sanitise_html, split_quoted

MAX_DEPTH = 50  # MIME levels read; real mail nests a handful (a forward of a forward: ~10)
MAX_PARTS = 2000  # parts read from one mail when the stdlib parser could not read it
TOO_DEEP = f"MIME の入れ子が深すぎるため、{MAX_DEPTH} 段より深い部分の本文を読み取れませんでした。"
TOO_DEEP_BODY = "（MIME の入れ子が深すぎるため本文を読み取れませんでした。元のメールを確認してください。）"
MAX_SUBJECT = 200
# Reading a mail's text stops after this many seconds (each step is linear in the mail's size,
# so only a mail far beyond the size limit gets there); what was not read is said in the text.
PARSE_SECONDS = 10.0
# Characters of the text filed on the case, and apart of the quoted history folded under it:
# more than a customer writes, and every app that reads a message in the worker threads beside
# the web server (search index, article suggestions, the after-hours answer) then reads a bounded
# text. What is cut is said at the cut; the raw mail keeps it all.
MAX_TEXT_CHARS = 30_000
TEXT_CUT_NOTE = ("（このメールの本文は長すぎるため、最初の{limit:,}文字だけを表示しています。"
                 "全文は「元のメール」をダウンロードしてご確認ください。）")
QUOTE_CUT_NOTE = ("（引用部分が長すぎるため、最初の{limit:,}文字だけを表示しています。"
                  "全文は「元のメール」をダウンロードしてご確認ください。）")
OUT_OF_TIME_NOTE = ("（このメールは読み取りに時間がかかりすぎたため、本文の一部を表示していません。"
                    "全文は「元のメール」をダウンロードしてご確認ください。）")
SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|sv|vs)\s*(\[\d+\]|\(\d+\))?\s*[:：]|(ｒｅ|ＲＥ|Ｒｅ|ｆｗ|ＦＷ|Ｆｗ|ｆｗｄ|ＦＷＤ|Ｆｗｄ)\s*[:：]"
    r"|(返信|転送|回答)\s*[:：]|【?(返信|転送)】)\s*",
    re.IGNORECASE,
)
CASE_TOKEN = re.compile(r"\[\s*[#＃]\s*([0-9０-９]+)\s*\]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)\?([bBqQ])\?([^?]*?)\?=")
_MSGID = re.compile(r"<[^<>\s]+>")
# An address in a From: that parseaddr could not read. Tried only where a run of address
# characters starts (the lookbehind), so a long header with no "@" is one linear pass.
_BARE_ADDRESS = re.compile(r"(?<![\w.+\-=])[\w.+\-=]+@[\w.\-]+")


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    payload: bytes
    inline: bool = False
    content_id: str = ""

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass
class ParsedMessage:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    to: list[str] = field(default_factory=list)
    date: dt.datetime | None = None
    text: str = ""
    html: str = ""
    visible_text: str = ""
    quoted_text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reason: str = ""
    is_bounce: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    envelope_sender: str | None = None
    deadline: float = field(default=math.inf, repr=False)  # time.monotonic() when reading stops
    out_of_time: bool = False

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, the closest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


# --- Headers ------------------------------------------------------------------------------------

def _raw_bytes(value: object) -> bytes:
    """Header value as the bytes that came over the wire (compat32 keeps 8-bit as surrogates)."""
    text = str(value)
    try:
        return text.encode("ascii", errors="surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogateescape")


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return base64.b64decode(payload[: len(payload) // 4 * 4] or b"")
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", errors="replace"), header=False)


def decode_header_value(value: object) -> str:
    """RFC 2047 decoding that survives what real mailers send: encoded words split in the
    middle of a character (adjacent words of one charset are joined as bytes before
    decoding), words inside quotes, raw 8-bit Shift_JIS/UTF-8, unknown charsets."""
    raw = _raw_bytes(value) if value is not None else b""
    text = raw.decode("ascii", errors="surrogateescape")
    text = re.sub(r"\r?\n[ \t]", " ", text)
    out: list[str] = []
    pending_charset: str | None = None
    pending = b""
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            out.append(decode_text(pending, pending_charset))
        pending, pending_charset = b"", None

    for match in _ENCODED_WORD.finditer(text):
        between = text[position:match.start()]
        charset = match.group(1).split("*", 1)[0]
        if between.strip() or pending_charset not in (None, charset.lower()):
            flush()
            if between:
                out.append(_decode_plain(between))
        elif between and pending_charset is None:
            out.append(_decode_plain(between))
        pending_charset = charset.lower()
        pending += _word_bytes(match.group(2), match.group(3))
        position = match.end()
    flush()
    out.append(_decode_plain(text[position:]))
    result = "".join(out)
    return "".join(ch for ch in result if ch == "\t" or unicodedata.category(ch) != "Cc").strip()


def _decode_plain(text: str) -> str:
    data = text.encode("ascii", errors="surrogateescape")
    # Raw 8-bit text, or raw ISO-2022-JP escapes (old mailers wrote headers unencoded)
    return decode_text(data) if not data.isascii() or b"\x1b" in data else text


def _header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _address_header(msg: Message, name: str) -> str:
    """An address header as text. Raw 8-bit bytes (Shift_JIS or UTF-8 written without RFC 2047)
    are decoded before the address parser sees them: Shift_JIS's second bytes include 0x5C,
    which inside a quoted display name is a backslash escape to the parser (能 0x945C, 表 0x955C,
    ソ 0x835C), so the name was garbled and a final 表" even swallowed the closing quote and
    the address. Encoded words are ASCII and stay as they are, for decode_header_value."""
    raw = _header(msg, name)
    data = raw.encode("ascii", "surrogateescape")
    return raw if data.isascii() else decode_text(data)


def _address(msg: Message, name: str) -> tuple[str, str]:
    raw = _address_header(msg, name)
    try:
        display, address = email.utils.parseaddr(raw)
    except Exception:  # noqa: BLE001 - a broken From is a warning, not a failure
        display, address = "", ""
    if "@" not in address:
        found = _BARE_ADDRESS.search(raw.encode("ascii", "surrogateescape").decode("ascii", "ignore"))
        address = found.group(0) if found else ""
        display = raw.replace(address, "").strip(" <>\"") if address else raw
    name = decode_header_value(display).strip().strip('"').strip()
    address = address.encode("utf-8", "surrogateescape").decode("utf-8", errors="ignore").strip().strip("<>")
    return name, address.lower()


def _message_ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def clean_subject(subject: str) -> str:
    """The subject without Re:/RE:/Fw:/返信:/転送:/Ｒｅ： prefixes (repeated or nested)."""
    previous = None
    while previous != subject:
        previous = subject
        subject = SUBJECT_PREFIX.sub("", subject, count=1)
    return subject.strip()


def case_numbers_in(subject: str) -> list[int]:
    """Every [#1234] token of the subject, in order: a subject can carry several (a reply to
    a case opened from a mail that quoted another case's number)."""
    numbers = [int(unicodedata.normalize("NFKC", match.group(1))) for match in CASE_TOKEN.finditer(subject)]
    return list(dict.fromkeys(numbers))


def case_number_in(subject: str) -> int | None:
    numbers = case_numbers_in(subject)
    return numbers[0] if numbers else None


def without_case_tokens(subject: str) -> str:
    """The subject without [#1234] tokens: a new case gets its own number in our replies
    (`Re: 件名 [#247]`), and an old token kept in its subject would pile up beside it."""
    return re.sub(r"[ \t]{2,}", " ", CASE_TOKEN.sub(" ", subject)).strip()


# --- Body -----------------------------------------------------------------------------------------

def _lenient_b64(raw: str) -> bytes:
    data = re.sub(r"[^A-Za-z0-9+/]", "", raw.split("=", 1)[0])
    return base64.b64decode(data[: len(data) // 4 * 4]) if data else b""


def _payload(part: Message, result: ParsedMessage) -> bytes:
    raw = part.get_payload()
    if isinstance(raw, str) and _header(part, "Content-Transfer-Encoding").strip().lower() == "base64":
        # compat32 hands back the undecoded text when base64 is broken; decode what is valid.
        try:
            return base64.b64decode(raw.encode("ascii", "surrogateescape"), validate=False)
        except (binascii.Error, ValueError):
            result.warnings.append("broken base64")
            return _lenient_b64(raw)
    try:
        data = part.get_payload(decode=True)
    except Exception as error:  # noqa: BLE001 - broken transfer encoding: keep what is there
        result.warnings.append(f"transfer-encoding: {error}")
        data = None
    if isinstance(data, bytes):
        return data
    return raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = part.get_param(param, header=header)
        except Exception:  # noqa: BLE001
            value = None
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded latin-1)
            charset, _language, text = value
            data = text.encode("latin-1", errors="surrogateescape") if isinstance(text, str) else b""
            name = decode_text(data, charset or None)
        else:
            name = decode_header_value(email.utils.unquote(str(value)))
        if name and "\ufffd" not in name:
            return _safe_filename(name)
    # Raw 8-bit names make the stdlib give up; read the parameter from the bytes ourselves.
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        found = re.search(param + r'\s*=\s*"?([^";\r\n]+)"?', _header(part, header), re.IGNORECASE)
        if found:
            return _safe_filename(decode_header_value(found.group(1)))
    return ""


def _disposition(part: Message) -> str:
    return _header(part, "Content-Disposition").split(";")[0].strip().lower()


def _safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:200] or ""


EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf",
              "application/ms-tnef": ".dat", "message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}


def _add_attachment(part: Message, payload: bytes, result: ParsedMessage, default_name: str = "") -> None:
    ctype = part.get_content_type()
    name = _filename(part) or default_name or f"attachment-{len(result.attachments) + 1}{EXTENSIONS.get(ctype, '.bin')}"
    disposition = _disposition(part)
    content_id = _header(part, "Content-ID").strip().strip("<>")
    result.attachments.append(
        ParsedAttachment(filename=name, content_type=ctype, payload=payload,
                         inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
                         content_id=content_id)
    )


def _is_attachment(part: Message) -> bool:
    if _disposition(part) == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message")


def _leaf_text(part: Message, result: ParsedMessage) -> str:
    text, used = decode_bytes(_payload(part, result), part.get_content_charset())
    if used.startswith(("detected", "utf-8-replace")) or used.endswith("-by-content"):
        result.warnings.append(f"charset guessed: {used}")
    if part.get_content_type() == "text/plain" and _param(part, "format") == "flowed":
        text = unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001 - a broken Content-Type: no parameter
        return ""
    return value.strip().lower() if isinstance(value, str) else ""


def unflow(text: str, delsp: bool = False) -> str:
    """format=flowed text (RFC 3676) as the writer's paragraphs. Run on the decoded text, so
    in ISO-2022-JP the soft break's space (after the escape back to ASCII) is a character like
    any other. A line ending in a space continues on the next line of the same quote depth;
    with delsp=yes that space was added by the mailer (iPhone and Apple Mail split Japanese,
    which has no spaces, anywhere) and is removed, with delsp=no it is the text's own and
    stays. Quote marks (">>") are counted and written once before the joined paragraph, one
    stuffed space after them or at the start of a line is removed; "-- " (the signature
    separator) is never joined."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    depth_of_paragraph, pieces = 0, list[str]()  # the paragraph being joined
    for line in lines:
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]
        if pieces and depth != depth_of_paragraph:  # a quote depth change ends a paragraph
            out.append(_quoted(depth_of_paragraph, "".join(pieces)))
            pieces = []
        flowed = body.endswith(" ") and body != "-- "
        if flowed and delsp:
            body = body[:-1]
        depth_of_paragraph = depth
        pieces.append(body)
        if not flowed:
            out.append(_quoted(depth, "".join(pieces)))
            pieces = []
    if pieces:
        out.append(_quoted(depth_of_paragraph, "".join(pieces)))
    return "\n".join(out)


def _quoted(depth: int, text: str) -> str:
    return ">" * depth + (" " + text if text else "") if depth else text


def _walk(part: Message, result: ParsedMessage, texts: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        if TOO_DEEP not in result.warnings:
            result.warnings.append(TOO_DEEP)
        return
    ctype = part.get_content_type()
    if part.is_multipart() and ctype == "message/rfc822":
        _walk_forwarded(part, result, texts, depth)
        return
    if part.is_multipart():
        payload = part.get_payload()
        if not isinstance(payload, list):
            return
        children = [child for child in payload if isinstance(child, Message)]  # all, in a parsed mail
        if ctype == "multipart/alternative":
            _walk_alternative(children, result, texts, depth)
            return
        for child in children:
            _walk(child, result, texts, depth + 1)
        return
    if ctype == "text/rfc822-headers":
        result.bounced_message_ids += _message_ids(_header(email.message_from_bytes(_payload(part, result)), "Message-ID"))
    if _is_attachment(part):
        _add_attachment(part, _payload(part, result), result)
    elif part.get_content_maintype() in ("text", "multipart") and not _in_time(result):
        return
    elif ctype == "text/html":
        markup = _leaf_text(part, result)
        result.html = result.html or sanitise_html(markup)
        texts.append(html_to_text(markup))
    elif part.get_content_maintype() in ("text", "multipart"):  # multipart without a boundary: text
        texts.append(_leaf_text(part, result))
    else:
        _add_attachment(part, _payload(part, result), result)


def _walk_alternative(children: list[Message], result: ParsedMessage, texts: list[str], depth: int) -> None:
    plain = [c for c in children if c.get_content_type() == "text/plain" and not _is_attachment(c)]
    html = [c for c in children if c.get_content_type() == "text/html"]
    nested = [c for c in children if c.is_multipart()]
    if not _in_time(result):
        return
    for child in html[:1]:
        result.html = result.html or sanitise_html(_leaf_text(child, result))
    if plain and _leaf_text(plain[-1], result).strip():
        texts.append(_leaf_text(plain[-1], result))
        for child in nested:  # multipart/related beside the text: keep its inline images
            _walk(child, result, [], depth + 1)
    elif nested:
        _walk(nested[-1], result, texts, depth + 1)
    elif html:
        texts.append(html_to_text(_leaf_text(html[-1], result)))


def _in_time(result: ParsedMessage) -> bool:
    """Whether there is time left to read another text part (see PARSE_SECONDS)."""
    if time.monotonic() <= result.deadline:
        return True
    if not result.out_of_time:
        result.out_of_time = True
        result.warnings.append("parse time budget exceeded: text parts skipped")
    return False


def _walk_forwarded(part: Message, result: ParsedMessage, texts: list[str], depth: int) -> None:
    """A mail forwarded as an attachment: its text joins the body under a heading, and the
    mail itself stays downloadable as an .eml file."""
    inner_list = part.get_payload()
    inner = inner_list[0] if isinstance(inner_list, list) and inner_list else None
    if not isinstance(inner, Message):
        return
    subject = decode_header_value(_header(inner, "Subject"))
    sender_name, sender = _address(inner, "From")
    inner_texts: list[str] = []
    _walk(inner, result, inner_texts, depth + 1)
    texts.append(
        f"---------- 転送されたメッセージ ----------\n差出人: {sender_name} <{sender}>\n件名: {subject}\n\n"
        + "\n".join(t.strip() for t in inner_texts)
    )
    try:
        data = inner.as_bytes(policy=policy.compat32)
    except Exception:  # noqa: BLE001
        data = b""
    if part.get_content_type() == "message/rfc822" and result.is_bounce:
        result.bounced_message_ids += _message_ids(_header(inner, "Message-ID"))
    _add_attachment(part, data, result, default_name=_safe_filename(f"{subject or 'message'}.eml"))


# --- Loop protection ----------------------------------------------------------------------------

NULL_SENDER = "<>"


def _auto_reason(msg: Message, from_address: str, envelope_sender: str | None = None) -> str:
    if _is_read_receipt(msg):
        return "read-receipt"
    if _is_delay_notice(msg):
        return "delivery-delayed"
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return "auto-submitted"
    if _header(msg, "Precedence").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "precedence"
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe") or _header(msg, "List-Post"):
        return "mailing-list"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond") or _header(msg, "X-Auto-Response-Suppress").lower() == "all":
        return "auto-reply"
    local = from_address.split("@", 1)[0]
    if local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}:
        return "mailer-daemon" if local in {"mailer-daemon", "postmaster"} else "no-reply"
    # The null reverse path (RFC 5321 4.5.5) marks mail no one may answer. Over SMTP it is the
    # envelope's MAIL FROM (the Return-Path header is written only at final delivery, so mail
    # handed to our own receiver has none); from IMAP, the header the delivering server wrote.
    if envelope_sender == NULL_SENDER or _header(msg, "Return-Path").strip() == NULL_SENDER:
        return "null-sender"
    return ""


def _report_type(msg: Message) -> str:
    value = msg.get_param("report-type") if msg.get_content_type() == "multipart/report" else None
    return str(value).strip().lower() if isinstance(value, str) else ""


def _report_parts(msg: Message) -> set[str]:
    """Content types of a multipart/report's own parts (not of a mail forwarded inside it:
    a customer forwarding us a bounce they got is not a bounce of ours)."""
    if msg.get_content_type() != "multipart/report" or not isinstance(msg.get_payload(), list):
        return set()
    return {part.get_content_type() for part in msg.get_payload() if isinstance(part, Message)}


def _is_delivery_report(msg: Message) -> bool:
    """A delivery status notification (RFC 3464). multipart/report alone says nothing: a read
    receipt (RFC 8098, report-type=disposition-notification) is one too, and it means the
    mail WAS delivered."""
    report_type = _report_type(msg)
    if report_type:
        return report_type == "delivery-status"
    return "message/delivery-status" in _report_parts(msg)


def _is_read_receipt(msg: Message) -> bool:
    """A message disposition notification (開封確認): sent by the customer's mail program, not
    written by them, so it opens no case and gets no answer."""
    report_type = _report_type(msg)
    if report_type:
        return report_type == "disposition-notification"
    return "message/disposition-notification" in _report_parts(msg)


def _delivery_actions(msg: Message) -> set[str]:
    """The Action of each recipient in a delivery status report (RFC 3464 2.3.3): failed,
    delayed, delivered, relayed, expanded."""
    actions: set[str] = set()
    if msg.get_content_type() != "multipart/report" or not isinstance(msg.get_payload(), list):
        return actions
    for part in msg.get_payload():
        if isinstance(part, Message) and part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                if isinstance(block, Message) and block.get("Action"):
                    actions.add(str(block.get("Action")).strip().lower().split(" ", 1)[0])
    return actions


def _is_delay_notice(msg: Message) -> bool:
    """A report that says "still trying" (Action: delayed) and nothing failed: the mail may yet
    arrive, so it is not a bounce; it is automatic, so it opens no case either."""
    actions = _delivery_actions(msg)
    return bool(actions) and "failed" not in actions


def _is_bounce(msg: Message, from_address: str) -> bool:
    if _is_read_receipt(msg) or _is_delay_notice(msg):
        return False  # even from postmaster@: a receipt or a delay notice is not a failure
    return _is_delivery_report(msg) or from_address.split("@", 1)[0] in {"mailer-daemon", "postmaster"}


# --- Entry point -----------------------------------------------------------------------------------

def _parse_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def parse_message(raw: bytes, envelope_sender: str | None = None, budget: float = PARSE_SECONDS) -> ParsedMessage:
    """Everything the desk needs from one mail. Never raises; problems land in `warnings`.
    `envelope_sender`: the SMTP MAIL FROM it came with, if known ("<>": the null sender).
    `budget`: seconds to read text parts in (PARSE_SECONDS)."""
    result = ParsedMessage(sha256=hashlib.sha256(raw).hexdigest(), envelope_sender=envelope_sender,
                           deadline=time.monotonic() + budget)
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except RecursionError:  # MIME nested hundreds deep: the stdlib parser recurses per level
        return _without_nul(_parse_level_by_level(raw, result))
    except Exception as error:  # noqa: BLE001
        result.warnings.append(f"unparseable: {error}")
        result.text = result.visible_text = decode_text(raw)
        return _without_nul(result)
    for step in (_read_headers, _read_body, _read_signals):
        try:
            step(msg, result)
        except Exception as error:  # noqa: BLE001 - one broken part must not lose the rest
            result.warnings.append(f"{step.__name__}: {type(error).__name__}: {error}")
    _finish(result)
    return _without_nul(result)


def _finish(result: ParsedMessage) -> None:
    if not result.text and TOO_DEEP in result.warnings:
        result.text = result.visible_text = TOO_DEEP_BODY
    if not result.text and not result.attachments and not result.subject:
        result.warnings.append("empty message")


def _headers_only(data: bytes) -> Message:
    return email.parser.BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)


def _parse_level_by_level(raw: bytes, result: ParsedMessage) -> ParsedMessage:
    """A mail the stdlib parser cannot read for its depth, read one level at a time with no
    recursion: the headers (sender, subject, threading) as always, then the parts down to
    MAX_DEPTH (a multipart's body split on its boundary, each part's headers read alone), the
    text of the leaves read as usual. Deeper parts are left, with a warning that says so."""
    top = _headers_only(raw)
    for step in (_read_headers, _read_signals):
        try:
            step(top, result)
        except Exception as error:  # noqa: BLE001 - one broken part must not lose the rest
            result.warnings.append(f"{step.__name__}: {type(error).__name__}: {error}")
    texts: list[str] = []
    stack: list[tuple[Message, int]] = [(top, 0)]
    seen = 0
    try:
        while stack and seen < MAX_PARTS:
            part, depth = stack.pop()
            seen += 1
            if depth > MAX_DEPTH:
                if TOO_DEEP not in result.warnings:
                    result.warnings.append(TOO_DEEP)
                continue
            stack += reversed([(child, depth + 1) for child in _children(part)])
            if part.get_content_maintype() != "multipart" and part.get_content_type() != "message/rfc822":
                _walk(part, result, texts, depth)  # a leaf: no recursion below it
    except Exception as error:  # noqa: BLE001 - keep the headers and what was read
        result.warnings.append(f"_parse_level_by_level: {type(error).__name__}: {error}")
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    result.text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    result.visible_text, result.quoted_text = split_quoted(result.text)
    _finish(result)
    return result


def _children(part: Message) -> list[Message]:
    if part.is_multipart():
        return []
    data = part.get_payload(decode=True)  # the body's bytes (only a part's own text is decoded)
    if not isinstance(data, bytes):
        return []
    if part.get_content_type() == "message/rfc822":
        return [_headers_only(data)]
    if part.get_content_maintype() != "multipart":
        return []
    boundary = part.get_boundary()
    children = [_headers_only(piece) for piece in _split_on_boundary(data, boundary.encode("ascii", "surrogateescape"))] if boundary else []
    if part.get_content_type() == "multipart/alternative":
        plain = [child for child in children if child.get_content_type() == "text/plain"]
        return plain[-1:] or children[-1:]
    return children


def _split_on_boundary(data: bytes, boundary: bytes) -> list[bytes]:
    """The parts between `--boundary` lines, up to `--boundary--` (RFC 2046 5.1.1)."""
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    current: list[bytes] | None = None
    for line in data.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n").rstrip(b" \t")
        if bare == delimiter or bare == delimiter + b"--":
            if current is not None:
                parts.append(b"".join(current))
            current = None if bare.endswith(b"--") and bare != delimiter else []
            if current is None:
                break
        elif current is not None:
            current.append(line)
    if current:
        parts.append(b"".join(current))
    return parts


# Lone surrogates: what the email package makes of undecodable header bytes (surrogateescape).
_SURROGATES = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """No NUL (RFC 5322 allows none, and PostgreSQL text cannot hold one: a sender address with a
    NUL made the batch's sender lookup fail) and no lone surrogate (UTF-8 cannot encode one: a
    Message-ID with stray 8-bit bytes left the mail pending on PostgreSQL); each becomes U+FFFD
    or goes. The raw bytes keep what was sent."""
    return _SURROGATES.sub("\ufffd", text.replace("\x00", ""))


def _without_nul(result: ParsedMessage) -> ParsedMessage:
    """Everything read from a mail made storable (_storable)."""
    for name, value in vars(result).items():
        if isinstance(value, str):
            setattr(result, name, _storable(value))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            setattr(result, name, [_storable(item) for item in value])
    for attachment in result.attachments:
        attachment.filename = _storable(attachment.filename)
        attachment.content_type = _storable(attachment.content_type)
        attachment.content_id = _storable(attachment.content_id)
    return result


def _read_headers(msg: Message, result: ParsedMessage) -> None:
    result.message_id = (_message_ids(_header(msg, "Message-ID")) or [""])[0][:250]
    result.in_reply_to = _message_ids(_header(msg, "In-Reply-To"))
    result.references = _message_ids(_header(msg, "References"))[-50:]
    result.subject = decode_header_value(_header(msg, "Subject"))[:MAX_SUBJECT]
    result.from_name, result.from_address = _address(msg, "From")
    if not result.from_address:
        result.from_name, result.from_address = _address(msg, "Sender")
    recipients = email.utils.getaddresses([_address_header(msg, "To"), _address_header(msg, "Cc")])
    result.to = [addr.lower() for _n, addr in recipients if "@" in addr]
    result.date = _parse_date(_header(msg, "Date"))


def _read_signals(msg: Message, result: ParsedMessage) -> None:
    result.auto_reason = _auto_reason(msg, result.from_address, result.envelope_sender)
    bounce = _is_bounce(msg, result.from_address)
    if bounce and not result.is_bounce:
        result.is_bounce = True
        result.bounced_message_ids += [*result.in_reply_to, *result.references]
    result.bounced_message_ids = list(dict.fromkeys(result.bounced_message_ids))


def _read_body(msg: Message, result: ParsedMessage) -> None:
    # Known before the walk: a bounce's attached original names the mail that bounced.
    result.is_bounce = _is_delivery_report(msg) and not _is_delay_notice(msg)
    texts: list[str] = []
    _walk(msg, result, texts, 0)
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    visible, quoted = split_quoted(text)
    result.text = _cut(text, TEXT_CUT_NOTE)
    result.visible_text = _cut(visible, TEXT_CUT_NOTE)
    result.quoted_text = _cut(quoted, QUOTE_CUT_NOTE)
    if len(text) > MAX_TEXT_CHARS:
        result.warnings.append(f"text of {len(text)} characters: cut to {MAX_TEXT_CHARS} (visible and quoted apart)")
    if result.out_of_time:
        result.text = f"{result.text}\n\n{OUT_OF_TIME_NOTE}".strip()
        result.visible_text = f"{result.visible_text}\n\n{OUT_OF_TIME_NOTE}".strip()


def _cut(text: str, note: str) -> str:
    """At most MAX_TEXT_CHARS of `text`, with the note saying so when it was cut."""
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return f"{text[:MAX_TEXT_CHARS].rstrip()}\n\n{note.format(limit=MAX_TEXT_CHARS)}"
