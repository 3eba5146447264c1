"""Articles and past resolved cases most like a complaint, ranked over the search index.

A complaint is long, so instead of ANDing its words (as the search box does) it is scored
with BM25 over the token sets already stored in the index: articles are few (hundreds),
so all published ones are scored in Python; past cases are first narrowed by the engine to
those sharing the complaint's rarest words.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from django.db import connection

from madoguchi.cases.models import Case, Status
from madoguchi.knowledge.models import Article, ArticleState, DocKind, SearchDoc
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
    published = dict(Article.objects.filter(state=ArticleState.PUBLISHED).values_list("pk", "title"))
    docs: dict[int, list[str]] = {}
    for ref_id, title, token_text in SearchDoc.objects.filter(kind=DocKind.ARTICLE, ref_id__in=list(published)).values_list(
        "ref_id", "title", "tokens"
    ):
        docs[ref_id] = token_text.split() + tokens(title) * TITLE_BOOST
    scores = _bm25(Counter(tokens(text)), docs)
    best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    articles = Article.objects.in_bulk([pk for pk, _score in best])
    return [Suggestion(score, article=articles[pk]) for pk, score in best if pk in articles]


def _rare_terms(query: Counter[str], most: int = 6) -> list[str]:
    """The query's words that the fewest case documents contain (the telling ones)."""
    counted = []
    for term in list(query)[:40]:
        counted.append((_doc_frequency(term), term))
    counted.sort()
    return [term for freq, term in counted if freq > 0][:most]


def _doc_frequency(term: str, cap: int = 5000) -> int:
    if connection.vendor == "sqlite":
        sql = ("SELECT COUNT(*) FROM (SELECT rowid FROM knowledge_searchfts WHERE knowledge_searchfts MATCH %s LIMIT %s)")
        args: list[object] = [f'"{term}"', cap]
    else:
        sql = "SELECT COUNT(*) FROM (SELECT 1 FROM knowledge_searchdoc WHERE tsv @@ to_tsquery('simple', %s) LIMIT %s) s"
        args = ["'" + term.replace("'", "''") + "'", cap]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return int(cursor.fetchone()[0])


def _case_candidates(terms: list[str], exclude: int | None, limit: int = 300) -> dict[int, list[str]]:
    if not terms:
        return {}
    if connection.vendor == "sqlite":
        sql = ("SELECT d.ref_id, d.tokens FROM knowledge_searchfts JOIN knowledge_searchdoc d ON d.id = knowledge_searchfts.rowid "
               "WHERE knowledge_searchfts MATCH %s AND d.kind = 'case' ORDER BY knowledge_searchfts.rowid DESC LIMIT %s")
        args: list[object] = [" OR ".join(f'"{t}"' for t in terms), limit]
    else:
        sql = ("SELECT ref_id, tokens FROM knowledge_searchdoc WHERE tsv @@ to_tsquery('simple', %s) AND kind = 'case' "
               "ORDER BY id DESC LIMIT %s")
        args = [" | ".join("'" + t.replace("'", "''") + "'" for t in terms), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return {ref_id: text.split() for ref_id, text in cursor.fetchall() if ref_id != exclude}


def suggest_cases(text: str, exclude: int | None = None, limit: int = 5) -> list[Suggestion]:
    query = Counter(tokens(text))
    docs = _case_candidates(_rare_terms(query), exclude)
    resolved = set(Case.objects.filter(pk__in=list(docs), status__in=[Status.RESOLVED, Status.CLOSED])
                   .exclude(solution="").values_list("pk", flat=True))
    scores = _bm25(query, {pk: doc for pk, doc in docs.items() if pk in resolved})
    best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    cases = Case.objects.in_bulk([pk for pk, _score in best])
    return [Suggestion(score, case=cases[pk]) for pk, score in best if pk in cases]
