"""A question, analysed once: its terms, what it asks for, its years, its script.

Every later stage (retrieval, answer sentence, answerability) reads this
instead of analysing the question again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from index.storage.lexical import LexicalIndex
from index.text.arabic import is_mostly_latin
from index.text.cues import YEAR_RE, question_type


@dataclass(frozen=True)
class Question:
    """The question's analysis. ``ids`` are ids in the build's BM25 vocabulary (-1: unknown to the corpus)."""

    text: str
    terms: tuple[str, ...]  # every analysed term in order (BM25 scores them all)
    unique: tuple[str, ...]  # each term once, in order (coverage counts each once)
    ids: np.ndarray  # of ``unique``
    idf: np.ndarray  # of ``unique``; terms unknown to the corpus weigh most
    pairs: tuple[tuple[int, int, float], ...]  # adjacent terms as (id, id, weight): names, set phrases
    kind: str  # cues.QUESTION_TYPES
    years: frozenset[str]
    latin: bool  # written mostly in Latin script (the reply speaks English)
    cross_language: bool  # in another script than the corpus: shares (almost) no words with it

    @property
    def total_idf(self) -> float:
        return float(self.idf.sum()) or 1.0


def analyse_question(text: str, lexical: LexicalIndex, corpus_latin: bool = False) -> Question:
    """Analyse ``text`` against one build's vocabulary (term ids and IDF are per build).

    ``corpus_latin``: the corpus is mostly in Latin script (the build's manifest says).
    """
    text = text.strip()
    terms = tuple(lexical.query_terms(text))
    unique = tuple(dict.fromkeys(terms))
    ids = lexical.term_ids(unique)
    idf = lexical.idf_of_ids(ids)
    id_of = dict(zip(unique, ids.tolist(), strict=True))
    idf_of = dict(zip(unique, idf.tolist(), strict=True))
    pairs = tuple(dict.fromkeys((id_of[a], id_of[b], idf_of[a] + idf_of[b]) for a, b in itertools.pairwise(terms) if a != b))
    years = frozenset(YEAR_RE.findall(" ".join(terms)))  # "2023" also inside "2023م" / "2023هـ"
    latin = is_mostly_latin(text)
    return Question(text, terms, unique, ids, idf, pairs, question_type(text), years, latin, latin != corpus_latin)
