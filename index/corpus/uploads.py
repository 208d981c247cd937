"""Admins' uploaded article files, under ``ARTICLES_DIR/uploads/``: named by upload time, never overwritten.

Each upload is saved as ``<UTC time>-<name>`` (``20261205-203000-123456-news.jsonl``), so:

- a second upload under an earlier one's name never replaces that file (the link that
  puts it in place fails rather than overwrite);
- files sort by upload time, and the article loader lets a later file's copy of an
  article win (``index.articles``): the newest upload of an article is the one indexed.

Files from before this naming keep their content and are renamed by their modification
time the first time the folder is read here (``stamp_legacy``).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.layout import ArticlesLayout

from .articles import SUPPORTED_SUFFIXES, load_file
from .records import Article, LoadResult

STAMP_FORMAT = "%Y%m%d-%H%M%S-%f"
_STAMPED = re.compile(r"^(\d{8}-\d{6}-\d{6})-(.+)$")
_SAFE_NAME_RE = re.compile(r"[^\w.\- ]+", re.UNICODE)
MAX_NAME_BYTES = 180  # the stamp and a file system's 255-byte limit leave room for this much of the name
# what Telegram says a document is, for files sent without a name
_SUFFIX_OF_TYPE = {
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
}


@dataclass(frozen=True)
class Upload:
    """One uploaded file: where it is, the name it was sent under, and when it arrived."""

    path: Path
    name: str
    uploaded: datetime


def uploads_dir(articles_dir: Path) -> Path:
    return ArticlesLayout(Path(articles_dir)).uploads


def safe_filename(name: str, fallback: str = "upload") -> str:
    """A file name that cannot leave the uploads folder or hide itself: no paths, no leading dots.

    The suffix is kept and the stem shortened (to ``MAX_NAME_BYTES`` in UTF-8), so a long
    Arabic headline as a file name still ends in ``.jsonl``. A name with no suffix comes back
    as ``<fallback>-<name>`` and is refused for its type.
    """
    base = os.path.basename(name.replace("\\", "/"))
    base = _SAFE_NAME_RE.sub("_", base).strip(" ._")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or not suffix:
        return _fit(f"{fallback}-{base or 'file'}", "")
    return _fit(stem, "." + suffix.lower()[:16])


def _fit(stem: str, suffix: str) -> str:
    """``stem + suffix`` within ``MAX_NAME_BYTES`` of UTF-8, the stem cut at a character boundary."""
    room = MAX_NAME_BYTES - len(suffix.encode())
    cut = stem.encode()[:room].decode("utf-8", errors="ignore")
    if len(cut) < len(stem):
        cut = cut.rstrip(" ._")
    return (cut or "upload") + suffix


def name_for_document(file_name: str | None, mime_type: str | None) -> str | None:
    """The name to save a sent document under; a document without a name is named by its type (None: unknown type)."""
    if file_name:
        return safe_filename(file_name)
    suffix = _SUFFIX_OF_TYPE.get((mime_type or "").split(";", 1)[0].strip().lower())
    return f"upload{suffix}" if suffix else None


def is_supported(name: str) -> bool:
    return name.lower().endswith(SUPPORTED_SUFFIXES)


def _parse(path: Path) -> Upload | None:
    match = _STAMPED.match(path.name)
    if not match:
        return None
    try:
        when = datetime.strptime(match[1], STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # digits that are no date: not one of ours
        return None
    return Upload(path, match[2], when)


def stamp_legacy(articles_dir: Path) -> int:
    """Rename uploads saved before the time-stamped names (by their modification time); returns how many."""
    folder = uploads_dir(articles_dir)
    if not folder.is_dir():
        return 0
    renamed = 0
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and _parse(path) is None:
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if _place(path, folder, path.name, when, move=True) is not None:
                renamed += 1
    return renamed


def list_uploads(articles_dir: Path) -> list[Upload]:
    """Every upload, oldest first (the order the loader reads them in)."""
    stamp_legacy(articles_dir)
    folder = uploads_dir(articles_dir)
    if not folder.is_dir():
        return []
    found = [_parse(p) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return [u for u in found if u is not None]


def same_name(articles_dir: Path, name: str) -> list[Upload]:
    """Earlier uploads sent under ``name`` (compared without case)."""
    return [u for u in list_uploads(articles_dir) if u.name.casefold() == name.casefold()]


def save_upload(articles_dir: Path, incoming: Path, name: str, now: datetime | None = None) -> Upload:
    """Put the checked file ``incoming`` in place as a new upload; never replaces an existing file."""
    folder = uploads_dir(articles_dir)
    folder.mkdir(parents=True, exist_ok=True)
    saved = _place(incoming, folder, name, now or datetime.now(UTC), move=True)
    assert saved is not None  # a new time stamp is tried until a name is free
    return saved


def _place(source: Path, folder: Path, name: str, when: datetime, move: bool) -> Upload | None:
    """Link ``source`` under a free stamped name (a later microsecond if taken), then drop ``source``."""
    for _ in range(1000):
        target = folder / f"{when.strftime(STAMP_FORMAT)}-{name}"
        try:
            _link_new(source, target)  # fails when the name exists: nothing is ever overwritten
        except FileExistsError:
            when = when.replace(microsecond=(when.microsecond + 1) % 1_000_000)
            continue
        if move:
            source.unlink()
        return Upload(target, name, when)
    return None


def _link_new(source: Path, target: Path) -> None:
    """Give ``source`` the new name ``target``; ``FileExistsError`` when ``target`` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: create the name exclusively, then copy
        with open(target, "xb") as out, open(source, "rb") as data:
            while chunk := data.read(1 << 20):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())


def articles_of(paths: list[Path]) -> list[Article]:
    """The articles these files hold (problems ignored: the files were checked when uploaded)."""
    result = LoadResult()
    articles: list[Article] = []
    for path in paths:
        articles += load_file(path, result)
    return articles


def dropped_by(earlier: list[Path], replacement: list[Article]) -> list[Article]:
    """Articles of the ``earlier`` files that ``replacement`` does not hold (by id): what replacing them would drop."""
    kept = {a.id for a in replacement}
    return [a for a in articles_of(earlier) if a.id not in kept]


def remove_uploads(uploads: list[Upload]) -> None:
    for upload in uploads:
        with contextlib.suppress(FileNotFoundError):
            upload.path.unlink()
