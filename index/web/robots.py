"""robots.txt per origin: fetched at most once a day, its rules and Crawl-delay obeyed (the state is kept by the caller)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.robotparser import RobotFileParser

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
ROBOTS_TTL_SECONDS = 24 * 3600


@dataclass
class RobotsCache:
    """robots.txt per origin, fetched at most once a day (state kept between runs by the caller)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # origin -> {"fetched", "status", "text"}
    _parsers: dict[str, RobotFileParser | None] = field(default_factory=dict, repr=False)

    def fresh(self, origin: str, now: float) -> dict[str, Any] | None:
        entry = self.entries.get(origin)
        return entry if entry and now - entry["fetched"] < ROBOTS_TTL_SECONDS else None

    def store(self, origin: str, status: int, text: str, now: float) -> None:
        self.entries[origin] = {"fetched": now, "status": status, "text": text}
        self._parsers.pop(origin, None)

    def parser(self, origin: str) -> RobotFileParser | None:
        """None means "allow everything" (no robots.txt, or a 4xx answer)."""
        if origin not in self._parsers:
            entry = self.entries[origin]
            if 200 <= entry["status"] < 300:
                parser = RobotFileParser()
                parser.parse(entry["text"].splitlines())
                self._parsers[origin] = parser
            else:
                self._parsers[origin] = None
        return self._parsers[origin]
