"""Writing an index to Milvus: a whole build into new collections behind the alias, or an update in place.

Each chunk row carries what the search reads of it: the vector, the analysed terms (the exact
tokens of the embedded BM25, stemmed here, from which Milvus's BM25 function builds its sparse
vectors), the sentence analyses (spans, cue bits, terms per sentence) and the article index and day.
The build's statistics (vocabulary with document frequencies, document count) go to the side
collection under a version number that readers poll.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.corpus.records import Article
from index.manifest import Manifest
from index.progress import bar
from index.text.chunking import Chunk

from ..analyses import Analyses
from ..lexical import LexicalIndex, terms_by_id
from ..lookup import newest_day
from .client import DUMMY_DIM, Records, articles_collection, build_collection, meta_collection
from .target import MilvusTarget

log = logging.getLogger(__name__)

BATCH = 500  # rows per insert call
KEEP_BUILDS = 2  # the current collection and the one before it (to move back by hand)
TEXT_BYTES = 65_535  # Milvus's VARCHAR limit
HNSW_UP_TO = 2_000_000  # passages; above it the vectors are IVF-indexed (less memory, slower to build)


@dataclass(frozen=True)
class Corpus:
    """One build's output as the pipeline makes it (``index.build``), ready to be written anywhere."""

    articles: list[Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    lexical: LexicalIndex
    analyses: Analyses

    @functools.cached_property
    def names(self) -> list[str]:
        """Term id -> term of the corpus's BM25 vocabulary (the rows store terms, not ids)."""
        return terms_by_id(self.lexical.vocab)


def fit(text: str, limit: int = TEXT_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes (never inside a character): Milvus refuses longer strings."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def _create(client: Any, collection: str, dim: int, passages: int) -> None:
    """The chunks collection and its articles collection, with their indexes."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("article", DataType.INT64)
    schema.add_field("day", DataType.INT32)
    schema.add_field("ordinal", DataType.INT32)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    # the client's analysed terms, one token each: the standard tokenizer keeps a stem whole
    schema.add_field(
        "terms", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True, analyzer_params={"tokenizer": "standard"}
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("title_terms", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("analysis", DataType.JSON)
    schema.add_function(
        Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"])
    )
    index = client.prepare_index_params()
    if vector_index(passages) == "HNSW":
        index.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    else:
        index.add_index("vector", index_type="IVF_FLAT", metric_type="IP", params={"nlist": int(4 * passages**0.5)})
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 0.9, "bm25_b": 0.4})
    client.create_collection(collection, schema=schema, index_params=index)

    schema = client.create_schema(auto_id=False)
    schema.add_field("idx", DataType.INT64, is_primary=True)
    for name, size in (("id", 1024), ("title", 8192), ("url", 8192), ("date", 64), ("source", 1024), ("author", 1024)):
        schema.add_field(name, DataType.VARCHAR, max_length=size)
    for name, size in (("body_key", 64), ("content_hash", 64), ("path", 8192), ("lead", 8192)):
        schema.add_field(name, DataType.VARCHAR, max_length=size)
    schema.add_field("day", DataType.INT32)
    schema.add_field("dummy", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
    index = client.prepare_index_params()
    index.add_index("dummy", index_type="FLAT", metric_type="L2")
    client.create_collection(articles_collection(collection), schema=schema, index_params=index)


def vector_index(passages: int) -> str:
    """The vector index a build of ``passages`` gets: HNSW, or IVF_FLAT past ``HNSW_UP_TO`` (less memory)."""
    return "HNSW" if passages <= HNSW_UP_TO else "IVF_FLAT"


def article_rows(articles: Sequence[Article], idxs: Sequence[int], days: Sequence[int]) -> list[dict[str, Any]]:
    """The articles collection's rows."""
    return [
        {
            "idx": int(i),
            "id": fit(a.id, 1024),
            "title": fit(a.title, 8192),
            "url": fit(a.url, 8192),
            "date": fit(a.date, 64),
            "source": fit(a.source, 1024),
            "author": fit(a.author, 1024),
            "body_key": a.body_key,
            "content_hash": a.content_hash,
            "path": fit(a.path, 8192),
            "lead": fit(a.text[:600], 8192),
            "day": int(d),
            "dummy": [0.0] * DUMMY_DIM,
        }
        for a, i, d in zip(articles, idxs, days, strict=True)
    ]


def chunk_rows(corpus: Corpus, chunk_ids: Sequence[int], rows: Sequence[int], article_of: dict[str, int]) -> list[dict[str, Any]]:
    """The chunks collection's rows for chunks ``chunk_ids`` of ``corpus``, numbered ``rows``."""
    a, names = corpus.analyses, corpus.names
    out = []
    for c, row in zip(chunk_ids, rows, strict=True):
        chunk = corpus.chunks[c]
        art = int(a.chunk_article[c])
        sentences = a.sentence_range(c)
        own, title = a.chunk_terms(c), a.title_ids(art)
        out.append(
            {
                "row": int(row),
                "article": article_of[chunk.article_id],
                "day": int(a.article_day[art]),
                "ordinal": chunk.ordinal,
                "start": chunk.start,
                "end": chunk.end,
                "text": fit(chunk.text),
                "vector": corpus.vectors[c].astype(np.float32).tolist(),
                "terms": fit(" ".join(names[t] for t in [*own.tolist(), *title.tolist()])),
                "title_terms": fit(" ".join(names[t] for t in title.tolist())),
                "analysis": {
                    "spans": a.spans[sentences.start : sentences.stop].tolist(),
                    "cues": a.cues[sentences.start : sentences.stop].tolist(),
                    "lengths": [int(a.term_ptr[s + 1] - a.term_ptr[s]) for s in sentences],
                },
            }
        )
    return out


def statistics(
    corpus: Corpus,
    manifest: Manifest,
    next_row: int,
    next_article: int,
    version: int,
    before: Sequence[str] = (),
    index_type: str = "",
) -> dict[str, Any]:
    """The build's side record: what a reader needs beside the rows (see ``reading.MilvusIndex``).

    ``before`` is the vocabulary the record held: an update keeps its terms at their ids (a term
    no passage holds any more stays, with no documents) and adds new terms after them, so a term id
    means the same word to every reader whichever version of the record it has read.
    """
    lexical = corpus.lexical
    held = set(before)
    names = [*before, *(t for t in corpus.names if t not in held)]
    df = lexical.document_frequency(np.asarray([lexical.vocab.get(t, -1) for t in names], dtype=np.int64)).tolist()
    sources: dict[str, int] = {}
    for article in corpus.articles:
        if article.source:
            sources[article.source] = sources.get(article.source, 0) + 1
    return {
        "version": version,
        "manifest": manifest.to_json(),
        "vocab": names,
        "df": df,
        "num_docs": lexical.num_docs,
        "avg_len": float(lexical.bm25.lengths.mean()) if lexical.num_docs else 1.0,
        "next_row": next_row,
        "next_article": next_article,
        "newest_day": newest_day(corpus.analyses),
        "vector_index": index_type or vector_index(next_row),  # as the collection was created (an update keeps it)
        "sources": sorted(sources, key=lambda s: (-sources[s], s))[:20],
    }


def insert(client: Any, collection: str, rows: list[dict[str, Any]]) -> None:
    """Insert new rows in batches (Milvus does not check primary keys on insert: the rows must be new)."""
    for start in range(0, len(rows), BATCH):
        client.insert(collection, rows[start : start + BATCH])


def upsert(client: Any, collection: str, rows: list[dict[str, Any]]) -> None:
    """Insert or replace rows by primary key, in batches."""
    for start in range(0, len(rows), BATCH):
        client.upsert(collection, rows[start : start + BATCH])


def write_collections(
    client: Any,
    target: MilvusTarget,
    corpus: Corpus,
    manifest: Manifest,
    progress: bool = True,
    note: Callable[[str], None] = lambda _m: None,
) -> str:
    """Write ``corpus`` as a new build's collections, then point the alias at them; returns the collection.

    Until the alias moves, readers keep the build they had; a build stopped midway leaves
    collections no alias names, dropped by the next build.
    """
    records = Records(client, target.name)
    records.ensure()
    collection = build_collection(target.name, manifest.build_id)
    _create(client, collection, manifest.dimension, len(corpus.chunks))
    days = corpus.analyses.article_day.tolist()
    article_of = {a.id: i for i, a in enumerate(corpus.articles)}
    insert(client, articles_collection(collection), article_rows(corpus.articles, range(len(corpus.articles)), days))
    with bar(total=len(corpus.chunks), enabled=progress, desc="writing to Milvus", unit="chunk") as shown:
        for start in range(0, len(corpus.chunks), BATCH):
            ids = list(range(start, min(start + BATCH, len(corpus.chunks))))
            client.insert(collection, chunk_rows(corpus, ids, ids, article_of))
            shown.update(len(ids))
    note("indexing in Milvus")
    client.flush(collection)
    client.flush(articles_collection(collection))
    client.load_collection(collection)
    client.load_collection(articles_collection(collection))
    stats = statistics(corpus, manifest, len(corpus.chunks), len(corpus.articles), version=1)
    records.put(f"build/{collection}", stats, summary(stats))
    switch_alias(client, target.name, collection)
    drop_old(client, target.name, collection)
    return collection


def summary(stats: dict[str, Any]) -> dict[str, Any]:
    """What readers poll of a build's record: its version and build id (``Records.summary``)."""
    return {"version": stats["version"], "build_id": stats["manifest"]["build_id"]}


def switch_alias(client: Any, name: str, collection: str) -> None:
    """Point readers at ``collection`` in one step."""
    if name in client.list_aliases(collection_name=collection).get("aliases", []):
        return
    try:
        current = client.describe_alias(name)
    except Exception:  # no alias yet: the first build
        current = None
    if current:
        client.alter_alias(collection, name)
    else:
        client.create_alias(collection, name)


def current_collection(client: Any, name: str) -> str | None:
    """The chunks collection the alias names, or None when there is no index yet."""
    try:
        return client.describe_alias(name).get("collection_name") or None
    except Exception as exc:
        if "not" in str(exc).lower() and ("exist" in str(exc).lower() or "found" in str(exc).lower()):
            return None
        raise


def drop_old(client: Any, name: str, current: str) -> None:
    """Keep the current build and the newest finished one before it (one with a record); drop every other
    collection of the index older than the current one, half-written builds included."""
    prefix = f"{name}__b"
    records = Records(client, name)
    older = sorted(
        (c for c in client.list_collections() if c.startswith(prefix) and not c.endswith("__articles") and c < current),
        reverse=True,
    )
    finished = [c for c in older if records.head(f"build/{c}") is not None]
    keep = {current, *finished[: KEEP_BUILDS - 1]}
    for collection in older:
        if collection not in keep:
            for c in (collection, articles_collection(collection)):
                if client.has_collection(c):
                    client.drop_collection(c)
            records.delete(f"build/{collection}")
    log.debug("kept Milvus builds %s (records in %s)", sorted(keep), meta_collection(name))
