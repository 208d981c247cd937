"""Takedowns: articles an editor removed, kept out of every later build however they come back.

A removal is one line in ``<articles folder>/.removed.jsonl`` (a hidden file: never read as
articles), and so is a restore; the latest line about an article decides. Loading articles
skips every article the standing removals name, by id or by canonical URL, so a later fetch,
refresh, upload, channel edit or build from scratch does not bring it back. The file is a log,
append only: it also says who removed or restored what, and when.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from index.files import append_lines

from .urls import canonical_url

log = logging.getLogger(__name__)

REMOVALS_FILE = ".removed.jsonl"


@dataclass(frozen=True)
class Takedown:
    """One line of the log: an article removed (or restored), by whom and when."""

    article_id: str
    url: str = ""  # canonical; "" when the article had no link
    title: str = ""
    path: str = ""  # the file the article was read from when it was removed
    by: str = ""  # who: a Telegram user ("tg:123 @name") or the command line's --by
    at: str = ""  # ISO time, UTC
    restored: bool = False

    @classmethod
    def from_json(cls, data: dict) -> Takedown:
        if not isinstance(data.get("article_id"), str) or not data["article_id"]:
            raise ValueError("no article_id")
        return cls(**{f: data[f] for f in cls.__dataclass_fields__ if f in data})

    def undone(self, by: str, at: str | None = None) -> Takedown:
        """The restore of this removal."""
        return Takedown(self.article_id, self.url, self.title, self.path, by, at or now(), restored=True)


@dataclass(frozen=True)
class DenyList:
    """The standing removals of some folders: what loading articles leaves out."""

    standing: dict[str, Takedown] = field(default_factory=dict)  # article id -> its removal
    by_url: dict[str, Takedown] = field(default_factory=dict)  # canonical URL -> its removal

    @classmethod
    def of(cls, standing: dict[str, Takedown]) -> DenyList:
        return cls(standing, {t.url: t for t in standing.values() if t.url})

    def __bool__(self) -> bool:
        return bool(self.standing)

    def blocks(self, article_id: str, url: str = "") -> Takedown | None:
        """The removal that keeps this article out, if any."""
        hit = self.standing.get(article_id)
        if hit is None and url and self.by_url:
            hit = self.by_url.get(canonical_url(url))
        return hit

    def fingerprint(self) -> list[list[str]]:
        """What an update compares with the build before: each standing removal's id, URL and file."""
        return sorted([t.article_id, t.url, t.path] for t in self.standing.values())


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def removals_file(folder: Path) -> Path:
    return Path(folder) / REMOVALS_FILE


def read_log(folder: Path) -> list[Takedown]:
    """Every line of a folder's log, oldest first; a damaged line is skipped with a warning, never fatal."""
    path = removals_file(folder)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(Takedown.from_json(json.loads(line)))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s line %d: not a removal record (%s); skipped", path, number, exc)
    return out


def deny_list(paths: Sequence[Path]) -> DenyList:
    """The standing removals of every folder among ``paths`` (files have none)."""
    standing: dict[str, Takedown] = {}
    for path in paths:
        if Path(path).is_dir():
            for record in read_log(Path(path)):
                if record.restored:
                    standing.pop(record.article_id, None)
                else:
                    standing[record.article_id] = record
    return DenyList.of(standing)


def append(folder: Path, records: Sequence[Takedown]) -> None:
    """Add lines to a folder's log, on disk before this returns (one write: lines are never interleaved)."""
    if not records:
        return
    append_lines(removals_file(folder), [json.dumps(asdict(r), ensure_ascii=False) for r in records])
