"""Files written whole or not at all: written aside, synced, then renamed over the old one.

A reader (the bot, a cron job, a crash in the middle) sees the old file or the new one,
never half of one. One implementation for every writer: the web store, the channel
files, CURRENT, the bot's pasted articles.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path, aside: Path | None = None, prefix: str = ".incoming-") -> Iterator[Path]:
    """A scratch file beside ``path`` to write (and check) the new content in; on leaving, it replaces ``path``.

    If the block raises, ``path`` is left as it was and the scratch file is removed. ``aside``
    names the scratch file (default: a fresh hidden name in the same folder, so the rename is atomic).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if aside is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=path.suffix)
        os.close(fd)
        aside = Path(name)
    try:
        yield aside
        with open(aside, "rb+") as f:  # what was written is on the disk before the name moves
            os.fsync(f.fileno())
        os.replace(aside, path)
        _sync_folder(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            aside.unlink()


def write_atomically(path: Path, data: str | bytes, aside: Path | None = None) -> None:
    """Replace ``path`` with ``data`` (text as UTF-8) in one step."""
    with replacing(path, aside) as scratch:
        scratch.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a folder's entries are synced through the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_lines(path: Path, lines: Sequence[str]) -> None:
    """Append ``lines`` to a log file, on disk before this returns: one write, so two writers' lines never interleave."""
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, ("\n".join(lines) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
