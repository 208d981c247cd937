"""Articles as records: the ``Article`` type, what a load reports, and the cleaning every format shares.

Pure functions: a JSON-like record in, a clean ``Article`` out (``article_from_record``); the
displayed text is exactly what is stored, and matching works on normalised copies elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from index.text.arabic import normalize, without_marks

from .outlets import display_source
from .urls import MAX_URL_CHARS

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
    denied: int = 0  # articles an editor removed (``corpus.removals``), left out
    # copies left out because another file's copy won (ids, and "body:<key>" for identical bodies): an update that
    # drops the winner must read everything again, so that the copy comes back as a full build would bring it
    shadowed: set[str] = field(default_factory=set)
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


def pick_field(record: dict[str, Any], name: str) -> tuple[str | None, Any]:
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
        raise ArticleError(f"expected a JSON object (an article), got {json_kind(record)}")
    record = _no_surrogates(record)
    used: set[str] = set()
    values: dict[str, str] = {}
    for name in _FIELD_ALIASES:
        key, value = pick_field(record, name)
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


def json_kind(value: Any) -> str:
    """How a JSON value reads in a message: "a string", "an object"..."""
    kinds = {str: "a string", bool: "true or false", int: "a number", float: "a number", dict: "an object", list: "an array"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)
