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
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..store import IndexBusy, IndexUnavailable, StoreError
from .target import MilvusTarget

TIMEOUT = 10.0  # seconds per call: a lost server is reported, not waited for
RECORD_BYTES = 60_000  # one record's value; larger ones are split over numbered keys
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


def query_all(client: Any, collection: str, where: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every row matching ``where``, in batches (a plain query stops at Milvus's result window of 16,384)."""
    rows: list[dict[str, Any]] = []
    it = client.query_iterator(collection, batch_size=4096, filter=where, output_fields=fields, consistency_level="Strong")
    try:
        while batch := it.next():
            rows.extend(batch)
    finally:
        it.close()
    return rows


class Records:
    """JSON records by key in the side collection.

    A record is a small head row under its key (``{"gen", "parts", "summary"}``) and its value's JSON in
    ``parts`` rows under ``key#gen.i``. A write puts the parts of a new generation, then moves the head
    to it in one upsert, then deletes the old generation's parts: a reader following the head always
    finds a complete value, and ``summary`` (a version number, say) is read without the value.
    """

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.collection = meta_collection(name)

    def ensure(self) -> None:
        """Create the side collection on first use (strongly consistent: a writer reads back what it wrote)."""
        from pymilvus import DataType

        if self.client.has_collection(self.collection):
            return
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("value", DataType.VARCHAR, max_length=65535)
        schema.add_field("dummy", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
        index = self.client.prepare_index_params()
        index.add_index("dummy", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.collection, schema=schema, index_params=index, consistency_level="Strong")

    def _rows(self, where: str) -> list[dict[str, Any]]:
        return self.client.query(self.collection, filter=where, output_fields=["key", "value"], consistency_level="Strong")

    def head(self, key: str) -> dict[str, Any] | None:
        """The head row of ``key`` (``gen``, ``parts``, ``summary``), or None."""
        found = self._rows(f"key == {json.dumps(key)}")
        try:
            return json.loads(found[0]["value"]) if found else None
        except ValueError:
            return None

    def summary(self, key: str) -> dict[str, Any] | None:
        """What ``put`` was given as ``summary`` for ``key``: a small read that says whether the value changed."""
        head = self.head(key)
        return head.get("summary") if head else None

    def get(self, key: str, tries: int = 3) -> Any:
        """The value stored under ``key``, or None (read again, briefly, if a writer replaced it meanwhile)."""
        for _ in range(tries):
            head = self.head(key)
            if head is None:
                return None
            pattern = f"{key}#{head['gen']}.%"
            parts = self._rows(f"key like {json.dumps(pattern)}")
            if len(parts) == head["parts"]:
                parts.sort(key=lambda r: int(r["key"].rsplit(".", 1)[1]))
                return json.loads("".join(p["value"] for p in parts))
            time.sleep(0.2)  # that generation was just replaced: follow the new head
        return None

    def put(self, key: str, value: Any, summary: dict[str, Any] | None = None) -> None:
        """Store ``value`` under ``key`` (with ``summary`` in its head), replacing what was there."""
        before = self.head(key)
        gen = uuid.uuid4().hex[:12]
        pieces = _split(json.dumps(value, ensure_ascii=False, separators=(",", ":")), RECORD_BYTES)
        dummy = [0.0] * DUMMY_DIM
        rows = [{"key": f"{key}#{gen}.{i}", "value": piece, "dummy": dummy} for i, piece in enumerate(pieces)]
        for start in range(0, len(rows), 50):
            self.client.insert(self.collection, rows[start : start + 50])
        head = json.dumps({"gen": gen, "parts": len(rows), "summary": summary or {}})
        self.client.upsert(self.collection, [{"key": key, "value": head, "dummy": dummy}])
        if before:
            pattern = f"{key}#{before['gen']}.%"
            self.client.delete(self.collection, filter=f"key like {json.dumps(pattern)}")

    def delete(self, key: str) -> None:
        """Drop ``key``'s record."""
        self.client.delete(self.collection, filter=f"key == {json.dumps(key)} or key like {json.dumps(key + '#%')}")


def _split(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    pieces, start = [], 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces or [""]


LEASE_SECONDS = 120.0  # a lock not renewed for this long was left by a writer that stopped (or lost the server)
RENEW_SECONDS = 20.0


def _alive_here(held: dict[str, Any]) -> bool:
    """Is the holder a process on this machine that still runs (False: not here, or gone)?"""
    if held.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(held.get("pid", 0)), 0)
    except (OSError, ValueError):
        return False
    return True


@contextlib.contextmanager
def milvus_lock(records: Records, target: MilvusTarget) -> Iterator[None]:
    """Hold the index's build lock record, or raise ``IndexBusy`` naming who holds it.

    The lock is a lease: renewed every ``RENEW_SECONDS`` while the build runs, taken over when not renewed
    for ``LEASE_SECONDS`` (a writer that died, or lost the server) or when its holder on this machine is
    gone. Milvus has no compare-and-set: the record is written, read back after a moment, and the writer
    whose record stands holds the lock (of two machines starting within that moment, one backs off).
    """
    records.ensure()
    held = records.get("lock")
    if (
        held
        and time.time() - float(held.get("beat", 0)) < LEASE_SECONDS
        and (held.get("host") != socket.gethostname() or _alive_here(held))
    ):
        started = datetime.fromtimestamp(float(held["since"]), UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise IndexBusy(f"another build or update is running on {target} (on {held.get('host')}, since {started})")
    now = time.time()
    mine = {"owner": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(), "since": now, "beat": now}
    records.put("lock", mine)
    time.sleep(0.3)
    standing = records.get("lock")
    if not standing or standing.get("owner") != mine["owner"]:
        raise IndexBusy(f"another build or update started on {target} at the same moment")
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(RENEW_SECONDS):
            with contextlib.suppress(Exception):  # a blip: the next renewal tries again, well inside the lease
                records.put("lock", {**mine, "beat": time.time()})

    renewer = threading.Thread(target=renew, name="milvus-lock", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        for _ in range(3):  # a lost server: tried again; failing that, the lease runs out
            try:
                if (records.get("lock") or {}).get("owner") == mine["owner"]:
                    records.delete("lock")
                break
            except Exception:
                time.sleep(1.0)
