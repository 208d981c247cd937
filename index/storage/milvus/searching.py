"""One question's retrieval through Milvus (``lookup.Lookup``): searches asked at once, scores kept by row.

The two retrievers' searches (and, for a question about now, their searches among recent articles)
go out together on the store's threads; then each candidate's other score: its cosine by a
vector search filtered to the candidates, and its terms (with everything else the answer layer
reads of it) by a query filtered by id, from which BM25 is computed here exactly as the embedded
store computes it. Milvus's own BM25 scores only choose the lexical candidates.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import numpy as np

from index.text.dates import UNKNOWN_DAY

# what a search reads of a candidate row, fetched once: BM25's terms, the answer layer's analyses, the text shown
ROW_FIELDS = ["row", "article", "ordinal", "start", "end", "text", "day", "analysis", "terms", "title_terms"]

if TYPE_CHECKING:
    from .reading import MilvusIndex

Rows = tuple[np.ndarray, np.ndarray]
EMPTY: Rows = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class MilvusLookup:
    """``Lookup`` over a Milvus index; also what this search has fetched (rows, vectors), for the stages after it."""

    def __init__(self, store: MilvusIndex, terms: list[str], qvec: np.ndarray | None, since: int | None) -> None:
        self._store = store
        self._terms = terms
        self._text = " ".join(terms)
        self._qvec = None if qvec is None else np.asarray(qvec, dtype=np.float32).tolist()
        self._since = since
        self._cos: dict[int, float] = {}
        self._found: dict[int, float] = {}  # Milvus's BM25 of the rows it found (for their order only)
        self._exact: dict[int, float] = {}  # BM25 computed here
        self._article: dict[int, int] = {}
        self._day: dict[int, int] = {}
        self._pending: dict[tuple[str, int, bool], Future] = {}
        self.rows: dict[int, dict[str, Any]] = {}  # fetched rows (``MilvusIndex.fetch``), by row
        self.vectors: dict[int, list[float]] = {}

    # ------------------------------------------------------------ the searches

    def start(self, n: int, recent: int, dense: bool, lexical: bool) -> None:
        """Send every search this question needs at once (the answers are read as ``dense``/``lexical`` ask)."""
        for field, wanted, data in (("vector", dense, self._qvec), ("sparse", lexical, self._text)):
            if not wanted or not data or n <= 0:
                continue
            self._pending[(field, n, False)] = self._store.submit(self._store.search, field, data, n)
            if recent > 0 and self._since is not None:
                where = f"day >= {int(self._since)}"
                self._pending[(field, recent, True)] = self._store.submit(self._store.search, field, data, recent, where)

    def _search(self, field: str, data: Any, n: int, recent: bool) -> list[dict[str, Any]]:
        pending = self._pending.pop((field, n, recent), None)
        if pending is not None:
            return pending.result()
        where = f"day >= {int(self._since)}" if recent else ""
        return self._store.search(field, data, n, where)

    def _take(self, hits: list[dict[str, Any]], into: dict[int, float], bm25: bool) -> np.ndarray:
        rows = []
        for h in hits:
            row = _row(h)
            entity = h.get("entity", h)
            # Milvus Lite reports BM25 as a negated distance, a cluster as a positive score
            into[row] = abs(float(h["distance"])) if bm25 else float(h["distance"])
            self._article[row] = int(entity["article"])
            self._day[int(entity["article"])] = int(entity["day"])
            rows.append(row)
        return np.asarray(rows, dtype=np.int64)

    def _top(self, field: str, data: Any, n: int, recent: int, into: dict[int, float]) -> Rows:
        bm25 = field == "sparse"
        rows = self._take(self._search(field, data, n, False), into, bm25)
        if recent > 0 and self._since is not None:
            rows = np.union1d(rows, self._take(self._search(field, data, recent, True), into, bm25))
        return rows, np.asarray([into[int(r)] for r in rows], dtype=np.float32)

    def dense(self, n: int, recent: int = 0) -> Rows:
        if self._qvec is None or n <= 0:
            return EMPTY
        return self._top("vector", self._qvec, n, recent, self._cos)

    def lexical(self, n: int, recent: int = 0) -> Rows:
        """Milvus's BM25 rows and scores: every row it finds holds a question term (``bm25`` scores them exactly)."""
        if not self._text or n <= 0:
            return EMPTY
        return self._top("sparse", self._text, n, recent, self._found)

    # ------------------------------------------------------------ scores by id

    def cosines(self, rows: np.ndarray) -> np.ndarray:
        """Each row's cosine: those the vector search returned, the rest from their vectors, fetched by id (a
        vector search filtered to them is approximate too: HNSW in Milvus Lite leaves some out)."""
        missing = [int(r) for r in rows if int(r) not in self._cos]
        if missing and self._qvec:
            vectors = self._store.vectors(missing)
            self._cos.update(zip(missing, (vectors @ np.asarray(self._qvec, dtype=np.float32)).tolist(), strict=True))
        return np.asarray([self._cos.get(int(r), 0.0) for r in rows], dtype=np.float32)

    def bm25(self, rows: np.ndarray) -> np.ndarray:
        """Each row's BM25, computed here from its terms (fetched by id) and the build's statistics: Milvus's
        own scores count per segment and by its own formula, and the answer layer was trained on these."""
        missing = [int(r) for r in rows if int(r) not in self._exact]
        if missing and self._terms:
            found = self._store.fetch(missing, self)
            scores = self._store.statistics.score([r["terms"] for r in found], self._terms)
            self._exact.update(zip((int(r["row"]) for r in found), scores.tolist(), strict=True))
        return np.asarray([self._exact.get(int(r), 0.0) for r in rows], dtype=np.float32)

    def scores(self, rows: np.ndarray) -> Rows:
        """Cosines and BM25 of ``rows``: each row's fields (its terms among them) fetched by id, with the vector
        of each row the vector search did not return, two requests sent at once."""
        unread = [int(r) for r in rows if int(r) not in self.rows]
        found = [r for r in unread if r in self._cos]
        vectorless = [r for r in unread if r not in self._cos]
        pending = self._store.submit(self._store.fetch, found, self)
        self._store.fetch(vectorless, self, vectors=bool(self._qvec))
        pending.result()
        return self.cosines(rows), self.bm25(rows)

    def articles(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray([self._article[int(r)] for r in rows], dtype=np.int64)  # every row came from a search

    def days(self, articles: np.ndarray) -> np.ndarray:
        return np.asarray([self._day.get(int(a), UNKNOWN_DAY) for a in articles], dtype=np.int32)


def _row(hit: dict[str, Any]) -> int:
    """A search hit's row (pymilvus names the primary key ``id`` or by its field name)."""
    return int(hit["id"] if "id" in hit else hit["row"])
