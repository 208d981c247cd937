"""Load and clean news articles from files: JSONL, JSON, text/Markdown, HTML, page dumps.

One bad file, or one bad line of a JSONL file, is reported as a ``Problem``
(file, line, reason) and skipped; everything else is still loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Protocol

from index.progress import bar
from index.text.arabic import normalize, without_marks

from .outlets import display_source
from .pagedump import looks_like_page_dump, parse_page_dump
from .telegram import export_records, is_export, is_live_post
from .urls import MAX_URL_CHARS

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = JSON_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ARTICLE_CHARS = 1_000_000

# Known article fields and the other names corpora use for them.
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "doc_id", "_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article"),
    "url": ("url", "link", "href"),
    "date": ("date", "published", "published_at", "datetime", "time"),
    "source": ("source", "outlet", "publisher", "site", "sitename"),
    "author": ("author", "authors", "byline"),
}


@dataclass
class Article:
    """A cleaned article. ``text`` is shown to readers exactly as stored here."""

    id: str
    title: str
    text: str
    url: str = ""
    date: str = ""
    source: str = ""
    author: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @cached_property
    def content_hash(self) -> str:
        """Hash of what is indexed for this article; changes when title, text or attribution change."""
        payload = json.dumps([self.title, self.text, self.url, self.date, self.source, self.author], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    @cached_property
    def body_key(self) -> str:
        """Key of the body with diacritics, spacing and case ignored, used to index identical bodies once.

        Not the full Arabic normalisation: every ``update`` keys the whole corpus, and
        that costs 4 times more (0.3 s on 2,000 articles) for the rare copy that differs
        only in hamza forms.
        """
        return hashlib.sha256(" ".join(without_marks(self.text).split()).casefold().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Problem:
    """Something in the input that could not be used, with where it is and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class LoadResult:
    """Articles loaded from some paths, and what was skipped and why."""

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    duplicates: int = 0
    file_names: list[str] = field(default_factory=list)  # every file read, as problems name them
    # (article id, earlier file, later file): an article a later file holds again, whose later copy is used
    superseded: list[tuple[str, str, str]] = field(default_factory=list)


class ArticleError(ValueError):
    """An article record that cannot be used (missing text, wrong types...)."""


# --------------------------------------------------------------------- cleaning

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANKS_RE = re.compile(r"\n{3,}")


_SURROGATES_RE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: Any) -> Any:
    """``value`` with lone surrogates dropped from every string in it.

    JSON may spell them (``"\\ud800"``) although no UTF-8 text can hold them: kept, they
    made hashing, SQLite and Telegram fail on the article and lost its whole file.
    """
    if isinstance(value, str):
        return _SURROGATES_RE.sub("", value) if not value.isascii() else value
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    return value


def clean_text(text: str) -> str:
    """Tidy whitespace without touching words: unify line ends, drop control characters,
    strip each line, keep at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL_RE.sub("", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS_RE.sub("\n\n", text).strip()


def clean_line(text: str) -> str:
    """A one-line field (title, source): whitespace collapsed."""
    return " ".join(clean_text(text).split())


def _drop_leading_title(text: str, title: str) -> str:
    """Scraped bodies often start with the headline again; drop that first line."""
    first, sep, rest = text.partition("\n")
    if title and sep and normalize(first) == normalize(title):
        return rest.strip()
    return text


def make_id(given: str = "", url: str = "", text: str = "") -> str:
    """Stable article id: the given one, else derived from the URL, else from the content."""
    if given:
        return given
    if url:
        return "u-" + hashlib.sha1(url.strip().encode("utf-8")).hexdigest()[:16]
    return "h-" + hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:16]


def _pick(record: dict[str, Any], name: str) -> tuple[str | None, Any]:
    for key in _FIELD_ALIASES[name]:
        if key in record and record[key] not in (None, ""):
            return key, record[key]
    return None, None


def _as_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) if name in ("author", "source") else "\n\n".join(value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ArticleError(f"field {name!r} must be text, got {type(value).__name__}")


def article_from_record(record: Any, path: str = "", max_chars: int = DEFAULT_MAX_ARTICLE_CHARS) -> Article:
    """Build an ``Article`` from a JSON object; unknown fields are kept in ``metadata``."""
    if not isinstance(record, dict):
        raise ArticleError(f"expected a JSON object (an article), got {_json_kind(record)}")
    record = _no_surrogates(record)
    used: set[str] = set()
    values: dict[str, str] = {}
    for name in _FIELD_ALIASES:
        key, value = _pick(record, name)
        if key:
            used.add(key)
        values[name] = _as_text(value, name)
    title = clean_line(values["title"])
    text = _drop_leading_title(clean_text(values["text"]), title)
    if not text:
        raise ArticleError("article has no text")
    metadata = {k: v for k, v in record.items() if k not in used}
    if len(text) > max_chars:
        metadata["truncated_from_chars"] = len(text)
        text = text[:max_chars]
    url = given_url = values["url"].strip()
    article_id = make_id(values["id"].strip(), url, text)
    if len(url) > MAX_URL_CHARS:  # kept without a link (the id still comes from it, so it stays stable)
        metadata["url_dropped_chars"] = len(url)
        url = ""
    return Article(
        id=article_id,
        title=title,
        text=text,
        url=url,
        date=values["date"].strip(),
        source=display_source(clean_line(values["source"]), given_url),
        author=clean_line(values["author"]),
        metadata=metadata,
        path=path,
    )


# ---------------------------------------------------------------- file formats


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without BOM), or raise a Problem-worthy error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _FileProblem(_line_of(data, exc.start), f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None


class _FileProblem(Exception):
    def __init__(self, line: int | None, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _load_jsonl(data: bytes, path: str, result: LoadResult, max_chars: int) -> Iterator[Article]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            yield article_from_record(json.loads(line), path, max_chars)
        except UnicodeDecodeError as exc:
            result.problems.append(Problem(path, number, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})"))
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(path, number, f"bad JSON: {exc.msg} (column {exc.colno})"))
        except (ArticleError, RecursionError) as exc:
            result.problems.append(Problem(path, number, str(exc) or "JSON nested too deeply"))
        except ValueError as exc:  # e.g. an integer too long to convert
            result.problems.append(Problem(path, number, f"bad record: {exc}"))


def _load_json(data: bytes, path: str, result: LoadResult, max_chars: int) -> Iterator[Article]:
    text = _decode(data, path)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        # Some ".json" files are really JSON Lines.
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            yield from _load_jsonl(data, path, result, max_chars)
            return
        raise _FileProblem(exc.lineno, f"bad JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise _FileProblem(None, "JSON nested too deeply") from None
    wrapper = isinstance(parsed, dict) and "articles" in parsed and _pick(parsed, "text")[0] is None
    if wrapper and not isinstance(parsed["articles"], list):  # (an article may have an "articles" field of its own)
        raise _FileProblem(None, f'"articles" is {_json_kind(parsed["articles"])}; expected {JSON_SHAPES}')
    if isinstance(parsed, dict) and isinstance(parsed.get("articles"), list):
        records = parsed["articles"]
    elif is_export(parsed):  # a Telegram Desktop channel export (result.json)
        records = export_records(parsed)
    elif isinstance(parsed, dict):
        try:
            yield article_from_record(parsed, path, max_chars)
        except (ArticleError, ValueError) as exc:
            raise _FileProblem(None, f"{exc}; expected {JSON_SHAPES}") from None
        return
    elif isinstance(parsed, list):
        records = parsed
    else:
        raise _FileProblem(None, f"the file holds {_json_kind(parsed)}; expected {JSON_SHAPES}")
    for i, record in enumerate(records):
        try:
            yield article_from_record(record, path, max_chars)
        except (ArticleError, ValueError) as exc:
            result.problems.append(Problem(path, None, f"item {i}: {exc}"))


JSON_SHAPES = 'an article object {"title": ..., "text": ...}, an array of them, or {"articles": [...]}'


def _json_kind(value: Any) -> str:
    """How a JSON value reads in a message: "a string", "an object"..."""
    kinds = {str: "a string", bool: "true or false", int: "a number", float: "a number", dict: "an object", list: "an array"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_MD_MARKUP_RE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, text[match.end() :]


def _load_text(data: bytes, path: str, result: LoadResult, max_chars: int) -> Iterator[Article]:
    text = _decode(data, path).replace("\r\n", "\n")
    if looks_like_page_dump(text):
        for page in parse_page_dump(text):
            record = {"title": page.title, "text": page.text, "source": display_source("", "", path)}
            if page.captions:
                record["captions"] = page.captions
            try:
                yield article_from_record(record, path, max_chars)
            except ArticleError as exc:
                result.problems.append(Problem(path, page.line, str(exc)))
        return
    fields, body = _front_matter(text)
    lines = body.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise _FileProblem(None, "no title or text")
    title = lines[first]
    if path.endswith((".md", ".markdown")):
        title = _MD_MARKUP_RE.sub("", title)
    record: dict[str, Any] = {**fields, "title": title, "text": "\n".join(lines[first + 1 :])}
    if not record.get("source"):
        record["source"] = display_source("", fields.get("url", ""), path)
    try:
        yield article_from_record(record, path, max_chars)
    except ArticleError as exc:
        raise _FileProblem(first + 1, str(exc)) from None


def _load_html(data: bytes, path: str, result: LoadResult, max_chars: int) -> Iterator[Article]:
    import trafilatura  # imported here: only HTML needs it

    try:
        html = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        html = data.decode("cp1256", errors="replace")  # legacy Arabic pages
    try:
        extracted = trafilatura.bare_extraction(html, with_metadata=True, favor_precision=True, include_comments=False)
    except (RecursionError, ValueError) as exc:
        raise _FileProblem(None, f"could not parse HTML ({type(exc).__name__})") from None
    if extracted is None:
        raise _FileProblem(None, "no article text found in HTML")
    doc = extracted if isinstance(extracted, dict) else extracted.as_dict()
    record = {
        "title": doc.get("title") or "",
        "text": doc.get("text") or "",
        "url": doc.get("url") or "",
        "date": doc.get("date") or "",
        "source": doc.get("sitename") or "",
        "author": doc.get("author") or "",
    }
    try:
        yield article_from_record(record, path, max_chars)
    except ArticleError as exc:
        raise _FileProblem(None, str(exc)) from None


_LOADERS = {
    **dict.fromkeys((".jsonl", ".ndjson"), _load_jsonl),
    ".json": _load_json,
    **dict.fromkeys(TEXT_SUFFIXES, _load_text),
    **dict.fromkeys(HTML_SUFFIXES, _load_html),
}


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

    from . import outlets, pagedump, telegram

    digest = hashlib.sha256()
    for module in (sys.modules[__name__], arabic, outlets, pagedump, telegram):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.digest()


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
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        result.problems.append(Problem(name, None, f"skipped: unsupported file type {path.suffix or '(none)'}"))
        return []
    try:
        size = path.stat().st_size
        if size == 0:
            raise _FileProblem(None, "empty file")
        if size > max_file_bytes:
            raise _FileProblem(None, f"file too large ({size / 1e6:.1f} MB > {max_file_bytes / 1e6:.0f} MB)")
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            raise _FileProblem(None, "binary file, not text")
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
            raise _FileProblem(None, "no articles found")
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
    except _FileProblem as exc:
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
) -> LoadResult:
    """Load every article under ``paths``; identical bodies and repeated ids are kept once (``memo``: see load_file)."""
    result = LoadResult()
    by_id: dict[str, Article] = {}
    position: dict[str, int] = {}  # article id -> its place in result.articles
    bodies: set[str] = set()
    files = list(iter_files(paths, result))
    for path in bar(files, enabled=progress and len(files) > 1, desc="reading", unit="file"):
        result.files += 1
        result.file_names.append(display_path(path))
        for article in load_file(path, result, max_file_bytes, max_chars, memo):
            earlier = by_id.get(article.id)
            if earlier is not None:
                if _keeps_earlier(earlier, article):
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
                continue
            bodies.add(article.body_key)
            by_id[article.id] = article
            position[article.id] = len(result.articles)
            result.articles.append(article)
    return result
