"""Which of the question's terms each sentence holds, as arrays: computed in one pass over many chunks.

Re-ranking, the answer sentence and answerability all ask the same things of a
sentence (which question terms, where, next to which). ``Matcher.match`` answers
them for every sentence of a list of chunks at once, as boolean matrices over
the question's terms, so each stage scores a hundred sentences with a few numpy
operations instead of a Python loop per sentence (the loop was most of the
query path's time besides the encoder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.question import Question
from index.storage.analyses import offsets, ranges
from index.storage.lookup import SentenceSource

ID_BASE = 1 << 31  # term ids are int32: ``a * ID_BASE + b`` is one int64 key per pair of ids


@dataclass(frozen=True)
class Matches:
    """The question against every sentence of some chunks, in order: one row per sentence.

    Columns of ``present`` are ``Matcher.ids``, columns of ``pairs`` are ``Matcher.pair_ids``.
    """

    ptr: np.ndarray  # int64 [chunks + 1]: the i-th chunk's sentences are rows ptr[i]:ptr[i + 1]
    sentence: np.ndarray  # int64 [rows]: the sentence's index in the analyses
    present: np.ndarray  # bool [rows, terms]: the sentence holds the term
    first: np.ndarray  # int64 [rows]: position of the first and last matched term among its terms (-1: none)
    last: np.ndarray
    length: np.ndarray  # int64 [rows]: number of terms
    pairs: np.ndarray  # bool [rows, pairs]: the question's adjacent pair stands side by side in it

    @property
    def counts(self) -> np.ndarray:
        """Sentences per chunk."""
        return np.diff(self.ptr)

    @property
    def chunk_of(self) -> np.ndarray:
        """Per row, which chunk (0-based position in the list matched) it belongs to."""
        return np.repeat(np.arange(self.ptr.size - 1), self.counts)

    def per_chunk(self, values: np.ndarray, reduce: np.ufunc | None = None) -> np.ndarray:
        """``values`` (rows, ...) reduced over each chunk's rows by ``reduce`` (default: OR for booleans,
        else sum); zero for a chunk without sentences."""
        out = np.zeros((self.ptr.size - 1, *values.shape[1:]), dtype=values.dtype)
        full = self.counts > 0
        if full.any():
            reduce = reduce or (np.logical_or if values.dtype == bool else np.add)
            out[full] = reduce.reduceat(values, self.ptr[:-1][full], axis=0)
        return out

    def neighbours(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's previous and next row's ``values`` within its chunk (zeros at a chunk's edges)."""
        prev = np.zeros_like(values)
        nxt = np.zeros_like(values)
        prev[1:] = values[:-1]
        nxt[:-1] = values[1:]
        starts, ends = self.block_edges()
        prev[starts] = 0
        nxt[ends] = 0
        return prev, nxt

    def block_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks of the rows that start and end their chunk."""
        starts = np.zeros(self.sentence.size, dtype=bool)
        ends = np.zeros(self.sentence.size, dtype=bool)
        full = self.counts > 0
        starts[self.ptr[:-1][full]] = True
        ends[self.ptr[1:][full] - 1] = True
        return starts, ends

    def select(self, chunks: np.ndarray) -> Matches:
        """The matches of some of these chunks (positions in the list matched), in the order given."""
        counts = self.counts[chunks]
        rows = ranges(self.ptr[chunks], counts)
        return Matches(offsets(counts), *(values[rows] for values in self._rows()))

    def join(self, other: Matches) -> Matches:
        """These chunks' matches followed by ``other``'s."""
        return Matches(
            np.concatenate([self.ptr, other.ptr[1:] + self.ptr[-1]]),
            *(np.concatenate([a, b]) for a, b in zip(self._rows(), other._rows(), strict=True)),
        )

    def _rows(self) -> tuple[np.ndarray, ...]:
        """The per-row fields, in the order of the constructor (after ``ptr``)."""
        return self.sentence, self.present, self.first, self.last, self.length, self.pairs

    def closeness(self) -> np.ndarray:
        """1 when the matched terms stand together, towards 0 as they spread over the sentence (0 below two)."""
        held = self.present.sum(axis=1)
        spread = (self.last - self.first + 1) / np.maximum(self.length, 1)
        return np.where((held >= 2) & (self.length > 0), 1.0 - spread, 0.0)


class Matcher:
    """One question's term ids, weights and word pairs, and ``match`` to read them off stored sentences."""

    def __init__(self, q: Question, analyses: SentenceSource) -> None:
        self.q = q
        self.analyses = analyses
        known = q.ids >= 0
        self.ids = q.ids[known].astype(np.int64)  # the terms the corpus knows, in question order
        self.idf = q.idf[known].astype(np.float64)
        self.unknown_idf = float(q.idf[~known].sum())  # unknown terms weigh in the totals, never match
        self._order = np.argsort(self.ids, kind="stable")
        self._sorted = self.ids[self._order]
        pairs = {(a, b): w for a, b, w in q.pairs if a >= 0 and b >= 0}
        self.pair_ids = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)  # known pairs: what sentences can hold
        self.pair_weight = np.asarray(list(pairs.values()), dtype=np.float64)
        self.pair_total = sum(w for _, _, w in q.pairs) or 1.0  # unknown pairs count in the total
        codes = self.pair_ids[:, 0] * ID_BASE + self.pair_ids[:, 1]
        self._pair_order = np.argsort(codes, kind="stable")
        self._pair_sorted = codes[self._pair_order]
        self.years = np.asarray([t in q.years for t, i in zip(q.unique, q.ids, strict=True) if i >= 0], dtype=bool)
        self._batch: tuple[Matches, dict[int, int]] | None = None  # every chunk matched so far, and where each is in it
        self._titles: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # article -> (title term ids, ``holds`` of them)

    def reweighted(self, q: Question) -> Matcher:
        """A matcher for the same terms under other weights (``Question.carried_weighing``), sharing what was matched."""
        if q.ids.shape != self.q.ids.shape or (q.ids != self.q.ids).any():
            raise ValueError("a reweighted question must have the same terms")
        other = Matcher(q, self.analyses)
        other._batch, other._titles = self._batch, self._titles
        return other

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Mask over the question's known terms (``ids``): which are among ``ids`` (a title's terms, say)."""
        if not ids.size or not self.ids.size:
            return np.zeros(self.ids.size, dtype=bool)
        ids = np.sort(ids)
        return ids[np.minimum(np.searchsorted(ids, self.ids), ids.size - 1)] == self.ids

    def titles(self, articles: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
        """Each article's title term ids (none for -1), and which question terms each title holds (articles, terms).

        Remembered per article: the answer and answerability stages ask about the same hits.
        """
        for article in articles:
            if article not in self._titles:
                ids = self.analyses.title_ids(article) if article >= 0 else np.zeros(0, dtype=np.int32)
                self._titles[article] = (ids, self.holds(ids))
        found = [self._titles[article] for article in articles]
        return [ids for ids, _ in found], np.asarray([held for _, held in found], dtype=bool).reshape(len(found), -1)

    def match(self, rows: list[int] | np.ndarray) -> Matches:
        """Every sentence of chunks ``rows`` (in that order, repeats allowed) against the question.

        The stages ask for overlapping chunks (the re-ranker's top 30, then the hits'
        passages, mostly among them): chunks matched before are taken from the batch, and only
        the others are matched and join it.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self._batch is None:
            matches = self._match(rows)
            self._batch = (matches, {r: i for i, r in enumerate(rows.tolist())})
            return matches
        batch, where = self._batch
        missing = list(dict.fromkeys(r for r in rows.tolist() if r not in where))
        if missing:  # only the chunks not matched yet are matched now, and join the batch
            before = batch.ptr.size - 1  # chunks in the batch (a row asked twice is in it twice)
            batch = batch.join(self._match(np.asarray(missing, dtype=np.int64)))
            where.update({r: before + i for i, r in enumerate(missing)})
            self._batch = (batch, where)
        return batch.select(np.asarray([where[r] for r in rows.tolist()], dtype=np.int64))

    def _match(self, rows: np.ndarray) -> Matches:
        a = self.analyses
        first_s, count = a.chunk_sentences(rows)
        ptr = offsets(count)
        sentence = ranges(first_s, count)
        lo, hi = a.term_ptr[sentence], a.term_ptr[sentence + 1]
        length = hi - lo
        n, m, p = sentence.size, self.ids.size, self.pair_ids.shape[0]
        present = np.zeros((n, m), dtype=bool)
        pairs = np.zeros((n, p), dtype=bool)
        first = np.full(n, -1, dtype=np.int64)
        last = np.full(n, -1, dtype=np.int64)
        if m and n:
            positions = ranges(lo, length)
            values = a.terms[positions].astype(np.int64)
            slot = np.minimum(np.searchsorted(self._sorted, values), m - 1)
            hit = self._sorted[slot] == values
            where, owner = positions[hit], np.repeat(np.arange(n), length)[hit]
            present[owner, self._order[slot[hit]]] = True
            if where.size:  # hits are in position order, so each sentence's first and last are its runs' ends
                change = np.ones(owner.size, dtype=bool)
                np.not_equal(owner[1:], owner[:-1], out=change[1:])
                starts = np.flatnonzero(change)
                ends = np.append(starts[1:], where.size) - 1
                first[owner[starts]] = where[starts] - lo[owner[starts]]
                last[owner[starts]] = where[ends] - lo[owner[starts]]
            if p and where.size:
                inside = where + 1 < hi[owner]
                nxt = a.terms[np.minimum(where + 1, a.terms.size - 1)]
                codes = values[hit] * ID_BASE + nxt
                pslot = np.minimum(np.searchsorted(self._pair_sorted, codes), p - 1)
                found = inside & (self._pair_sorted[pslot] == codes)
                pairs[owner[found], self._pair_order[pslot[found]]] = True
        return Matches(ptr, sentence, present, first, last, length, pairs)


# Question terms that are also in the article's title name its topic, which most of
# its sentences share; the answering sentence is the one with the *other* terms.
TOPIC_WEIGHT = 0.3


def topic_weights(matcher: Matcher, in_title: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The question's term weights with the terms a title holds (``in_title``: a mask over ``Matcher.ids``, or one
    row per title) at ``TOPIC_WEIGHT``, and their totals (the unknown terms' weight included; never 0)."""
    weight = matcher.idf * np.where(in_title, TOPIC_WEIGHT, 1.0)
    total = np.asarray(weight.sum(axis=-1) + matcher.unknown_idf)
    return weight, np.where(total == 0, 1.0, total)
