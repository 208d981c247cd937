"""First-stage retrieval: BM25 over every chunk and FAISS nearest neighbours, fused linearly.

Measured on Arabic QA (docs/benchmarks.md): BM25 with Arabic normalisation and
stemming is strong, the multilingual encoder alone weaker, reciprocal-rank
fusion worse than BM25 alone, and a linear mix of per-query min-max-normalised
scores with a small dense weight better than either. A question in another
script than the corpus (English about Arabic news) shares no words with it, so
there the dense side leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.storage.loading import StoredIndex
from index.storage.vectors import search as faiss_search
from index.storage.vectors import top_rows

MODES = ("hybrid", "lexical", "dense")


@dataclass
class Candidates:
    """Chunk rows best first, with their fused score, dense cosine (None in lexical mode) and raw BM25 score."""

    rows: np.ndarray
    scores: np.ndarray
    cosines: np.ndarray | None
    bm25: np.ndarray

    def reorder(self, order: np.ndarray) -> Candidates:
        return Candidates(
            self.rows[order], self.scores[order], None if self.cosines is None else self.cosines[order], self.bm25[order]
        )


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


def stored_vectors(stored: StoredIndex, rows: list[int]) -> np.ndarray | None:
    """The indexed vectors of ``rows``; None for index types that cannot give vectors back."""
    if stored.flat is not None:
        return stored.flat[np.asarray(rows, dtype=np.int64)]
    try:
        return stored.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64))
    except RuntimeError:
        return None


def retrieve(
    stored: StoredIndex,
    terms: list[str] | tuple[str, ...],
    qvec: np.ndarray | None,
    mode: str,
    candidates: int,
    dense_weight: float,
    timings: dict[str, float] | None = None,
    recent: np.ndarray | None = None,
    recent_candidates: int = 0,
) -> Candidates:
    """Candidate chunks for a question: the union of both retrievers' top ``candidates``, best first.

    ``dense_weight`` applies when the question shares words with the corpus; with
    no BM25 match at all (another script, or only unknown words) the dense order stands.
    ``recent`` (chunk rows of recent articles) adds BM25's top ``recent_candidates`` among them, and
    the dense side's too when the index is exact (flat; an approximate index returns only its own top): in a long archive, many old passages can outscore the one recent article that
    answers, and a stage that prefers recent answers can only choose among the candidates.
    """
    import time

    timings = timings if timings is not None else {}
    c = min(candidates, stored.num_chunks)
    dense_rows = np.zeros(0, dtype=np.int64)
    dense_top = np.zeros(0, dtype=np.float32)
    all_cosines = None  # every chunk's cosine, when the index is exact (flat)
    if mode != "lexical" and qvec is not None:
        t = time.perf_counter()
        if stored.flat is not None:
            all_cosines = stored.flat @ np.asarray(qvec, dtype=np.float32)
            if stored.deleted is not None:  # a build of parts: rows an update replaced or removed are never found
                all_cosines[stored.deleted] = -np.inf
            dense_rows = _with_recent(top_rows(all_cosines, c), all_cosines, recent, recent_candidates)
            dense_rows = dense_rows[np.isfinite(all_cosines[dense_rows])]
            dense_top = all_cosines[dense_rows]
        else:
            scores, rows = faiss_search(stored.faiss_index, qvec[None, :], c)
            keep = rows[0] >= 0
            dense_rows, dense_top = rows[0][keep].astype(np.int64), scores[0][keep]
        timings["dense"] = time.perf_counter() - t
    lexical_all = np.zeros(stored.num_chunks, dtype=np.float32)
    if mode != "dense":
        t = time.perf_counter()
        lexical_all = stored.lexical.scores(list(terms))
        timings["lexical"] = time.perf_counter() - t

    t = time.perf_counter()
    if mode == "dense":
        out = Candidates(dense_rows, dense_top.astype(np.float32), dense_top, lexical_all[dense_rows])
    else:
        lex_rows = _with_recent(top_rows(lexical_all, c), lexical_all, recent, recent_candidates)
        lex_rows = lex_rows[lexical_all[lex_rows] > 0]
        if mode == "lexical":
            out = Candidates(lex_rows, lexical_all[lex_rows], None, lexical_all[lex_rows])
        else:
            rows = np.unique(np.concatenate([dense_rows, lex_rows]))
            cosines = all_cosines[rows] if all_cosines is not None else _dense_scores(stored, rows, qvec, dense_rows, dense_top)
            weight = dense_weight if lex_rows.size else 1.0
            out = Candidates(rows, fuse(cosines, lexical_all[rows], weight), cosines, lexical_all[rows])
    out = out.reorder(np.argsort(-out.scores, kind="stable"))
    timings["fusion"] = time.perf_counter() - t
    return out


def _with_recent(rows: np.ndarray, scores: np.ndarray, recent: np.ndarray | None, n: int) -> np.ndarray:
    """``rows`` and the best ``n`` of the ``recent`` rows by ``scores`` (each row once, order not kept)."""
    if recent is None or n <= 0 or not recent.size:
        return rows
    best = recent[top_rows(scores[recent], min(n, recent.size))]
    return np.union1d(rows, best)


def _dense_scores(
    stored: StoredIndex, rows: np.ndarray, qvec: np.ndarray, dense_rows: np.ndarray, dense_top: np.ndarray
) -> np.ndarray:
    """Cosine of every candidate; those FAISS did not return are computed from stored vectors."""
    known = dict(zip(dense_rows.tolist(), dense_top.tolist(), strict=True))
    missing = [int(r) for r in rows if int(r) not in known]
    if missing:
        vectors = stored_vectors(stored, missing)
        if vectors is not None:
            known.update(zip(missing, (vectors @ qvec).tolist(), strict=True))
        else:  # index types that cannot give vectors back: rank them last
            floor = float(dense_top.min()) if dense_top.size else 0.0
            known.update(dict.fromkeys(missing, floor))
    return np.asarray([known[int(r)] for r in rows], dtype=np.float32)
