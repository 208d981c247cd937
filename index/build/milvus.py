"""Milvus as the destination of a build or an update (``INDEX_STORE=milvus://HOST:PORT/NAME``).

``run.run_build`` runs the pipeline as for the embedded store: the same reading, chunking, analysis and
embedding, with the embeddings cache in the local ``--index`` directory. Only the writing differs:
a build writes new collections and switches the alias; an update changes the current collection
in place, each changed article's new rows inserted before its old rows are deleted, so a reader
never finds an article missing. A lock record in Milvus keeps two machines from writing at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

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

from .run import Destination

log = logging.getLogger(__name__)


@contextlib.contextmanager
def milvus_destination(
    target: MilvusTarget, incremental: bool, progress: bool, note: Callable[[str], None]
) -> Iterator[Destination]:
    """Milvus as a build's destination, under its lock record: the current build's manifest and articles, and the
    writer (an update in place, or new collections behind the alias). A failed request is the store's error."""
    client = connect(target)
    try:
        with milvus_lock(Records(client, target.name), target):
            collection, stats = current_record(client, target)
            previous = Manifest.from_json(stats["manifest"]) if stats else None
            held = _articles(client, collection) if collection else []
            before = {r["id"]: (r["content_hash"], r["title"], r["path"]) for r in held}
            if incremental and collection and stats:
                write: InPlace | _New = InPlace(client, target, collection, stats, held)
            else:
                write = _New(client, target, progress, note)
            yield Destination(previous, write, before)
    except Exception as exc:
        if type(exc).__module__.startswith(("pymilvus", "grpc")):
            raise unavailable(target, exc) from None
        raise
    finally:
        client.close()


def _articles(client: Any, collection: str) -> list[dict[str, Any]]:
    """The collection's article records: index, id, content hash, title and source file (read once per build)."""
    return query_all(client, articles_collection(collection), "idx >= 0", ["idx", "id", "content_hash", "title", "path"])


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

    def __init__(
        self, client: Any, target: MilvusTarget, collection: str, stats: dict[str, Any], records: list[dict[str, Any]]
    ) -> None:
        self.client, self.target, self.collection, self.stats = client, target, collection, stats
        self.records = records  # the articles as the update found them (``_articles``)

    def __call__(self, corpus: Corpus, manifest: Manifest) -> str:
        client, chunks_at, articles_at = self.client, self.collection, articles_collection(self.collection)
        next_row, next_article = int(self.stats["next_row"]), int(self.stats["next_article"])
        client.delete(chunks_at, filter=f"row >= {next_row}")
        client.delete(articles_at, filter=f"idx >= {next_article}")
        # those past the counter were left by an update that stopped, and are gone now
        held = {r["id"]: (int(r["idx"]), r["content_hash"]) for r in self.records if int(r["idx"]) < next_article}
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
