"""The connection, the names of an index's collections, the side collection of records, and the build lock.

An index named NAME is the alias NAME, pointing at the chunks collection of the current build
(``NAME__b<build>``), beside which lives that build's articles collection (``…__articles``).
``NAME__meta`` holds small JSON records: each build's manifest and statistics (the vocabulary
with document frequencies, the counters of the next row and article) and the lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..store import IndexBusy, IndexUnavailable, StoreError
from .target import MilvusTarget

TIMEOUT = 10.0  # seconds per call: a lost server is reported, not waited for
RECORD_BYTES = 60_000  # one record's value; larger ones are split over numbered keys
LOCK_STALE_SECONDS = 6 * 3600  # a lock older than this was left by a machine that died mid-build
DUMMY_DIM = 2  # Milvus wants a vector field in every collection; the side collections carry a constant one


_LOST = ("unavailable", "connect", "timeout", "deadline", "timed out", "fail to", "socket", "channel", "refused")


def unavailable(target: MilvusTarget, exc: BaseException) -> StoreError:
    """The error a failed call becomes: ``IndexUnavailable`` when the server is out of reach (it may come
    back), a ``StoreError`` with the server's reason when it answered with a refusal."""
    reason = str(getattr(exc, "message", "") or exc).splitlines()[0][:200] or type(exc).__name__
    if isinstance(exc, OSError | TimeoutError) or any(word in reason.lower() for word in _LOST):
        return IndexUnavailable(f"Milvus at {target} is unavailable ({reason})")
    return StoreError(f"Milvus at {target} refused a request ({reason})")


def connect(target: MilvusTarget):
    """A client for ``target``; ``IndexUnavailable`` when the server cannot be reached."""
    try:
        from pymilvus import MilvusClient
    except ImportError:  # the extra is not installed
        raise StoreError("INDEX_STORE names Milvus but pymilvus is not installed: pip install -e '.[milvus]'") from None
    for name in ("pymilvus", "pymilvus.decorators"):  # each failed call is logged with a traceback: we say it once
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=target.uri, token=target.token or "", timeout=TIMEOUT)
    except Exception as exc:  # pymilvus raises its own exceptions, grpc's, or OSError for the same thing
        raise unavailable(target, exc) from None


def build_collection(name: str, build_id: str) -> str:
    """The chunks collection of one build (Milvus names allow letters, digits and underscores)."""
    return f"{name}__b{re.sub(r'[^0-9A-Za-z]', '_', build_id)}"


def articles_collection(chunks_collection: str) -> str:
    return f"{chunks_collection}__articles"


def meta_collection(name: str) -> str:
    return f"{name}__meta"


def build_of(name: str, collection: str) -> str:
    """The build id part of a chunks collection's name (as written: underscores for the id's dashes)."""
    return collection.removeprefix(f"{name}__b")


def query_all(client: Any, collection: str, where: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every row matching ``where``, in batches (a plain query stops at Milvus's result window of 16,384)."""
    rows: list[dict[str, Any]] = []
    it = client.query_iterator(collection, batch_size=4096, filter=where, output_fields=fields)
    try:
        while batch := it.next():
            rows.extend(batch)
    finally:
        it.close()
    return rows


class Records:
    """JSON records by key in the side collection; a large value is split over ``key#0``, ``key#1``…"""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.collection = meta_collection(name)

    def ensure(self) -> None:
        """Create the side collection on first use."""
        from pymilvus import DataType

        if self.client.has_collection(self.collection):
            return
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("value", DataType.VARCHAR, max_length=65535)
        schema.add_field("dummy", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
        index = self.client.prepare_index_params()
        index.add_index("dummy", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.collection, schema=schema, index_params=index)

    def get(self, key: str, tries: int = 3) -> Any:
        """The value stored under ``key``, or None (asked again, briefly, while a writer is replacing it)."""
        for attempt in range(tries):
            value = self._get(key)
            if value is not None or attempt == tries - 1:
                return value
            if not self.client.query(self.collection, filter=f"key like {json.dumps(key + '#%')}", output_fields=["key"]):
                return None  # nothing there at all: not a value being rewritten
            time.sleep(0.2)
        return None

    def _get(self, key: str) -> Any:
        found = self.client.query(self.collection, filter=f"key like {json.dumps(key + '#%')}", output_fields=["key", "value"])
        if not found:
            return None
        parts = sorted(found, key=lambda r: int(r["key"].rsplit("#", 1)[1]))
        text = "".join(p["value"] for p in parts)
        try:
            value = json.loads(text)
        except ValueError:  # a value being rewritten: its parts disagree for a moment
            return None
        return value if isinstance(value, dict) and value.get("parts") == len(parts) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (a dict) under ``key``, replacing what was there."""
        for parts in range(1, 10_000):  # the part count is in the value, so it is known only when split
            text = json.dumps({**value, "parts": parts}, ensure_ascii=False, separators=(",", ":"))
            pieces = _split(text, RECORD_BYTES)
            if len(pieces) == parts:
                break
        rows = [{"key": f"{key}#{i}", "value": piece, "dummy": [0.0] * DUMMY_DIM} for i, piece in enumerate(pieces)]
        self.client.upsert(self.collection, rows)
        self.client.delete(
            self.collection, filter=f"key like {json.dumps(key + '#%')} and key not in {json.dumps([r['key'] for r in rows])}"
        )

    def delete(self, prefix: str) -> None:
        """Drop every record whose key starts with ``prefix``."""
        self.client.delete(self.collection, filter=f"key like {json.dumps(prefix + '%')}")


def _split(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    pieces, start, size = [], 0, 0
    for i, ch in enumerate(text):
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(text[start:i])
            start, size = i, 0
        size += width
    pieces.append(text[start:])
    return pieces


@contextlib.contextmanager
def milvus_lock(records: Records, target: MilvusTarget) -> Iterator[None]:
    """Hold the index's build lock record, or raise ``IndexBusy`` naming who holds it.

    Milvus has no compare-and-set: the record is written, read back after a moment, and the
    writer whose record stands holds the lock (two machines starting within that moment: one backs off).
    """
    records.ensure()
    held = records.get("lock")
    if held and time.time() - float(held.get("since", 0)) < LOCK_STALE_SECONDS:
        started = datetime.fromtimestamp(float(held["since"]), UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise IndexBusy(f"another build or update is running on {target} (on {held.get('host')}, since {started})")
    mine = {"owner": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
    records.put("lock", mine)
    time.sleep(0.3)
    standing = records.get("lock")
    if not standing or standing.get("owner") != mine["owner"]:
        raise IndexBusy(f"another build or update started on {target} at the same moment")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a lost server: the lock goes stale instead
            if (records.get("lock") or {}).get("owner") == mine["owner"]:
                records.delete("lock#")
