"""Japanese text for the search index: width normalisation and SudachiPy tokens.

Both the indexed text and the query go through the same analysis, so whatever normalisation
happens here (NFKC width folding, Sudachi's forms) is the same on both sides. Each content
word is indexed in all its forms: as written (割れ), in its dictionary form (割れる) and in
Sudachi's normalised spelling (取り換え→取り替え); a query word then needs any one of its
forms, so 「割れ」「割れる」「割れた」 all find 「割れていました」. Particles, auxiliaries,
symbols and spaces are dropped, and so are the helper verbs after て (〜ていません, 〜てください):
they would make the index much larger and match almost every message.

Numbers agents type with separators (070-1743-1954, KM-100123, ＫＭ－１００１２３) are also
indexed and queried joined up (07017431954, km100123), the way identities are stored.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import unicodedata
from collections.abc import Iterator

from sudachipy import dictionary, tokenizer

log = logging.getLogger(__name__)
_SPLIT = tokenizer.Tokenizer.SplitMode
SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
# Sudachi gives up on very long input; split it into sentences of at most this many chars.
MAX_CHUNK = 4000
# Keep only word characters in a token, so SQLite's unicode61 and PostgreSQL's parser see
# one word where Sudachi saw one (ORD-2026-0001 → ord 2026 0001).
_NON_WORD = re.compile(r"[^\w]+")
# An order, tracking or phone number as typed, after NFKC and case folding: letters and digits
# joined by hyphens of any kind (ー too: a common slip of the Japanese keyboard), or letters and
# digits run together (abc123). Indexed and queried with the separators taken out.
_SEPARATORS = "\\-‐‑‒–—―−ｰー_"
_CODE = re.compile(rf"\+?[0-9a-z]+(?:[{_SEPARATORS}]+[0-9a-z]+)*")
_CODE_SEPARATOR = re.compile(rf"[{_SEPARATORS}+]")
_CODE_JOIN = re.compile(rf"[{_SEPARATORS}]")
# A Japanese phone number with spaces or brackets too (+81 70 1743 1954, (070)1743-1954).
_PHONE = re.compile(rf"(?<![0-9])(?:\+|0|\(0)[0-9{_SEPARATORS} ()]{{8,}}[0-9](?![0-9])")

# --- Tokenizers shared by all threads -----------------------------------------------------------
# Loading Sudachi's dictionary costs 30-300 ms; a tokenizer made from a loaded dictionary costs
# well under a millisecond but must not be used by two threads at
# once (SudachiPy: share the Dictionary, one Tokenizer per concurrent user). The ASGI server runs
# each sync view in whatever thread is free, often a new one, so a per-thread cache rebuilt the
# dictionary in many requests. Here the process loads the dictionary once and lends at most
# POOL_SIZE tokenizers; a thread that finds none free waits for one (tokenising takes ~1 ms).
POOL_SIZE = 4


class TokenizerPool:
    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self.built = 0  # tokenizers made by this process (never more than size)
        self._idle: queue.LifoQueue[tokenizer.Tokenizer] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._dictionary: dictionary.Dictionary | None = None

    def _build(self) -> tokenizer.Tokenizer | None:
        with self._lock:
            if self.built >= self.size:
                return None
            if self._dictionary is None:
                self._dictionary = dictionary.Dictionary(dict="core")
            tok = self._dictionary.tokenizer()
            self.built += 1
            log.info("Sudachi tokenizer built (%d of at most %d in this process)", self.built, self.size)
            return tok

    @contextlib.contextmanager
    def borrow(self) -> Iterator[tokenizer.Tokenizer]:
        try:
            tok = self._idle.get_nowait()
        except queue.Empty:
            tok = self._build() or self._idle.get()
        try:
            yield tok
        finally:
            self._idle.put(tok)


pool = TokenizerPool()


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


def _forms(morpheme: object, every: bool = True) -> list[str]:
    """The morpheme as written, in its dictionary form and in Sudachi's normalised spelling
    (only the last unless `every`)."""
    forms = [morpheme.surface(), morpheme.dictionary_form()] if every else []  # type: ignore[attr-defined]
    forms.append(morpheme.normalized_form())  # type: ignore[attr-defined]
    return list(dict.fromkeys(form.casefold() for form in forms))


def _words(text: str, *, parts: bool, every: bool = True) -> list[list[str]]:
    """Each content word of the text as the list of its forms (folded, word characters only).

    With parts, a compound is followed by its mode A parts (配送業者 → 配送業者, 配送, 業者), so
    a search for a part finds the whole. Helper verbs and adjectives after て/で (届いていません,
    届いてしまった) are left out like the auxiliaries: 「届いていません」 then needs 届く only."""
    words: list[list[str]] = []
    with pool.borrow() as tok:
        for chunk in _chunks(fold(text)):
            after_te = False
            for morpheme in tok.tokenize(chunk, _SPLIT.C):
                pos = morpheme.part_of_speech()
                helper = after_te and pos[1] == "非自立可能"
                after_te = morpheme.surface() in ("て", "で") and pos[0] in ("助詞", "助動詞")
                if pos[0] in SKIP_POS or helper:
                    continue
                found = [_forms(morpheme, every)]
                if parts:
                    split = morpheme.split(_SPLIT.A)
                    if len(split) > 1:
                        found.extend(_forms(part, every) for part in split)
                for forms in found:
                    pieces = [_word_parts(form) for form in forms]
                    if all(len(piece) == 1 for piece in pieces):
                        words.append(list(dict.fromkeys(piece[0] for piece in pieces)))
                    else:  # a form with symbols inside (c++): each of its word parts is a word
                        words.extend([part] for part in pieces[0])
    return [word for word in words if word]


def _is_code(span: str) -> bool:
    has_digit = any(c.isdigit() for c in span)
    has_letter = any(c.isalpha() for c in span)
    return has_digit and (has_letter or bool(_CODE_JOIN.search(span)))


def _phone(span: str) -> str:
    from madoguchi.customers.models import IdentityKind
    from madoguchi.customers.services import normalise_identity

    return normalise_identity(IdentityKind.PHONE, span).lstrip("+")


def codes(text: str) -> list[str]:
    """Order, tracking and phone numbers in the (folded) text, joined up: km-100123 → km100123,
    070-1743-1954 and +81 70-1743-1954 → 07017431954 (as customers' phone identities are kept)."""
    found = [_phone(m.group(0)) for m in _PHONE.finditer(text)]
    found += [_CODE_SEPARATOR.sub("", m.group(0)) for m in _CODE.finditer(text) if _is_code(m.group(0))]
    return list(dict.fromkeys(code for code in found if code))


def tokens(text: str, *, parts: bool = True, every: bool = True) -> list[str]:
    """The index tokens of a text, in order: every form of every content word (and of its
    parts), then its numbers joined up. With every=False only the normalised form of each
    word: one token per word, as the similarity scores want (a complaint's inflected forms
    are the rarest tokens in the index, and would be picked as its telling words)."""
    out = [form for word in _words(text, parts=parts, every=every) for form in word]
    return out + codes(fold(text))


def index_tokens(*texts: str) -> str:
    return " ".join(token for text in texts for token in tokens(text))


QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')


def query_words(text: str) -> list[list[str]]:
    """What a query text must match: one list per word, any of whose tokens will do.

    Numbers typed with separators are one word each, joined up as the index keeps them
    (070-1743-1954 → 07017431954, ＫＭ－１００１２３ → km100123); the rest is analysed like the
    indexed text, without compound parts (the whole compound is always in the index beside its
    parts, and ANDing the parts too would only add correlated terms that mislead PostgreSQL's
    planner)."""
    text = fold(text)
    words: list[list[str]] = []
    words += [[_phone(match.group(0))] for match in _PHONE.finditer(text)]
    text = _PHONE.sub(" ", text)
    words += [[_CODE_SEPARATOR.sub("", m.group(0))] for m in _CODE.finditer(text) if _is_code(m.group(0))]
    text = _CODE.sub(lambda m: " " if _is_code(m.group(0)) else m.group(0), text)
    words += _words(text, parts=False)
    return [word for word in words if word]


def parse_query(query: str) -> tuple[list[list[str]], list[str]]:
    """Split a search box entry into words and exact phrases.

    Returns (words, phrases): every word must match, each through any one of its tokens (its
    forms: 割れ or 割れる); each phrase is a folded string that must occur verbatim. Quoted
    parts ("…", “…”, 「…」) are phrases; their words are also required so the index narrows first.
    """
    query = normalise(query)
    phrases = [fold(next(g for g in match.groups() if g)).strip() for match in QUOTED.finditer(query)]
    rest = QUOTED.sub(" ", query)
    words = query_words(rest)
    for phrase in phrases:
        words += query_words(phrase)
    return words, [phrase for phrase in phrases if phrase]


def plain_words(query: str) -> list[str]:
    """The words of the query as typed (folded), for highlighting and exact-match ranking."""
    query = normalise(query)
    words = [fold(next(g for g in m.groups() if g)) for m in QUOTED.finditer(query)]
    words += [fold(word) for word in QUOTED.sub(" ", query).split()]
    return [word for word in words if word]
