"""Tell what a downloaded source is, by its content, and read the links of feeds and sitemaps.

Pure functions over bytes. A source may be an article page, an RSS 0.9x/1.0/2.0,
Atom or JSON feed, a sitemap, a sitemap index (possibly gzipped) or a plain list
of URLs; the file name and the Content-Type header are not trusted (feeds are
often served as ``text/html``, sitemaps under any name).

Feeds are read with feedparser: it knows every feed dialect and date format in
the wild and salvages what it can from broken XML. Sitemaps are read with lxml
(no entity expansion, no network), since feedparser does not read them.
"""

from __future__ import annotations

import email.utils
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from index.corpus.urls import canonical_url, is_web_url

MAX_DECOMPRESSED = 60 * 1024 * 1024  # the sitemap protocol's limit is 50 MB uncompressed

HTML, FEED, SITEMAP, SITEMAP_INDEX, URL_LIST = "html", "feed", "sitemap", "sitemap index", "url list"
_ROOT = re.compile(rb"<\s*(?:[\w.-]+:)?(rss|feed|RDF|urlset|sitemapindex|html|head|body)\b", re.I)
# What may come before the root element: whitespace, the XML declaration, comments, a DOCTYPE (with an
# internal subset in brackets, whose entities are never expanded: see _parse_feed and _parse_sitemap)
# and stylesheets.
_DOCTYPE = rb"<!DOCTYPE[^>\[]*(?:\[.*?\]\s*)?>"
_LEADING = re.compile(rb"\A(?:\s|<\?xml[^>]*\?>|<!--.*?-->|" + _DOCTYPE + rb"|<\?xml-stylesheet[^>]*\?>)*", re.S | re.I)
_DOCTYPE_RE = re.compile(_DOCTYPE, re.S | re.I)


class NotAListing(ValueError):
    """Content that should have been a feed or sitemap but cannot be read as one."""


@dataclass(frozen=True)
class Entry:
    """A link found in a listing, with the dates the listing gives for it (YYYY-MM-DD / ISO time)."""

    url: str
    published: str = ""  # the day it was published, in the publisher's time zone
    updated: str = ""  # ISO timestamp of its last change, when the listing says
    title: str = ""


@dataclass
class Listing:
    """A feed or sitemap read: its article links (newest first) and, for an index, its sitemaps."""

    kind: str
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[Entry] = field(default_factory=list)
    problem: str = ""  # set when the XML was broken but some links could still be read


def gunzip(content: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress gzip content, refusing to grow past ``limit`` (a gzip bomb stays small)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, limit + 1)
    except zlib.error as exc:
        raise NotAListing(f"bad gzip data ({exc})") from None
    if len(out) > limit:
        raise NotAListing(f"more than {limit // 1_000_000} MB once decompressed")
    return out


def sniff(content: bytes, content_type: str = "") -> str:
    """What ``content`` is: html, feed, sitemap, sitemap index, url list, or ``other: <type>``."""
    if content[:2] == b"\x1f\x8b":
        content = gunzip(content)
    head = content[:4096].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"%PDF"):
        return "other: PDF document"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: look at the ASCII letters only
        head = head[2:].replace(b"\x00", b"")
    rest = head[_LEADING.match(head).end() :]
    match = _ROOT.match(rest) or (_ROOT.search(rest[:512]) if rest.startswith(b"<") else None)
    if match:
        name = match.group(1).lower()
        return {b"urlset": SITEMAP, b"sitemapindex": SITEMAP_INDEX}.get(
            name, HTML if name in (b"html", b"head", b"body") else FEED
        )
    stripped = head.strip()
    if stripped.startswith(b"{") and b"jsonfeed.org" in head:
        return FEED
    if content_type in ("text/html", "application/xhtml+xml") or stripped[:1] == b"<":
        return HTML
    lines = [line.strip() for line in content[:65536].splitlines() if line.strip()]
    if lines and all(re.match(rb"https?://\S+$", line) for line in lines[:50]):
        return URL_LIST
    return f"other: {content_type or 'unknown content'}"


def parse_listing(content: bytes, url: str, kind: str, content_type: str = "") -> Listing:
    """Read the links of a feed, sitemap, sitemap index or URL list (``kind`` from ``sniff``)."""
    if content[:2] == b"\x1f\x8b":
        content = gunzip(content)
    if kind == FEED:
        return _parse_feed(content, url)
    if kind in (SITEMAP, SITEMAP_INDEX):
        return _parse_sitemap(content, url)
    if kind == URL_LIST:
        text = content.decode("utf-8", errors="replace")
        links = [canonical_url(line.strip(), url) for line in text.splitlines()]
        return Listing(URL_LIST, [Entry(u) for u in dict.fromkeys(links) if u])
    raise NotAListing(f"not a feed or sitemap ({kind})")


# ------------------------------------------------------------------ feeds


def _without_doctype(content: bytes) -> bytes:
    """``content`` with a DOCTYPE before its root element taken out."""
    lead = _LEADING.match(content[:65536].lstrip(b"\xef\xbb\xbf"))
    head = content[: (lead.end() if lead else 0) + 3]
    match = _DOCTYPE_RE.search(head)
    return content[: match.start()] + content[match.end() :] if match else content


def _parse_feed(content: bytes, url: str) -> Listing:
    import feedparser

    # bytes, never a str: feedparser would fetch a string that looks like a URL. The content was sniffed as a
    # feed, so a "text/html" header is wrong and not passed on; the XML declaration names the encoding.
    # The DOCTYPE goes first: feedparser's XML parser expands the entities of an internal subset (billion
    # laughs); without it an entity stays as its literal "&name;".
    parsed = feedparser.parse(
        _without_doctype(content), response_headers={"content-type": "application/xml", "content-location": url}
    )
    entries: list[Entry] = []
    for item in parsed.entries:
        link = _entry_link(item, url)
        if not link:
            continue
        published = _day(item.get("published") or item.get("created") or item.get("updated") or "")
        updated = _timestamp(item.get("updated") or item.get("published") or "")
        entries.append(Entry(link, published, updated, " ".join((item.get("title") or "").split())))
    problem = ""
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), benign):
        reason = _bozo_reason(parsed.get("bozo_exception"))
        if not entries:
            raise NotAListing(f"malformed feed XML ({reason}); no links could be read")
        problem = f"malformed feed XML ({reason}); {len(entries)} link(s) read anyway"
    elif not parsed.get("version") and not entries:
        raise NotAListing("not a feed feedparser understands")
    return Listing(FEED, _newest_first(entries), problem=problem)


def _bozo_reason(exc: object) -> str:
    text = " ".join(str(exc or "unknown error").split())
    return text[:160]


def _entry_link(item, base: str) -> str:
    candidates = [item.get("link", "")]
    candidates += [link.get("href", "") for link in item.get("links", []) if link.get("rel", "alternate") == "alternate"]
    guid = item.get("id", "")
    if item.get("guidislink") or guid.startswith(("http://", "https://")):
        candidates.append(guid)
    for candidate in candidates:
        link = canonical_url(candidate, base) if candidate else ""
        if link:
            return link
    return ""


def _parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _day(value: str) -> str:
    """The calendar day of a feed date, in the time zone it was written in."""
    when = _parse_time(value)
    if when is None:
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
        return "-".join(match.groups()) if match else ""
    return when.date().isoformat()


def _timestamp(value: str) -> str:
    when = _parse_time(value)
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _newest_first(entries: list[Entry]) -> list[Entry]:
    unique = list({e.url: e for e in reversed(entries)}.values())[::-1]  # first mention of each URL wins
    return sorted(unique, key=lambda e: e.published or "", reverse=True)


# ------------------------------------------------------------------ sitemaps


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_sitemap(content: bytes, url: str) -> Listing:
    from lxml import etree

    problem = ""
    strict = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(content, parser=strict)
    except etree.XMLSyntaxError as exc:
        loose = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, load_dtd=False)
        root = etree.fromstring(content, parser=loose)
        problem = f"malformed sitemap XML ({' '.join(str(exc).split())[:160]})"
        if root is None:
            raise NotAListing(problem) from None
    kind = SITEMAP_INDEX if _local(root.tag) == "sitemapindex" else SITEMAP
    found: list[Entry] = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if name in ("loc", "lastmod", "publication_date") and child.text and name not in fields:
                fields[name] = child.text.strip()
        link = canonical_url(fields.get("loc", ""), url) if is_web_url(fields.get("loc", "")) else ""
        if link:
            published = _day(fields.get("publication_date", ""))
            found.append(Entry(link, published, _timestamp(fields.get("lastmod", "")) or fields.get("lastmod", "")))
    if problem:
        if not found:
            raise NotAListing(problem + "; no links could be read")
        problem += f"; {len(found)} link(s) read anyway"
    if kind == SITEMAP_INDEX:
        return Listing(kind, sitemaps=found, problem=problem)
    # newest first: by publication date, else last modification
    found.sort(key=lambda e: e.published or e.updated[:10], reverse=True)
    return Listing(kind, found, problem=problem)
