"""Which of the question's terms each sentence holds: computed once per chunk and question, shared by every stage.

Re-ranking, the answer sentence and answerability all ask the same things of a
sentence (which question terms, where, next to which): ``Matcher`` answers them
from the stored analyses with one vectorised pass per chunk and keeps the result
for the rest of the question.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .analysis import Analyses
from .question import Question


class SentenceMatch(NamedTuple):
    """One sentence against the question (a tuple: thousands are made per question)."""

    index: int  # the sentence's index in the analyses
    present: frozenset[int]  # the question's term ids the sentence holds
    first: int  # position of the first and last matched term among the sentence's terms (-1: none)
    last: int
    length: int  # number of terms
    pairs: frozenset[tuple[int, int]]  # the question's adjacent term pairs found side by side

    @property
    def closeness(self) -> float:
        """1 when the matched terms stand together, towards 0 as they spread over the sentence (0 below two)."""
        if len(self.present) < 2 or self.length == 0:
            return 0.0
        return 1.0 - (self.last - self.first + 1) / self.length


_NOTHING: frozenset = frozenset()


class Matcher:
    """Sentence matches of one question, per chunk, computed on first use (``prepare`` does many chunks at once)."""

    def __init__(self, q: Question, analyses: Analyses) -> None:
        self.q = q
        self.analyses = analyses
        self.ids = np.unique(q.ids[q.ids >= 0])
        self.pairs = frozenset((a, b) for a, b, _ in q.pairs if a >= 0 and b >= 0)
        self._chunks: dict[int, list[SentenceMatch]] = {}

    def prepare(self, rows: list[int]) -> None:
        """Match every sentence of ``rows`` in one vectorised pass (the re-ranker's 30 candidates at once)."""
        a = self.analyses
        rows = [r for r in dict.fromkeys(rows) if r not in self._chunks]
        if not rows:
            return
        first_s = a.chunk_ptr[rows]
        last_s = a.chunk_ptr[np.asarray(rows) + 1]
        found: dict[int, list[tuple[int, int]]] = {}
        if self.ids.size:
            lo, hi = a.term_ptr[first_s], a.term_ptr[last_s]
            sizes = hi - lo
            positions = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
            hits = positions[np.isin(a.terms[positions], self.ids)]
            owners = np.searchsorted(a.term_ptr, hits, side="right") - 1
            for position, sentence in zip(hits.tolist(), owners.tolist(), strict=True):
                found.setdefault(sentence, []).append(position)
        terms, ptr, pairs = a.terms, a.term_ptr, self.pairs
        for row, first, last in zip(rows, first_s.tolist(), last_s.tolist(), strict=True):
            out = []
            for n in range(first, last):
                start, end = int(ptr[n]), int(ptr[n + 1])
                positions = found.get(n)
                if not positions:
                    out.append(SentenceMatch(n, _NOTHING, -1, -1, end - start, _NOTHING))
                    continue
                values = [int(terms[p]) for p in positions]
                matched = (
                    frozenset(
                        (v, int(terms[p + 1]))
                        for p, v in zip(positions, values, strict=True)
                        if p + 1 < end and (v, int(terms[p + 1])) in pairs
                    )
                    if pairs
                    else _NOTHING
                )
                out.append(SentenceMatch(n, frozenset(values), positions[0] - start, positions[-1] - start, end - start, matched))
            self._chunks[row] = out

    def chunk(self, row: int) -> list[SentenceMatch]:
        """The matches of every sentence of chunk ``row``, in order."""
        if row not in self._chunks:
            self.prepare([row])
        return self._chunks[row]

    def chunk_present(self, row: int) -> frozenset[int]:
        """The question's term ids anywhere in chunk ``row``."""
        return frozenset().union(*(m.present for m in self.chunk(row)))

    def counts_in(self, row: int, ids: np.ndarray) -> np.ndarray:
        """Per sentence of chunk ``row``: how many of its terms are in ``ids`` (every occurrence counts)."""
        a = self.analyses
        first_s, last_s = int(a.chunk_ptr[row]), int(a.chunk_ptr[row + 1])
        bounds = a.term_ptr[first_s : last_s + 1]
        if last_s == first_s:
            return np.zeros(0, dtype=np.int64)
        lo = int(bounds[0])
        inside = np.isin(a.terms[lo : int(bounds[-1])], ids)
        sentence_of = np.repeat(np.arange(last_s - first_s), np.diff(bounds))
        return np.bincount(sentence_of[inside], minlength=last_s - first_s)
