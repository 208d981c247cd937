"""Load articles from files and folders: every format, one bad file or line never losing the rest.

One bad file, or one bad line of a JSONL file, is reported as a ``Problem`` (file, line, reason)
and skipped; everything else is still loaded. Folders are walked in sorted order; an article
id found again in a later file takes that file's copy (``load_articles``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Protocol

from index.progress import bar

from .formats import HTML_SUFFIXES, LOADERS, SUPPORTED_SUFFIXES, FileProblem
from .records import DEFAULT_MAX_ARTICLE_CHARS, DEFAULT_MAX_FILE_BYTES, Article, LoadResult, Problem
from .removals import DenyList
from .telegram import is_live_post
from .urls import MAX_URL_CHARS

__all__ = ["SUPPORTED_SUFFIXES", "FileMemo", "display_path", "iter_files", "load_articles", "load_file"]


def display_path(path: Path | str) -> str:
    """A path as printable UTF-8 text, even when the file name holds bytes that are not UTF-8."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


class FileMemo(Protocol):
    """Where a file's loaded articles are remembered by content (``cache.BuildCache`` is one)."""

    def recall(self, name: str, digest: str) -> str | None: ...

    def remember(self, name: str, digest: str, payload: str) -> None: ...


@cache
def _loader_fingerprint() -> bytes:
    """The source of every module that decides what a file yields (cleaning, outlets, normalisation, formats):
    any change to them, or an upgrade, makes remembered files be read again."""
    from index.text import arabic

    from . import formats, outlets, pagedump, records, telegram

    digest = hashlib.sha256()
    for module in (sys.modules[__name__], records, formats, arabic, outlets, pagedump, telegram):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.digest()


def loader_version() -> str:
    """A short name of the loader's code: a build records it, and an update after a change of it reads every file."""
    return _loader_fingerprint().hex()[:16]


def _file_digest(data: bytes, max_chars: int) -> str:
    """What a file's loaded articles depend on: its bytes, the loader's code and the length limit."""
    return hashlib.sha256(_loader_fingerprint() + f"\x00{max_chars}\x00".encode() + data).hexdigest()[:32]


def _dump_loaded(articles: list[Article], problems: list[Problem]) -> str | None:
    """A file's articles (with their derived keys) and line problems as JSON; None if some metadata is not plain JSON."""
    records = [
        {**{f.name: getattr(a, f.name) for f in fields(Article)}, "content_hash": a.content_hash, "body_key": a.body_key}
        for a in articles
    ]
    try:
        payload = json.dumps({"articles": records, "problems": [[p.line, p.reason] for p in problems]}, ensure_ascii=False)
        payload.encode("utf-8")  # storable as SQLite text (records hold no lone surrogate: see _no_surrogates)
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return None
    # metadata that JSON would change (tuples, integer keys...) is not remembered: the file is read each time
    return payload if json.loads(payload)["articles"] == records else None


def _parse_loaded(payload: str, name: str) -> tuple[list[Article], list[Problem]] | None:
    """The inverse of ``_dump_loaded``; None for a damaged entry (the file is then read again)."""
    try:
        data = json.loads(payload)
        articles = []
        for record in data["articles"]:
            derived = {"content_hash": record.pop("content_hash"), "body_key": record.pop("body_key")}
            if not all(isinstance(v, str) for k, v in record.items() if k != "metadata"):
                raise TypeError("a field is not text")
            if not isinstance(record["metadata"], dict) or not all(isinstance(v, str) for v in derived.values()):
                raise TypeError("damaged metadata or keys")
            article = Article(**record)
            article.__dict__.update(derived)  # the cached properties, already computed
            articles.append(article)
        problems = [Problem(name, line, str(reason)) for line, reason in data["problems"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return articles, problems


def load_file(
    path: Path,
    result: LoadResult,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
    memo: FileMemo | None = None,
) -> list[Article]:
    """Load the articles of one file; problems are appended to ``result`` rather than raised.

    With ``memo``, a file whose bytes were loaded before (same path) is not parsed and
    cleaned again: an ``update`` reads a whole corpus to find what changed, and most
    of it has not.
    """
    name = display_path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        result.problems.append(Problem(name, None, f"skipped: unsupported file type {path.suffix or '(none)'}"))
        return []
    try:
        size = path.stat().st_size
        if size == 0:
            raise FileProblem(None, "empty file")
        if size > max_file_bytes:
            raise FileProblem(None, f"file too large ({size / 1e6:.1f} MB > {max_file_bytes / 1e6:.0f} MB)")
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            raise FileProblem(None, "binary file, not text")
        if path.suffix.lower() in HTML_SUFFIXES:
            memo = None  # what HTML yields also depends on trafilatura's version: read each time
        digest = _file_digest(data, max_chars) if memo is not None else ""
        known = memo.recall(name, digest) if memo is not None else None
        loaded = _parse_loaded(known, name) if known is not None else None
        if loaded is not None:
            articles = loaded[0]
            result.problems.extend(loaded[1])
        else:
            before = len(result.problems)
            articles = list(loader(data, name, result, max_chars))
            payload = _dump_loaded(articles, result.problems[before:]) if memo is not None else None
            if memo is not None and payload is not None:
                memo.remember(name, digest, payload)
        if not articles and not any(p.path == name for p in result.problems):
            raise FileProblem(None, "no articles found")
        for article in articles:
            if "url_dropped_chars" in article.metadata:
                result.problems.append(
                    Problem(
                        name,
                        None,
                        f"article {article.id!r}: its URL is {article.metadata['url_dropped_chars']:,} characters "
                        f"(more than {MAX_URL_CHARS:,}); indexed without a link",
                    )
                )
            if "truncated_from_chars" in article.metadata:
                result.problems.append(
                    Problem(
                        name,
                        None,
                        f"article {article.id!r} is {article.metadata['truncated_from_chars']:,} characters; "
                        f"indexed its first {max_chars:,} (MAX_ARTICLE_CHARS)",
                    )
                )
        return articles
    except FileProblem as exc:
        result.problems.append(Problem(name, exc.line, exc.reason))
    except OSError as exc:
        result.problems.append(Problem(name, None, f"cannot read: {exc.strerror or exc}"))
    except (ValueError, RecursionError, MemoryError) as exc:
        # a case no loader foresaw: this file is lost, the rest of the corpus is not
        result.problems.append(Problem(name, None, f"could not parse: {type(exc).__name__}: {exc}"))
    return []


def iter_files(paths: Iterable[str | Path], result: LoadResult) -> Iterator[Path]:
    """Walk files and directories (recursively, sorted, hidden entries skipped, symlink loops cut)."""
    seen: set[str] = set()
    for root in paths:
        root = Path(root)
        if not root.exists():
            result.problems.append(Problem(display_path(root), None, "no such file or directory"))
            continue
        if root.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:
                dirnames[:] = []
                result.problems.append(Problem(display_path(dirpath), None, "skipped: directory already visited (symlink loop)"))
                continue
            seen.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                if not filename.startswith("."):
                    yield Path(dirpath) / filename


def _keeps_earlier(earlier: Article, later: Article) -> bool:
    """Whether the copy read first stays when a later one has the same id.

    Files are read in sorted path order and a later file's copy wins (the newest upload:
    uploads are named by time). Two exceptions: within one file the first line stays,
    and the channel's own file (``ARTICLES_DIR/telegram/``, kept current by the bot)
    beats an export's copy, whichever is read first.
    """
    if earlier.path == later.path:
        return True
    return is_live_post(earlier.id, earlier.path) and not is_live_post(later.id, later.path)


def load_articles(
    paths: Iterable[str | Path],
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
    progress: bool = False,
    memo: FileMemo | None = None,
    deny: DenyList | None = None,
) -> LoadResult:
    """Load every article under ``paths``; identical bodies and repeated ids are kept once (``memo``: see load_file).

    Articles ``deny`` names (an editor's takedowns, ``corpus.removals``) are left out and counted in ``denied``.
    """
    result = LoadResult()
    by_id: dict[str, Article] = {}
    position: dict[str, int] = {}  # article id -> its place in result.articles
    bodies: set[str] = set()
    files = list(iter_files(paths, result))
    for path in bar(files, enabled=progress and len(files) > 1, desc="reading", unit="file"):
        result.files += 1
        result.file_names.append(display_path(path))
        for article in load_file(path, result, max_file_bytes, max_chars, memo):
            if deny and deny.blocks(article.id, article.url):
                result.denied += 1
                continue
            earlier = by_id.get(article.id)
            if earlier is not None:
                if _keeps_earlier(earlier, article):
                    result.shadowed.add(article.id)
                    if earlier.path == article.path:
                        result.problems.append(
                            Problem(
                                display_path(path), None, f"article id {article.id!r} used twice in this file; the first kept"
                            )
                        )
                    else:
                        result.duplicates += 1
                    continue
                # a later file's copy replaces the earlier one: uploads are named by time (index.uploads),
                # so the newest upload of an article wins
                result.shadowed.add(article.id)
                if is_live_post(article.id, article.path):  # the bot's own copy of an exported post
                    result.duplicates += 1
                else:
                    result.superseded.append((article.id, earlier.path, article.path))
                bodies.discard(earlier.body_key)
                bodies.add(article.body_key)
                result.articles[position[article.id]] = by_id[article.id] = article
                continue
            if article.body_key in bodies:
                result.duplicates += 1
                result.shadowed.add(f"body:{article.body_key}")
                continue
            bodies.add(article.body_key)
            by_id[article.id] = article
            position[article.id] = len(result.articles)
            result.articles.append(article)
    return result
