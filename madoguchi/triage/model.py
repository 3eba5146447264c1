"""The reader: what kind of message this is, what it is about, how angry its writer is.

scikit-learn over two views of the text, stacked side by side:
- words: every morpheme's normalised form from SudachiPy (the search index's shared tokenizer
  pool, `knowledge/text.py`), so 届かない, 届いていません and とどかない meet in 届く + ない; with word
  pairs, so 届か+ない is not 届く;
- characters: 1-3 character n-grams of the NFKC-folded text, which carry what a dictionary does
  not know: emoji (😡🙏), slang (マジで, 神対応, ぴえん), kana spellings and typos;
- pretrained word vectors (chiVe, 300 dimensions, as the `ja-ginza` package ships them, keyed
  by Sudachi's normalised forms): each message's idf-weighted mean vector, so a word the
  training set never had (点検, 見積書) still lands near the words it did have (修理, 請求書);
  and, for the category model, how close the message's nearest word comes to each category's
  topic words (`corpus.topic_words`).
The category is read from the sentences that say what the message is about: a frame detector
(a linear model over one sentence's words and characters, taught the corpus's frame banks:
openings, introductions, feelings, demands, closings) sets aside the rest (`corpus.frame_examples`).
Kind and category are linear support vector machines (LinearSVC); anger is a ridge regression
on the same features, clipped to 0-4 (higher is angrier).

This module needs no Django: `madoguchi classify` loads a model file and reads standard input
with it, and the desk's worker does the same through `services.read_messages`.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import pickle
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from madoguchi.knowledge.text import fold, pool

log = logging.getLogger(__name__)

# A message is read up to here: a mail's first lines say what it is; quoted history and long
# signatures below only slow the reader down.
MAX_CHARS = 1500
# The word-vector columns weigh this much for kind and anger (1 for category): 0.7 keeps the
# hand-written part's kind accuracy at 0.949 (1: 0.938, anger Spearman 0.761 instead of 0.747 on
# the whole set; 0.5: 0.949, Spearman 0.738), mean of three training seeds.
KIND_VECTOR_WEIGHT = 0.7
LEXICON_WEIGHT = 5.0  # a topic word counts as much as five messages for the category model (2: 0.735/0.895, 5: 0.745/0.901, 12: 0.747/0.901 category accuracy, generated/hand-written evaluation)
# The frame detector's and the category model's LinearSVC C, chosen on validation folds carved
# from the training data alone (`bench/triage_validate.py`: four folds x corpus seeds 20-22,
# never the evaluation set). Mean validation category accuracy with the detector's C 0.5: 0.8776,
# 0.2: 0.8810, 0.1: 0.8877, 0.07: 0.8892, 0.05: 0.8865, 0.03: 0.8871 (seed 20 alone: 0.07 0.8900,
# 0.02 0.8858, 0.01 0.8848); the category C 0.25 / 0.5 / 1 within 0.002 of each other at every
# detector C. Evaluation set afterwards (once): category 0.897 -> 0.909, mean of seeds 20-22.
FRAME_C = 0.07
CATEGORY_C = 0.5
FORMAT = 3  # bumped when a saved model can no longer be read by this code


def words(text: str) -> list[str]:
    """The normalised form of each morpheme (particles and auxiliaries kept: ない, たい, ません
    and か carry the meaning here), symbols kept as written (！, ？, emoji)."""
    with pool.borrow() as tok:
        forms = [morpheme.normalized_form() for morpheme in tok.tokenize(text)]
    return [form for form in forms if not form.isspace()]


# A sentence ends at 。, ！, ？ (folded: !, ?) or a line break, with the marks that follow it.
_SENTENCE = re.compile(r"[^。!?\n]+[。!?\n]*|[。!?\n]+")


def sentences(text: str) -> list[str]:
    """The text's sentences, in order; joined they give the text back (blank ones dropped)."""
    return [part for part in _SENTENCE.findall(text) if not part.isspace()] or [text]


# Signs of how strongly something is said, counted into a few extra columns beside the words:
# the models weigh them like any other feature (they generalise across wordings that the
# training set cannot all contain). Matched in the folded text.
STRONG = (
    "最悪", "ふざけ", "二度と", "金返せ", "返金しろ", "詐欺", "訴え", "消費者センター", "消費生活センター", "晒",
    "拡散", "責任者", "ありえな", "ありえん", "あり得な", "許さ", "許せ", "いい加減", "弁護士", "法的", "警察",
    "保健所", "怒", "むかつ", "ムカつ", "腹が立", "腹立", "呆れ", "あきれ", "誠意", "キレ", "クソ", "くそ", "ぼったくり",
    "泥棒", "嘘つき", "出るところ", "出るとこ", "抗議", "遺憾", "不信", "容認", "納得でき", "信じられ", "どうなって",
    "どういうこと", "何回", "何度", "再三", "今すぐ", "直ちに", "今日中", "しろ", "出せ", "被害", "謝罪", "ひどい",
    "酷い", "最低", "やめとけ", "催促", "放置", "いつまで", "うんざり", "二度目", "三度目", "3回目", "二回目",
)
MILD = (
    "恐れ入", "恐縮", "幸い", "念のため", "少し", "ちょっと", "ご参考", "一応", "気にな", "お手数", "お手すき",
    "できれば", "実害", "問題ない", "大丈夫", "助かり", "嬉しい", "うれしい", "かな", "でしょうか",
)
ANGRY_EMOJI = "😡🤬💢😤😠👎🙄😾"


def intensity(text: str) -> list[float]:
    strong = sum(text.count(word) for word in STRONG)
    mild = sum(text.count(word) for word in MILD)
    return [
        float(np.log1p(strong)), float(np.log1p(mild)),
        float(np.log1p(sum(text.count(e) for e in ANGRY_EMOJI))),
        float(np.log1p(text.count("!") + text.count("！"))) * 0.5,
        float(text.count("??") + text.count("?!") + text.count("!?") > 0),
        float(np.log1p(len(text))) * 0.1,
    ]


def prepare(text: str) -> str:
    return fold(text)[:MAX_CHARS]


@dataclass
class Reading:
    kind: str
    category: str
    anger: float
    kind_confidence: float
    category_confidence: float

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "category": self.category, "anger": round(self.anger, 2),
            "kind_confidence": round(self.kind_confidence, 3),
            "category_confidence": round(self.category_confidence, 3),
        }


def char_grams(text: str) -> list[str]:
    """Character 1-3-grams of each space-separated word, padded with a space at each end
    (scikit-learn's char_wb: an emoji or ！ is a gram of its own, 神対応 gives 神対, 対応, …)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in (1, 2, 3):
            if n == 1:
                grams.extend(word)
                continue
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def word_grams(tokens: list[str]) -> list[str]:
    """Words and word pairs: 届か+ない is not 届く."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


# --- Pretrained word vectors ----------------------------------------------------------------------
# The ja-ginza package (installed by bin/start without its spaCy dependencies: only its files
# are read) ships chiVe vectors for 480,443 words in 20,000 distinct rows, keyed by spaCy's
# 64-bit hash of the word. Training copies them into the model file (rows as float16, keys
# sorted), so reading needs neither spaCy nor the package.

_M = np.uint64(0xC6A4A7935BD1E995)
_R = np.uint64(47)


def murmur64(strings: Sequence[str], seed: int = 1) -> np.ndarray:
    """MurmurHash64A of each string's UTF-8 bytes, computed for all strings of one length at
    once; with seed 1 it is spaCy's key for a string."""
    data = [s.encode("utf-8") for s in strings]
    out = np.zeros(len(data), dtype=np.uint64)
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    with np.errstate(over="ignore"):
        for n in np.unique(lengths).tolist():
            at = np.flatnonzero(lengths == n)
            blocks = n // 8
            buf = np.frombuffer(b"".join(data[i].ljust(blocks * 8 + 8, b"\0") for i in at.tolist()),
                                dtype="<u8").reshape(len(at), blocks + 1)
            h = np.full(len(at), seed, dtype=np.uint64) ^ (np.uint64(n) * _M)
            for j in range(blocks):
                k = buf[:, j] * _M
                k ^= k >> _R
                k *= _M
                h ^= k
                h *= _M
            if n & 7:  # the last bytes, little-endian, zero-padded
                h ^= buf[:, blocks]
                h *= _M
            h ^= h >> _R
            h *= _M
            h ^= h >> _R
            out[at] = h
    return out


@dataclass
class WordVectors:
    """Word vectors looked up by a word's hash: `keys` sorted, `rows[i]` the row of `table`
    for `keys[i]` (many words share one row)."""

    keys: np.ndarray  # uint64
    rows: np.ndarray  # uint16
    table: np.ndarray  # float16, words x dimensions

    def lookup(self, tokens: Sequence[str]) -> np.ndarray:
        """The row of each token, -1 where there is none."""
        if not len(tokens) or not len(self.keys):
            return np.full(len(tokens), -1, dtype=np.int64)
        h = murmur64(tokens)
        pos = np.searchsorted(self.keys, h).clip(0, len(self.keys) - 1)
        return np.where(self.keys[pos] == h, self.rows[pos].astype(np.int64), -1)

    def unit(self, rows: np.ndarray) -> np.ndarray:
        """The rows as float64 vectors of length 1 (zeros for -1)."""
        t = self.table[rows.clip(0)].astype(np.float64)
        norms = np.linalg.norm(t, axis=1, keepdims=True)
        return np.where((rows >= 0)[:, None] & (norms > 0), t / np.where(norms > 0, norms, 1.0), 0.0)

    def features(self, docs: Sequence[Sequence[str]], vocabulary: dict[str, int], idf: np.ndarray,
                 topics: np.ndarray) -> np.ndarray:
        """Per document: its idf-weighted mean vector scaled to length 1 (a word never seen in
        training weighs the most idf), then, per row of `topics`, the highest cosine between
        one of its words and that row (zeros where no word has a vector). In batches of 500."""
        width = self.table.shape[1] + len(topics)
        parts = [self._features(docs[i : i + 500], vocabulary, idf, topics) for i in range(0, len(docs), 500)]
        return np.vstack(parts) if parts else np.zeros((0, width))

    def _features(self, docs: Sequence[Sequence[str]], vocabulary: dict[str, int], idf: np.ndarray,
                  topics: np.ndarray) -> np.ndarray:
        index: dict[str, int] = {}
        u = np.fromiter((index.setdefault(token, len(index)) for tokens in docs for token in tokens), dtype=np.int64)
        d = np.repeat(np.arange(len(docs)), [len(tokens) for tokens in docs])
        unique = list(index)
        found = self.lookup(unique)
        at = np.fromiter((vocabulary.get(t, -1) for t in unique), dtype=np.int64, count=len(unique))
        weight = np.where(at >= 0, idf[at.clip(0)], idf.max() if len(idf) else 1.0) * (found >= 0)
        counts = np.bincount(d * len(unique) + u, minlength=len(docs) * len(unique)).reshape(len(docs), len(unique))
        mean = (counts * weight) @ self.table[found.clip(0)].astype(np.float64)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        mean /= np.where(norms > 0, norms, 1.0)
        if not len(topics):
            return mean
        near = np.zeros((len(docs), len(topics)))
        known = found[u] >= 0
        if known.any():
            dk, sims = d[known], (self.unit(found) @ topics.T)[u[known]]
            starts = np.flatnonzero(np.r_[True, dk[1:] != dk[:-1]])
            near[dk[starts]] = np.maximum.reduceat(sims, starts, axis=0)
        return np.hstack([mean, near])


def _vocab_folder() -> Path | None:
    """The ja-ginza package's vocab folder, found without importing it (that would load spaCy)."""
    spec = importlib.util.find_spec("ja_ginza")
    if spec is None or not spec.origin:
        return None
    found = sorted(Path(spec.origin).parent.glob("*/vocab/vectors"))
    return found[-1].parent if found else None


def vectors_source() -> str:
    """What `package_vectors` would read, for a cache key: the file and its size, or none."""
    folder = _vocab_folder()
    return f"{folder}:{(folder / 'vectors').stat().st_size}" if folder else "none"


@functools.cache
def package_vectors() -> WordVectors | None:
    """The vectors of the installed ja-ginza package, or None (logged) when it is missing:
    the model then reads with words and characters alone."""
    import msgpack  # type: ignore[import-untyped]

    folder = _vocab_folder()
    if folder is None:
        log.warning("triage: the ja-ginza package is not installed; training without word vectors")
        return None
    key2row = msgpack.unpackb((folder / "key2row").read_bytes(), strict_map_key=False)
    keys = np.fromiter(key2row.keys(), dtype=np.uint64, count=len(key2row))
    rows = np.fromiter(key2row.values(), dtype=np.int64, count=len(key2row))
    table = np.load(folder / "vectors", allow_pickle=False)
    order = np.argsort(keys)
    return WordVectors(keys[order], rows[order].astype(np.uint16), table.astype(np.float16))


def topic_centroids(vectors: WordVectors, categories: Sequence[str]) -> np.ndarray:
    """Per category, the mean of its topic words' unit vectors, scaled to length 1."""
    from madoguchi.triage import corpus

    by: dict[str, list[str]] = {category: [] for category in categories}
    for word, category in corpus.topic_words():
        if category in by:
            by[category].extend(words(word))
    out = np.zeros((len(categories), vectors.table.shape[1]))
    for number, category in enumerate(categories):
        mean = vectors.unit(vectors.lookup(by[category])).sum(axis=0)
        norm = np.linalg.norm(mean)
        out[number] = mean / norm if norm > 0 else mean
    return out


@dataclass
class Reader:
    """A trained model in plain arrays, read without scikit-learn (which takes longer to
    import than `madoguchi classify` may take in all): for each view its vocabulary and idf
    weights (TF-IDF with sublinear tf, each view scaled to length 1), then one weight row per
    kind, per category and for anger over the stacked features."""

    word_vocabulary: dict[str, int]
    word_idf: np.ndarray
    char_vocabulary: dict[str, int]
    char_idf: np.ndarray
    kinds: list[str]
    categories: list[str]
    weights: np.ndarray  # (kinds + categories + 1) x features
    intercepts: np.ndarray
    trained_on: int = 0
    shop_labels: int = 0
    trained_at: float = field(default_factory=time.time)
    format: int = FORMAT
    vectors: WordVectors | None = None
    topics: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # category centroids
    # The frame detector: one weight row over the word and character views of a sentence
    # (score > 0: an opening, introduction, feeling, demand or closing, not what the message is
    # about). None: the category is read from the whole message.
    frame: np.ndarray | None = None
    frame_intercept: float = 0.0

    def _dense(self, texts: list[str], tokens: list[list[str]]) -> np.ndarray:
        """The columns after the two views: intensity signs, then the word-vector features."""
        extra = np.asarray([intensity(text) for text in texts], dtype=np.float64).reshape(len(texts), -1)
        if self.vectors is None:
            return extra
        return np.hstack([extra, self.vectors.features(tokens, self.word_vocabulary, self.word_idf, self.topics)])

    def _view(self, docs: list[list[str]], vocabulary: dict[str, int], idf: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF of one view for a batch: (document, feature, value) of every known gram."""
        keys: list[str] = []
        counts: list[int] = []
        lengths: list[int] = []
        for grams in docs:
            counter = Counter(grams)
            keys.extend(counter.keys())
            counts.extend(counter.values())
            lengths.append(len(counter))
        found = np.fromiter(map(vocabulary.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))
        known = found >= 0
        d = np.repeat(np.arange(len(docs)), lengths)[known]
        i = found[known]
        n = np.asarray(counts, dtype=np.float64)[known]
        v = (1.0 + np.log(n)) * idf[i]
        norms = np.sqrt(np.bincount(d, weights=v * v, minlength=len(docs)))
        v /= np.where(norms > 0, norms, 1.0)[d]
        return d, i, v

    def _linear(self, texts: list[str], tokens: list[list[str]], rows: slice) -> np.ndarray:
        """The scores of the weight rows `rows` for each text (its words given)."""
        n_words, n_chars = len(self.word_idf), len(self.char_idf)
        weights = self.weights[rows]
        wd, wi, wv = self._view([word_grams(t) for t in tokens], self.word_vocabulary, self.word_idf)
        cd, ci, cv = self._view([char_grams(text) for text in texts], self.char_vocabulary, self.char_idf)
        extra = self._dense(texts, tokens)
        out = extra @ weights[:, n_words + n_chars :].T + self.intercepts[rows]
        for d, i, v in ((wd, wi, wv), (cd, ci + n_words, cv)):
            contributions = weights[:, i] * v  # rows x grams
            for row in range(weights.shape[0]):
                out[:, row] += np.bincount(d, weights=contributions[row], minlength=len(texts))
        return out

    def frame_scores(self, parts: list[str], tokens: list[list[str]]) -> np.ndarray:
        """The frame detector's score of each sentence (> 0: a frame)."""
        if self.frame is None:
            return np.zeros(len(parts))
        n_words = len(self.word_idf)
        out = np.full(len(parts), self.frame_intercept)
        wd, wi, wv = self._view([word_grams(t) for t in tokens], self.word_vocabulary, self.word_idf)
        cd, ci, cv = self._view([char_grams(text) for text in parts], self.char_vocabulary, self.char_idf)
        out += np.bincount(wd, weights=self.frame[wi] * wv, minlength=len(parts))
        out += np.bincount(cd, weights=self.frame[ci + n_words] * cv, minlength=len(parts))
        return out

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: a score per kind, per category, then anger. With a frame
        detector the category is read from the sentences that are not frames."""
        texts = [prepare(text) for text in texts]
        if self.frame is None:
            return self._linear(texts, [words(text) for text in texts], slice(None))
        split = [sentences(text) for text in texts]
        parts = [part for each in split for part in each]
        part_tokens = [words(part) for part in parts]
        # A text of one sentence is read whole whatever it is: only longer texts' sentences are scored.
        scored = np.flatnonzero(np.repeat([len(each) > 1 for each in split], [len(each) for each in split]))
        frame = np.zeros(len(parts), dtype=bool)
        if len(scored):
            frame[scored] = self.frame_scores([parts[i] for i in scored], [part_tokens[i] for i in scored]) > 0
        tokens, topic_texts, topic_tokens = topics_of(split, part_tokens, frame)
        out = self._linear(texts, tokens, slice(None))
        nk, nc = len(self.kinds), len(self.categories)
        # Only a text that lost a frame sentence is read again (the rest: read whole is the same).
        cut = [n for n, kept in enumerate(topic_tokens) if len(kept) < len(tokens[n])]
        if cut:
            out[cut, nk : nk + nc] = self._linear([topic_texts[n] for n in cut], [topic_tokens[n] for n in cut],
                                                  slice(nk, nk + nc))
        return out

    def read(self, texts: Sequence[str]) -> list[Reading]:
        nk, nc = len(self.kinds), len(self.categories)
        out: list[Reading] = []
        if not texts:
            return out
        for row in self.scores(texts):
            kind_p, category_p = _softmax(row[:nk]), _softmax(row[nk : nk + nc])
            k, c = int(kind_p.argmax()), int(category_p.argmax())
            kind = self.kinds[k]
            anger = min(max(float(row[-1]), 0.0), 4.0)
            # Anger belongs to complaints: a calm question or an advert rates 0 whatever its words.
            if kind != "complaint":
                anger = 0.0 if kind == "noise" else min(anger, 1.0)
            # An advert or an automatic reply is about nothing the shop sells.
            category = "other" if kind == "noise" and "other" in self.categories else self.categories[c]
            out.append(Reading(kind, category, anger, float(kind_p[k]), float(category_p[c])))
        return out


def topics_of(split: list[list[str]], part_tokens: list[list[str]], frame: np.ndarray
              ) -> tuple[list[list[str]], list[str], list[list[str]]]:
    """Per text (`split`: its sentences; `part_tokens`, `frame`: each sentence's words and
    whether it is a frame, all texts' sentences in a row): its words, and the text and words
    of its sentences that are not frames (all of them when every one is)."""
    tokens: list[list[str]] = []
    topic_texts: list[str] = []
    topic_tokens: list[list[str]] = []
    at = 0
    for each in split:
        span = range(at, at + len(each))
        at += len(each)
        keep = [i for i in span if not frame[i]] or list(span)
        tokens.append([word for i in span for word in part_tokens[i]])
        topic_texts.append("".join(each[i - span.start] for i in keep))
        topic_tokens.append([word for i in keep for word in part_tokens[i]])
    return tokens, topic_texts, topic_tokens


def train(texts: Sequence[str], kinds: Sequence[str], categories: Sequence[str], angers: Sequence[float],
          weights: Sequence[float] | None = None, shop_labels: int = 0,
          category_examples: Sequence[tuple[str, str, float]] = (), use_vectors: bool = True,
          frame_examples: Sequence[tuple[str, bool]] = (), frame_c: float = FRAME_C,
          category_c: float = CATEGORY_C) -> Reader:
    """Fit a reader (scikit-learn: LinearSVC for kind and category, ridge regression for
    anger). `weights` per message; `category_examples` are (text, category, weight) taught to
    the category model alone: the topic vocabulary, and a shop's corrected cases. With
    `use_vectors` the ja-ginza package's word vectors are features too, where it is installed.
    `frame_examples` (sentence, is a frame) train a frame detector: the category model then
    learns and reads each message without its frame sentences."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.svm import LinearSVC

    prepared = [prepare(text) for text in texts]
    extra = [prepare(text) for text, _category, _weight in category_examples]
    if frame_examples:  # read sentence by sentence, as `Reader.scores` does
        split = [sentences(text) for text in prepared + extra]
        part_tokens = [words(part) for each in split for part in each]
        unigrams, _texts, _tokens = topics_of(split, part_tokens, np.zeros(len(part_tokens), dtype=bool))
    else:
        unigrams = [words(text) for text in prepared + extra]
    word_vectorizer = TfidfVectorizer(analyzer=_same, sublinear_tf=True, dtype=np.float32)
    char_vectorizer = TfidfVectorizer(analyzer=char_grams, min_df=2, sublinear_tf=True, max_features=60_000,
                                      dtype=np.float32)
    word_x = word_vectorizer.fit_transform([word_grams(t) for t in unigrams])
    word_vocabulary = {str(k): int(v) for k, v in word_vectorizer.vocabulary_.items()}
    word_idf = word_vectorizer.idf_.astype(np.float64)
    all_categories = list(categories) + [category for _text, category, _weight in category_examples]
    vectors = package_vectors() if use_vectors else None
    topics = topic_centroids(vectors, sorted(set(all_categories))) if vectors is not None else np.zeros((0, 0))
    dense = np.asarray([intensity(text) for text in prepared + extra], dtype=np.float64)
    if vectors is not None:
        dense = np.hstack([dense, vectors.features(unigrams, word_vocabulary, word_idf, topics)])
    everything = _stack(word_x, char_vectorizer.fit_transform(prepared + extra), dense)
    frame_row: np.ndarray | None = None
    frame_intercept = 0.0
    category_x = everything
    if frame_examples:
        sample = [prepare(text) for text, _is_frame in frame_examples]
        sample_grams = [word_grams(words(text)) for text in sample]
        detector = LinearSVC(C=frame_c, class_weight="balanced")
        detector.fit(_stack(word_vectorizer.transform(sample_grams), char_vectorizer.transform(sample), np.zeros((len(sample), 0))),
                     [is_frame for _text, is_frame in frame_examples])
        frame_row = _rows(detector)[list(detector.classes_).index(True)]
        frame_intercept = float(_intercepts(detector)[list(detector.classes_).index(True)])
        parts = [part for each in split for part in each]
        score = (_stack(word_vectorizer.transform([word_grams(t) for t in part_tokens]), char_vectorizer.transform(parts),
                        np.zeros((len(parts), 0))) @ frame_row) + frame_intercept
        _unigrams, topic_texts, topic_tokens = topics_of(split, part_tokens, np.asarray(score).ravel() > 0)
        topic_dense = np.asarray([intensity(text) for text in topic_texts], dtype=np.float64)
        if vectors is not None:
            topic_dense = np.hstack([topic_dense, vectors.features(topic_tokens, word_vocabulary, word_idf, topics)])
        category_x = _stack(word_vectorizer.transform([word_grams(t) for t in topic_tokens]),
                            char_vectorizer.transform(topic_texts), topic_dense)
    # The nearness to each category's topic words is for the category model alone (the
    # last columns): kind and anger are fitted without them and weigh them 0.
    own = everything.shape[1] - len(topics)
    x = everything[: len(prepared), :own]
    scale = np.ones(own)
    if vectors is not None:  # scaled here, and the fitted weights by as much: the columns stay as read
        scale[own - vectors.table.shape[1] : own] = KIND_VECTOR_WEIGHT
        x = _scaled(x, scale)
    w = np.asarray(weights, dtype=float) if weights is not None else np.ones(len(prepared))
    kind_model = LinearSVC(C=0.5, class_weight="balanced")
    kind_model.fit(x, list(kinds), sample_weight=w)
    category_model = LinearSVC(C=category_c)
    category_model.fit(category_x, all_categories,
                       sample_weight=np.concatenate([w, [weight for _text, _category, weight in category_examples]]))
    # Anger is learnt from complaints only: how angry a complaint is, not whether it is one.
    rows = np.asarray([kind == "complaint" for kind in kinds])
    anger_model = Ridge(alpha=1.0)
    anger_model.fit(x[rows], np.asarray(angers, dtype=float)[rows], sample_weight=w[rows])
    pad = np.zeros((1, len(topics)))
    return Reader(
        word_vocabulary=word_vocabulary, word_idf=word_idf,
        char_vocabulary={str(k): int(v) for k, v in char_vectorizer.vocabulary_.items()},
        char_idf=char_vectorizer.idf_.astype(np.float64),
        kinds=[str(c) for c in kind_model.classes_], categories=[str(c) for c in category_model.classes_],
        weights=np.vstack([
            np.hstack([_rows(kind_model) * scale, pad.repeat(len(_rows(kind_model)), axis=0)]), _rows(category_model),
            np.hstack([anger_model.coef_.reshape(1, -1) * scale, pad]),
        ]),
        intercepts=np.concatenate([_intercepts(kind_model), _intercepts(category_model), [anger_model.intercept_]]),
        trained_on=len(prepared), shop_labels=shop_labels, vectors=vectors, topics=topics,
        frame=frame_row, frame_intercept=frame_intercept,
    )


def _rows(model: Any) -> np.ndarray:
    coef = np.asarray(model.coef_, dtype=np.float64)
    return coef if len(model.classes_) > 2 else np.vstack([-coef, coef])


def _intercepts(model: Any) -> np.ndarray:
    b = np.asarray(model.intercept_, dtype=np.float64)
    return b if len(model.classes_) > 2 else np.concatenate([-b, b])


def _same(tokens: list[str]) -> list[str]:
    return tokens


def _scaled(matrix: Any, scale: np.ndarray) -> Any:
    from scipy import sparse

    return (matrix @ sparse.diags(scale)).tocsr()


def _stack(words: Any, chars: Any, dense: np.ndarray) -> Any:
    from scipy import sparse

    return sparse.hstack([words, chars, sparse.csr_matrix(dense.astype(np.float32))]).tocsr()


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Margins as shares that sum to 1 (a confidence to compare, not a calibrated probability)."""
    e = np.exp(3.0 * (scores - scores.max()))
    return e / e.sum()  # type: ignore[no-any-return]


# --- The model file -----------------------------------------------------------------------------
# A pickle in the data folder (mode 0600 in a 0700 folder, written by this program only): a
# model is a fitted scikit-learn object, and pickle is how scikit-learn saves one. It is never
# taken from anywhere else.

def model_file(data_dir: Path) -> Path:
    return data_dir / "triage" / "reader.pickle"


def data_dir_from_env() -> Path:
    """The data folder as settings.py finds it, for `madoguchi classify` before Django loads."""
    from madoguchi.env import env_str

    return Path(env_str("MADOGUCHI_DATA_DIR", "madoguchi-data")).resolve()


def save(reader: Reader, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")  # two processes may write it at once
    with open(partial, "wb") as out:
        pickle.dump(reader, out, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)  # readers never see half a file


def load(path: Path) -> Reader | None:
    try:
        with open(path, "rb") as f:
            reader = pickle.load(f)  # noqa: S301 - our own file in the private data folder
    except (FileNotFoundError, EOFError, pickle.UnpicklingError, AttributeError, ModuleNotFoundError):
        return None
    if not isinstance(reader, Reader) or reader.format != FORMAT:
        return None
    return reader


def starter(examples: Iterable[Any] | None = None, split: str = "train", **knobs: Any) -> Reader:
    """The starter model, from the project's own training set (`split`: the corpus split its
    frame sentences come from, `fitK` for a validation fold; `knobs`: `train`'s keywords)."""
    from madoguchi.triage import corpus

    data = list(examples if examples is not None else corpus.training_set())
    return train([e.text for e in data], [e.kind for e in data], [e.category for e in data], [e.anger for e in data],
                 weights=[e.weight for e in data], category_examples=topic_examples(),
                 frame_examples=corpus.frame_examples(split), **knobs)


def topic_examples() -> list[tuple[str, str, float]]:
    """The topic vocabulary as (text, category, weight) for the category model. A noun made
    from a verb's stem (割れ, ほつれ, 剥がれ) is taught as its verb too (割れる, ほつれる): in a
    sentence (割れていました) Sudachi reads the verb, whose normalised form the noun never meets."""
    from madoguchi.triage import corpus

    out = []
    with pool.borrow() as tok:
        for word, category in corpus.topic_words():
            out.append((word, category, LEXICON_WEIGHT))
            if len(word) < 2 or not _KANA_END.match(word[-1]):
                continue
            verb = tok.tokenize(word + "る")
            if len(verb) == 1 and verb[0].part_of_speech()[0] == "動詞":
                out.append((verb[0].normalized_form(), category, LEXICON_WEIGHT))
    return out


_KANA_END = re.compile(r"[ぁ-んァ-ヶ]")
