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
from collections.abc import Iterator
from dataclasses import dataclass
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
from .vectors import save_index

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


class IndexUnavailable(StoreError):
    """The index's server (Milvus) does not answer: said in one sentence; the next request tries again."""


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


def write_meta(path: Path, articles: list[Article], chunks: list[Chunk], row_offset: int = 0, article_offset: int = 0) -> None:
    """Write articles and chunks; chunk row i is FAISS id i and BM25 document i (a part of a build numbers
    its rows and articles after the earlier parts': ``row_offset``, ``article_offset``)."""
    db = sqlite3.connect(path)
    try:
        db.executescript(_META_SCHEMA)
        article_idx = {a.id: article_offset + i for i, a in enumerate(articles)}
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    article_offset + i,
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
            [(row_offset + row, article_idx[c.article_id], c.ordinal, c.start, c.end, c.text) for row, c in enumerate(chunks)],
        )
        db.commit()
    finally:
        db.close()


@dataclass(frozen=True)
class PartPlacement:
    """Where a build that adds a part to earlier ones puts it, and what it deletes of theirs."""

    row_offset: int
    article_offset: int
    deleted_rows: np.ndarray
    deleted_articles: np.ndarray


def write_build(
    index_dir: Path,
    articles: list[Article],
    chunks: list[Chunk],
    faiss_index: Any,
    lexical: LexicalIndex,
    analyses: Analyses,
    manifest: Manifest,
    files: dict[str, Any] | None = None,
    placement: PartPlacement | None = None,
) -> Path:
    """Write a complete build (or, with ``placement``, one that adds a part to the builds ``manifest.parts``
    names) aside, then make it current. ``files``: the article files it was made from (``files.json``).
    Returns the build directory."""
    layout = IndexLayout(index_dir)
    layout.builds.mkdir(parents=True, exist_ok=True)
    tmp = layout.scratch(manifest.build_id)
    if tmp.root.exists():
        shutil.rmtree(tmp.root)
    tmp.root.mkdir()
    try:
        if placement is None:
            write_meta(tmp.meta, articles, chunks)
        else:
            write_meta(tmp.meta, articles, chunks, placement.row_offset, placement.article_offset)
            np.save(tmp.deleted_rows, np.asarray(placement.deleted_rows, dtype=np.int64))
            np.save(tmp.deleted_articles, np.asarray(placement.deleted_articles, dtype=np.int64))
        save_index(faiss_index, str(tmp.vectors))
        lexical.save(tmp.bm25)
        analyses.save(tmp.analysis)
        if files is not None:
            tmp.files.write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")
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
    kept = set(finished[max(0, len(finished) - keep) :]) | ({current} if current else set())
    needed = set(kept)
    for name in kept:  # a build of parts stands on earlier builds: they stay while it does
        with contextlib.suppress(IndexCorrupt):
            needed.update(read_manifest(layout.build(name).root).parts)
    for name in finished:
        if name not in needed:
            shutil.rmtree(layout.build(name).root, ignore_errors=True)
            removed.append(name)
    for stray in layout.stray_currents():
        stray.unlink(missing_ok=True)
    return removed


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
