"""One search over cases, messages, customers, orders and articles.

Two steps, the same on both databases:
1. The engine index (SQLite FTS5 / PostgreSQL tsvector+GIN over SudachiPy tokens) finds the
   newest CANDIDATES (200) documents holding every query word (in any of its forms). Taking the newest by id keeps the
   cost bounded when a common word such as 配送 matches a quarter of a million documents.
2. Python ranks those candidates: exact occurrence of what was typed first (so ABC123 beats
   a document that only has ABC and 123 apart), then words in the title, then how often
   they occur, then recency. Quoted phrases must occur verbatim (after width folding).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from madoguchi.knowledge.text import fold, normalise, parse_query, plain_words

CANDIDATES = 200
SNIPPET = 140


@dataclass
class Hit:
    kind: str
    ref_id: int
    case_id: int | None
    title: str
    body: str
    at: dt.datetime | None
    score: float = 0.0
    exact: bool = False
    words: list[str] = field(default_factory=list)

    @property
    def snippet(self) -> SafeString:
        return highlight(excerpt(self.body, self.words), self.words)

    @property
    def title_html(self) -> SafeString:
        return highlight(self.title, self.words)


def _fts_match(words: list[list[str]], kinds: Sequence[str] | None = None) -> str:
    """FTS5 query: every word, each through any of its tokens, in the tokens column; the kinds
    in the kind column, so FTS5 skips other kinds' documents in its own doclists instead of
    handing them to the join (which read every message when the cases were indexed first)."""
    match = "tokens : (" + " AND ".join("(" + " OR ".join(f'"{token}"' for token in word) + ")" for word in words) + ")"
    if kinds:
        match += " AND kind : (" + " OR ".join(f'"{kind}"' for kind in kinds) + ")"
    return match


def _tsquery(words: list[list[str]]) -> str:
    return " & ".join("(" + " | ".join("'" + token.replace("'", "''") + "'" for token in word) + ")" for word in words)


def _filters(kinds: Sequence[str] | None, since: dt.datetime | None, prefix: str) -> tuple[str, list[object]]:
    sql, params = "", []  # type: tuple[str, list[Any]]
    if kinds:
        # (PostgreSQL's one-kind searches pass the kind to postgres_newest instead: see there.)
        sql += f" AND {prefix}kind = %s" if len(kinds) == 1 else f" AND {prefix}kind IN ({', '.join(['%s'] * len(kinds))})"
        params += list(kinds)
    if since is not None:
        sql += f" AND {prefix}at >= %s"
        params.append(since)
    return sql, params


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    """A raw SQLite cursor gives the stored UTC time without its zone; the page's `date` filter
    then showed it as it was (UTC). With the zone attached it shows Japan time."""
    if at is not None and settings.USE_TZ and timezone.is_naive(at):
        return at.replace(tzinfo=dt.UTC)
    return at


def candidates(words: list[list[str]], kinds: Sequence[str] | None = None, limit: int = CANDIDATES,
               since: dt.datetime | None = None) -> list[Hit]:
    """The newest `limit` documents that contain every word (any of its forms).

    No engine relevance function here: FTS5's bm25() and a ts_rank over all matches both read
    the whole posting list of a common word (180 ms for 配送 over 6 million documents);
    relevance is computed on the candidates instead, identically on both databases."""
    if not words:
        return []
    if connection.vendor == "sqlite":
        rows = _sqlite_newest(_fts_match(words, kinds), *_filters(kinds, since, "d."), limit)
    else:
        one_kind = kinds[0] if kinds and len(kinds) == 1 else None
        rows = postgres_newest(_tsquery(words), words, *_filters(None if one_kind else kinds, since, ""), limit,
                               kind=one_kind)
    return [Hit(kind, ref_id, case_id, title, body, _aware(at)) for kind, ref_id, case_id, title, body, at in rows]


def _sqlite_newest(match: str, extra: str, params: list[Any], limit: int) -> list[tuple]:
    # FTS5 walks its doclists newest-first for ORDER BY rowid DESC and stops at the limit.
    sql = (
        "SELECT d.kind, d.ref_id, d.case_id, d.title, d.body, d.at "
        "FROM knowledge_searchfts JOIN knowledge_searchdoc d ON d.id = knowledge_searchfts.rowid "
        f"WHERE knowledge_searchfts MATCH %s{extra} ORDER BY knowledge_searchfts.rowid DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *params, limit])
        return cursor.fetchall()


# Below this many expected matches, PostgreSQL is made to collect all matches through the GIN
# index and sort them; above it, to walk an index backwards ((kind, id) when one kind is asked
# for, else the primary key) until enough are found.
RARE_ROWS = 2_000


# The last statistics read, with what they were read at: (table rows, time of the last ANALYZE).
_term_stats: dict[str, Any] = {}


def postgres_term_stats() -> tuple[float, dict[str, float], float]:
    """(rows, {lexeme: share of rows}, share below which unlisted lexemes lie) from ANALYZE.

    The lexeme list (up to a thousand elements) is parsed again only when the table was
    analysed again: a search asks one cheap row first (5–10 ms a search before)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples, greatest(pg_stat_get_last_analyze_time(oid), pg_stat_get_last_autoanalyze_time(oid)) "
            "FROM pg_class WHERE relname = 'knowledge_searchdoc'"
        )
        found = cursor.fetchone()
        rows = float(found[0]) if found and found[0] and found[0] > 0 else 0.0
        key = (connection.alias, connection.settings_dict["NAME"], rows, found[1] if found else None)
        if _term_stats.get("key") == key:
            return _term_stats["value"]  # type: ignore[no-any-return]
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'knowledge_searchdoc' AND attname = 'tsv'"
        )
        stats = cursor.fetchone()
    if not stats or not stats[0]:
        value: tuple[float, dict[str, float], float] = (rows, {}, 0.0)
    else:
        elems, freqs = stats
        # most_common_elem_freqs = one share per element, then min, max and the null share.
        floor = freqs[len(elems)] if len(freqs) > len(elems) else min(freqs)
        value = (rows, dict(zip(elems, freqs, strict=False)), floor)
    _term_stats.update(key=key, value=value)
    return value


def _expected_matches(words: list[list[str]]) -> float | None:
    rows, shares, _floor = postgres_term_stats()
    if not rows or not shares:
        return None
    # A lexeme missing from the statistics may be missing from the index too: count it as
    # rare, so the worst case is one GIN lookup rather than a walk over every row. A word
    # matches where any of its forms does; every word must match.
    share = math.prod(min(sum(shares.get(token, 0.0) for token in word), 1.0) for word in words)
    return rows * share


def postgres_newest(tsquery: str, words: list[list[str]], extra: str, params: list[Any], limit: int,
                    columns: str = "kind, ref_id, case_id, title, body, at", kind: str | None = None) -> list[tuple]:
    """Newest matches, choosing the plan ourselves from the lexeme statistics.

    Left alone, the planner walks the primary key backwards for any word missing from its
    statistics and, when the word is not in the index at all, reads all 6 million rows
    (18 s). Rare words therefore go through the GIN index (a MATERIALIZED CTE cannot be
    turned into a backward walk); common ones keep the backward walk, which stops at `limit`.

    "Newest" is by the document's own time (`at`), walked over the `searchdoc_at_id` index,
    not by id: `madoguchi reindex` writes every case, then every message, customer and order,
    so the highest ids were 500,000 customers and orders, and a word found only in messages
    (割れ) walked past all of them first (309 ms at 1,000,000 cases; issue 16). Document times
    interleave the kinds as they happened, whatever order the index was written in. One kind
    (the similar-case candidates) walks the (kind, id) index: other kinds are never read.
    """
    expected = _expected_matches(words)
    if kind is not None and (expected is None or expected < RARE_ROWS):
        sql = (f"WITH hits AS MATERIALIZED (SELECT id, {columns} FROM knowledge_searchdoc "
               f"WHERE tsv @@ to_tsquery('simple', %s) AND kind = %s{extra}) "
               f"SELECT {columns} FROM hits ORDER BY id DESC LIMIT %s")
        params = [kind, *params]
    elif kind is not None:
        # The kind as a range, ordered by (kind, id): only the (kind, id) index gives that order.
        # With `kind = %s` the planner drops the constant kind from the order and may walk the
        # primary key instead, through every message, customer and order written after the
        # cases: 5.5 million rows, 9.3 s for one case's similar cases at 1,000,000 cases (2 ms now).
        sql = (f"SELECT {columns} FROM knowledge_searchdoc WHERE tsv @@ to_tsquery('simple', %s) "
               f"AND kind >= %s AND kind <= %s{extra} ORDER BY kind DESC, id DESC LIMIT %s")
        params = [kind, kind, *params]
    elif expected is None or expected < RARE_ROWS:
        sql = (f"WITH hits AS MATERIALIZED (SELECT id, {columns}, at AS hit_at FROM knowledge_searchdoc "
               f"WHERE tsv @@ to_tsquery('simple', %s){extra}) "
               f"SELECT {columns} FROM hits ORDER BY hit_at DESC NULLS LAST, id DESC LIMIT %s")
    else:
        sql = (f"SELECT {columns} FROM knowledge_searchdoc WHERE tsv @@ to_tsquery('simple', %s){extra} "
               f"ORDER BY at DESC NULLS LAST, id DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [tsquery, *params, limit])
        return cursor.fetchall()


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
    # How often the words occur, saturating (a TF in the spirit of BM25's k1).
    occurrences = sum(text.count(word) for word in words)
    return score + 10.0 * occurrences / (occurrences + 1.2)


def search(
    query: str, *, kinds: Sequence[str] | None = None, limit: int = 20, group_cases: bool = True,
    since: dt.datetime | None = None,
) -> list[Hit]:
    query_words, phrases = parse_query(query)
    words = plain_words(query)
    whole = " ".join(words)
    ranked: list[Hit] = []
    for hit in candidates(query_words, kinds, since=since):
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
