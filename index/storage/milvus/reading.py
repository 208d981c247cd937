"""Reading an index from Milvus: the ``IndexStore`` contract (``storage.lookup``) answered by calls to the server.

Nothing of the build is needed locally. At open, the side record gives the manifest and the
statistics (vocabulary and document frequencies: what question analysis weighs terms by); a
search then asks Milvus for the nearest vectors and the best BM25 rows, for the other side's
score of each candidate with a second call filtered by id, and for the candidates' sentence
analyses by id. Statistics an update changes are picked up within ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from index.manifest import Manifest
from index.text.dates import UNKNOWN_DAY

from ..bm25 import score_documents
from ..lexical import LexicalIndex, LexicalParams
from ..lookup import ARTICLE_COLUMNS
from ..store import IndexCorrupt, IndexNotFound, IndexUnavailable
from .client import Records, articles_collection, connect, query_all, unavailable
from .fetched import FetchedAnalyses
from .searching import ROW_FIELDS, MilvusLookup
from .target import MilvusTarget
from .writing import current_collection

REFRESH_SECONDS = 10.0  # how often a reader asks whether an update changed the statistics
EF_FLOOR = 128  # HNSW search breadth: at least this, and at least the number of rows asked for
NPROBE = 32  # IVF lists searched (collections past ``writing.HNSW_UP_TO`` passages)
CHUNK_FIELDS = ["row", "article", "ordinal", "start", "end", "text"]
THREADS = 4  # the store's request threads, shared by its searches (each sends its independent requests at once)
ARTICLE_FIELDS = ["idx", "id", "title", "url", "date", "source", "author", "body_key", "content_hash", "path", "day"]


class Statistics:
    """The vocabulary and document frequencies of a build: what ``LexicalIndex`` reads of a BM25 (no postings)."""

    def __init__(self, names: list[str], df: list[int], num_docs: int, avg_len: float, params: LexicalParams) -> None:
        self.vocab = {term: i for i, term in enumerate(names)}
        self.names = names
        self._df = np.asarray(df, dtype=np.int64)
        self.num_docs = int(num_docs)
        self.avg_len = float(avg_len)
        self.params = params

    def score(self, docs: list[str], query: list[str]) -> np.ndarray:
        """BM25 of documents given as their ``terms`` field, exactly as the embedded store scores them."""
        vocab, p = self.vocab, self.params
        ids = [np.asarray([vocab.get(t, -1) for t in doc.split()], dtype=np.int64) for doc in docs]
        query_ids = np.asarray([vocab[t] for t in query if t in vocab], dtype=np.int64)
        return score_documents(ids, query_ids, self._df, self.num_docs, self.avg_len, p.method, p.k1, p.b)

    def document_frequency(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        known = (ids >= 0) & (ids < self._df.size)
        out = np.zeros(ids.shape, dtype=np.int64)
        out[known] = self._df[ids[known]]
        return out

    def scores(self, ids: list[int]) -> np.ndarray:
        raise NotImplementedError("a Milvus index scores BM25 on the server (MilvusLookup.lexical)")


def current_record(client: Any, target: MilvusTarget) -> tuple[str | None, dict[str, Any] | None]:
    """The collection the alias names and its build's record (None, None: no index yet); a failed call is the
    store's error (``unavailable``)."""
    try:
        collection = current_collection(client, target.name)
        return collection, Records(client, target.name).get(f"build/{collection}") if collection else None
    except Exception as exc:
        raise unavailable(target, exc) from None


def build_id_of(client: Any, target: MilvusTarget) -> str | None:
    """The build readers should serve now, from the record's small head (a rebuild moves the alias, an update
    in place gives the record a new build id); None: no index yet."""
    collection = current_collection(client, target.name)
    head = Records(client, target.name).summary(f"build/{collection}") if collection else None
    return head.get("build_id") if head else None


def current_build_id(target: MilvusTarget) -> str | None:
    """``build_id_of`` over a connection of its own; ``IndexUnavailable`` when unreachable."""
    client = connect(target)
    try:
        return build_id_of(client, target)
    except Exception as exc:
        raise unavailable(target, exc) from None
    finally:
        client.close()


def current_manifest(target: MilvusTarget) -> Manifest | None:
    """The manifest of the build the alias names, or None (no index yet); ``IndexUnavailable`` when unreachable."""
    client = connect(target)
    try:
        _, stats = current_record(client, target)
    finally:
        client.close()
    return Manifest.from_json(stats["manifest"]) if stats else None


class MilvusIndex:
    """The current build of an index in Milvus (``INDEX_STORE=milvus://HOST:PORT/NAME``)."""

    engine = "milvus"

    def __init__(self, target: MilvusTarget, client: Any, collection: str, stats: dict[str, Any]) -> None:
        self.target = target
        self.client = client
        self.collection = collection
        self.articles_collection = articles_collection(collection)
        self._lock = threading.RLock()
        self._local = threading.local()  # this thread's current ``MilvusLookup``: what its search fetched
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="milvus")
        self._checked = time.monotonic()
        self._lost = False  # the last request found the server gone: reconnect before the next
        self._use(stats)

    @classmethod
    def open(cls, target: MilvusTarget) -> MilvusIndex:
        """Connect and read the current build's record; ``IndexUnavailable``, ``IndexNotFound`` or ``IndexCorrupt``."""
        client = connect(target)
        collection, stats = current_record(client, target)
        if collection is None:
            raise IndexNotFound(
                f"no index named {target.name!r} in Milvus at {target}; build one with `python -m index build --store {target}`"
            )
        if stats is None:
            raise IndexCorrupt(
                f"the Milvus collection {collection} has no statistics record; rebuild with `python -m index build --store {target}`"
            )
        return cls(target, client, collection, stats)

    def _use(self, stats: dict[str, Any]) -> None:
        self.version = int(stats["version"])
        manifest = Manifest.from_json(stats["manifest"])
        self.manifest = manifest
        params = manifest.lexical
        self.statistics = Statistics(stats["vocab"], stats["df"], int(stats["num_docs"]), float(stats["avg_len"]), params)
        self.lexical = LexicalIndex(self.statistics, params)
        self._newest = int(stats["newest_day"])
        self._vector_index = stats.get("vector_index", "HNSW")
        self._sources = list(stats.get("sources", []))

    def refresh(self) -> None:
        """Pick up statistics an in-place update wrote (asked at most every ``REFRESH_SECONDS``, by their version
        alone; term ids keep their meaning across versions, so a search that spans a refresh reads alike)."""
        if time.monotonic() - self._checked < REFRESH_SECONDS:
            return
        with self._lock:
            self._checked = time.monotonic()
            records = Records(self.client, self.target.name)
            head = self._call(lambda: records.summary(f"build/{self.collection}")) or {}
            if head.get("version", self.version) != self.version:
                stats = self._call(lambda: records.get(f"build/{self.collection}"))
                if stats:
                    self._use(stats)

    def _call(self, work: Callable[[], Any]) -> Any:
        """Run one request; a failure is ``IndexUnavailable``, and the next request first asks for a new client (a
        server that went away and came back is found again without a restart, whether that client or gRPC's own
        reconnection finds it)."""
        if self._lost:
            with self._lock:
                if self._lost:
                    old, self.client = self.client, connect(self.target)  # IndexUnavailable while it is still away
                    self._lost = False
                    with contextlib.suppress(Exception):
                        old.close()
        try:
            try:
                return work()
            except Exception as exc:
                if "released" not in str(exc) and "not loaded" not in str(exc):
                    raise
                # a restarted server (Milvus Lite, or a cluster after maintenance) holds the collections unloaded
                for collection in (self.collection, self.articles_collection):
                    self.client.load_collection(collection)
                return work()
        except Exception as exc:
            error = unavailable(self.target, exc)
            self._lost = isinstance(error, IndexUnavailable)
            raise error from None

    # ------------------------------------------------------------ the contract

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    @property
    def num_chunks(self) -> int:
        return self.statistics.num_docs

    @property
    def newest_day(self) -> int:
        return self._newest

    def current_build_id(self) -> str | None:
        """``build_id_of`` over this index's own connection."""
        return self._call(lambda: build_id_of(self.client, self.target))

    def lookup(self, terms: Sequence[str], qvec: np.ndarray | None, since: int | None = None) -> MilvusLookup:
        self.refresh()
        look = MilvusLookup(self, [t for t in terms if t in self.statistics.vocab], qvec, since)
        self._local.lookup = look  # the rows it fetches serve this thread's later stages (rows are never reused)
        return look

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        """Run one request on the store's threads (a search sends its independent requests at once)."""
        return self._pool.submit(work, *args)

    def _seen(self) -> MilvusLookup:
        look = getattr(self._local, "lookup", None)
        if look is None:
            look = self._local.lookup = MilvusLookup(self, [], None, None)
        return look

    def fetch(self, rows: Sequence[int], look: MilvusLookup | None = None, vectors: bool = False) -> list[dict[str, Any]]:
        """Chunk rows with everything a search reads of them (``ROW_FIELDS``, and their vectors when asked), each
        fetched once per search."""
        look = look or self._seen()
        missing = [int(r) for r in dict.fromkeys(rows) if int(r) not in look.rows]
        if missing:
            found = self._query(self.collection, f"row in {missing}", [*ROW_FIELDS, "vector"] if vectors else ROW_FIELDS)
            look.rows.update((int(r["row"]), r) for r in found)
            if vectors:
                look.vectors.update((int(r["row"]), r.pop("vector")) for r in found)
        return [look.rows[int(r)] for r in rows if int(r) in look.rows]

    @property
    def analyses(self) -> FetchedAnalyses:
        """The sentence analyses one search reads, fetched as it asks for them through this thread's current
        lookup (which already holds its candidates' rows: no request of their own)."""
        return FetchedAnalyses(self.fetch, self.statistics.vocab)

    def _query(self, collection: str, where: str, fields: list[str], limit: int | None = None) -> list[dict[str, Any]]:
        extra = {"limit": limit} if limit else {}
        return list(self._call(lambda: self.client.query(collection, filter=where, output_fields=fields, **extra)))

    def search(
        self, field: str, data: Any, limit: int, where: str = "", fields: Sequence[str] = ("article", "day")
    ) -> list[dict[str, Any]]:
        """One similarity search over ``field`` (``vector`` or ``sparse``): hits with row and ``fields``."""
        metric = "BM25" if field == "sparse" else "IP"
        params: dict[str, Any] = {"metric_type": metric}
        if metric == "IP":  # the search breadth of the collection's vector index
            hnsw = self._vector_index == "HNSW"
            params["params"] = {"ef": max(EF_FLOOR, limit)} if hnsw else {"nprobe": NPROBE}
        found = self._call(
            lambda: self.client.search(
                self.collection,
                data=[data],
                anns_field=field,
                limit=limit,
                filter=where,
                output_fields=list(fields),
                search_params=params,
            )
        )
        return list(found[0]) if found else []

    def vectors(self, rows: Sequence[int]) -> np.ndarray | None:
        known = self._seen().vectors
        missing = [int(r) for r in dict.fromkeys(rows) if int(r) not in known]
        if missing:
            found = self._query(self.collection, f"row in {missing}", ["row", "vector"])
            known.update((int(r["row"]), r["vector"]) for r in found)
        dim = self.manifest.dimension
        return np.asarray([known.get(int(r), [0.0] * dim) for r in rows], dtype=np.float32).reshape(len(rows), dim)

    def chunks(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        return {int(r["row"]): {**r, "article_idx": r["article"]} for r in self.fetch(rows)}

    def articles(self, idxs: list[int]) -> dict[int, dict[str, Any]]:
        if not idxs:
            return {}
        found = self._query(self.articles_collection, f"idx in {[int(i) for i in idxs]}", ARTICLE_FIELDS)
        return {int(r["idx"]): r for r in found}

    def article_chunks(self, article_idx: int) -> list[dict[str, Any]]:
        found = self._query(self.collection, f"article == {int(article_idx)}", CHUNK_FIELDS)
        return sorted(({**r, "article_idx": r["article"]} for r in found), key=lambda r: r["ordinal"])

    def article_index(self, ids: Sequence[str]) -> list[int]:
        if not ids:
            return []
        found = self._query(self.articles_collection, f"id in {json.dumps(list(ids), ensure_ascii=False)}", ["idx"])
        return [int(r["idx"]) for r in found]

    def articles_where(self, column: str, value: str | None) -> list[dict[str, Any]]:
        if column not in ("id", "url"):
            raise ValueError(f"articles are looked up by id or url, not {column!r}")
        where = f'{column} != ""' if value is None else f"{column} == {json.dumps(value, ensure_ascii=False)}"
        fields = list(ARTICLE_COLUMNS)
        return self._call(lambda: query_all(self.client, self.articles_collection, where, fields))

    def article_hashes(self) -> dict[str, str]:
        """Article id -> content hash of every article (an update compares them with the files)."""
        found = self._call(lambda: query_all(self.client, self.articles_collection, "idx >= 0", ["id", "content_hash"]))
        return {r["id"]: r["content_hash"] for r in found}

    def top_sources(self, n: int = 3) -> list[str]:
        return self._sources[:n]

    def latest_articles(self, n: int = 5, titled: bool = False) -> list[dict[str, str]]:
        where = f"day >= {self._newest - 31}" if self._newest != UNKNOWN_DAY else "idx >= 0"
        if titled:
            where += ' and title != ""'
        fields = ["idx", "id", "title", "url", "date", "source", "lead"]
        found = self._call(lambda: query_all(self.client, self.articles_collection, where, fields))
        if len(found) < n and self._newest != UNKNOWN_DAY:  # a quiet month: look further back
            where = where.replace(f"day >= {self._newest - 31}", "idx >= 0")
            found = self._call(lambda: query_all(self.client, self.articles_collection, where, fields))
        found.sort(key=lambda r: (r["date"], r["idx"]), reverse=True)
        return [{k: r[k] for k in ("id", "title", "url", "date", "source", "lead")} for r in found[:n]]

    def latest_titles(self, n: int = 2) -> list[str]:
        return [article["title"] for article in self.latest_articles(n, titled=True)]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
