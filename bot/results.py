"""Searches kept for their buttons: "more results" and "full passage" find the result they were sent with.

A result id goes into each button's data; the result is kept (up to ``CACHED_RESULTS``, oldest
dropped first) with the build it came from, and a button pressed after the index was updated
says the results expired instead of showing passages of another build.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
from dataclasses import dataclass, field

from index.results import SearchResult

CACHED_RESULTS = 2000


@dataclass
class CachedResult:
    """A search kept for its buttons."""

    result: SearchResult
    build_id: str
    lang: str
    asked: str = ""  # the question as the reader wrote it: "new question" asks it again without context
    written: str = ""  # the language-model reader's checked answer, when it was edited into the reply
    buttons: object = None  # the first page's buttons as they are now (the reader's edits keep them)
    created: float = field(default_factory=time.monotonic)


class ResultsCache:
    """Result ids -> searches, thread-safe, bounded."""

    def __init__(self, size: int = CACHED_RESULTS) -> None:
        self.size = size
        self._items: collections.OrderedDict[str, CachedResult] = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, item: CachedResult) -> str:
        """Keep ``item``; its new result id (short, URL-safe, for button data)."""
        rid = secrets.token_urlsafe(6)
        with self._lock:
            self._items[rid] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return rid

    def get(self, rid: str) -> CachedResult | None:
        """The result ``rid`` names, whatever build it came from (a vote on an older answer still counts)."""
        with self._lock:
            return self._items.get(rid)

    def recall(self, rid: str, build_id: str) -> CachedResult | None:
        """The result for a button, or None when unknown or made on another build than ``build_id``."""
        item = self.get(rid)
        return item if item is not None and item.build_id == build_id else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
