"""Articles and past resolved cases most like a complaint, ranked over the search index.

A complaint is long, so instead of ANDing its words (as the search box does) it is scored
with BM25 over the token sets already stored in the index: articles are few (hundreds),
so all published ones are scored in Python; past cases are first narrowed by the engine to
those sharing the complaint's rarest words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from madoguchi.cases.models import Case, Status
from madoguchi.jobs import work
from madoguchi.knowledge.models import Article, ArticleState, CaseSuggestions, DocKind, Visibility
from madoguchi.knowledge.search import postgres_newest, postgres_term_stats
from madoguchi.knowledge.text import tokens

K1, B = 1.2, 0.75
TITLE_BOOST = 2  # a word of the article's title counts as if it were written twice more


@dataclass
class Suggestion:
    score: float
    article: Article | None = None
    case: Case | None = None


def _bm25(query: Counter[str], docs: dict[int, list[str]]) -> dict[int, float]:
    if not docs:
        return {}
    n = len(docs)
    avg = sum(len(d) for d in docs.values()) / n or 1.0
    df: Counter[str] = Counter()
    for doc in docs.values():
        df.update(set(doc))
    scores: dict[int, float] = {}
    for key, doc in docs.items():
        tf = Counter(doc)
        score = 0.0
        for term in query:
            if term not in tf:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            score += idf * tf[term] * (K1 + 1) / (tf[term] + K1 * (1 - B + B * len(doc) / avg))
        if score > 0:
            scores[key] = score
    return scores


def complaint_text(case: Case) -> str:
    return f"{case.subject}\n{case.complaint}"


def suggest_articles(text: str, limit: int = 5) -> list[Suggestion]:
    scores = _article_index().scores(Counter(tokens(text, parts=False, every=False)))
    best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    articles = Article.objects.in_bulk([pk for pk, _score in best])
    return [Suggestion(score, article=articles[pk]) for pk, score in best if pk in articles]


@dataclass
class _ArticleIndex:
    """BM25 over the published articles, kept per process until one of them or their tags
    changes: scoring a complaint then walks only the postings of its own words, instead of
    counting every article's words again on each case page (7 ms at 300 articles)."""

    signature: Any
    postings: dict[str, list[tuple[int, int, int]]]  # term → (article, times in it, its length)
    count: int
    average_length: float

    def scores(self, query: Counter[str]) -> dict[int, float]:
        scores: dict[int, float] = {}
        for term in query:
            found = self.postings.get(term, ())
            if not found:
                continue
            idf = math.log(1 + (self.count - len(found) + 0.5) / (len(found) + 0.5))
            for pk, tf, length in found:
                scores[pk] = scores.get(pk, 0.0) + idf * tf * (K1 + 1) / (
                    tf + K1 * (1 - B + B * length / self.average_length))
        return {pk: score for pk, score in scores.items() if score > 0}


_INDEX: list[_ArticleIndex] = []


def _article_index() -> _ArticleIndex:
    published = Article.objects.filter(state=ArticleState.PUBLISHED)
    tags: dict[int, list[str]] = {}
    for article_id, name in Article.tags.through.objects.filter(article__in=published).values_list("article_id", "tag__name"):
        tags.setdefault(article_id, []).append(name)
    versions = {pk: (updated_at, tuple(sorted(tags.get(pk, [])))) for pk, updated_at in published.values_list("pk", "updated_at")}
    signature = tuple(sorted(versions.items()))
    if _INDEX and _INDEX[0].signature == signature:
        return _INDEX[0]
    docs = {pk: _article_terms(pk, versions[pk], title, body)
            for pk, title, body in published.values_list("pk", "title", "body")}
    postings: dict[str, list[tuple[int, int, int]]] = {}
    for pk, terms in docs.items():
        for term, tf in Counter(terms).items():
            postings.setdefault(term, []).append((pk, tf, len(terms)))
    average = (sum(len(terms) for terms in docs.values()) / len(docs) if docs else 0.0) or 1.0
    _INDEX[:] = [_ArticleIndex(signature, postings, len(docs), average)]
    return _INDEX[0]


# An article's terms (title, text, tags) as the complaint's are counted: one normalised form
# per word (the search index keeps every form of each word, which would weigh inflected words
# two or three times). Kept per process until the article or its tags change: a shop has tens
# to hundreds of articles.
_ARTICLE_TERMS: dict[int, tuple[Any, list[str]]] = {}


def _article_terms(pk: int, version: Any, title: str, body: str) -> list[str]:
    cached = _ARTICLE_TERMS.get(pk)
    if cached is None or cached[0] != version:
        from madoguchi.knowledge.services import plain_text

        if len(_ARTICLE_TERMS) > 5000:
            _ARTICLE_TERMS.clear()
        # Whole compounds only, on both sides: a compound's parts would count one rare word
        # (有田焼) three times.
        text = f"{plain_text(body)}\n{' '.join(version[1])}"
        terms = tokens(text, parts=False, every=False) + tokens(title, parts=False, every=False) * (TITLE_BOOST + 1)
        cached = _ARTICLE_TERMS[pk] = (version, terms)
    return cached[1]


def _rare_terms(query: Counter[str], most: int = 6) -> list[str]:
    """The query's words that the fewest documents contain (the telling ones)."""
    terms = list(query)[:30]
    frequency = _frequencies(terms)
    return sorted(terms, key=lambda term: (frequency.get(term, 0.0), -len(term)))[:most]


def _frequencies(terms: list[str], cap: int = 5000) -> dict[str, float]:
    """How common each term is. SQLite: FTS5 counts a capped doclist quickly. PostgreSQL:
    the planner's own statistics of the tsvector column (counting there costs a bitmap)."""
    if connection.vendor != "sqlite":
        _rows, shares, _floor = postgres_term_stats()
        return shares
    if not terms:
        return {}
    # One statement for all the terms: a long complaint costs no more round trips than a short one.
    count = "SELECT COUNT(*) FROM (SELECT rowid FROM knowledge_searchfts WHERE knowledge_searchfts MATCH %s LIMIT %s)"
    sql = " UNION ALL ".join([f"SELECT %s, ({count})"] * len(terms))
    params: list[Any] = []
    for term in terms:
        params += [term, f'tokens : "{term}"', cap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {term: float(found) for term, found in cursor.fetchall()}


def _case_candidates(terms: list[str], exclude: int | None, limit: int = 300) -> dict[int, list[str]]:
    """The newest case documents holding any of the terms. The kind is applied by the engine
    index itself (FTS5's kind column; PostgreSQL's (kind, id) index), so the messages, which
    `madoguchi reindex` writes after all the cases, are never walked through."""
    if not terms:
        return {}
    if connection.vendor != "sqlite":
        tsquery = " | ".join("'" + t.replace("'", "''") + "'" for t in terms)
        rows = postgres_newest(tsquery, [terms], "", [], limit, columns="ref_id, tokens", kind=str(DocKind.CASE))
        return {ref_id: text.split() for ref_id, text in rows if ref_id != exclude}
    sql = ("SELECT d.ref_id, d.tokens FROM knowledge_searchfts JOIN knowledge_searchdoc d ON d.id = knowledge_searchfts.rowid "
           "WHERE knowledge_searchfts MATCH %s AND d.kind = 'case' ORDER BY knowledge_searchfts.rowid DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_match(terms), limit])
        return {ref_id: text.split() for ref_id, text in cursor.fetchall() if ref_id != exclude}


def case_match(terms: list[str]) -> str:
    """The FTS5 query for case documents holding any of the terms."""
    return "tokens : (" + " OR ".join(f'"{t}"' for t in terms) + ') AND kind : "case"'


def suggest_cases(text: str, exclude: int | None = None, limit: int = 5) -> list[Suggestion]:
    query = Counter(tokens(text, every=False))
    docs = _case_candidates(_rare_terms(query), exclude)
    resolved = set(Case.objects.filter(pk__in=list(docs), status__in=[Status.RESOLVED, Status.CLOSED])
                   .exclude(solution="").values_list("pk", flat=True))
    scores = _bm25(query, {pk: doc for pk, doc in docs.items() if pk in resolved})
    best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    cases = Case.objects.in_bulk([pk for pk, _score in best])
    return [Suggestion(score, case=cases[pk]) for pk, score in best if pk in cases]


_PLAIN: dict[int, tuple[Any, str]] = {}


def _plain_text(article: Article) -> str:
    """The article as a reply inserts it (Markdown rendered to text), kept per process until it changes."""
    from madoguchi.knowledge.services import plain_text

    cached = _PLAIN.get(article.pk)
    if cached is None or cached[0] != article.updated_at:
        if len(_PLAIN) > 5000:
            _PLAIN.clear()
        cached = _PLAIN[article.pk] = (article.updated_at, plain_text(article.body))
    return cached[1]


SUGGEST_WORK = "knowledge.suggest"
ARTICLES, CASES = 5, 3  # shown on the case page
# Similar cases are ranked among resolved cases, which keep coming; a day-old ranking is asked again.
FRESH_FOR = dt.timedelta(days=1)


def articles_version() -> str:
    """Which set of published articles a ranking was made against: any article published,
    edited or withdrawn changes it (saving an article moves its updated_at)."""
    row = Article.objects.filter(state=ArticleState.PUBLISHED).aggregate(n=Count("pk"), latest=Max("updated_at"))
    return f"{row['n']}:{row['latest'].isoformat() if row['latest'] else ''}"


def _text_hash(case: Case) -> str:
    return hashlib.sha1(complaint_text(case).encode(), usedforsecurity=False).hexdigest()


def defer_refresh(case_pk: int) -> None:
    """Rank this case's suggestions again once the current transaction has committed (worker)."""
    work.defer(SUGGEST_WORK, [case_pk])


def do_refresh(case: Case, *, force: bool = False) -> CaseSuggestions:
    """Rank and store the case's suggestions, unless those stored were ranked for the same
    complaint against the same articles today."""
    version, text_hash = articles_version(), _text_hash(case)
    stored = CaseSuggestions.objects.filter(case_id=case.pk).first()
    if stored and not force and not _stale(stored, version, text_hash):
        return stored
    text = complaint_text(case)
    articles = [s.article.pk for s in suggest_articles(text, limit=ARTICLES) if s.article]
    cases = [s.case.pk for s in suggest_cases(text, exclude=case.pk, limit=CASES) if s.case]
    stored, _created = CaseSuggestions.objects.update_or_create(case_id=case.pk, defaults={
        "articles": articles, "cases": cases, "articles_version": version, "text_hash": text_hash,
        "computed_at": timezone.now()})
    return stored


def _stale(stored: CaseSuggestions, version: str, text_hash: str) -> bool:
    return (stored.articles_version != version or stored.text_hash != text_hash
            or stored.computed_at < timezone.now() - FRESH_FOR)


def refresh_cases(case_pks: list[int]) -> int:
    """The worker's handler: each case's suggestions ranked again where they are out of date."""
    cases = Case.objects.filter(pk__in=case_pks).only("pk", "subject", "complaint")
    for case in cases:
        do_refresh(case)
    return len(case_pks)


def stored_panel(case: Case) -> dict[str, Any] | None:
    """The case page's suggestions as the worker last ranked them (None: never ranked, the page
    asks for them by htmx). Out of date ones are shown while the worker ranks them again."""
    from madoguchi.cases.page import loaded_with

    stored = loaded_with(case, "suggestions", lambda: CaseSuggestions.objects.filter(case_id=case.pk).first())
    if stored is None:
        return None
    if _stale(stored, articles_version(), _text_hash(case)):
        defer_refresh(case.pk)
    return _panel(case, stored)


def panel(case: Case) -> dict[str, Any]:
    """What the suggestions panel shows, ranked now and stored for the next view. Article text
    is inserted as plain text (a reply is plain text: Markdown marks would reach the customer
    as they are)."""
    return _panel(case, do_refresh(case))


def _panel(case: Case, stored: CaseSuggestions) -> dict[str, Any]:
    articles = Article.objects.filter(pk__in=stored.articles, state=ArticleState.PUBLISHED).in_bulk()
    article_rows = []
    for pk in stored.articles:
        article = articles.get(pk)
        if article is None:  # withdrawn since it was ranked
            continue
        url = settings.SITE_URL + reverse("faq:article", args=[article.pk]) if article.visibility == Visibility.PUBLIC else ""
        article_rows.append({"article": article, "url": url, "text": _plain_text(article)})
    similar = Case.objects.only("pk", "subject", "solution").in_bulk(stored.cases)
    return {"case": case, "articles": article_rows,
            "cases": [Suggestion(0.0, case=similar[pk]) for pk in stored.cases if pk in similar]}
