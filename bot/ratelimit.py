"""Per-user question limit: at most N questions in any sliding 60-second window."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable


class QuestionLimiter:
    """Sliding-window counter per user. ``per_minute`` of 0 disables the limit."""

    def __init__(self, per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._asked: dict[int, collections.deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int) -> float:
        """Record a question; return 0 if allowed, else the seconds until the next one is allowed."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        times = self._asked.setdefault(user_id, collections.deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.per_minute:
            return max(1.0, self.window - (now - times[0]))
        times.append(now)
        if len(self._asked) > 10_000:  # forget idle users so memory stays flat
            for uid in [u for u, t in self._asked.items() if not t or now - t[-1] >= self.window]:
                del self._asked[uid]
        return 0.0

    def should_warn(self, user_id: int) -> bool:
        """Warn a limited user once per window, not on every extra message."""
        now = self._clock()
        if now - self._warned.get(user_id, -self.window) >= self.window:
            self._warned[user_id] = now
            if len(self._warned) > 10_000:  # forget old warnings so memory stays flat
                self._warned = {u: t for u, t in self._warned.items() if now - t < self.window}
            return True
        return False
