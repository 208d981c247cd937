"""The desk's decisions on answers: pins (this passage answers that question) and blocks (never this source).

Both are lines in ``<articles folder>/.desk.jsonl`` (hidden: never read as articles), appended and
never rewritten; the latest line about a pin's question or a block's target decides, so the file
also says who decided what, and when.

- A **pin** names the question (its key: normalised, stemmed, stop words out, the terms in order of
  their first use, so «من فاز بالمركز الأول؟» and «…الثاني؟» stay two questions), an article id, the
  pinned passage's text and the article's body key when it was pinned: never a chunk row, which
  every build renumbers. A pin whose article changed or left the index no longer applies.
- A **block** names a domain ("example.com", its subdomains too) or a Telegram channel ("@name"):
  its articles are left out of answers, and the fetcher does not fetch from it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from index.files import append_lines
from index.text.arabic import analyze_question, normalize

from .removals import now

log = logging.getLogger(__name__)

DESK_FILE = ".desk.jsonl"


@dataclass(frozen=True)
class Pin:
    """One pin (or, with ``undone``, its removal)."""

    key: str  # question_key of the question
    question: str = ""  # as asked, for the lists
    article_id: str = ""
    passage: str = ""  # the pinned passage's text
    body_key: str = ""  # the article's body key when pinned: another one means the article changed
    title: str = ""
    by: str = ""
    at: str = ""
    undone: bool = False
    reason: str = ""  # why it was undone: "" (an editor), "changed", "removed"


@dataclass(frozen=True)
class Block:
    """One block (or, with ``undone``, its lifting)."""

    target: str  # "example.com" or "@channel"
    by: str = ""
    at: str = ""
    undone: bool = False


@dataclass(frozen=True)
class Desk:
    """The standing pins (by question key) and blocks (by target) of a folder."""

    pins: dict[str, Pin] = field(default_factory=dict)
    blocks: dict[str, Block] = field(default_factory=dict)

    def pin_for(self, question: str) -> Pin | None:
        return self.pins.get(question_key(question)) if self.pins else None

    def blocked(self, url: str) -> Block | None:
        """The block that keeps ``url`` out (its domain or a parent domain, or its t.me channel), if any."""
        return next((self.blocks[t] for t in source_targets(url) if t in self.blocks), None) if self.blocks else None


def question_key(question: str) -> str:
    """The question as a pin matches it: its analysed terms (normalised, stemmed, stop words out), first use order.

    Nothing looser: another term, or one term fewer, is another question.
    """
    terms = list(dict.fromkeys(analyze_question(question)))
    return " ".join(terms) if terms else " ".join(normalize(question).split())


def source_targets(url: str) -> list[str]:
    """What a block may name for ``url``: its t.me channel ("@name"), else its host and each parent domain."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host in ("t.me", "telegram.me"):
        name = parts.path.strip("/").split("/")[0]
        if name == "s":  # t.me/s/<channel>/<post>: the public web view
            name = parts.path.strip("/").split("/")[1] if parts.path.count("/") > 1 else ""
        return [f"@{name.lower()}"] if name and name != "c" else []
    if not host:
        return []
    labels = host.split(".")
    if ":" in host or labels[-1].isdigit() or len(labels) == 1:  # an address or a bare name: only itself
        return [host]
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def source_target(url: str) -> str:
    """What a block of the source at ``url`` names: its channel or its domain ("" for none, e.g. no link)."""
    targets = source_targets(url) if url else []
    return targets[0] if targets else ""


def block_target(text: str) -> str:
    """What an editor typed ("https://www.Example.com/a", "example.com", "@Channel", "t.me/channel") as a target."""
    text = text.strip()
    if text.startswith("@"):
        return text.lower()
    if "://" not in text:
        text = "https://" + text
    targets = source_targets(text)
    if not targets:
        raise ValueError(f"{text!r} names no domain or channel")
    return targets[0]


# a line's "kind" -> its record type and the field the latest line about it is found by
_KINDS: dict[str, tuple[type[Pin] | type[Block], str]] = {"pin": (Pin, "key"), "block": (Block, "target")}


def desk_file(folder: Path) -> Path:
    return Path(folder) / DESK_FILE


def read_desk(folder: Path) -> Desk:
    """The standing pins and blocks of a folder; a damaged line is skipped with a warning, never fatal."""
    path = desk_file(folder)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return Desk()
    pins: dict[str, Pin] = {}
    blocks: dict[str, Block] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            kind, name = _KINDS.get(data.get("kind"), (None, ""))
            if kind is None or not data.get(name):
                raise ValueError("neither a pin nor a block")
            entry = kind(**{f: data[f] for f in kind.__dataclass_fields__ if f in data})
            standing: dict = pins if kind is Pin else blocks
            if entry.undone:
                standing.pop(data[name], None)
            else:
                standing[data[name]] = entry
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s line %d: not a desk record (%s); skipped", path, number, exc)
    return Desk(pins, blocks)


def record(folder: Path, entries: Sequence[Pin | Block]) -> None:
    """Add lines to a folder's desk log, on disk before this returns (one write: lines are never interleaved)."""
    if not entries:
        return
    lines = []
    for entry in entries:
        data = asdict(entry)
        data["at"] = data["at"] or now()
        lines.append(json.dumps({"kind": "pin" if isinstance(entry, Pin) else "block", **data}, ensure_ascii=False))
    append_lines(desk_file(folder), lines)
