"""A build made of parts: an unchanged base and small parts that later updates added, read as one index.

An update that adds or changes a few articles writes only them, as a new part
(``build.delta``), and marks the rows it replaces or removes as deleted; the parts
already written are never touched. Searching the parts must score exactly as one
build of the same articles would (passages with equal scores may come in another
order: a part's rows follow the base's), so:

- BM25 scores are computed at query time from each part's term counts and
  document lengths under the *shared* statistics: live documents, their average
  length, and each term's document frequency over every part less the deleted
  documents (``PartedLexical``); with the same float32 arithmetic as a build's
  precomputed scores, so the numbers are the same to the bit;
- term ids are global: a part's vocabulary extends the ones before it; a term that
  only deleted documents hold counts as unknown, as a rebuild would not have it;
- the analyses are the parts' arrays end to end, article and row numbers offset
  (``concat_analyses``); vectors are searched part by part and merged
  (``PartedVectors``), or, when every part is exact, as one matrix;
- article and chunk metadata are one read-only SQLite connection with the parts'
  databases attached and views that leave the deleted rows out (``attach_parts``).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .analyses import Analyses, offsets
from .bm25 import BM25, idf, query_weights, term_frequency_part
from .lexical import LexicalIndex, LexicalParams

# SQLite attaches at most 10 databases by default: a build has at most this many parts (``build.delta`` merges).
MAX_PARTS = 8


@dataclass(frozen=True)
class PartInfo:
    """Where one part's rows and articles sit in the whole: the first of each."""

    row_offset: int
    article_offset: int
    rows: int
    articles: int


def infos(rows: Sequence[int], articles: Sequence[int]) -> list[PartInfo]:
    row_starts, article_starts = offsets(rows)[:-1], offsets(articles)[:-1]
    return [
        PartInfo(int(r), int(a), int(n), int(m)) for r, a, n, m in zip(row_starts, article_starts, rows, articles, strict=True)
    ]


class PartedLexical(LexicalIndex):
    """BM25 over several parts under shared statistics, deleted documents left out (see the module docstring)."""

    def __init__(
        self,
        parts: Sequence[BM25],
        where: Sequence[PartInfo],
        params: LexicalParams,
        deleted: np.ndarray,
        deleted_terms: np.ndarray,
    ) -> None:
        """``deleted``: a mask over every row; ``deleted_terms``: each deleted document's distinct term ids, end to end
        (``document_terms``), which no longer count towards their terms' document frequency."""
        if any(p.tf is None or p.lengths is None for p in parts):
            raise ValueError("a part without term counts cannot share statistics (built before them): rebuild")
        super().__init__(parts[0], params)
        self.parts = list(parts)
        self.where = list(where)
        self.deleted = deleted  # bool per row
        self.total_rows = sum(w.rows for w in where)
        self._vocab = collections.ChainMap(*(p.vocab for p in reversed(self.parts)))
        self._n_terms = max(p.n_terms for p in self.parts)
        lengths = np.concatenate([p.lengths for p in self.parts]).astype(np.int64)
        gone = np.flatnonzero(deleted)
        self._live_docs = self.total_rows - gone.size
        self._avg_len = float(lengths.sum() - lengths[gone].sum()) / self._live_docs if self._live_docs else 1.0
        self._df = np.zeros(self._n_terms, dtype=np.int64)
        for part in self.parts:
            self._df[: part.n_terms] += np.diff(part.indptr)
        self._df -= np.bincount(np.asarray(deleted_terms, dtype=np.int64), minlength=self._n_terms)[: self._n_terms]

    @property
    def vocab(self) -> collections.ChainMap:  # type: ignore[override]
        return self._vocab

    @property
    def num_docs(self) -> int:
        return self._live_docs

    def term_ids(self, terms: tuple[str, ...] | list[str]) -> np.ndarray:
        """Global ids; -1 for a term no live document holds (as in a rebuild, which would not know it)."""
        get = self._vocab.get
        ids = np.asarray([get(t, -1) for t in terms], dtype=np.int64)
        ids[(ids >= 0) & (self.document_frequency(ids) == 0)] = -1
        return ids

    def document_frequency(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(ids.shape, dtype=np.int64)
        known = (ids >= 0) & (ids < self._n_terms)
        out[known] = self._df[ids[known]]
        return out

    def idf_of_ids(self, ids: np.ndarray) -> np.ndarray:
        return idf(self.document_frequency(ids), self.num_docs, "lucene").astype(np.float32)

    def scores(self, terms: list[str]) -> np.ndarray:
        """Every row's BM25 score (0 for deleted rows), as one build of the live documents would give it."""
        get = self._vocab.get
        ids = [i for i in (get(t, -1) for t in terms) if i >= 0 and self._df[i] > 0]
        out = np.zeros(self.total_rows, dtype=np.float32)
        first = self.parts[0]
        method, k1, b, delta = first.method, first.k1, first.b, first.delta
        weights, base_rest = query_weights(self._df[ids], self._live_docs, self._avg_len, method, k1, b, delta)
        for n, tid in enumerate(ids):
            for part, where in zip(self.parts, self.where, strict=True):
                if tid >= part.n_terms:
                    continue
                start, end = part.indptr[tid], part.indptr[tid + 1]
                if start == end:
                    continue
                rows = part.indices[start:end]
                tfp = term_frequency_part(part.tf[start:end], part.lengths[rows], self._avg_len, k1, b, delta, method)
                score = weights[n] * tfp
                if base_rest is not None:
                    score = score - np.float32(base_rest[n])
                out[where.row_offset + rows] += score.astype(np.float32)
        if base_rest is not None and ids:
            out += base_rest.astype(np.float32).sum()
        out[self.deleted] = 0.0
        return out


def concat_analyses(parts: Sequence[Analyses], where: Sequence[PartInfo]) -> Analyses:
    """The parts' analyses end to end: article numbers and pointers offset (term ids are global already)."""

    def chained(ptrs: list[np.ndarray]) -> np.ndarray:
        out, base = [], 0
        for ptr in ptrs:
            out.append(ptr[:-1] + base)
            base += int(ptr[-1])
        return np.concatenate([*out, np.asarray([base], dtype=np.int64)])

    return Analyses(
        chunk_article=np.concatenate([p.chunk_article + w.article_offset for p, w in zip(parts, where, strict=True)]).astype(
            np.int32
        ),
        article_day=np.concatenate([p.article_day for p in parts]),
        chunk_ptr=chained([p.chunk_ptr for p in parts]),
        spans=np.concatenate([p.spans for p in parts]),
        cues=np.concatenate([p.cues for p in parts]),
        term_ptr=chained([p.term_ptr for p in parts]),
        terms=np.concatenate([p.terms for p in parts]),
        title_ptr=chained([p.title_ptr for p in parts]),
        title_terms=np.concatenate([p.title_terms for p in parts]),
    )


class PartedVectors:
    """The parts' FAISS indexes searched as one (the interface of a FAISS index that search uses)."""

    def __init__(self, indexes: Sequence[object], where: Sequence[PartInfo], deleted: np.ndarray) -> None:
        self.indexes = list(indexes)
        self.where = list(where)
        self.deleted = deleted
        self.ntotal = sum(w.rows for w in where)
        self.d = int(self.indexes[0].d)
        # each part's deleted rows are skipped inside FAISS's search (a selector), so a part that deleted many rows
        # is asked for k neighbours, not k plus all it deleted
        self._params = [
            _skipping(index, deleted[w.row_offset : w.row_offset + w.rows])
            for index, w in zip(self.indexes, self.where, strict=True)
        ]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each part's top ``k`` live rows, merged."""
        scores, rows = [], []
        for index, where, params in zip(self.indexes, self.where, self._params, strict=True):
            if not where.rows:
                continue
            s, r = (
                index.search(queries, min(where.rows, k), params=params) if params else index.search(queries, min(where.rows, k))
            )
            r = np.where(r >= 0, r + where.row_offset, -1)
            s = np.where((r >= 0) & ~self.deleted[np.maximum(r, 0)], s, -np.inf)
            scores.append(s)
            rows.append(np.where(np.isfinite(s), r, -1))
        s, r = np.concatenate(scores, axis=1), np.concatenate(rows, axis=1)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(s, order, axis=1).astype(np.float32), np.take_along_axis(r, order, axis=1)

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((rows.size, self.d), dtype=np.float32)
        starts = np.asarray([w.row_offset for w in self.where])
        part_of = np.searchsorted(starts, rows, side="right") - 1
        for p in np.unique(part_of).tolist():
            mine = part_of == p
            out[mine] = self.indexes[p].reconstruct_batch(rows[mine] - self.where[p].row_offset)
        return out


def _skipping(index: Any, deleted: np.ndarray) -> Any:
    """FAISS search parameters that skip a part's ``deleted`` rows (None when it deleted none)."""
    if not deleted.any():
        return None
    import faiss

    keep = np.packbits(~deleted, bitorder="little")
    selector = faiss.IDSelectorBitmap(int(deleted.size), faiss.swig_ptr(keep))
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    params = (
        faiss.SearchParametersHNSW(sel=selector, efSearch=int(hnsw.efSearch))
        if hnsw is not None
        else faiss.SearchParameters(sel=selector)
    )
    params.keep = (keep, selector)  # the bitmap and selector live as long as the parameters
    return params


def attach_parts(conn: sqlite3.Connection, metas: Sequence[Path], deleted_rows: np.ndarray, deleted_articles: np.ndarray) -> None:
    """Make ``chunks`` and ``articles`` on ``conn`` (opened on the first part) span every part, deleted rows left out."""
    for n, meta in enumerate(metas[1:], start=1):
        conn.execute(f"ATTACH DATABASE ? AS p{n}", (f"file:{meta}?mode=ro&immutable=1",))
    conn.execute("CREATE TEMP TABLE deleted_rows (row INTEGER PRIMARY KEY)")
    conn.execute("CREATE TEMP TABLE deleted_articles (idx INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO temp.deleted_rows VALUES (?)", [(int(r),) for r in deleted_rows])
    conn.executemany("INSERT INTO temp.deleted_articles VALUES (?)", [(int(a),) for a in deleted_articles])
    schemas = ["main", *(f"p{n}" for n in range(1, len(metas)))]
    chunks = " UNION ALL ".join(f"SELECT * FROM {s}.chunks WHERE row NOT IN (SELECT row FROM temp.deleted_rows)" for s in schemas)
    articles = " UNION ALL ".join(
        f"SELECT * FROM {s}.articles WHERE idx NOT IN (SELECT idx FROM temp.deleted_articles)" for s in schemas
    )
    conn.execute(f"CREATE TEMP VIEW chunks AS {chunks}")
    conn.execute(f"CREATE TEMP VIEW articles AS {articles}")


def deleted_mask(total_rows: int, deleted_rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(total_rows, dtype=bool)
    mask[np.asarray(deleted_rows, dtype=np.int64)] = True
    return mask


def document_terms(analyses: Analyses, rows: np.ndarray) -> np.ndarray:
    """The distinct term ids of each BM25 document ``rows`` (its chunk's terms and its article title's), end to end."""
    out = []
    for row in np.asarray(rows, dtype=np.int64).tolist():
        article = int(analyses.chunk_article[row])
        out.append(np.unique(np.concatenate([analyses.chunk_terms(row), analyses.title_ids(article)])))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


__all__ = [
    "MAX_PARTS",
    "PartInfo",
    "PartedLexical",
    "PartedVectors",
    "attach_parts",
    "concat_analyses",
    "deleted_mask",
    "document_terms",
    "infos",
]
