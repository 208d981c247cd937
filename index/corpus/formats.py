"""The article file formats: JSON Lines, JSON (an object, an array, ``{"articles": [...]}``, a Telegram export),
text and Markdown (with front matter, or a page dump), and HTML (trafilatura).

Each loader turns a file's bytes into articles; a bad line is a ``Problem`` and the rest of the
file still loads; a file that cannot be read at all raises ``FileProblem`` (its line and reason).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .outlets import display_source
from .pagedump import looks_like_page_dump, parse_page_dump
from .records import Article, ArticleError, LoadResult, Problem, article_from_record, json_kind, pick_field
from .telegram import export_records, is_export

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = JSON_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without BOM), or raise a Problem-worthy error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(_line_of(data, exc.start), f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None


class FileProblem(Exception):
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
        raise FileProblem(exc.lineno, f"bad JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise FileProblem(None, "JSON nested too deeply") from None
    wrapper = isinstance(parsed, dict) and "articles" in parsed and pick_field(parsed, "text")[0] is None
    if wrapper and not isinstance(parsed["articles"], list):  # (an article may have an "articles" field of its own)
        raise FileProblem(None, f'"articles" is {json_kind(parsed["articles"])}; expected {JSON_SHAPES}')
    if isinstance(parsed, dict) and isinstance(parsed.get("articles"), list):
        records = parsed["articles"]
    elif is_export(parsed):  # a Telegram Desktop channel export (result.json)
        records = export_records(parsed)
    elif isinstance(parsed, dict):
        try:
            yield article_from_record(parsed, path, max_chars)
        except (ArticleError, ValueError) as exc:
            raise FileProblem(None, f"{exc}; expected {JSON_SHAPES}") from None
        return
    elif isinstance(parsed, list):
        records = parsed
    else:
        raise FileProblem(None, f"the file holds {json_kind(parsed)}; expected {JSON_SHAPES}")
    for i, record in enumerate(records):
        try:
            yield article_from_record(record, path, max_chars)
        except (ArticleError, ValueError) as exc:
            result.problems.append(Problem(path, None, f"item {i}: {exc}"))


JSON_SHAPES = 'an article object {"title": ..., "text": ...}, an array of them, or {"articles": [...]}'


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
        raise FileProblem(None, "no title or text")
    title = lines[first]
    if path.endswith((".md", ".markdown")):
        title = _MD_MARKUP_RE.sub("", title)
    record: dict[str, Any] = {**fields, "title": title, "text": "\n".join(lines[first + 1 :])}
    if not record.get("source"):
        record["source"] = display_source("", fields.get("url", ""), path)
    try:
        yield article_from_record(record, path, max_chars)
    except ArticleError as exc:
        raise FileProblem(first + 1, str(exc)) from None


def _load_html(data: bytes, path: str, result: LoadResult, max_chars: int) -> Iterator[Article]:
    import trafilatura  # imported here: only HTML needs it

    try:
        html = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        html = data.decode("cp1256", errors="replace")  # legacy Arabic pages
    try:
        extracted = trafilatura.bare_extraction(html, with_metadata=True, favor_precision=True, include_comments=False)
    except (RecursionError, ValueError) as exc:
        raise FileProblem(None, f"could not parse HTML ({type(exc).__name__})") from None
    if extracted is None:
        raise FileProblem(None, "no article text found in HTML")
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
        raise FileProblem(None, str(exc)) from None


LOADERS = {
    **dict.fromkeys((".jsonl", ".ndjson"), _load_jsonl),
    ".json": _load_json,
    **dict.fromkeys(TEXT_SUFFIXES, _load_text),
    **dict.fromkeys(HTML_SUFFIXES, _load_html),
}
