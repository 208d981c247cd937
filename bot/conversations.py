"""What each conversation asked last, so a follow-up («ومتى حدث ذلك؟») is understood in its context.

A private chat is one conversation; in a group, each of the bot's answers starts a
thread, and a reply to that answer continues it (a fresh mention starts afresh).
The last question of a conversation is forgotten after ``timeout`` seconds of silence
(``FOLLOWUP_MINUTES``) or on /new. Kept in memory, bounded; a restart forgets
every conversation, which only means the next question stands alone.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Hashable, Iterable

from index.search.followup import Understood

MAX_CONVERSATIONS = 20_000


def private_key(chat_id: int) -> tuple[str, int]:
    """A private chat: one conversation."""
    return ("chat", chat_id)


def thread_key(chat_id: int, message_id: int) -> tuple[str, int, int]:
    """A group thread: the bot's answer message that a reply continues."""
    return ("message", chat_id, message_id)


class Conversations:
    """Conversation key -> the last question as understood (with the article its reply led with), and when."""

    def __init__(
        self, timeout: float = 600.0, size: int = MAX_CONVERSATIONS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.timeout = timeout
        self.size = size
        self._clock = clock
        self._items: collections.OrderedDict[Hashable, tuple[Understood, float]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def previous(self, key: Hashable) -> Understood | None:
        """The conversation's last question, or None when there is none or it is older than ``timeout``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            understood, at = item
            if self._clock() - at > self.timeout:
                del self._items[key]
                return None
            return understood

    def remember(self, keys: Iterable[Hashable], understood: Understood) -> None:
        """``understood`` is now the last question of each of ``keys`` (a reply sent as several messages has several)."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._items[key] = (understood, now)
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, key: Hashable) -> bool:
        """Start afresh (/new); whether there was anything to forget."""
        with self._lock:
            return self._items.pop(key, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
