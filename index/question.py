"""A question, analysed once: its terms, what it asks for, its years, its script.

Every later stage (retrieval, answer sentence, answerability) reads this
instead of analysing the question again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from index.storage.lexical import LexicalIndex
from index.text.arabic import is_mostly_latin
from index.text.cues import YEAR_RE, question_type

# Words carried from the previous question (a follow-up, ``search.followup``) find the article, but the
# sentence answering the follow-up is the one with its *own* words: in the answer stages (the answer
# sentence, answerability) carried terms weigh this much. Chosen on the tuning dialogues
# (docs/benchmarks/follow-up-questions-tuning-dialogues.md).
CARRIED_WEIGHT = 0.05


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
    carried: np.ndarray | None = None  # of ``unique``: carried from the previous question (a follow-up)

    @property
    def followup(self) -> bool:
        return self.carried is not None and bool(self.carried.any())

    def carried_weighing(self, weight: float = 0.0) -> Question:
        """The question with its carried terms' IDF times ``weight`` (``CARRIED_WEIGHT`` by default)."""
        if not self.followup:
            return self
        weight = weight or CARRIED_WEIGHT
        return replace(self, idf=(self.idf * np.where(self.carried, weight, 1.0)).astype(self.idf.dtype))

    @property
    def total_idf(self) -> float:
        return float(self.idf.sum()) or 1.0


def analyse_question(
    text: str,
    lexical: LexicalIndex,
    corpus_latin: bool = False,
    carried: tuple[str, ...] = (),
    spelled: tuple[str, ...] = (),
) -> Question:
    """Analyse ``text`` against one build's vocabulary (term ids and IDF are per build).

    ``corpus_latin``: the corpus is mostly in Latin script (the build's manifest says).
    ``carried``: words carried from the previous question, searched with ``text`` (``Question.carried``
    marks their terms). ``spelled``: corpus terms that spell the question's names in the corpus's
    script (``search.names``), the question's own.
    """
    text = text.strip()
    own = tuple(lexical.query_terms(text))
    own += tuple(t for t in spelled if t not in own)
    terms = own + tuple(t for t in lexical.query_terms(" ".join(carried)) if t not in own) if carried else own
    unique = tuple(dict.fromkeys(terms))
    ids = lexical.term_ids(unique)
    idf = lexical.idf_of_ids(ids)
    own_terms = set(own)
    carried_mask = np.asarray([t not in own_terms for t in unique], dtype=bool)
    id_of = dict(zip(unique, ids.tolist(), strict=True))
    idf_of = dict(zip(unique, idf.tolist(), strict=True))
    pairs = tuple(dict.fromkeys((id_of[a], id_of[b], idf_of[a] + idf_of[b]) for a, b in itertools.pairwise(terms) if a != b))
    years = frozenset(YEAR_RE.findall(" ".join(terms)))  # "2023" also inside "2023م" / "2023هـ"
    latin = is_mostly_latin(text)
    searched = f"{text} {' '.join(carried)}" if carried else text
    kind = question_type(text)
    return Question(searched, terms, unique, ids, idf, pairs, kind, years, latin, latin != corpus_latin, carried_mask)
