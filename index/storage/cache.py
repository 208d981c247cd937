"""The build cache: what a build computes per chunk, keyed by a hash of the chunk's text.

Vectors are keyed by (model, text + prompt) and BM25 terms by (analysis settings,
text), so an update embeds and analyses only chunks that are new or changed, and
a rebuild with the same settings computes almost nothing. Each article file's
cleaned articles are kept too, keyed by its path and content, so an update does
not clean a whole unchanged corpus again. One SQLite file per index directory;
vectors as raw float32 bytes, everything else as text (no pickle).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.progress import bar

from .store import StoreError

log = logging.getLogger(__name__)


class CacheDamaged(StoreError):
    """The cache file is not a readable SQLite database any more (the build moves it aside and starts a new one)."""


class DiskFull(StoreError):
    """No space left to write to the index directory; nothing was changed."""


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or a quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def quarantine(path: Path) -> Path:
    """Move a damaged cache aside (``<name>.damaged-<time>``, replacing an older such copy) so a new one can start."""
    for old in path.parent.glob(f"{path.name}.damaged-*"):
        old.unlink(missing_ok=True)
    aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return aside


_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    payload TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS derived (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
"""


def text_key(text: str, prompt: str = "") -> str:
    """Cache key of one embedder input."""
    return hashlib.sha256(f"{prompt}\x00{text}".encode()).hexdigest()[:32]


class BuildCache:
    """A SQLite file of cached vectors and BM25 terms, shared by every build in an index directory."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except CacheDamaged as exc:  # the README promises the cache is safe to delete: so it may be replaced
            aside = quarantine(self.path)
            log.warning("the embeddings cache %s was damaged (%s); moved it to %s and started a new one", self.path, exc, aside)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        with self._guard():
            db = sqlite3.connect(self.path, timeout=60)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
            except BaseException:
                db.close()
                raise
        return db

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's errors as the index's own: a damaged file, a full disk, or one line for anything else."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if disk_full(exc):
                raise DiskFull(
                    f"the disk is full: cannot write the embeddings cache {self.path}; free some space and run again"
                ) from None
            raise StoreError(f"cannot use the embeddings cache {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            raise CacheDamaged(f"{exc}") from None
        except OSError as exc:
            if disk_full(exc):
                raise DiskFull(
                    f"the disk is full: cannot write the embeddings cache {self.path}; free some space and run again"
                ) from None
            raise

    def close(self) -> None:
        try:
            with self._guard():
                self._db.commit()  # what ``remember`` queued
        finally:
            self._db.close()

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        with self._guard():
            return self._get_many(model, keys, dim)

    def _get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = list(keys[i : i + 500])
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})", [model, *batch])
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == dim:
                    found[key] = vector
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._guard(), self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                [(model, k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def embed(
        self,
        model: str,
        texts: Sequence[str],
        prompt: str,
        dim: int,
        encode: Callable[[list[str]], np.ndarray],
        batch: int = 256,
        progress: bool = False,
    ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` (cached where possible); returns (vectors, number newly encoded).

        New vectors are written back every ``batch`` texts so a killed build keeps
        what it has paid for, and the progress bar moves at the same pace.
        """
        keys = [text_key(t, prompt) for t in texts]
        rows_of: dict[str, list[int]] = {}
        for row, key in enumerate(keys):
            rows_of.setdefault(key, []).append(row)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        missing: list[str] = []
        unique = sorted(rows_of)
        for i in range(0, len(unique), 20_000):  # cached vectors go straight into ``out``, a batch at a time
            part = unique[i : i + 20_000]
            found = self.get_many(model, part, dim)
            for key in part:
                if key in found:
                    out[rows_of[key]] = found[key]
                else:
                    missing.append(key)
        missing.sort(key=lambda k: rows_of[k][0])  # encoded in the texts' order
        with bar(total=len(missing), enabled=progress and bool(missing), desc="embedding", unit="chunk") as shown:
            for i in range(0, len(missing), batch):
                part = missing[i : i + batch]
                fresh = dict(zip(part, encode([texts[rows_of[k][0]] for k in part]), strict=True))
                self.put_many(model, fresh)
                for key, vector in fresh.items():
                    out[rows_of[key]] = vector
                shown.update(len(part))
        return out, len(missing)

    def prune(self, model: str, keep: set[str]) -> int:
        """Drop this model's vectors whose keys are not in ``keep``; returns how many went."""
        with self._guard():
            existing = [k for (k,) in self._db.execute("SELECT key FROM vectors WHERE model = ?", (model,))]
        stale = [k for k in existing if k not in keep]
        with self._guard(), self._db:
            self._db.executemany("DELETE FROM vectors WHERE model = ? AND key = ?", [(model, k) for k in stale])
        return len(stale)

    def recall(self, name: str, digest: str) -> str | None:
        """The articles last loaded from file ``name`` (``articles.FileMemo``), if its content is still ``digest``.

        A cache that cannot answer is a miss: the file is read again, never lost.
        """
        try:
            row = self._db.execute("SELECT payload FROM files WHERE name = ? AND digest = ?", (name, digest)).fetchone()
        except (sqlite3.Error, UnicodeError):
            return None
        return row[0] if row else None

    def remember(self, name: str, digest: str, payload: str) -> None:
        """Keep what file ``name`` yielded (one entry per file); written in one transaction with the rest at ``close``."""
        try:
            self._db.execute("INSERT OR REPLACE INTO files (name, digest, payload) VALUES (?, ?, ?)", (name, digest, payload))
        except (sqlite3.Error, UnicodeError):
            return

    def forget_files_except(self, names: set[str]) -> int:
        """Drop remembered files not in ``names`` (deleted or renamed since); returns how many went."""
        with self._guard():
            stale = [(n,) for (n,) in self._db.execute("SELECT name FROM files") if n not in names]
        with self._guard(), self._db:
            self._db.executemany("DELETE FROM files WHERE name = ?", stale)
        return len(stale)

    def derived(self, namespace: str, texts: Sequence[str], compute: Callable[[str], str]) -> list[str]:
        """``compute(text)`` for each text, computing only texts not seen before under ``namespace``.

        The namespace names everything the result depends on (e.g. the analysis
        settings), so a change of settings never reuses stale results.
        """
        with self._guard():
            return self._derived(namespace, texts, compute)

    def _derived(self, namespace: str, texts: Sequence[str], compute: Callable[[str], str]) -> list[str]:
        keys = [text_key(t) for t in texts]
        known: dict[str, str] = {}
        unique = sorted(set(keys))
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, value FROM derived WHERE namespace = ? AND key IN ({marks})", [namespace, *batch]
            )
            known.update(rows)
        fresh = {key: compute(text) for key, text in dict(zip(keys, texts, strict=True)).items() if key not in known}
        if fresh:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO derived (namespace, key, value) VALUES (?, ?, ?)",
                    [(namespace, k, v) for k, v in fresh.items()],
                )
            known.update(fresh)
        return [known[k] for k in keys]
