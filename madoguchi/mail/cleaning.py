"""Making a mail body readable on the case page: HTML to text, outside HTML made safe, quoted
history and signatures folded away (Japanese mailers' styles included). No Django here.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

# Tags kept in displayed HTML; no <img>, so nothing is loaded from outside the desk.
SAFE_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "font", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul",
}


# Tags dropped with their content: nh3 keeps the text of a tag it removes, so a mail's
# <title> (often the newsletter's name, or the subject again) would show above its body.
DROPPED_WITH_CONTENT = {"script", "style", "head", "title"}


def sanitise_html(markup: str) -> str:
    return nh3.clean(
        markup, tags=SAFE_TAGS, clean_content_tags=DROPPED_WITH_CONTENT,
        attributes={"a": {"href", "title"}, "td": {"colspan"}, "th": {"colspan"}},
        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
    )


class _TextExtractor(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr", "pre"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"[ \t\r\n]+", " ", data)
        if self.quote_depth:
            # Quoted HTML history becomes "> " lines, so the same folding applies to it.
            data = data.replace("\n", "\n> ")
            if not self.parts or self.parts[-1].endswith("\n"):
                data = "> " + data.lstrip()
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML: fall back to stripping tags
        return html.unescape(re.sub(r"<[^>]+>", " ", markup)).strip()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_QUOTE_START = [
    re.compile(r"^\s*-{2,}\s*(Original Message|元のメッセージ|オリジナルメッセージ)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above 差出人:/From:
    re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.*[:：]\s*$"),
    re.compile(r"^\s*\d{4}[/-]\d{1,2}[/-]\d{1,2}.*(<[^>]+@[^>]+>|wrote|書きました|さん).*[:：]\s*$"),
    re.compile(r"^\s*On .+wrote:\s*$"),
    re.compile(r"^.*<[^<>\s]+@[^<>\s]+>\s*(さん)?(は|が)?(書きました|wrote)?\s*[:：]\s*$"),
    re.compile(r"^\s*(差出人|From)\s*[:：].+$"),
]
_QUOTED_LINE = re.compile(r"^\s*(>|＞|&gt;)")
_SIGNATURE_RULE = re.compile(r"^\s*([-―ー━─=＝＿_*＊~～・◆◇■□●○★☆※])\1{5,}\s*$|^\s*[-―━─=＝]{3,}[^\n]{0,20}[-―━─=＝]{3,}\s*$")
_SIGNATURE_MARK = re.compile(r"^(-- ?|--|【?署名】?|＜署名＞)\s*$")
MAX_SIGNATURE_LINES = 10
# The heading above a forwarded mail: ours (parsing._walk_forwarded), Gmail's, Thunderbird's,
# Apple Mail's. Its dashes look like a signature rule, but what follows is what the customer
# sends us to read (the shop's earlier answer, a carrier's notice).
_FORWARD_HEADING = re.compile(
    r"^\s*(?:[-―━─=＝]{2,}\s*)?(?:転送されたメッセージ|転送メッセージ|Forwarded message|Begin forwarded message)"
    r"\s*[:：]?\s*(?:[-―━─=＝]{2,})?\s*$",
    re.IGNORECASE,
)


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _QUOTE_START):
            if lines[index].lstrip().startswith(("差出人", "From")):
                # Only an Outlook header block (差出人/From followed by 送信日時/Sent) starts a quote.
                following = " ".join(lines[index + 1:index + 4])
                if not re.search(r"(送信日時|日時|Sent|Date)\s*[:：]", following):
                    continue
            return index
    # A trailing block of "> " lines (blank lines allowed) is quoted history.
    last_plain = max((i for i, line in enumerate(lines) if line.strip() and not _QUOTED_LINE.match(line)), default=-1)
    first_quote = next((i for i, line in enumerate(lines) if i > last_plain and _QUOTED_LINE.match(line)), None)
    return first_quote


def _signature_start(lines: list[str]) -> int | None:
    for index in range(max(0, len(lines) - MAX_SIGNATURE_LINES - 2), len(lines)):
        line = lines[index]
        if _SIGNATURE_MARK.match(line) or _SIGNATURE_RULE.match(line):
            rest = [entry for entry in lines[index + 1:] if entry.strip()]
            if 0 < len(rest) <= MAX_SIGNATURE_LINES and index > 0:
                return index
    return None


def _forward_start(lines: list[str]) -> int | None:
    return next((index for index, line in enumerate(lines) if _FORWARD_HEADING.match(line)), None)


def split_quoted(text: str) -> tuple[str, str]:
    """(what the sender wrote now, quoted history and signature). The second part is kept and
    shown folded; nothing is thrown away.

    A forwarded mail is part of what the sender wrote now (they send it for us to read): it
    stays visible, and only the sender's own text above it is searched for a signature and
    for quoted history (a forwarded mail's header block looks like Outlook's quote header).
    A forward inside quoted history is history, folded with it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forward = _forward_start(lines)
    own, forwarded = (lines[:forward], lines[forward:]) if forward is not None else (lines, [])
    cut = _quote_start(own)
    if cut == 0:
        return text.strip(), ""  # the whole mail is a quote (a bare forward): show it
    if cut is not None:
        visible, folded, forwarded = own[:cut], own[cut:] + forwarded, []
    else:
        visible, folded = own, []
    while visible and not visible[-1].strip():
        visible.pop()
    signature = _signature_start(visible)
    if signature is not None:
        folded = visible[signature:] + ([""] if folded else []) + folded
        visible = visible[:signature]
    if forwarded:
        visible = [*visible, "", *forwarded] if visible else forwarded
    return "\n".join(visible).strip(), "\n".join(folded).strip()
