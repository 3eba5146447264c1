"""Which cluster a complaint belongs to: its key (what it shares with others) and its words.

The key is the case's category and, where known, the thing it is about: for a category about
delivery the carrier; otherwise the passage of the product page the customer read, else the
product, else the carrier. Within a key the text decides: each case is a TF-IDF vector of its
content words (nouns, verbs, adjectives as Sudachi normalises them: 届かない and 届いていません
meet in 届く), weighted by how rare each word is in the project's own corpus of customer
messages (triage/corpus.py), so 商品 or 届く weigh little and 潰れる or 置き配 much.

A case joins the cluster of its key whose words are nearest (cosine of the case's vector and the
cluster's summed words, at least JOIN_SIMILARITY). The cases left over in one run are grouped
among themselves by scikit-learn's agglomerative clustering (average linkage over cosine
distance, cut at the same similarity) and each group starts a cluster. A cluster keeps the
summed (sublinear) term frequencies of its cases, not their weighted vector, so the weights
can be read again at any time and a cluster's words never need its cases' texts again.

This module needs no database: `services.assign_cases` feeds it and writes what it decides."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from madoguchi.knowledge.text import fold, pool

JOIN_SIMILARITY = 0.2
MAX_TERMS = 200  # words a cluster keeps (the heaviest)
MAX_CHARS = 1500
CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}
SKIP_POS2 = {"数詞", "非自立可能", "固有名詞"}  # numbers, する/いる/こと…, names (products, carriers, people: the key)
STOP = {
    "する", "ある", "いる", "なる", "思う", "言う", "こと", "もの", "よう", "ため", "さん", "様", "方", "今回", "件",
    "お願い", "願う", "致す", "頂く", "下さる", "くださる", "申す", "存ずる", "御", "宜しい", "よろしい", "ござる",
    "度", "頃", "際", "中", "時", "日", "月", "年", "回", "注文", "商品", "購入", "店", "ショップ", "お客", "連絡",
    "確認", "対応", "メール", "問い合わせ", "返信", "来る", "行く", "くる", "いく", "見る", "頂戴", "早い", "早急",
    "すむ", "御世話", "いつも", "早め", "至急", "先日", "本日", "今日",
}
CARRIER_FIRST = {"delivery"}  # categories whose clusters are keyed by the carrier before the product


# --- The key ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    category: int
    product: int | None = None
    passage: int | None = None
    carrier: str = ""

    def as_text(self) -> str:
        return f"{self.category}:{self.product or ''}:{self.passage or ''}:{self.carrier}"


def key_of(category_id: int, category_code: str, *, product: int | None, passage: int | None, carrier: str) -> Key:
    """What a complaint is grouped by besides its words (see the module's docstring)."""
    if category_code in CARRIER_FIRST and carrier:
        return Key(category_id, carrier=carrier)
    if passage is not None:
        return Key(category_id, product=product, passage=passage)
    if product is not None:
        return Key(category_id, product=product)
    return Key(category_id, carrier=carrier)


# --- Words --------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """The content words of a text, normalised (Sudachi, the search index's shared pool)."""
    folded = fold(text)[:MAX_CHARS]
    found: list[str] = []
    with pool.borrow() as tok:
        for morpheme in tok.tokenize(folded):
            pos = morpheme.part_of_speech()
            if pos[0] not in CONTENT_POS or pos[1] in SKIP_POS2:
                continue
            form = morpheme.normalized_form()
            if form in STOP or len(form) < 2 and not ("\u4e00" <= form <= "\u9fff"):
                continue
            found.append(form)
    return found


def term_counts(text: str) -> dict[str, float]:
    """Sublinear term frequency (1 + log tf) of the text's content words."""
    return {word: 1.0 + math.log(n) for word, n in Counter(words(text)).items()}


class Idf:
    """How rare each word is among the project's own customer messages (triage's training
    set): log((1 + n) / (1 + df)) + 1, as scikit-learn smooths it. A word the corpus never
    has weighs as the rarest. Computed once per process (about a second)."""

    def __init__(self, documents: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for text in documents:
            n += 1
            df.update(set(words(text)))
        self.n = n
        self.weights = {word: math.log((1 + n) / (1 + count)) + 1 for word, count in df.items()}
        self.unseen = math.log(1 + n) + 1

    def __call__(self, word: str) -> float:
        return self.weights.get(word, self.unseen)


_idf: Idf | None = None
_idf_lock = threading.Lock()


def idf() -> Idf:
    global _idf
    with _idf_lock:
        if _idf is None:
            from madoguchi.triage import corpus

            _idf = Idf(example.text for example in corpus.training_set())
        return _idf


def vector(counts: dict[str, float], weigh: Idf) -> dict[str, float]:
    """TF-IDF, unit length (empty for a text without content words)."""
    weighted = {word: tf * weigh(word) for word, tf in counts.items()}
    norm = math.sqrt(sum(v * v for v in weighted.values()))
    return {word: v / norm for word, v in weighted.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(word, 0.0) for word, v in a.items())


def top_terms(terms: dict[str, float], limit: int = MAX_TERMS) -> dict[str, float]:
    return dict(sorted(terms.items(), key=lambda item: (-item[1], item[0]))[:limit])


def label(terms: dict[str, float], weigh: Idf, limit: int = 4) -> str:
    """A cluster's name: its most telling words (frequency × rarity)."""
    ranked = sorted(terms.items(), key=lambda item: (-item[1] * weigh(item[0]), item[0]))
    return "・".join(word for word, _v in ranked[:limit])


# --- Deciding ------------------------------------------------------------------------------------

@dataclass
class Group:
    """A cluster as the decision sees it: an existing one (pk) or one to be made (pk None)."""

    pk: int | None
    terms: dict[str, float]
    size: int
    joined: list[tuple[int, float]] = field(default_factory=list)  # (item index, similarity)


def place(counts: Sequence[dict[str, float]], groups: list[Group], weigh: Idf,
          threshold: float = JOIN_SIMILARITY) -> list[Group]:
    """Put each text (its term counts) of one key in the nearest group at least `threshold`
    alike; group the rest among themselves (agglomerative, average linkage, cosine) into new
    groups appended to `groups`. Returns `groups` with `joined` filled in."""
    centroids = [vector(group.terms, weigh) for group in groups]
    vectors = [vector(c, weigh) for c in counts]
    left: list[int] = []
    for index, v in enumerate(vectors):
        scores = [cosine(v, centroid) for centroid in centroids]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is not None and scores[best] >= threshold:
            groups[best].joined.append((index, scores[best]))
        elif not v and groups:
            # Nothing to compare (no content words): the key's largest cluster.
            largest = max(range(len(groups)), key=lambda i: groups[i].size + len(groups[i].joined))
            groups[largest].joined.append((index, 0.0))
        else:
            left.append(index)
    for members in _agglomerate([vectors[i] for i in left], threshold):
        new = Group(None, {}, 0)
        for position in members:
            index = left[position]
            new.joined.append((index, 0.0))
        groups.append(new)
    for group in groups:
        for index, _similarity in group.joined:
            add_terms(group.terms, counts[index])
        group.size += len(group.joined)
    # A new group's similarities: each member to the group's words.
    for group in groups:
        if group.pk is None:
            centroid = vector(group.terms, weigh)
            group.joined = [(index, cosine(vectors[index], centroid)) for index, _s in group.joined]
    return groups


def add_terms(total: dict[str, float], counts: dict[str, float]) -> None:
    for word, tf in counts.items():
        total[word] = total.get(word, 0.0) + tf


def _agglomerate(vectors: list[dict[str, float]], threshold: float) -> list[list[int]]:
    """Groups of positions: texts at least `threshold` alike on average end up together."""
    if not vectors:
        return []
    if len(vectors) == 1:
        return [[0]]
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction import DictVectorizer

    matrix = DictVectorizer(sparse=False).fit_transform(vectors)
    empty = ~matrix.any(axis=1)
    groups: list[list[int]] = []
    if empty.any():
        groups.append([int(i) for i in np.flatnonzero(empty)])
    rows = np.flatnonzero(~empty)
    if len(rows) == 1:
        groups.append([int(rows[0])])
    elif len(rows) > 1:
        model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                        distance_threshold=1.0 - threshold)
        labels = model.fit_predict(matrix[rows])
        for value in sorted(set(labels.tolist()), key=lambda v: int(np.flatnonzero(labels == v)[0])):
            groups.append([int(rows[i]) for i in np.flatnonzero(labels == value)])
    return groups
