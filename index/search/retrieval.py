"""First-stage retrieval: BM25 over every chunk and FAISS nearest neighbours, fused linearly.

Measured on Arabic QA (docs/benchmarks.md): BM25 with Arabic normalisation and
stemming is strong, the multilingual encoder alone weaker, reciprocal-rank
fusion worse than BM25 alone, and a linear mix of per-query min-max-normalised
scores with a small dense weight better than either. A question in another
script than the corpus (English about Arabic news) shares no words with it, so
there the dense side leads.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace

import numpy as np

from index.storage.lookup import IndexStore

MODES = ("hybrid", "lexical", "dense")


@dataclass
class Candidates:
    """Chunk rows best first, with their fused score, dense cosine (None in lexical mode), raw BM25 score,
    and each row's article index and that article's day (what the store returned with the row)."""

    rows: np.ndarray
    scores: np.ndarray
    cosines: np.ndarray | None
    bm25: np.ndarray
    articles: np.ndarray
    days: np.ndarray

    def reorder(self, order: np.ndarray) -> Candidates:
        return Candidates(
            self.rows[order],
            self.scores[order],
            None if self.cosines is None else self.cosines[order],
            self.bm25[order],
            self.articles[order],
            self.days[order],
        )

    def rescored(self, scores: np.ndarray) -> Candidates:
        """The same rows under new scores, best first (ties keep their order)."""
        return replace(self, scores=scores).reorder(np.argsort(-scores, kind="stable"))

    @functools.cached_property
    def day_of(self) -> dict[int, int]:
        """Article index -> its day, for the articles among the candidates (grouping, ties and recency ask it)."""
        return dict(zip(self.articles.tolist(), self.days.tolist(), strict=True))


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] within one query; a constant vector maps to 1 (if positive) or 0."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.full_like(scores, 1.0 if hi > 0 else 0.0)
    return (scores - lo) / (hi - lo)


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Linear fusion of per-query min-max-normalised scores over the same candidates."""
    return dense_weight * minmax(dense) + (1.0 - dense_weight) * minmax(lexical)


def retrieve(
    stored: IndexStore,
    terms: list[str] | tuple[str, ...],
    qvec: np.ndarray | None,
    mode: str,
    candidates: int,
    dense_weight: float,
    timings: dict[str, float] | None = None,
    since: int | None = None,
    recent_candidates: int = 0,
) -> Candidates:
    """Candidate chunks for a question: the union of both retrievers' top ``candidates``, best first.

    ``dense_weight`` applies when the question shares words with the corpus; with
    no BM25 match at all (another script, or only unknown words) the dense order stands.
    ``since`` (the first day of recent articles) adds each retriever's top ``recent_candidates`` among
    the recent passages (the dense side only where the store can search them apart; an approximate
    FAISS index cannot): in a long archive, many old passages can outscore the one recent article that
    answers, and a stage that prefers recent answers can only choose among the candidates.
    """
    timings = timings if timings is not None else {}
    c = min(candidates, stored.num_chunks)
    recent = recent_candidates if since is not None else 0
    look = stored.lookup(terms, None if mode == "lexical" else qvec, since)
    dense, lexical = mode != "lexical" and qvec is not None, mode != "dense"
    look.start(c, recent, dense, lexical)
    dense_rows, dense_top = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if dense:
        t = time.perf_counter()
        dense_rows, dense_top = look.dense(c, recent)
        timings["dense"] = time.perf_counter() - t
    lex_rows = np.zeros(0, dtype=np.int64)
    if lexical:
        t = time.perf_counter()
        lex_rows, _ = look.lexical(c, recent)  # its scores order the retriever's own top; ``bm25`` gives fusion's
        timings["lexical"] = time.perf_counter() - t

    t = time.perf_counter()
    if mode == "dense":
        rows, scores, cosines, bm25 = dense_rows, dense_top, dense_top, np.zeros(dense_rows.size, dtype=np.float32)
    elif mode == "lexical":
        bm25 = look.bm25(lex_rows)
        rows, scores, cosines = lex_rows, bm25, None
    else:
        rows = np.unique(np.concatenate([dense_rows, lex_rows]))
        cosines, bm25 = look.scores(rows)
        scores = fuse(cosines, bm25, dense_weight if lex_rows.size else 1.0)
    articles = look.articles(rows)
    out = Candidates(rows, scores.astype(np.float32), cosines, bm25.astype(np.float32), articles, look.days(articles))
    out = out.reorder(np.argsort(-out.scores, kind="stable"))
    timings["fusion"] = time.perf_counter() - t
    return out
