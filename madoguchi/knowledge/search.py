"""One search over cases, messages, customers, orders and articles.

Two steps, the same on both databases:
1. The engine index (SQLite FTS5 / PostgreSQL tsvector+GIN over SudachiPy tokens) finds the
   newest CANDIDATES documents holding every query token. Taking the newest by id keeps the
   cost bounded when a common word such as 配送 matches a quarter of a million documents.
2. Python ranks those candidates: exact occurrence of what was typed first (so ABC123 beats
   a document that only has ABC and 123 apart), then words in the title, then the engine's
   own relevance, then recency. Quoted phrases must occur verbatim (after width folding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from madoguchi.knowledge.text import fold, normalise, parse_query, plain_words

CANDIDATES = 400
SNIPPET = 140


@dataclass
class Hit:
    kind: str
    ref_id: int
    case_id: int | None
    title: str
    body: str
    at: dt.datetime | None
    engine_score: float
    score: float = 0.0
    exact: bool = False
    words: list[str] = field(default_factory=list)

    @property
    def snippet(self) -> SafeString:
        return highlight(excerpt(self.body, self.words), self.words)

    @property
    def title_html(self) -> SafeString:
        return highlight(self.title, self.words)


def _fts_match(terms: list[list[str]]) -> str:
    # Every token quoted (FTS5 string syntax) and ANDed; tokens are word characters only.
    return " AND ".join(f'"{token}"' for term in terms for token in term)


def _tsquery(terms: list[list[str]]) -> str:
    return " & ".join("'" + token.replace("'", "''") + "'" for term in terms for token in term)


def _filters(kinds: Sequence[str] | None, since: dt.datetime | None, prefix: str) -> tuple[str, list[object]]:
    sql, params = "", []  # type: tuple[str, list[object]]
    if kinds:
        sql += f" AND {prefix}kind IN ({', '.join(['%s'] * len(kinds))})"
        params += list(kinds)
    if since is not None:
        sql += f" AND {prefix}at >= %s"
        params.append(since)
    return sql, params


def candidates(terms: list[list[str]], kinds: Sequence[str] | None = None, limit: int = CANDIDATES,
               since: dt.datetime | None = None) -> list[Hit]:
    """The newest `limit` documents that contain every token, with the engine's score."""
    if not terms:
        return []
    if connection.vendor == "sqlite":
        extra, params = _filters(kinds, since, "d.")
        sql = (
            "SELECT d.kind, d.ref_id, d.case_id, d.title, d.body, d.at, -bm25(knowledge_searchfts) "
            "FROM knowledge_searchfts JOIN knowledge_searchdoc d ON d.id = knowledge_searchfts.rowid "
            f"WHERE knowledge_searchfts MATCH %s{extra} ORDER BY knowledge_searchfts.rowid DESC LIMIT %s"
        )
        args: list[object] = [_fts_match(terms), *params, limit]
    else:
        extra, params = _filters(kinds, since, "")
        sql = (
            "SELECT kind, ref_id, case_id, title, body, at, ts_rank(tsv, q) "
            "FROM knowledge_searchdoc, to_tsquery('simple', %s) q "
            f"WHERE tsv @@ q{extra} ORDER BY id DESC LIMIT %s"
        )
        args = [_tsquery(terms), *params, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    return [Hit(kind, ref_id, case_id, title or "", body or "", at, float(score or 0)) for kind, ref_id, case_id, title, body, at, score in rows]


def _rank(hit: Hit, words: list[str], whole: str, phrases: list[str]) -> float | None:
    title, body = fold(hit.title), fold(hit.body)
    text = f"{title}\n{body}"
    if any(phrase not in text for phrase in phrases):
        return None
    present = sum(1 for word in words if word in text)
    hit.exact = bool(words) and present == len(words)
    score = 100.0 * present / max(len(words), 1)
    if len(words) > 1 and whole in text:
        score += 50
    score += 20 * sum(1 for word in words if word in title)
    return score + min(hit.engine_score, 10.0)


def search(
    query: str, *, kinds: Sequence[str] | None = None, limit: int = 20, group_cases: bool = True,
    since: dt.datetime | None = None,
) -> list[Hit]:
    terms, phrases = parse_query(query)
    words = plain_words(query)
    whole = " ".join(words)
    ranked: list[Hit] = []
    for hit in candidates(terms, kinds, since=since):
        score = _rank(hit, words, whole, phrases)
        if score is None:
            continue
        hit.score, hit.words = score, words
        ranked.append(hit)
    # Best score first; among equals the newest (candidates arrive newest first, sort is stable).
    ranked.sort(key=lambda h: -h.score)
    return list(_grouped(ranked) if group_cases else ranked)[:limit]


def _grouped(hits: Iterable[Hit]) -> Iterable[Hit]:
    """A case and its messages are one result: the best-ranked of them stands for the case."""
    seen: set[int] = set()
    for hit in hits:
        if hit.kind in ("case", "message") and hit.case_id is not None:
            if hit.case_id in seen:
                continue
            seen.add(hit.case_id)
        yield hit


def _display(text: str) -> tuple[str, str]:
    """(text to show, its folded twin of the same length) so positions carry over."""
    shown = normalise(text)
    folded = shown.casefold()
    return (shown, folded) if len(shown) == len(folded) else (folded, folded)


def excerpt(text: str, words: list[str], size: int = SNIPPET) -> str:
    """A window of the text around the first hit, so the reason it matched is visible."""
    text, folded = _display(text)
    positions = [folded.find(word) for word in words if word and folded.find(word) >= 0]
    start = max(min(positions) - size // 3, 0) if positions else 0
    snippet = text[start : start + size]
    return ("…" if start else "") + snippet + ("…" if start + size < len(text) else "")


def highlight(text: str, words: list[str]) -> SafeString:
    """Escape the text and wrap each occurrence of a query word in <mark>."""
    text, folded = _display(text)
    marks = [False] * len(text)
    for word in words:
        start = folded.find(word)
        while word and start >= 0:
            for i in range(start, start + len(word)):
                marks[i] = True
            start = folded.find(word, start + len(word))
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marks[j] == marks[i]:
            j += 1
        piece = escape(text[i:j])
        out.append(f"<mark>{piece}</mark>" if marks[i] else piece)
        i = j
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped
