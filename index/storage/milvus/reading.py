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
from typing import Any

import numpy as np

from index.manifest import Manifest
from index.text.dates import UNKNOWN_DAY

from ..analyses import offsets
from ..bm25 import score_documents
from ..lexical import LexicalIndex, LexicalParams
from ..store import IndexCorrupt, IndexNotFound, IndexUnavailable
from .client import Records, articles_collection, build_of, connect, query_all, unavailable
from .target import MilvusTarget
from .writing import current_collection

REFRESH_SECONDS = 10.0  # how often a reader asks whether an update changed the statistics
EF_FLOOR = 128  # HNSW search breadth: at least this, and at least the number of rows asked for
CHUNK_FIELDS = ["row", "article", "ordinal", "start", "end", "text"]
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


class FetchedAnalyses:
    """The sentence analyses of the chunks one search reads, fetched by id (more are fetched when asked for)."""

    def __init__(self, fetch: Callable[[list[int]], list[dict[str, Any]]], vocab: dict[str, int]) -> None:
        self._fetch = fetch
        self._vocab = vocab
        self._where: dict[int, tuple[int, int]] = {}  # row -> (first sentence, sentences)
        self._titles: dict[int, np.ndarray] = {}
        self._spans: list[list[int]] = []
        self._cues: list[int] = []
        self._lengths: list[int] = []
        self._terms: list[int] = []
        self.spans = np.zeros((0, 2), dtype=np.int32)
        self.cues = np.zeros(0, dtype=np.uint16)
        self.term_ptr = np.zeros(1, dtype=np.int64)
        self.terms = np.zeros(0, dtype=np.int32)

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Take in fetched chunk rows (``row``, ``article``, ``analysis``, ``terms``, ``title_terms``)."""
        vocab = self._vocab
        for r in rows:
            row = int(r["row"])
            if row in self._where:
                continue
            analysis = r["analysis"] if isinstance(r["analysis"], dict) else json.loads(r["analysis"])
            lengths = [int(n) for n in analysis["lengths"]]
            own = r["terms"].split()[: sum(lengths)]  # the chunk's terms first, then its title's
            self._where[row] = (len(self._cues), len(lengths))
            self._spans.extend(analysis["spans"])
            self._cues.extend(analysis["cues"])
            self._lengths.extend(lengths)
            self._terms.extend(vocab.get(t, -1) for t in own)
            self._titles.setdefault(
                int(r["article"]), np.asarray([vocab.get(t, -1) for t in r["title_terms"].split()], dtype=np.int32)
            )
        self.spans = np.asarray(self._spans, dtype=np.int32).reshape(-1, 2)
        self.cues = np.asarray(self._cues, dtype=np.uint16)
        self.term_ptr = offsets(self._lengths)
        self.terms = np.asarray(self._terms, dtype=np.int32)

    def chunk_sentences(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        missing = [r for r in dict.fromkeys(rows.tolist()) if r not in self._where]
        if missing:
            self.add(self._fetch(missing))
        where = [self._where.get(r, (0, 0)) for r in rows.tolist()]  # a row gone meanwhile: no sentences
        pairs = np.asarray(where, dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def title_ids(self, article: int) -> np.ndarray:
        return self._titles.get(int(article), np.zeros(0, dtype=np.int32))


def current_manifest(target: MilvusTarget) -> Manifest | None:
    """The manifest of the build the alias names, or None (no index yet); ``IndexUnavailable`` when unreachable."""
    client = connect(target)
    try:
        collection = current_collection(client, target.name)
        stats = Records(client, target.name).get(f"build/{collection}") if collection else None
    except Exception as exc:
        raise unavailable(target, exc) from None
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
        self.path = str(target)
        self._lock = threading.RLock()
        self._local = threading.local()  # the chunk rows this thread's last lookup fetched, for ``analyses_for``
        self._checked = time.monotonic()
        self._lost = False  # the last request found the server gone: reconnect before the next
        self._use(stats)

    @classmethod
    def open(cls, target: MilvusTarget) -> MilvusIndex:
        """Connect and read the current build's record; ``IndexUnavailable``, ``IndexNotFound`` or ``IndexCorrupt``."""
        client = connect(target)
        try:
            collection = current_collection(client, target.name)
            stats = Records(client, target.name).get(f"build/{collection}") if collection else None
        except Exception as exc:
            raise unavailable(target, exc) from None
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
        self._sources = list(stats.get("sources", []))

    def refresh(self) -> None:
        """Pick up statistics an in-place update wrote (asked at most every ``REFRESH_SECONDS``)."""
        if time.monotonic() - self._checked < REFRESH_SECONDS:
            return
        with self._lock:
            self._checked = time.monotonic()
            stats = self._call(lambda: Records(self.client, self.target.name).get(f"build/{self.collection}"))
            if stats and int(stats["version"]) != self.version:
                self._use(stats)

    def _call(self, work: Callable[[], Any]) -> Any:
        """Run one request; a failure is ``IndexUnavailable``, and the next request connects afresh (a server
        that went away and came back is found again without a restart)."""
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

    def current_collection(self) -> str | None:
        """The collection the alias names now (another build than this one's after a rebuild)."""
        return self._call(lambda: current_collection(self.client, self.target.name))

    def lookup(self, terms: Sequence[str], qvec: np.ndarray | None, since: int | None = None) -> MilvusLookup:
        self.refresh()
        return MilvusLookup(self, [t for t in terms if t in self.statistics.vocab], qvec, since)

    def analyses_for(self, rows: np.ndarray) -> FetchedAnalyses:
        fetched = FetchedAnalyses(self.analysed, self.statistics.vocab)
        if len(rows):
            held: dict[int, dict[str, Any]] = getattr(self._local, "rows", {})  # read by this thread's lookup
            self._local.rows = {}
            fetched.add([held[r] for r in rows.tolist() if r in held])
            fetched.add(self.analysed([r for r in rows.tolist() if r not in held]))
        return fetched

    def analysed(self, rows: list[int]) -> list[dict[str, Any]]:
        """Chunk rows with what the answer layer reads of them: article, sentence analyses, terms, title terms."""
        fields = ["row", "article", "day", "analysis", "terms", "title_terms"]
        found = self._query(self.collection, f"row in {rows}", fields) if rows else []
        held = getattr(self._local, "rows", None)
        if held is None:
            held = self._local.rows = {}
        held.update((int(r["row"]), r) for r in found)
        return found

    def _query(self, collection: str, where: str, fields: list[str], limit: int | None = None) -> list[dict[str, Any]]:
        extra = {"limit": limit} if limit else {}
        return list(self._call(lambda: self.client.query(collection, filter=where, output_fields=fields, **extra)))

    def search(self, field: str, data: Any, limit: int, where: str = "") -> list[dict[str, Any]]:
        """One similarity search over ``field`` (``vector`` or ``sparse``): hits with row, article and day."""
        metric = "BM25" if field == "sparse" else "IP"
        params: dict[str, Any] = {"metric_type": metric}
        if metric == "IP":
            params["params"] = {"ef": max(EF_FLOOR, limit)}
        found = self._call(
            lambda: self.client.search(
                self.collection,
                data=[data],
                anns_field=field,
                limit=limit,
                filter=where,
                output_fields=["article", "day"],
                search_params=params,
            )
        )
        return list(found[0]) if found else []

    def vectors(self, rows: Sequence[int]) -> np.ndarray | None:
        found = {
            r["row"]: r["vector"] for r in self._query(self.collection, f"row in {[int(r) for r in rows]}", ["row", "vector"])
        }
        dim = self.manifest.dimension
        return np.asarray([found.get(int(r), [0.0] * dim) for r in rows], dtype=np.float32).reshape(len(rows), dim)

    def chunks(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        if not rows:
            return {}
        found = self._query(self.collection, f"row in {[int(r) for r in rows]}", CHUNK_FIELDS)
        return {int(r["row"]): {**r, "article_idx": r["article"]} for r in found}

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
        fields = ["id", "title", "source", "date", "url", "path"]
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
        found.sort(key=lambda r: (r["date"], r["idx"]), reverse=True)
        return [{k: r[k] for k in ("id", "title", "url", "date", "source", "lead")} for r in found[:n]]

    def latest_titles(self, n: int = 2) -> list[str]:
        return [article["title"] for article in self.latest_articles(n, titled=True)]

    def close(self) -> None:
        self.client.close()

    @property
    def build(self) -> str:
        return build_of(self.target.name, self.collection)


class MilvusLookup:
    """One question's retrieval through Milvus: each call a search; the scores it returns are kept by row."""

    def __init__(self, store: MilvusIndex, terms: list[str], qvec: np.ndarray | None, since: int | None) -> None:
        self._store = store
        self._terms = terms
        self._text = " ".join(terms)
        self._exact: dict[int, float] = {}
        self._qvec = None if qvec is None else np.asarray(qvec, dtype=np.float32).tolist()
        self._since = since
        self._cos: dict[int, float] = {}
        self._bm25: dict[int, float] = {}
        self._article: dict[int, int] = {}
        self._day: dict[int, int] = {}

    def _take(self, hits: list[dict[str, Any]], into: dict[int, float], bm25: bool) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = [], []
        for h in hits:
            row = int(h["id"] if "id" in h else h["row"])
            entity = h.get("entity", h)
            # Milvus Lite reports BM25 as a negated distance; a cluster as a positive score
            score = abs(float(h["distance"])) if bm25 else float(h["distance"])
            into[row] = score
            self._article[row] = int(entity["article"])
            self._day[int(entity["article"])] = int(entity["day"])
            rows.append(row)
            scores.append(score)
        return np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32)

    def _top(self, field: str, data: Any, n: int, recent: int, into: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        bm25 = field == "sparse"
        rows, scores = self._take(self._store.search(field, data, n), into, bm25)
        if recent > 0 and self._since is not None:
            more, _ = self._take(self._store.search(field, data, recent, f"day >= {int(self._since)}"), into, bm25)
            rows = np.union1d(rows, more)
            scores = np.asarray([into[int(r)] for r in rows], dtype=np.float32)
        return rows, scores

    def dense(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        if self._qvec is None or n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return self._top("vector", self._qvec, n, recent, self._cos)

    def lexical(self, n: int, recent: int = 0) -> tuple[np.ndarray, np.ndarray]:
        if not self._text or n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows, _ = self._top("sparse", self._text, n, recent, self._bm25)  # Milvus finds them; they are scored here
        scores = self.bm25(rows)
        keep = scores > 0
        return rows[keep], scores[keep]

    def _by_id(self, rows: np.ndarray, field: str, data: Any, known: dict[int, float]) -> np.ndarray:
        """Scores of ``rows``: those a search returned, the rest by a second search filtered to them (0: not found)."""
        missing = [int(r) for r in rows if int(r) not in known]
        if missing and data:
            self._take(self._store.search(field, data, len(missing), f"row in {missing}"), known, field == "sparse")
        return np.asarray([known.get(int(r), 0.0) for r in rows], dtype=np.float32)

    def cosines(self, rows: np.ndarray) -> np.ndarray:
        return self._by_id(rows, "vector", self._qvec, self._cos)

    def bm25(self, rows: np.ndarray) -> np.ndarray:
        """Each row's BM25, computed here from its terms (fetched by id) and the build's statistics: Milvus's
        own scores count per segment and by its own formula, and the answer layer was trained on these."""
        missing = [int(r) for r in rows if int(r) not in self._exact]
        if missing and self._terms:
            found = self._store.analysed(missing)
            for r in found:
                self._article[int(r["row"])] = int(r["article"])
                self._day[int(r["article"])] = int(r["day"])
            scores = self._store.statistics.score([r["terms"] for r in found], self._terms)
            self._exact.update(zip((int(r["row"]) for r in found), scores.tolist(), strict=True))
        return np.asarray([self._exact.get(int(r), 0.0) for r in rows], dtype=np.float32)

    def articles(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray([self._article[int(r)] for r in rows], dtype=np.int64)

    def days(self, articles: np.ndarray) -> np.ndarray:
        return np.asarray([self._day.get(int(a), UNKNOWN_DAY) for a in articles], dtype=np.int32)
