"""Names in a Latin-script question found in an Arabic corpus's vocabulary, by consonant skeleton.

An English question shares no words with Arabic articles, but its names are the
same names: "Hyundai" and هيونداي have one skeleton (``text.transliterate``). The
build's vocabulary (BM25 stems) is indexed by skeleton once, on the first question
that needs it; each capitalised content word of the question then brings the
corpus terms spelled like it, which the lexical side searches beside the dense one.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from index.storage.lexical import LexicalIndex
from index.text.followup import is_content, words
from index.text.transliterate import arabic_form, arabic_skeleton, latin_form, latin_skeleton, similarity

MIN_SKELETON = 3  # two consonants match too many words ("rd": رد، رود، ورد...)
MAX_TERMS_PER_NAME = 2  # the likeliest spellings (nearest in vowels too, then the more frequent)
MIN_SIMILARITY = 0.6  # of the name's and the term's full forms (``transliterate.similarity``)
_ARTICLES = frozenset({"al", "el"})  # "Al-Qassim": the article is no name of its own
_PROCLITICS = "blkf"  # ب ل ك ف: Snowball strips them from the front of a word (بلاتر -> لاتر)


class NameIndex:
    """Skeleton -> the build's terms with that skeleton, the most frequent first. Built on first use, thread-safe."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self._lexical = lexical
        self._by_skeleton: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def _table(self) -> dict[str, list[str]]:
        with self._lock:
            if self._by_skeleton is None:
                vocab = self._lexical.vocab
                terms = [t for t in vocab if t[:1] and "\u0600" <= t[0] <= "\u06ff"]
                df = self._lexical.document_frequency(np.asarray([vocab[t] for t in terms], dtype=np.int64))
                table: dict[str, list[tuple[int, str]]] = defaultdict(list)
                for term, count in zip(terms, df.tolist(), strict=True):
                    skeleton = arabic_skeleton(term)
                    if len(skeleton) >= MIN_SKELETON - 1:
                        table[skeleton].append((count, term))
                self._by_skeleton = {k: [t for _, t in sorted(v, key=lambda x: (-x[0], x[1]))] for k, v in table.items()}
            return self._by_skeleton

    def terms(self, name: str) -> list[str]:
        """The corpus terms spelled like the Latin ``name``: the same skeleton, the nearest full forms (at most
        ``MAX_TERMS_PER_NAME``, each at least ``MIN_SIMILARITY`` alike; among equals the more frequent)."""
        skeleton = latin_skeleton(name)
        if len(skeleton) < MIN_SKELETON:
            return []
        table = self._table()
        found = [(term, 0) for term in table.get(skeleton, [])]
        if skeleton[0] in _PROCLITICS and len(skeleton) > MIN_SKELETON:  # the stem may have lost a leading ب/ل/ك/ف
            found += [(term, 1) for term in table.get(skeleton[1:], [])]
        form = latin_form(name)
        scored = []
        for rank, (term, dropped) in enumerate(found):
            score = similarity(form[dropped:] if dropped else form, arabic_form(term))
            if score >= MIN_SIMILARITY:
                scored.append((-score, rank, term))
        return [term for _, _, term in sorted(scored)[:MAX_TERMS_PER_NAME]]


def latin_names(question: str) -> list[str]:
    """The capitalised content words of a Latin-script question: its names ("Hyundai", "Al-Qassim")."""
    out = []
    for word in words(question):
        if word[:1].isupper() and word[:1].isascii() and is_content(word) and word.lower() not in _ARTICLES:
            out.append(word)
    return out


def name_terms(question: str, names: NameIndex, exclude: Sequence[str] = ()) -> list[str]:
    """The corpus terms of every name in ``question`` (none already among ``exclude``)."""
    seen = set(exclude)
    out = []
    for name in latin_names(question):
        for term in names.terms(name):
            if term not in seen:
                seen.add(term)
                out.append(term)
    return out
