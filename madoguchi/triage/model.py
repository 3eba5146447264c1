"""The reader: what kind of message this is, what it is about, how angry its writer is.

scikit-learn over two views of the text, stacked side by side:
- words: every morpheme's normalised form from SudachiPy (the search index's shared tokenizer
  pool, `knowledge/text.py`), so 届かない, 届いていません and とどかない meet in 届く + ない; with word
  pairs, so 届か+ない is not 届く;
- characters: 1-3 character n-grams of the NFKC-folded text, which carry what a dictionary does
  not know: emoji (😡🙏), slang (マジで, 神対応, ぴえん), kana spellings and typos.
Kind and category are multinomial logistic regressions (probabilities come with them); anger
is a ridge regression on the same features, clipped to 0-4 (higher is angrier).

This module needs no Django: `madoguchi classify` loads a model file and reads standard input
with it, and the desk's worker does the same through `services.read_messages`.
"""

from __future__ import annotations

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

# A message is read up to here: a mail's first lines say what it is; quoted history and long
# signatures below only slow the reader down.
MAX_CHARS = 1500
LEXICON_WEIGHT = 5.0  # a topic word counts as much as five messages for the category model (2: 0.735/0.895, 5: 0.745/0.901, 12: 0.747/0.901 category accuracy, generated/hand-written evaluation)
FORMAT = 1  # bumped when a saved model can no longer be read by this code


def words(text: str) -> list[str]:
    """The normalised form of each morpheme (particles and auxiliaries kept: ない, たい, ません
    and か carry the meaning here), symbols kept as written (！, ？, emoji)."""
    with pool.borrow() as tok:
        forms = [morpheme.normalized_form() for morpheme in tok.tokenize(text)]
    return [form for form in forms if not form.isspace()]


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

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: a score per kind, per category, then anger."""
        texts = [prepare(text) for text in texts]
        n_words, n_chars = len(self.word_idf), len(self.char_idf)
        wd, wi, wv = self._view([word_grams(words(text)) for text in texts], self.word_vocabulary, self.word_idf)
        cd, ci, cv = self._view([char_grams(text) for text in texts], self.char_vocabulary, self.char_idf)
        extra = np.asarray([intensity(text) for text in texts], dtype=np.float64)
        out = extra @ self.weights[:, n_words + n_chars :].T + self.intercepts
        for d, i, v in ((wd, wi, wv), (cd, ci + n_words, cv)):
            contributions = self.weights[:, i] * v  # rows x grams
            for row in range(self.weights.shape[0]):
                out[:, row] += np.bincount(d, weights=contributions[row], minlength=len(texts))
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


def train(texts: Sequence[str], kinds: Sequence[str], categories: Sequence[str], angers: Sequence[float],
          weights: Sequence[float] | None = None, shop_labels: int = 0,
          category_examples: Sequence[tuple[str, str, float]] = ()) -> Reader:
    """Fit a reader (scikit-learn: LinearSVC for kind and category, ridge regression for
    anger). `weights` per message; `category_examples` are (text, category, weight) taught to
    the category model alone: the topic vocabulary, and a shop's corrected cases."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.svm import LinearSVC

    prepared = [prepare(text) for text in texts]
    extra = [prepare(text) for text, _category, _weight in category_examples]
    tokens = [word_grams(words(text)) for text in prepared + extra]
    word_vectorizer = TfidfVectorizer(analyzer=_same, sublinear_tf=True, dtype=np.float32)
    char_vectorizer = TfidfVectorizer(analyzer=char_grams, min_df=2, sublinear_tf=True, max_features=60_000,
                                      dtype=np.float32)
    everything = _stack(word_vectorizer.fit_transform(tokens), char_vectorizer.fit_transform(prepared + extra),
                        prepared + extra)
    x = everything[: len(prepared)]
    w = np.asarray(weights, dtype=float) if weights is not None else np.ones(len(prepared))
    kind_model = LinearSVC(C=0.5, class_weight="balanced")
    kind_model.fit(x, list(kinds), sample_weight=w)
    category_model = LinearSVC(C=0.5)
    category_model.fit(everything, list(categories) + [category for _text, category, _weight in category_examples],
                       sample_weight=np.concatenate([w, [weight for _text, _category, weight in category_examples]]))
    # Anger is learnt from complaints only: how angry a complaint is, not whether it is one.
    rows = np.asarray([kind == "complaint" for kind in kinds])
    anger_model = Ridge(alpha=1.0)
    anger_model.fit(x[rows], np.asarray(angers, dtype=float)[rows], sample_weight=w[rows])
    return Reader(
        word_vocabulary={str(k): int(v) for k, v in word_vectorizer.vocabulary_.items()},
        word_idf=word_vectorizer.idf_.astype(np.float64),
        char_vocabulary={str(k): int(v) for k, v in char_vectorizer.vocabulary_.items()},
        char_idf=char_vectorizer.idf_.astype(np.float64),
        kinds=[str(c) for c in kind_model.classes_], categories=[str(c) for c in category_model.classes_],
        weights=np.vstack([_rows(kind_model), _rows(category_model), anger_model.coef_.reshape(1, -1)]),
        intercepts=np.concatenate([_intercepts(kind_model), _intercepts(category_model), [anger_model.intercept_]]),
        trained_on=len(prepared), shop_labels=shop_labels,
    )


def _rows(model: Any) -> np.ndarray:
    coef = np.asarray(model.coef_, dtype=np.float64)
    return coef if len(model.classes_) > 2 else np.vstack([-coef, coef])


def _intercepts(model: Any) -> np.ndarray:
    b = np.asarray(model.intercept_, dtype=np.float64)
    return b if len(model.classes_) > 2 else np.concatenate([-b, b])


def _same(tokens: list[str]) -> list[str]:
    return tokens


def _stack(words: Any, chars: Any, texts: Sequence[str]) -> Any:
    from scipy import sparse

    extra = sparse.csr_matrix(np.asarray([intensity(text) for text in texts], dtype=np.float32))
    return sparse.hstack([words, chars, extra]).tocsr()


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


def starter(examples: Iterable[Any] | None = None) -> Reader:
    """The starter model, from the project's own training set."""
    from madoguchi.triage import corpus

    data = list(examples if examples is not None else corpus.training_set())
    return train([e.text for e in data], [e.kind for e in data], [e.category for e in data], [e.anger for e in data],
                 weights=[e.weight for e in data], category_examples=topic_examples())


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
