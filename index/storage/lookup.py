"""What the search reads from an index, whatever holds it: the contract both engines meet.

The upper stages (``index.search``, ``index.answer``) never read whole-corpus arrays: they ask
a store for one question's ``Lookup`` (the two retrievers' top rows, and each retriever's score of
any other row), for the sentence analyses of the rows they read (``SentenceSource``), and for
articles and chunks by id. The embedded store (``loading.StoredIndex``) answers from the arrays
it maps; the Milvus store (``storage.milvus``) answers with calls to the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from index.text.dates import UNKNOWN_DAY

from .analyses import Analyses
from .vectors import search as faiss_search
from .vectors import top_rows

# What an article lookup by id or link gives (``IndexStore.articles_where``): a takedown's preview.
ARTICLE_COLUMNS = ("id", "title", "source", "date", "url", "path")


class SentenceSource(Protocol):
    """Per-chunk sentence analyses: the ``Analyses`` arrays, or the part of them a search fetched."""

    spans: np.ndarray
    cues: np.ndarray
    term_ptr: np.ndarray
    terms: np.ndarray

    def chunk_sentences(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def title_ids(self, article: int) -> np.ndarray: ...


class Lookup(Protocol):
    """One question's view of an index: the retrievers' top rows, and scores of any rows by id."""

    def start(self, n: int, recent: int, dense: bool, lexical: bool) -> None:
        """Say which of ``dense``/``lexical`` will be asked (with these ``n`` and ``recent``): a remote store sends
        them at once."""
        ...

    def dense(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the ``n`` nearest passages and their cosines, with the nearest ``recent`` of the recent ones."""
        ...

    def lexical(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the ``n`` best BM25 passages (score above 0) with the best ``recent`` recent ones, and the
        retriever's scores of them (``bm25`` gives the scores fusion uses)."""
        ...

    def cosines(self, rows: np.ndarray) -> np.ndarray: ...

    def bm25(self, rows: np.ndarray) -> np.ndarray: ...

    def scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``cosines`` and ``bm25`` of ``rows``."""
        ...

    def articles(self, rows: np.ndarray) -> np.ndarray:
        """The article index of each row."""
        ...

    def days(self, articles: np.ndarray) -> np.ndarray:
        """Each article's date as days since 1970-01-01 (``UNKNOWN_DAY``: none)."""
        ...


class IndexStore(Protocol):
    """An index as the search and the bot read it; ``engine`` names which kind (``embedded``, ``milvus``)."""

    engine: str
    manifest: Any  # ``index.manifest.Manifest``
    lexical: Any  # ``lexical.LexicalIndex``: the vocabulary and its statistics (``scores`` only on the embedded store)

    @property
    def build_id(self) -> str: ...

    @property
    def num_chunks(self) -> int: ...

    @property
    def newest_day(self) -> int: ...

    @property
    def analyses(self) -> SentenceSource:
        """The passages' sentence analyses, for one search (a remote store reads the rows its lookup fetched)."""
        ...

    def lookup(self, terms: Sequence[str], qvec: np.ndarray | None, since: int | None = None) -> Lookup: ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray | None: ...

    def chunks(self, rows: list[int]) -> Mapping[int, Mapping[str, Any]]: ...

    def articles(self, idxs: list[int]) -> Mapping[int, Mapping[str, Any]]: ...

    def article_chunks(self, article_idx: int) -> list[Mapping[str, Any]]: ...

    def article_index(self, ids: Sequence[str]) -> list[int]: ...

    def top_sources(self, n: int = 3) -> list[str]: ...

    def latest_articles(self, n: int = 5, titled: bool = False) -> list[dict[str, str]]: ...

    def latest_titles(self, n: int = 2) -> list[str]: ...

    def article_hashes(self) -> dict[str, str]:
        """Article id -> content hash of every article the index holds."""
        ...

    def articles_where(self, column: str, value: str | None) -> list[dict[str, Any]]:
        """Articles (id, title, source, date, url, path) whose ``column`` (``id`` or ``url``) is ``value``;
        with None, every article that has one."""
        ...


def recent_rows(article_day: np.ndarray, chunk_article: np.ndarray, newest: int, since: int) -> np.ndarray | None:
    """Chunk rows of the articles dated ``since`` or later; None when that is every chunk or none."""
    if newest == UNKNOWN_DAY or since > newest:
        return None
    recent_article = (article_day != UNKNOWN_DAY) & (article_day >= since)
    rows = np.flatnonzero(recent_article[chunk_article])
    return rows if 0 < rows.size < chunk_article.size else None


def with_recent(rows: np.ndarray, scores: np.ndarray, recent: np.ndarray | None, n: int) -> np.ndarray:
    """``rows`` and the best ``n`` of the ``recent`` rows by ``scores`` (each row once, order not kept)."""
    if recent is None or n <= 0 or not recent.size:
        return rows
    best = recent[top_rows(scores[recent], min(n, recent.size))]
    return np.union1d(rows, best)


class ArrayLookup:
    """``Lookup`` over arrays in memory: an exact index scores every row once, BM25 scores every row once."""

    def __init__(self, stored, terms: list[str], qvec: np.ndarray | None, recent: np.ndarray | None) -> None:
        self._stored = stored
        self._terms = terms
        self._qvec = None if qvec is None else np.asarray(qvec, dtype=np.float32)
        self._recent = recent
        self._all_cosines: np.ndarray | None = None  # every row's, for an exact (flat) index
        self._all_bm25: np.ndarray | None = None
        self._known: dict[int, float] = {}  # cosines an approximate index returned

    def _cosines_all(self) -> np.ndarray:
        if self._all_cosines is None:
            cos = self._stored.flat @ self._qvec
            if self._stored.deleted is not None:  # a build of parts: rows an update replaced or removed are never found
                cos[self._stored.deleted] = -np.inf
            self._all_cosines = cos
        return self._all_cosines

    def _bm25_all(self) -> np.ndarray:
        if self._all_bm25 is None:
            self._all_bm25 = self._stored.lexical.scores(list(self._terms))
        return self._all_bm25

    def dense(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        if self._qvec is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._stored.flat is not None:
            cos = self._cosines_all()
            rows = with_recent(top_rows(cos, n), cos, self._recent, recent)
            rows = rows[np.isfinite(cos[rows])]
            return rows, cos[rows]
        # an approximate index returns only its own top: the recent rows cannot be added
        scores, rows = faiss_search(self._stored.faiss_index, self._qvec[None, :], n)
        keep = rows[0] >= 0
        rows, top = rows[0][keep].astype(np.int64), scores[0][keep]
        self._known.update(zip(rows.tolist(), top.tolist(), strict=True))
        return rows, top

    def start(self, n: int, recent: int, dense: bool, lexical: bool) -> None:
        """Nothing to send ahead: the arrays are here."""

    def scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.cosines(rows), self.bm25(rows)

    def lexical(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        scores = self._bm25_all()
        rows = with_recent(top_rows(scores, n), scores, self._recent, recent)
        rows = rows[scores[rows] > 0]
        return rows, scores[rows]

    def bm25(self, rows: np.ndarray) -> np.ndarray:
        return self._bm25_all()[rows]

    def cosines(self, rows: np.ndarray) -> np.ndarray:
        if self._qvec is None:
            return np.zeros(len(rows), dtype=np.float32)
        if self._stored.flat is not None:
            return self._cosines_all()[rows]
        missing = [int(r) for r in rows if int(r) not in self._known]
        if missing:  # those the index did not return are computed from its stored vectors
            vectors = self._stored.vectors(missing)
            if vectors is not None:
                self._known.update(zip(missing, (vectors @ self._qvec).tolist(), strict=True))
            else:  # index types that cannot give vectors back: rank them last
                floor = min(self._known.values(), default=0.0)
                self._known.update(dict.fromkeys(missing, floor))
        return np.asarray([self._known[int(r)] for r in rows], dtype=np.float32)

    def articles(self, rows: np.ndarray) -> np.ndarray:
        return self._stored.analyses.chunk_article[rows]

    def days(self, articles: np.ndarray) -> np.ndarray:
        return self._stored.analyses.article_day[articles]


def newest_day(analyses: Analyses) -> int:
    """The newest article's day: where "today" and "recent" are measured from."""
    days = analyses.article_day
    return int(days.max()) if days.size else UNKNOWN_DAY
