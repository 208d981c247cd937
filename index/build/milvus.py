"""Build and update an index in Milvus (``INDEX_STORE=milvus://HOST:PORT/NAME``): ``run_milvus``.

The pipeline is the embedded store's (``run._build``): the same reading, chunking, analysis and
embedding, with the embeddings cache in the local ``--index`` directory. Only the writing differs:
a build writes new collections and switches the alias; an update changes the current collection
in place, each changed article's new rows inserted before its old rows are deleted, so a reader
never finds an article missing. A lock record in Milvus keeps two machines from writing at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from index.corpus.removals import deny_list
from index.embedding.embedder import Embedder
from index.manifest import Manifest
from index.storage.milvus.client import Records, articles_collection, connect, milvus_lock, query_all, unavailable
from index.storage.milvus.reading import current_record
from index.storage.milvus.target import MilvusTarget
from index.storage.milvus.writing import (
    Corpus,
    article_rows,
    chunk_rows,
    insert,
    statistics,
    summary,
    upsert,
    write_collections,
)
from index.storage.store import build_lock, removed_on_failure

from .config import MAX_REMOVED_SHARE, BuildConfig, BuildReport
from .guard import RemovalGuard, resolved_sources
from .run import _build, update_config
from .steps import LazyEmbedder, cyclic_gc_paused

log = logging.getLogger(__name__)


def run_milvus(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    target: MilvusTarget,
    config: BuildConfig | None = None,
    *,
    incremental: bool = False,
    embedder: Embedder | None = None,
    progress: bool = True,
    use_cache: bool = True,
    strict: bool = False,
    on_stage: Callable[[str], None] | None = None,
    allow_removals: bool = False,
    max_removed_share: float = MAX_REMOVED_SHARE,
    confirmed: Collection[str] = (),
) -> BuildReport:
    """``run.run_build`` for an index in Milvus; ``index_dir`` holds only the embeddings cache."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    paths = resolved_sources(paths)
    client = connect(target)
    records = Records(client, target.name)
    note = on_stage or (lambda _msg: None)
    guard = None if allow_removals or not incremental else RemovalGuard(max_removed_share, frozenset(confirmed))
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(removed_on_failure(index_dir))
            stack.enter_context(build_lock(index_dir))  # the embeddings cache
            stack.enter_context(milvus_lock(records, target))
            stack.enter_context(cyclic_gc_paused())
            collection, stats = current_record(client, target)
            previous = Manifest.from_json(stats["manifest"]) if stats else None
            config = update_config(config, previous) if incremental and previous else config or BuildConfig()
            lazy = LazyEmbedder(config, embedder)
            before = _summaries(client, collection) if collection else {}
            if incremental and previous is not None and collection and stats:
                write = InPlace(client, target, collection, stats)
            else:
                write = _New(client, target, progress, note)
            try:
                report = _build(
                    paths,
                    index_dir,
                    config,
                    previous,
                    lazy,
                    progress,
                    use_cache,
                    strict,
                    note,
                    guard,
                    None,
                    deny_list(paths),
                    write=write,
                    before=before,
                )
            finally:
                lazy.close()
            if isinstance(write, InPlace):
                report.from_scratch = False
    except Exception as exc:
        if type(exc).__module__.startswith(("pymilvus", "grpc")):
            raise unavailable(target, exc) from None
        raise
    finally:
        client.close()
    report.seconds = time.perf_counter() - started
    return report


def _summaries(client: Any, collection: str) -> dict[str, tuple[str, str, str]]:
    """Article id -> (content hash, title, source file) of the collection's articles."""
    found = query_all(client, articles_collection(collection), "idx >= 0", ["id", "content_hash", "title", "path"])
    return {r["id"]: (r["content_hash"], r["title"], r["path"]) for r in found}


class _New:
    """Write a new build's collections and switch the alias to them."""

    def __init__(self, client: Any, target: MilvusTarget, progress: bool, note: Callable[[str], None]) -> None:
        self.client, self.target, self.progress, self.note = client, target, progress, note

    def __call__(self, corpus: Corpus, manifest: Manifest) -> str:
        self.note("writing to Milvus")
        collection = write_collections(self.client, self.target, corpus, manifest, self.progress, self.note)
        return f"{self.target} (collection {collection})"


class InPlace:
    """Change the current collection to hold ``corpus``, in an order that a crash at any step leaves readable
    and the next update mends:

    1. rows past the counters (left by an update that stopped before saving them) are deleted;
    2. new and changed articles' passages are inserted as new rows, and new articles' records;
    3. the rows they replace, and removed articles, are deleted (a reader meanwhile may see an article's
       old and new passages side by side, never none);
    4. the statistics record is saved (a new version and build id, the counters);
    5. changed articles' records get their new hashes: until then the next update sees them as changed
       and writes them again.
    """

    def __init__(self, client: Any, target: MilvusTarget, collection: str, stats: dict[str, Any]) -> None:
        self.client, self.target, self.collection, self.stats = client, target, collection, stats

    def __call__(self, corpus: Corpus, manifest: Manifest) -> str:
        client, chunks_at, articles_at = self.client, self.collection, articles_collection(self.collection)
        next_row, next_article = int(self.stats["next_row"]), int(self.stats["next_article"])
        client.delete(chunks_at, filter=f"row >= {next_row}")
        client.delete(articles_at, filter=f"idx >= {next_article}")
        held = {
            r["id"]: (int(r["idx"]), r["content_hash"])
            for r in query_all(client, articles_at, "idx >= 0", ["idx", "id", "content_hash"])
        }
        article_of: dict[str, int] = {}
        added: list[int] = []  # corpus article positions
        changed: list[int] = []
        for i, a in enumerate(corpus.articles):
            if a.id not in held:
                article_of[a.id], next_article = next_article, next_article + 1
                added.append(i)
            else:
                article_of[a.id] = held[a.id][0]
                if held[a.id][1] != a.content_hash:
                    changed.append(i)
        touched = {corpus.articles[i].id for i in added + changed}
        replaced = [held[corpus.articles[i].id][0] for i in changed]
        removed = [idx for i, (idx, _) in held.items() if i not in article_of]
        ids = [c for c, chunk in enumerate(corpus.chunks) if chunk.article_id in touched]
        rows = list(range(next_row, next_row + len(ids)))

        def records_of(positions: list[int]) -> list[dict[str, Any]]:
            days = corpus.analyses.article_day
            chosen = [corpus.articles[i] for i in positions]
            return article_rows(chosen, [article_of[a.id] for a in chosen], [int(days[i]) for i in positions])

        insert(client, articles_at, records_of(added))
        insert(client, chunks_at, chunk_rows(corpus, ids, rows, article_of))
        client.flush(chunks_at)
        if replaced:
            client.delete(chunks_at, filter=f"article in {replaced} and row < {next_row}")
        if removed:
            client.delete(chunks_at, filter=f"article in {removed}")
            client.delete(articles_at, filter=f"idx in {removed}")
        client.flush(chunks_at)
        version = int(self.stats["version"]) + 1
        index_type = self.stats.get("vector_index", "")
        stats = statistics(corpus, manifest, next_row + len(ids), next_article, version, self.stats["vocab"], index_type)
        Records(client, self.target.name).put(f"build/{self.collection}", stats, summary(stats))
        upsert(client, articles_at, records_of(changed))  # a changed article keeps its index
        client.flush(articles_at)
        log.info("updated %s in place: %d added, %d changed, %d removed", self.target, len(added), len(changed), len(removed))
        return f"{self.target} (collection {self.collection}, version {version})"
