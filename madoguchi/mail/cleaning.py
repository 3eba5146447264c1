"""Making a mail body readable on the case page: HTML to text, outside HTML made safe, quoted
history and signatures folded away (Japanese mailers' styles included). No Django here.
"""

from __future__ import annotations

import html
import re

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


# Tags that end a line of the text; <blockquote> also makes its lines "> " lines.
TEXT_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "pre"}
_BLOCK_TAG = re.compile("</?(?:" + "|".join(sorted(TEXT_BLOCKS)) + ")>")
_QUOTE_TAG = re.compile(r"(</?blockquote>)")
_WHITESPACE = re.compile(r"[ \t\r\n]+")


def html_to_text(markup: str) -> str:
    """The text of an HTML mail, one line per block, <blockquote> as "> " lines.

    nh3 (html5ever, linear in the size of its input) parses the markup as a browser does and
    writes it back with only the block tags, no attributes, no comments, no <![ sections,
    <script>/<style>/<head>/<title> dropped with their content, and every "<" of the text
    escaped; the rest is a few regular expressions over that well-formed output, each linear.
    Python 3.11's html.parser is not used: it takes time quadratic in the input on malformed
    declarations (CVE-2025-6069: an 821 KB run of "<![" held it for 32 s) and, in pure
    Python, needed seconds for a megabyte of tags while the web server waited for the lock."""
    safe = nh3.clean(markup, tags=TEXT_BLOCKS | {"blockquote"}, clean_content_tags=DROPPED_WITH_CONTENT, attributes={})
    pieces: list[str] = []
    depth = 0
    for piece in _QUOTE_TAG.split(_WHITESPACE.sub(" ", safe)):
        if piece in ("<blockquote>", "</blockquote>"):
            depth = depth + 1 if piece == "<blockquote>" else max(0, depth - 1)
            pieces.append("\n")
            continue
        text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", piece)))
        if depth:
            # Quoted HTML history becomes "> " lines, so the same folding applies to it.
            text = "\n".join(f"> {line.lstrip()}" if line.strip() else line for line in text.split("\n"))
        pieces.append(text)
    lines = [line.strip() for line in "".join(pieces).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_TAG = re.compile(r"<[^<>]*>")

# Quote headers, signature rules and forward headings are short lines. The heuristics below
# look only at lines up to MAX_HEADING_CHARS (a longer line is the sender's own text), with
# whitespace runs folded to one space, and every pattern runs in time linear in the line:
# one 1 MB line made two quote patterns take minutes, holding the interpreter lock that the
# web server in the same process needs (issue 15).
MAX_HEADING_CHARS = 500
_QUOTE_START = [
    re.compile(r"^-{2,} ?(Original Message|元のメッセージ|オリジナルメッセージ) ?-{2,}$", re.I),
    re.compile(r"^_{10,}$"),  # Outlook's rule above 差出人:/From:
    re.compile(r"^\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日.*[:：]$"),
    re.compile(r"^On .+wrote:$"),
    re.compile(r"^(差出人|From) ?[:：].+$"),
]
# "2024/11/20 10:00 山田 <taro@example.jp> さん:" and "…, 窓口 wrote:" (a date first, a colon last).
_DATED = re.compile(r"\d{4}[/-]\d{1,2}[/-]\d{1,2}")
_WROTE = re.compile(r"<[^<>@\s]+@[^<>\s]+>|wrote|書きました|さん")
# "山田 太郎 <taro@example.jp> さんは書きました:" (an address in <>, a colon last).
_ADDRESS_WROTE = re.compile(r"<[^<>@\s]+@[^<>\s]+> ?(さん)?(は|が)?(書きました|wrote)? ?[:：]$")
_OUTLOOK_DATE = re.compile(r"(送信日時|日時|Sent|Date) ?[:：]")
_QUOTED_LINE = re.compile(r"^\s*(>|＞|&gt;)")
_REPEATED_RULE = set("-―ー━─=＝＿_*＊~～・◆◇■□●○★☆※")  # one of these, 6 or more times
_RULE_ENDS = set("-―━─=＝")  # or 3+ of these, up to 20 characters, 3+ of these
_SIGNATURE_MARK = re.compile(r"^(-- ?|--|【?署名】?|＜署名＞)\s*$")
MAX_SIGNATURE_LINES = 10
# The heading above a forwarded mail: ours (parsing._walk_forwarded), Gmail's, Thunderbird's,
# Apple Mail's. Its dashes look like a signature rule, but what follows is what the customer
# sends us to read (the shop's earlier answer, a carrier's notice).
_FORWARD_HEADING = re.compile(
    r"^(?:[-―━─=＝]{2,} ?)?(?:転送されたメッセージ|転送メッセージ|Forwarded message|Begin forwarded message)"
    r" ?[:：]? ?(?:[-―━─=＝]{2,})?$",
    re.IGNORECASE,
)


def _heading(line: str) -> str | None:
    """The line with whitespace runs folded to one space and none at the ends, if it is short
    enough to be a heading; None for a longer line."""
    return " ".join(line.split()) if len(line) <= MAX_HEADING_CHARS else None


def _is_quote_header(heading: str) -> bool:
    if any(pattern.match(heading) for pattern in _QUOTE_START) or _ADDRESS_WROTE.search(heading):
        return True
    dated = _DATED.match(heading)
    if dated is None or not heading.endswith((":", "：")):
        return False
    return _WROTE.search(heading, dated.end(), len(heading) - 1) is not None


def _is_signature_rule(heading: str) -> bool:
    if len(heading) >= 6 and heading[0] in _REPEATED_RULE and heading == heading[0] * len(heading):
        return True
    lead = len(heading) - len(heading.lstrip("".join(_RULE_ENDS)))
    trail = len(heading) - len(heading.rstrip("".join(_RULE_ENDS)))
    if lead == len(heading):
        return lead >= 6
    return lead >= 3 and trail >= 3 and len(heading) - lead - trail <= 20


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        heading = _heading(line)
        if heading and _is_quote_header(heading):
            if heading.startswith(("差出人", "From")):
                # Only an Outlook header block (差出人/From followed by 送信日時/Sent) starts a quote.
                following = " ".join(_heading(entry) or "" for entry in lines[index + 1:index + 4])
                if not _OUTLOOK_DATE.search(following):
                    continue
            return index
    # A trailing block of "> " lines (blank lines allowed) is quoted history.
    last_plain = max((i for i, line in enumerate(lines) if line.strip() and not _QUOTED_LINE.match(line)), default=-1)
    first_quote = next((i for i, line in enumerate(lines) if i > last_plain and _QUOTED_LINE.match(line)), None)
    return first_quote


def _signature_start(lines: list[str]) -> int | None:
    for index in range(max(0, len(lines) - MAX_SIGNATURE_LINES - 2), len(lines)):
        line = lines[index]
        heading = _heading(line)
        if heading is not None and (_SIGNATURE_MARK.match(line) or _is_signature_rule(heading)):
            rest = [entry for entry in lines[index + 1:] if entry.strip()]
            if 0 < len(rest) <= MAX_SIGNATURE_LINES and index > 0:
                return index
    return None


def _forward_start(lines: list[str]) -> int | None:
    return next((index for index, line in enumerate(lines) if (heading := _heading(line)) and _FORWARD_HEADING.match(heading)), None)


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
