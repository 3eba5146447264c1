"""Japanese text for the search index: width normalisation and SudachiPy tokens.

Both the indexed text and the query go through `index_tokens`, so whatever normalisation
happens here (NFKC width folding, Sudachi's normalised forms such as 届か→届く) is the
same on both sides. Particles, auxiliaries, symbols and spaces are dropped: they would make
the index much larger and match almost every message.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from sudachipy import dictionary, tokenizer

_local = threading.local()
_SPLIT = tokenizer.Tokenizer.SplitMode
SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
# Sudachi gives up on very long input; split it into sentences of at most this many chars.
MAX_CHUNK = 4000
# Keep only word characters in a token, so SQLite's unicode61 and PostgreSQL's parser see
# one word where Sudachi saw one (ORD-2026-0001 → ord 2026 0001).
_NON_WORD = re.compile(r"[^\w]+")


def _tokenizer() -> tokenizer.Tokenizer:
    # Sudachi tokenizers are not thread-safe; one per thread, built once.
    tok = getattr(_local, "tok", None)
    if tok is None:
        tok = dictionary.Dictionary(dict="core").tokenizer()
        _local.tok = tok
    return tok


def normalise(text: str) -> str:
    """NFKC folds full-width ＡＢＣ１２３ to ABC123 and half-width ﾍﾝﾋﾟﾝ to ヘンピン."""
    return unicodedata.normalize("NFKC", text or "")


def fold(text: str) -> str:
    """The form used for exact-substring checks: NFKC and case-folded."""
    return normalise(text).casefold()


def _chunks(text: str) -> list[str]:
    if len(text) <= MAX_CHUNK:
        return [text]
    return [text[i : i + MAX_CHUNK] for i in range(0, len(text), MAX_CHUNK)]


def _word_parts(form: str) -> list[str]:
    return [part for part in _NON_WORD.split(form.casefold()) if part]


def tokens(text: str, *, parts: bool = True) -> list[str]:
    """Content-word tokens in order: mode C words, each followed by its mode A parts when
    it is a compound (配送業者 → 配送業者 配送 業者), so a search for a part finds the whole.

    Queries use parts=False: the whole compound is always in the index beside its parts, and
    ANDing the parts too would only add correlated terms that mislead PostgreSQL's planner."""
    out: list[str] = []
    tok = _tokenizer()
    for chunk in _chunks(fold(text)):
        for morpheme in tok.tokenize(chunk, _SPLIT.C):
            if morpheme.part_of_speech()[0] in SKIP_POS:
                continue
            forms = [morpheme.normalized_form()]
            if parts:
                split = morpheme.split(_SPLIT.A)
                if len(split) > 1:
                    forms.extend(part.normalized_form() for part in split)
            for form in forms:
                out.extend(_word_parts(form))
    return out


def index_tokens(*texts: str) -> str:
    return " ".join(token for text in texts for token in tokens(text))


QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')


def parse_query(query: str) -> tuple[list[list[str]], list[str]]:
    """Split a search box entry into terms and exact phrases.

    Returns (terms, phrases): each term is the list of tokens a word of the query became
    (all must match), each phrase a folded string that must occur verbatim. Quoted parts
    ("…", “…”, 「…」) are phrases; their tokens are also required so the index narrows first.
    """
    query = normalise(query)
    phrases = [fold(next(g for g in match.groups() if g)).strip() for match in QUOTED.finditer(query)]
    rest = QUOTED.sub(" ", query)
    terms = [tokens(word, parts=False) for word in rest.split()]
    terms += [tokens(phrase, parts=False) for phrase in phrases]
    terms = [term for term in terms if term]
    return terms, [phrase for phrase in phrases if phrase]


def plain_words(query: str) -> list[str]:
    """The words of the query as typed (folded), for highlighting and exact-match ranking."""
    query = normalise(query)
    words = [fold(next(g for g in m.groups() if g)) for m in QUOTED.finditer(query)]
    words += [fold(word) for word in QUOTED.sub(" ", query).split()]
    return [word for word in words if word]
