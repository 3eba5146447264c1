"""Reading a file of posts about the shop: a listening tool's CSV or JSON export, or what the X
API v2 search returned (docs/listening.md describes the shapes).

- CSV (UTF-8 with or without BOM, or CP932: shop.order_files.detect_encoding), the generic
  columns 媒体/platform, 投稿ID/id, 投稿者/author, 投稿者名/author_name, 本文/text,
  投稿日時/posted_at, URL/url (and the usual English aliases; see COLUMNS).
- JSON: an array of posts with the same keys, an object with `posts` or `data`, X's API v2
  response (`data` + `includes.users`, the author found by `author_id`), or JSON Lines (one
  post or one API page per line).

A post is what the file said, as it said it (`raw`); a bad row is a Problem with its line number,
the rest of the file goes on. No backtracking patterns: the text is a stranger's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from madoguchi.listening.models import Platform
from madoguchi.shop.order_files import (
    OrderFileError,
    Problem,
    RowError,
    detect_encoding,
    fold,
    parse_datetime,
)

MAX_ID, MAX_PLATFORM, MAX_HANDLE, MAX_NAME, MAX_URL = 100, 30, 100, 200, 500
MAX_TEXT = 30_000  # a blog post is long; a post beyond this is cut, its raw data is kept whole

# Column names (folded: NFKC, lower case) → field.
COLUMNS: dict[str, str] = {}
for _field, _names in {
    "platform": ("platform", "媒体", "プラットフォーム", "sns", "source", "network", "サービス"),
    "id": ("id", "post_id", "post id", "投稿id", "tweet_id", "tweet id", "status_id"),
    "author": ("author", "author_handle", "handle", "username", "screen_name", "user", "投稿者", "アカウント", "ユーザー名"),
    "author_name": ("author_name", "name", "display_name", "表示名", "投稿者名", "名前"),
    "text": ("text", "本文", "内容", "content", "message", "body", "full_text", "投稿内容"),
    "posted_at": ("posted_at", "created_at", "date", "published_at", "timestamp", "投稿日時", "日時", "日付"),
    "url": ("url", "link", "permalink", "リンク", "投稿url"),
}.items():
    for _name in _names:
        COLUMNS[fold(_name)] = _field

PLATFORM_NAMES = {"twitter": Platform.X, "x": Platform.X, "ｘ": Platform.X, "インスタ": Platform.INSTAGRAM,
                  "instagram": Platform.INSTAGRAM, "facebook": Platform.FACEBOOK, "fb": Platform.FACEBOOK,
                  "threads": Platform.THREADS, "tiktok": Platform.TIKTOK, "youtube": Platform.YOUTUBE}
HOSTS = {"x.com": Platform.X, "twitter.com": Platform.X, "instagram.com": Platform.INSTAGRAM,
         "facebook.com": Platform.FACEBOOK, "threads.net": Platform.THREADS, "tiktok.com": Platform.TIKTOK,
         "youtube.com": Platform.YOUTUBE}


class PostFileError(ValueError):
    """The file cannot be read at all (Japanese, shown as it is)."""


@dataclass
class ParsedPost:
    line: int
    platform: str
    post_id: str
    author_handle: str
    author_name: str
    text: str
    posted_at: dt.datetime
    url: str
    raw: dict[str, Any] = field(default_factory=dict)


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else ""
    host = rest.split("/", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host


def platform_of(named: str, url: str) -> str:
    folded = fold(named)
    if folded:
        return str(PLATFORM_NAMES.get(folded, folded))
    return str(HOSTS.get(_host(url), Platform.OTHER))


def safe_url(url: str) -> str:
    """Kept only as a web address (a link the desk shows): http(s), one line, not too long."""
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or len(url) > MAX_URL or any(c.isspace() for c in url):
        return ""
    return url


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def make_post(values: dict[str, Any], raw: dict[str, Any], line: int) -> ParsedPost:
    """A post from the generic fields (RowError, in Japanese, when it cannot be one)."""
    post_id = _text(values.get("id")).strip()
    if not post_id:
        raise RowError(_("投稿IDがありません。"))
    if len(post_id) > MAX_ID:
        raise RowError(_("投稿IDが長すぎます（100文字まで）。"))
    text = _text(values.get("text"))
    if not text.strip():
        raise RowError(_("本文が空です。"))
    posted_at = parse_datetime(_text(values.get("posted_at")), _("投稿日時"))
    if posted_at is None:
        raise RowError(_("投稿日時が空です。"))
    url = _text(values.get("url"))
    platform = platform_of(_text(values.get("platform")), url)
    if len(platform) > MAX_PLATFORM:
        raise RowError(_("媒体の名前が長すぎます（30文字まで）。"))
    handle = _text(values.get("author")).strip().lstrip("@＠")
    return ParsedPost(line=line, platform=platform, post_id=post_id, author_handle=handle[:MAX_HANDLE],
                      author_name=_text(values.get("author_name")).strip()[:MAX_NAME], text=text[:MAX_TEXT],
                      posted_at=posted_at, url=safe_url(url), raw=raw)


# --- CSV -------------------------------------------------------------------------------------

def _csv_posts(handle: IO[bytes], encoding: str) -> Iterator[ParsedPost | Problem]:
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")  # type: ignore[type-var]
    try:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        positions = {COLUMNS[fold(name)]: index for index, name in enumerate(header) if fold(name) in COLUMNS}
        end = reader.line_num
        try:
            for cells in reader:
                line, end = end + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                raw = {name: cells[index] for index, name in enumerate(header) if index < len(cells)}
                values = {name: cells[index] for name, index in positions.items() if index < len(cells)}
                try:
                    yield make_post(values, raw, line)
                except RowError as error:
                    yield Problem(line, str(error))
        except csv.Error as error:
            yield Problem(end + 1, _("CSV として読めない行があるため、ここで読むのをやめました: %(error)s") % {"error": error})
    finally:
        text.detach()


def _csv_columns(head: str) -> set[str]:
    try:
        header = next(csv.reader(head.splitlines()[:1] or [""]))
    except (StopIteration, csv.Error):
        return set()
    return {COLUMNS[fold(name)] for name in header if fold(name) in COLUMNS}


# --- JSON ------------------------------------------------------------------------------------

class _Lines:
    """Line numbers of offsets in a text, counted forward (offsets come in order)."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset > self.offset:
            self.line += self.text.count("\n", self.offset, offset)
            self.offset = offset
        return self.line


_DECODER = json.JSONDecoder()


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _array_items(text: str, at: int) -> Iterator[tuple[int, Any]]:
    """(offset, value) of each element of the JSON array starting at `at`."""
    at = _skip(text, at + 1)
    if at < len(text) and text[at] == "]":
        return
    while at < len(text):
        value, end = _DECODER.raw_decode(text, at)
        yield at, value
        at = _skip(text, end)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)
            continue
        return


def _object_members(text: str, at: int) -> Iterator[tuple[str, int]]:
    """(key, offset of its value) of each member of the JSON object starting at `at`; the
    caller reads the value (it is skipped when the caller does not)."""
    at = _skip(text, at + 1)
    while at < len(text) and text[at] != "}":
        key, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        at = _skip(text, at + 1)  # the colon
        yield str(key), at
        _value, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)


def _users(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    includes = page.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    return {str(user.get("id")): user for user in users or [] if isinstance(user, dict)}


def _json_post(item: Any, users: dict[str, dict[str, Any]], line: int) -> ParsedPost | Problem:
    if not isinstance(item, dict):
        return Problem(line, _("投稿がオブジェクト（{…}）ではありません。"))
    if "author_id" in item and ("created_at" in item or "edit_history_tweet_ids" in item):
        # X API v2: the author is in includes.users; the post's address is built from both.
        user = users.get(str(item.get("author_id")), {})
        handle = _text(user.get("username"))
        values = {"platform": "x", "id": item.get("id"), "text": item.get("text"), "posted_at": item.get("created_at"),
                  "author": handle, "author_name": user.get("name"),
                  "url": f"https://x.com/{handle or 'i/web'}/status/{_text(item.get('id'))}"}
        raw = {"post": item, "author": user} if user else {"post": item}
    else:
        values = {COLUMNS[fold(key)]: value for key, value in item.items() if fold(key) in COLUMNS}
        author = item.get("author") or item.get("user")
        if isinstance(author, dict):  # {"author": {"username": …, "name": …}}
            values["author"] = author.get("username") or author.get("handle") or author.get("screen_name")
            values["author_name"] = values.get("author_name") or author.get("name")
        raw = item
    try:
        return make_post(values, raw, line)
    except RowError as error:
        return Problem(line, str(error))


def _page_posts(page: Any, offset: int, text: str, lines: _Lines) -> Iterator[ParsedPost | Problem]:
    """The posts of one top-level JSON value: a post, an array of posts (or of X API pages), or
    an object holding them under `data` (X API v2) or `posts`."""
    if isinstance(page, list):
        for at, item in _array_items(text, offset):
            if isinstance(item, dict) and isinstance(item.get("data"), list):
                yield from _page_posts(item, at, text, lines)  # an array of X API pages
            else:
                yield _json_post(item, {}, lines.at(at))
        return
    if isinstance(page, dict) and isinstance(page.get("data") or page.get("posts"), list):
        users = _users(page)
        key = "data" if isinstance(page.get("data"), list) else "posts"
        for name, at in _object_members(text, offset):
            if name == key:
                for item_at, item in _array_items(text, at):
                    yield _json_post(item, users, lines.at(item_at))
        return
    if isinstance(page, dict) and "data" in page and not page.get("data") and "meta" in page:
        return  # an X API page with no results
    yield _json_post(page, {}, lines.at(offset))


def _json_posts(text: str, lines: _Lines) -> Iterator[ParsedPost | Problem]:
    at = _skip(text, 0)
    while at < len(text):
        try:
            page, end = _DECODER.raw_decode(text, at)
        except json.JSONDecodeError as error:
            yield Problem(lines.at(error.pos), _("JSON として読めないため、ここで読むのをやめました: %(error)s") % {"error": error.msg})
            return
        yield from _page_posts(page, at, text, lines)
        at = _skip(text, end)  # JSON Lines: the next value


def read_json(text: str) -> Iterator[ParsedPost | Problem]:
    """The posts of a JSON text (what a source returned), with the line of each."""
    return _json_posts(text, _Lines(text))


# --- Opening ---------------------------------------------------------------------------------

@dataclass
class PostFile:
    handle: IO[bytes]
    encoding: str
    format: str  # "csv" or "json"
    size: int
    _lines: _Lines | None = None

    def position(self) -> int:
        """How far reading got, in bytes of the file (a JSON file is read whole first: there,
        the share of its text read so far)."""
        if self._lines is not None:
            return int(self.size * self._lines.offset / max(len(self._lines.text), 1))
        return self.handle.tell()

    def posts(self) -> Iterator[ParsedPost | Problem]:
        if self.format == "csv":
            yield from _csv_posts(self.handle, self.encoding)
            return
        self.handle.seek(0)
        self._lines = _Lines(self.handle.read().decode(self.encoding))
        yield from _json_posts(self._lines.text, self._lines)


def open_post_file(handle: IO[bytes]) -> PostFile:
    """The file's encoding and format (PostFileError, in Japanese, when it has neither)."""
    handle.seek(0, 2)
    size = handle.tell()
    if size == 0:
        raise PostFileError(_("ファイルが空です。"))
    try:
        encoding = detect_encoding(handle)
    except OrderFileError as error:
        raise PostFileError(str(error)) from error
    head = handle.read(min(size, 64 * 1024)).decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    handle.seek(0)
    if head[:1] in "[{":
        return PostFile(handle=handle, encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding, format="json", size=size)
    columns = _csv_columns(head)
    if {"id", "text", "posted_at"} <= columns:
        return PostFile(handle=handle, encoding=encoding, format="csv", size=size)
    first = head.splitlines()[0][:200] if head else ""
    raise PostFileError(
        _("投稿ファイルの形式を判別できません。CSV なら1行目に 投稿ID（id）・本文（text）・投稿日時（posted_at）の見出しが、"
          "JSON なら投稿の配列か X API の検索結果（data）が必要です。1行目: %(header)s") % {"header": first or _("（空）")}
    )

