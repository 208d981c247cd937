"""Reading a build: the current one, or the newest that loads; its parts joined (``storage.parts``).

``open_index`` is what the searcher, the bot and the command line call; ``StoredIndex``
is what they get: the manifest, the vectors, BM25, the analyses and a read-only
connection to the articles and chunks. Every part of a build is checked against the
others when it loads: a damaged build is refused with the reason, and the newest
build that loads is served instead.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.layout import BuildFiles, IndexLayout
from index.manifest import Manifest
from index.text.dates import UNKNOWN_DAY

from .analyses import Analyses
from .lexical import LexicalIndex
from .lookup import ARTICLE_COLUMNS, ArrayLookup, newest_day, recent_rows
from .parts import MAX_PARTS, PartedLexical, PartedVectors, attach_parts, concat_analyses, deleted_mask, document_terms, infos
from .store import IndexCorrupt, IndexNotFound, check_index_path, current_build_id, list_builds, read_manifest
from .vectors import flat_vectors, load_index

log = logging.getLogger(__name__)


@dataclass
class StoredIndex:
    """A loaded build: manifest, FAISS vectors, BM25, per-chunk analyses, and article/chunk metadata."""

    path: Path
    manifest: Manifest
    faiss_index: Any
    lexical: LexicalIndex
    analyses: Analyses
    flat: np.ndarray | None = None  # the vectors of an exact index, searched with numpy (``vectors.flat_vectors``)
    deleted: np.ndarray | None = None  # a build of parts: which rows it no longer holds (``storage.parts``)
    metas: list[Path] = field(default_factory=list)  # a build of parts: every part's meta.sqlite, in order
    deleted_ids: tuple[np.ndarray, np.ndarray] | None = None  # (rows, articles) deleted, for the database views
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _recent: dict[int, np.ndarray | None] = field(default_factory=dict, repr=False)  # ``lookup``'s, by first day

    engine = "embedded"

    def lookup(self, terms: Sequence[str], qvec: np.ndarray | None, since: int | None = None) -> ArrayLookup:
        """One question's retrieval over this build (``since``: the first day of "recent" articles, or None)."""
        return ArrayLookup(self, list(terms), qvec, None if since is None else self.recent_rows(since))

    def recent_rows(self, since: int) -> np.ndarray | None:
        """Rows of the articles dated ``since`` or later (None: every row, or none), worked out once per day."""
        if since not in self._recent:
            self._recent[since] = recent_rows(self.analyses.article_day, self.chunk_article, self.newest_day, since)
        return self._recent[since]

    @functools.cached_property
    def newest_day(self) -> int:
        """The newest article's day: where "today" and "recent" are measured from."""
        return newest_day(self.analyses)

    def vectors(self, rows: Sequence[int]) -> np.ndarray | None:
        """The indexed vectors of ``rows``; None for index types that cannot give vectors back."""
        if self.flat is not None:
            return self.flat[np.asarray(rows, dtype=np.int64)]
        try:
            return self.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        except RuntimeError:
            return None

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
            conn = _connect(self.metas or [BuildFiles(self.path).meta], self.deleted_ids)
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

    def articles_where(self, column: str, value: str | None) -> list[dict[str, Any]]:
        """Articles (id, title, source, date, url, path) whose ``column`` (``id`` or ``url``) is ``value``;
        with None, every article that has one."""
        if column not in ("id", "url"):
            raise ValueError(f"articles are looked up by id or url, not {column!r}")
        query = f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE {column} "
        rows = self.db().execute(query + "!= ''") if value is None else self.db().execute(query + "= ?", (value,))
        return [dict(row) for row in rows]

    def article_hashes(self) -> dict[str, str]:
        return dict(self.db().execute("SELECT id, content_hash FROM articles"))


def _connect(metas: Sequence[Path], deleted: tuple[np.ndarray, np.ndarray] | None) -> sqlite3.Connection:
    """A read-only connection to a build's metadata: one database, or its parts' attached as one (``parts.attach_parts``)."""
    conn = sqlite3.connect(f"file:{metas[0]}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    if len(metas) > 1 or deleted is not None:
        rows, articles = deleted if deleted is not None else (np.zeros(0), np.zeros(0))
        attach_parts(conn, list(metas), rows, articles)
    return conn


def part_dirs(build_dir: Path, manifest: Manifest) -> list[Path]:
    """The directories holding a build's rows: its parts' (``manifest.parts``), or its own."""
    if not manifest.parts:
        return [build_dir]
    return [IndexLayout(build_dir.parent.parent).build(part).root for part in manifest.parts]


def open_meta(build_dir: Path) -> sqlite3.Connection:
    """A read-only connection to any finished build's articles and chunks (the deleted ones left out)."""
    manifest = read_manifest(build_dir)
    files = BuildFiles(build_dir)
    deleted = None
    if manifest.parts:
        deleted = (np.load(files.deleted_rows), np.load(files.deleted_articles))
    return _connect([BuildFiles(d).meta for d in part_dirs(build_dir, manifest)], deleted)


def read_files(build_dir: Path) -> dict[str, Any] | None:
    """The article files a build was made from (``write_build``'s ``files``); None for builds made before it was kept."""
    try:
        return json.loads(BuildFiles(build_dir).files.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def article_summaries(build_dir: Path) -> dict[str, tuple[str, str, str]]:
    """Article id -> (content hash, title, source file) of a build (an update compares them with the files); {} when unreadable."""
    try:
        db = open_meta(build_dir)
        try:
            return {i: (h, title, path) for i, h, title, path in db.execute("SELECT id, content_hash, title, path FROM articles")}
        finally:
            db.close()
    except (sqlite3.Error, IndexCorrupt, OSError, ValueError):
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
    """Load one build and check its files agree with each other; raise ``IndexCorrupt`` if not."""
    manifest = read_manifest(build_dir)
    if manifest.parts:
        return _load_parts(build_dir, manifest, mmap)
    return _load_one(build_dir, manifest, mmap)


def _load_parts(build_dir: Path, manifest: Manifest, mmap: bool) -> StoredIndex:
    """A build of parts (``storage.parts``): every part loaded and checked, then joined."""
    dirs = part_dirs(build_dir, manifest)
    if not (len(dirs) == len(manifest.part_rows) == len(manifest.part_articles)) or len(dirs) > MAX_PARTS:
        raise IndexCorrupt(f"{build_dir}: manifest.json lists its parts inconsistently")
    loaded = []
    for part, rows, articles in zip(dirs, manifest.part_rows, manifest.part_articles, strict=True):
        if not part.is_dir():
            raise IndexCorrupt(f"{build_dir}: its part {part.name} is missing")
        loaded.append(_load_one(part, manifest.replace(chunks=rows, articles=articles), mmap, part_of=build_dir))
    files = BuildFiles(build_dir)
    try:
        deleted_rows = np.load(files.deleted_rows)
        deleted_articles = np.load(files.deleted_articles)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{build_dir}: its deleted rows cannot be read ({exc})") from None
    where = infos(manifest.part_rows, manifest.part_articles)
    total = sum(manifest.part_rows)
    if deleted_rows.size and (int(deleted_rows.min()) < 0 or int(deleted_rows.max()) >= total):
        raise IndexCorrupt(f"{build_dir}: deleted rows outside the index")
    analyses = concat_analyses([p.analyses for p in loaded], where)
    mask = deleted_mask(total, deleted_rows)
    if deleted_articles.size:  # a deleted article has no date: "newest" and time windows ignore it
        days = analyses.article_day.copy()
        days[deleted_articles] = UNKNOWN_DAY
        analyses = replace(analyses, article_day=days)
    try:
        lexical = PartedLexical(
            [p.lexical.bm25 for p in loaded], where, manifest.lexical, mask, document_terms(analyses, deleted_rows)
        )
    except ValueError as exc:
        raise IndexCorrupt(f"{build_dir}: {exc}") from None
    vectors = PartedVectors([p.faiss_index for p in loaded], where, mask)
    flats = [p.flat for p in loaded]
    flat = np.concatenate(flats) if all(f is not None for f in flats) else None  # every part exact: one matrix
    return StoredIndex(
        build_dir,
        manifest,
        vectors,
        lexical,
        analyses,
        flat,
        deleted=mask,
        metas=[BuildFiles(d).meta for d in dirs],
        deleted_ids=(deleted_rows, deleted_articles),
    )


def _load_one(build_dir: Path, manifest: Manifest, mmap: bool, part_of: Path | None = None) -> StoredIndex:
    """One directory's files (a whole build, or one part of ``part_of``), checked against ``manifest``'s counts."""
    files = BuildFiles(build_dir)
    build_dir_shown = f"{part_of} (part {build_dir.name})" if part_of else str(build_dir)
    expected = manifest.chunks
    try:
        faiss_index = load_index(str(files.vectors), mmap=mmap)
    except RuntimeError as exc:
        raise IndexCorrupt(f"{build_dir_shown}: vectors.faiss cannot be read ({str(exc).splitlines()[0][:200]})") from None
    try:
        lexical = LexicalIndex.load(files.bm25, mmap=mmap)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{build_dir_shown}: bm25 index cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        analyses = Analyses.load(files.analysis, mmap=mmap)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{build_dir_shown}: analysis arrays cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        db = sqlite3.connect(f"file:{files.meta}?mode=ro", uri=True)
        try:
            (rows,) = db.execute("SELECT COUNT(*) FROM chunks").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise IndexCorrupt(f"{build_dir_shown}: meta.sqlite cannot be read ({exc})") from None
    counts = {
        "vectors": faiss_index.ntotal,
        "bm25 documents": lexical.num_docs,
        "chunk rows": rows,
        "analysed chunks": analyses.num_chunks,
    }
    wrong = {k: v for k, v in counts.items() if v != expected}
    if wrong or faiss_index.d != manifest.dimension:
        raise IndexCorrupt(f"{build_dir_shown}: parts disagree with the manifest ({expected} chunks): {wrong or 'dimension'}")
    damaged = analyses.check(expected, manifest.articles)
    if damaged:
        raise IndexCorrupt(f"{build_dir_shown}: analysis arrays are inconsistent ({damaged})")
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
