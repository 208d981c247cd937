"""Embeddings cache: vectors keyed by (model, hash of the exact text embedded).

An update re-embeds only chunks whose text (with title and prompt) is new; a
rebuild with the same model and chunking costs no encoder calls at all.
Stored in SQLite as raw float32 bytes (no pickle).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, key)
) WITHOUT ROWID
"""


def text_key(text: str, prompt: str = "") -> str:
    """Cache key of one embedder input."""
    return hashlib.sha256(f"{prompt}\x00{text}".encode()).hexdigest()[:32]


class EmbeddingCache:
    """A SQLite file of cached passage vectors, shared by every build in an index directory."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
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
        with self._db:
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
        from tqdm.auto import tqdm

        keys = [text_key(t, prompt) for t in texts]
        known = self.get_many(model, sorted(set(keys)), dim)
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        text_of = dict(zip(keys, texts, strict=True))
        with tqdm(total=len(missing), desc="embedding", unit="chunk", disable=not progress or not missing) as bar:
            for i in range(0, len(missing), batch):
                part = missing[i : i + batch]
                fresh = dict(zip(part, encode([text_of[k] for k in part]), strict=True))
                self.put_many(model, fresh)
                known.update(fresh)
                bar.update(len(part))
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = known[key]
        return out, len(missing)

    def prune(self, model: str, keep: set[str]) -> int:
        """Drop this model's vectors whose keys are not in ``keep``; returns how many went."""
        existing = [k for (k,) in self._db.execute("SELECT key FROM vectors WHERE model = ?", (model,))]
        stale = [k for k in existing if k not in keep]
        with self._db:
            self._db.executemany("DELETE FROM vectors WHERE model = ? AND key = ?", [(model, k) for k in stale])
        return len(stale)
