"""The on-disk index: one immutable directory per build, switched in atomically.

The paths are named in ``index.layout`` (INDEX_DIR's ``CURRENT``, ``builds/<id>/``, the cache and
the lock). A reader opens whatever ``CURRENT`` names, so it never sees a half-written build: a
build is written under a scratch name, renamed into place, and only then does a new ``CURRENT``
replace the old one. If the build ``CURRENT`` names is damaged, the newest older build that still
verifies is used.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.corpus.records import Article
from index.files import write_atomically
from index.layout import BuildFiles, IndexLayout
from index.manifest import FORMAT_VERSION, Manifest, ManifestError
from index.text.chunking import Chunk

from .analyses import Analyses
from .lexical import LexicalIndex
from .vectors import flat_vectors, load_index, save_index

KEEP_BUILDS = 2

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """Base for index problems that deserve a clear one-line message rather than a traceback."""


class IndexNotFound(StoreError):
    pass


class IndexCorrupt(StoreError):
    pass


class IndexBusy(StoreError):
    pass


class NotAnIndexDir(StoreError):
    """The index path exists but is not a directory (``--index`` or ``INDEX_DIR`` names a file)."""


def check_index_path(index_dir: Path) -> None:
    """Raise ``NotAnIndexDir`` when ``index_dir``, or a folder above it, is a file."""
    for path in (index_dir, *index_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise NotAnIndexDir(f"{path} is a file, not an index directory: point --index (or INDEX_DIR) at a directory")
            return


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_build_id(index_dir: Path) -> str:
    """A fresh build id that sorts by creation time (microseconds keep quick rebuilds apart)."""
    while True:
        build_id = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S-%fZ")
        if not IndexLayout(index_dir).build(build_id).root.exists():
            return build_id


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's build lock, or raise ``IndexBusy`` at once."""
    check_index_path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the index directory {index_dir}: {exc.strerror or exc} (--index or INDEX_DIR)") from None
    with open(IndexLayout(index_dir).lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(f"another build or update is running on {index_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def removed_on_failure(index_dir: Path) -> Iterator[None]:
    """Remove the folders a failed first build created for ``index_dir``: a failure leaves nothing behind."""
    missing = [p for p in (index_dir, *index_dir.parents) if not p.exists()]
    try:
        yield
    except BaseException:
        if missing:
            shutil.rmtree(missing[-1], ignore_errors=True)
        raise


# ------------------------------------------------------------------ writing

_META_SCHEMA = """
CREATE TABLE articles (
    idx INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    metadata TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body_key TEXT NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,
    article_idx INTEGER NOT NULL REFERENCES articles(idx),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_idx, ordinal);
"""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_meta(path: Path, articles: list[Article], chunks: list[Chunk]) -> None:
    """Write articles and chunks; chunk row i is FAISS id i and BM25 document i."""
    db = sqlite3.connect(path)
    try:
        db.executescript(_META_SCHEMA)
        article_idx = {a.id: i for i, a in enumerate(articles)}
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    i,
                    a.id,
                    a.title,
                    a.text,
                    a.url,
                    a.date,
                    a.source,
                    a.author,
                    json.dumps(a.metadata, ensure_ascii=False, default=str),
                    a.path,
                    a.content_hash,
                    a.body_key,
                )
                for i, a in enumerate(articles)
            ],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?)",
            [(row, article_idx[c.article_id], c.ordinal, c.start, c.end, c.text) for row, c in enumerate(chunks)],
        )
        db.commit()
    finally:
        db.close()


def write_build(
    index_dir: Path,
    articles: list[Article],
    chunks: list[Chunk],
    faiss_index: Any,
    lexical: LexicalIndex,
    analyses: Analyses,
    manifest: Manifest,
) -> Path:
    """Write a complete build aside, then make it current. Returns the build directory."""
    layout = IndexLayout(index_dir)
    layout.builds.mkdir(parents=True, exist_ok=True)
    tmp = layout.scratch(manifest.build_id)
    if tmp.root.exists():
        shutil.rmtree(tmp.root)
    tmp.root.mkdir()
    try:
        write_meta(tmp.meta, articles, chunks)
        save_index(faiss_index, str(tmp.vectors))
        lexical.save(tmp.bm25)
        analyses.save(tmp.analysis)
        sizes = {p.name: _size(p) for p in sorted(tmp.root.iterdir())}
        tmp.manifest.write_text(manifest.replace(sizes_bytes=sizes, format_version=FORMAT_VERSION).dumps(), encoding="utf-8")
        for file in tmp.root.rglob("*"):
            if file.is_file():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
    except (OSError, RuntimeError, sqlite3.Error) as exc:  # disk full, permissions...: the live build is untouched
        shutil.rmtree(tmp.root, ignore_errors=True)
        full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "full" in str(exc).lower()
        why = "the disk is full" if full else str(exc)
        raise StoreError(f"could not write the new build in {layout.builds} ({why}); the previous index is still in use") from exc
    final = layout.build(manifest.build_id).root
    os.replace(tmp.root, final)
    _fsync_dir(layout.builds)
    set_current(index_dir, manifest.build_id)
    return final


def set_current(index_dir: Path, build_id: str) -> None:
    """Atomically point CURRENT at ``build_id``."""
    layout = IndexLayout(index_dir)
    write_atomically(layout.current, build_id + "\n", aside=layout.next_current(str(os.getpid())))


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def current_build_id(index_dir: Path) -> str | None:
    """What CURRENT says, as text (undecodable bytes replaced: a damaged pointer must not raise)."""
    try:
        return IndexLayout(index_dir).current.read_bytes().decode("utf-8", errors="replace").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def list_builds(index_dir: Path) -> list[str]:
    """Finished builds, oldest first (ids sort by time)."""
    builds = IndexLayout(index_dir).builds
    if not builds.is_dir():
        return []
    return sorted(p.name for p in builds.iterdir() if p.is_dir() and IndexLayout.is_finished(p.name))


def cleanup(index_dir: Path, keep: int = KEEP_BUILDS) -> list[str]:
    """Remove leftovers of interrupted builds and all but the newest ``keep`` builds.

    Call only while holding the build lock. The current build is always kept.
    """
    removed: list[str] = []
    layout = IndexLayout(index_dir)
    if not layout.builds.is_dir():
        return removed
    for tmp in layout.scratches():
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp.name)
    current = current_build_id(index_dir)
    finished = list_builds(index_dir)
    for name in finished[: max(0, len(finished) - keep)]:
        if name != current:
            shutil.rmtree(layout.build(name).root, ignore_errors=True)
            removed.append(name)
    for stray in layout.stray_currents():
        stray.unlink(missing_ok=True)
    return removed


# ------------------------------------------------------------------ reading


@dataclass
class StoredIndex:
    """A loaded build: manifest, FAISS vectors, BM25, per-chunk analyses, and article/chunk metadata."""

    path: Path
    manifest: Manifest
    faiss_index: Any
    lexical: LexicalIndex
    analyses: Analyses
    flat: np.ndarray | None = None  # the vectors of an exact index, searched with numpy (``vectors.flat_vectors``)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def chunk_article(self) -> np.ndarray:
        """Chunk row -> article index."""
        return self.analyses.chunk_article

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    @property
    def num_chunks(self) -> int:
        return int(self.chunk_article.shape[0])

    @property
    def article_ids(self) -> list[str]:
        """Every article id, by article index (read from the database on each call)."""
        return [i for (i,) in self.db().execute("SELECT id FROM articles ORDER BY idx")]

    def article_index(self, ids: Sequence[str]) -> list[int]:
        """The article indexes of ``ids`` that this build holds (unknown ids are left out)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [i for (i,) in self.db().execute(f"SELECT idx FROM articles WHERE id IN ({marks})", list(ids))]

    def db(self) -> sqlite3.Connection:
        """A read-only SQLite connection for the calling thread (searches run in a thread pool)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"file:{BuildFiles(self.path).meta}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def chunks(self, rows: list[int]) -> dict[int, sqlite3.Row]:
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        cur = self.db().execute(
            f"SELECT row, article_idx, ordinal, start, end, text FROM chunks WHERE row IN ({marks})", [int(r) for r in rows]
        )
        return {r["row"]: r for r in cur}

    def articles(self, idxs: list[int]) -> dict[int, sqlite3.Row]:
        if not idxs:
            return {}
        marks = ",".join("?" * len(idxs))
        cur = self.db().execute(
            f"SELECT idx, id, title, url, date, source, author, body_key FROM articles WHERE idx IN ({marks})",
            [int(i) for i in idxs],
        )
        return {r["idx"]: r for r in cur}

    def article_chunks(self, article_idx: int) -> list[sqlite3.Row]:
        cur = self.db().execute(
            "SELECT row, article_idx, ordinal, start, end, text FROM chunks WHERE article_idx = ? ORDER BY ordinal",
            (int(article_idx),),
        )
        return list(cur)

    def article_text(self, article_idx: int) -> str:
        row = self.db().execute("SELECT text FROM articles WHERE idx = ?", (int(article_idx),)).fetchone()
        return row[0] if row else ""

    def top_sources(self, n: int = 3) -> list[str]:
        """The outlets with the most articles, for the bot's welcome text."""
        rows = self.db().execute(
            "SELECT source FROM articles WHERE source != '' GROUP BY source ORDER BY COUNT(*) DESC, source LIMIT ?", (n,)
        )
        return [source for (source,) in rows]

    def latest_articles(self, n: int = 5, titled: bool = False) -> list[dict[str, str]]:
        """The ``n`` most recent articles (by date, then insertion): id, title, url, date, source and
        ``lead``, the start of the text; ``titled``: only articles with a title."""
        where = "WHERE title != '' " if titled else ""
        rows = self.db().execute(
            f"SELECT id, title, url, date, source, substr(text, 1, 600) AS lead FROM articles {where}"
            "ORDER BY date DESC, idx DESC LIMIT ?",
            (n,),
        )
        return [dict(row) for row in rows]

    def latest_titles(self, n: int = 2) -> list[str]:
        """Titles of the most recent articles, for example questions."""
        return [article["title"] for article in self.latest_articles(n, titled=True)]

    def article_hashes(self) -> dict[str, str]:
        return dict(self.db().execute("SELECT id, content_hash FROM articles"))


def read_manifest(build_dir: Path) -> Manifest:
    """The manifest of the build in ``build_dir``; ``IndexCorrupt`` when it is missing, damaged or of another format."""
    files = BuildFiles(build_dir)
    try:
        data = json.loads(files.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{build_dir}: manifest.json is missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{build_dir}: manifest.json is damaged ({exc})") from None
    version = data.get("format_version") if isinstance(data, dict) else None
    if version != FORMAT_VERSION:
        raise IndexCorrupt(
            f"{build_dir}: rebuild needed: this build has index format {version} and this version "
            f"reads format {FORMAT_VERSION}; run `python -m index build --articles PATH --index {build_dir.parent.parent}`"
        )
    try:
        return Manifest.from_json(data)
    except ManifestError as exc:
        raise IndexCorrupt(f"{build_dir}: manifest.json is damaged ({exc})") from None


def article_summaries(build_dir: Path) -> dict[str, tuple[str, str, str]]:
    """Article id -> (content hash, title, source file) of a build (an update compares them with the files); {} when unreadable."""
    try:
        db = sqlite3.connect(f"file:{BuildFiles(build_dir).meta}?mode=ro", uri=True)
        try:
            return {i: (h, title, path) for i, h, title, path in db.execute("SELECT id, content_hash, title, path FROM articles")}
        finally:
            db.close()
    except sqlite3.Error:
        return {}


def current_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the build CURRENT names, or None (no index, or a damaged one)."""
    build_id = current_build_id(index_dir)
    if not build_id:
        return None
    try:
        return read_manifest(IndexLayout(index_dir).build(build_id).root)
    except IndexCorrupt as exc:
        log.warning("the current build cannot be read: %s", exc)
        return None


def load_build(build_dir: Path, mmap: bool = False) -> StoredIndex:
    """Load one build and check its parts agree with each other; raise ``IndexCorrupt`` if not."""
    manifest = read_manifest(build_dir)
    files = BuildFiles(build_dir)
    expected = manifest.chunks
    try:
        faiss_index = load_index(str(files.vectors), mmap=mmap)
    except RuntimeError as exc:
        raise IndexCorrupt(f"{build_dir}: vectors.faiss cannot be read ({str(exc).splitlines()[0][:200]})") from None
    try:
        lexical = LexicalIndex.load(files.bm25, mmap=mmap)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{build_dir}: bm25 index cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        analyses = Analyses.load(files.analysis, mmap=mmap)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{build_dir}: analysis arrays cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        db = sqlite3.connect(f"file:{files.meta}?mode=ro", uri=True)
        try:
            (rows,) = db.execute("SELECT COUNT(*) FROM chunks").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise IndexCorrupt(f"{build_dir}: meta.sqlite cannot be read ({exc})") from None
    counts = {
        "vectors": faiss_index.ntotal,
        "bm25 documents": lexical.num_docs,
        "chunk rows": rows,
        "analysed chunks": analyses.num_chunks,
    }
    wrong = {k: v for k, v in counts.items() if v != expected}
    if wrong or faiss_index.d != manifest.dimension:
        raise IndexCorrupt(f"{build_dir}: parts disagree with the manifest ({expected} chunks): {wrong or 'dimension'}")
    damaged = analyses.check(expected, manifest.articles)
    if damaged:
        raise IndexCorrupt(f"{build_dir}: analysis arrays are inconsistent ({damaged})")
    return StoredIndex(build_dir, manifest, faiss_index, lexical, analyses, flat_vectors(faiss_index))


def open_index(index_dir: Path | str, mmap: bool = False) -> StoredIndex:
    """Load the current build; if it is damaged, fall back to the newest build that loads."""
    index_dir = Path(index_dir)
    check_index_path(index_dir)
    current = current_build_id(index_dir)
    candidates = list(reversed(list_builds(index_dir)))
    if not candidates:
        raise IndexNotFound(
            f"no index in {index_dir}; build one with `python -m index build --articles PATH --index {index_dir}`"
        )
    errors: list[str] = []
    if current in candidates:
        candidates.remove(current)
        candidates.insert(0, current)
    elif current is not None:  # garbage or a build that is gone: as damaged as a broken build
        errors.append(f"{IndexLayout(index_dir).current} names no build ({current[:60]!r})")
    for build_id in candidates:
        try:
            stored = load_build(IndexLayout(index_dir).build(build_id).root, mmap=mmap)
        except IndexCorrupt as exc:
            errors.append(str(exc))
            continue
        if errors:
            log.error("current index is damaged (%s); serving build %s, the newest that loads", "; ".join(errors), build_id)
        return stored
    raise IndexCorrupt("no usable build: " + "; ".join(errors))
