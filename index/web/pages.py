"""Turn a downloaded news page into an article: decode, drop the page furniture, extract.

Pure functions over bytes (no network). The steps:

1. **Decode.** Byte-order mark, then the charset of the HTTP header, then a
   ``<meta>`` charset, then strict UTF-8, then detection (charset_normalizer).
   Old Arabic sites serve windows-1256 or ISO-8859-6, often with a wrong
   ``ISO-8859-1`` header default or with the charset only in a ``<meta>`` tag.
2. **Drop furniture the extractor may keep.** Related-articles teaser blocks
   (headings from ``index.corpus.pagedump.RELATED_HEADINGS`` with their link lists),
   share bars, cookie banners, comment sections, newsletters and menus marked by
   their class or id.
3. **Extract** title, body, date, site name, author and canonical URL with
   trafilatura (its boilerplate removal; htmldate for the date).
4. **Check the text** line by line: one-line teasers ("اقرأ أيضاً: ..."),
   copyright, cookie and share lines are dropped (``index.corpus.pagedump.drop_related``).

Dates come as ``YYYY-MM-DD``: from the page's markup, else the feed entry's
publication date, else a date written in Arabic or digits near the headline,
else htmldate's wider search, else the sitemap's last-modified date.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from index.corpus.pagedump import drop_related, is_related_heading
from index.corpus.urls import MAX_URL_CHARS, canonical_url, url_hostname
from index.text.arabic import normalize

MIN_TEXT_CHARS = 80  # shorter extractions are not articles (a section page, a video page, an error page)


class NotAnArticle(ValueError):
    """The page holds no article text we could extract."""


@dataclass
class WebArticle:
    """What a page yields; ``url`` is the canonical URL."""

    url: str
    title: str
    text: str
    date: str = ""
    source: str = ""
    author: str = ""
    encoding: str = ""
    feeds: list[str] = field(default_factory=list)  # feeds the page advertises (for "add this instead" hints)


@dataclass(frozen=True)
class DateHint:
    """A date known from where the link was found: a feed's publication date or a sitemap's lastmod."""

    value: str = ""  # YYYY-MM-DD
    published: bool = True  # False: only a last-modified date (weaker than what the page says)


# ------------------------------------------------------------------ decoding

_WEAK_HEADER_CHARSETS = {"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1", "windows-1252", "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_ALIASES = {"x-cp1256": "cp1256", "windows-1256": "cp1256", "asmo-708": "iso8859_6", "iso-8859-6-i": "iso8859_6"}


def codec_name(label: str) -> str:
    """Python's codec for a charset label from a header or a page ("" when unknown). ISO-8859-1 means
    windows-1252, as in browsers."""
    label = label.strip().strip("\"'").lower()
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1", "l1"):
        return "cp1252"
    try:
        return codecs.lookup(_ALIASES.get(label, label)).name
    except LookupError:
        return ""


def meta_charset(content: bytes) -> str:
    """The charset a ``<meta>`` tag declares in the first 4 kB, or ""."""
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii", "ignore") if match else ""


def decode_html(content: bytes, header_charset: str = "") -> tuple[str, str]:
    """(text, codec used). Never raises: the last resort decodes as windows-1256 with replacements."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            return content.decode(name, errors="replace").lstrip("\ufeff"), name
    candidates: list[str] = []
    header = codec_name(header_charset) if header_charset else ""
    meta = codec_name(meta_charset(content))
    if header and header_charset.lower() not in _WEAK_HEADER_CHARSETS:
        candidates.append(header)
    if meta:
        candidates.append(meta)
    if header:
        candidates.append(header)  # a latin-1 header default counts only after the page's own declaration
    candidates.append("utf-8")
    for name in dict.fromkeys(candidates):
        if name == "cp1252" and _looks_mislabelled_arabic(content):
            continue
        try:
            return content.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return _detect(content)


def _looks_mislabelled_arabic(content: bytes) -> bool:
    """Many bytes above 0x7F in a page that claims Latin-1 usually means windows-1256 without saying so."""
    high = sum(b > 0x7F for b in content[:65536])
    return high > 200 and high > len(content[:65536]) * 0.05


def _detect(content: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(content[:200_000]).best()
    name = codec_name(best.encoding) if best is not None else ""
    if name:
        try:
            return content.decode(name), name
        except (UnicodeDecodeError, LookupError):
            pass
    return content.decode("cp1256", errors="replace"), "cp1256"


# ------------------------------------------------------------------ furniture

_FURNITURE_TOKENS = frozenset(
    """related relatedposts yarpp read-more readmore more-news morenews share sharing sharedaddy social socials
    cookie cookies consent gdpr comment comments disqus newsletter subscribe subscription breadcrumb breadcrumbs
    tags tag-list taglist most-read mostread popular trending ticker breaking-bar advert advertisement ads ad-slot
    banner promo sidebar widget navbar menu nav footer site-footer print-links author-box recommended outbrain taboola""".split()
)
_TOKEN_SPLIT = re.compile(r"[\s_]+")


def _tokens(el) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    tokens = set(_TOKEN_SPLIT.split(raw))
    for token in list(tokens):  # "share-bar" -> also "share", "bar"
        tokens.update(token.split("-"))
    return tokens


def _text_len(el) -> int:
    return len(" ".join(el.text_content().split()))


def _link_chars(el) -> tuple[int, int]:
    """(characters of link text, headline-like links: at least 10 characters)."""
    chars = links = 0
    for a in el.iter("a"):
        n = len(" ".join(a.text_content().split()))
        chars += n
        links += n >= 10
    return chars, links


def _teaser_like(el, minus: int = 0) -> bool:
    """Mostly links to other articles: several headline links, or one link making most of the text."""
    total = max(1, _text_len(el) - minus)
    chars, links = _link_chars(el)
    share = chars / total
    return (links >= 2 and share >= 0.3) or (links >= 1 and share >= 0.6)


def _main_text(root) -> tuple[str, int]:
    """How to measure where the body is: by <p> text, or by all text on pages written with <br> breaks."""
    in_paragraphs = sum(_text_len(p) for p in root.iter("p"))
    return ("p", in_paragraphs) if in_paragraphs >= 500 else ("*", _text_len(root))


def _protected(el, body: tuple[str, int]) -> bool:
    """Never drop what holds the headline or most of the page's body text."""
    if el.tag in ("html", "body", "main"):
        return True
    if next(el.iter("h1"), None) is not None:
        return True
    kind, total = body
    held = sum(_text_len(p) for p in el.iter("p")) if kind == "p" else _text_len(el)
    return total > 0 and held > (0.4 if kind == "p" else 0.5) * total


def _remove(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():  # keep text that follows the element
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def drop_furniture(root) -> None:
    """Remove related-article blocks and marked page furniture from an lxml HTML tree, in place."""
    body_chars = _main_text(root)
    _drop_related_blocks(root, body_chars)
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        if _tokens(el) & _FURNITURE_TOKENS and not _protected(el, body_chars):
            _remove(el)


def _drop_related_blocks(root, body_chars: tuple[str, int]) -> None:
    headings = [
        el
        for el in root.iter()
        if isinstance(el.tag, str)
        and el.tag not in ("a", "html", "body", "head", "title", "script", "style")
        and _text_len(el) < 40
        and is_related_heading(" ".join(el.text_content().split()))
    ]
    for heading in headings:
        if heading.getparent() is None or _detached(heading, root):
            continue
        own = _text_len(heading)
        block, parent = None, heading.getparent()
        while parent is not None and not _protected(parent, body_chars) and _teaser_like(parent, own):
            block, parent = parent, parent.getparent()
        if block is not None:
            _remove(block)
            continue
        # the heading sits among the body's paragraphs: drop it and the link lists after it
        sibling = heading.getnext()
        _remove(heading)
        while sibling is not None and (_teaser_like(sibling) or sibling.tag in ("br", "hr", "img", "figure")):
            following = sibling.getnext()
            _remove(sibling)
            sibling = following


def _detached(el, root) -> bool:
    while el is not None:
        if el is root:
            return False
        el = el.getparent()
    return True


# ------------------------------------------------------------------ text lines

_FURNITURE_LINE = re.compile(
    r"جميع الحقوق محفوظة|حقوق النشر|ملفات تعريف الارتباط|ملفات الارتباط|الكوكيز|سياسة الخصوصية|شارك (?:هذا|الخبر|المقال|على)|"
    r"تابعونا على|تابعنا على|اشترك في (?:النشرة|نشرتنا|قناتنا)|حمّ?ل تطبيق|أضف تعليق|التعليقات \(|"
    r"all rights reserved|cookies?\b|privacy policy|share (?:this|on)|follow us|subscribe to|sign up for our newsletter|©",
    re.I,
)
_BYLINE_LINE = re.compile(
    r"^(?:نشر|نُشر|تاريخ النشر|آخر تحديث|تم التحديث|بقلم|كتب|الوسوم|الكلمات المفتاحية|وسوم|Published|Updated|By|Tags)\b", re.I
)


def clean_lines(text: str, title: str = "") -> str:
    """The extracted body without teaser, furniture and byline lines, and without the repeated headline."""
    lines = [line.strip() for line in text.splitlines()]
    kept: list[str] = []
    headline = normalize(title) if title else ""
    for line in drop_related(lines):
        if not line:
            kept.append("")
            continue
        if len(line) <= 250 and _FURNITURE_LINE.search(line):
            continue
        if len(line) <= 120 and _BYLINE_LINE.match(line):
            continue
        if headline and not kept and normalize(line) == headline:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


# ------------------------------------------------------------------ dates

_MONTHS = {
    1: "يناير كانون الثاني جانفي", 2: "فبراير شباط فيفري", 3: "مارس آذار", 4: "أبريل ابريل إبريل نيسان أفريل",
    5: "مايو أيار ماي", 6: "يونيو يونية حزيران جوان", 7: "يوليو يوليه تموز جويلية", 8: "أغسطس اغسطس آب أوت",
    9: "سبتمبر أيلول", 10: "أكتوبر اكتوبر تشرين الأول", 11: "نوفمبر تشرين الثاني", 12: "ديسمبر كانون الأول",
    }  # fmt: skip
_TWO_WORD = {"كانون الثاني": 1, "تشرين الأول": 10, "تشرين الثاني": 11, "كانون الأول": 12}
_MONTH_WORDS: dict[str, int] = {}
for _n, _names in _MONTHS.items():
    _rest = _names
    for _two, _m in _TWO_WORD.items():
        if _m == _n:
            _rest = _rest.replace(_two, "")
            _MONTH_WORDS[normalize(_two)] = _m
    for _word in _rest.split():
        _MONTH_WORDS[normalize(_word)] = _n
_MONTH_ALT = "|".join(sorted(map(re.escape, _MONTH_WORDS), key=len, reverse=True))
_TEXT_DATE = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_ALT})\s*[،,]?\s*(\d{{4}})\b")
_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DMY_DATE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")


def text_date(text: str, today: date | None = None) -> str:
    """The first plausible date written in ``text`` ("الجمعة 20 نوفمبر 2026", "٢٠ تشرين الثاني ٢٠٢٦",
    "20/11/2026", "2026-11-20") as YYYY-MM-DD, or ""."""
    norm = normalize(text)
    limit = (today or datetime.now(UTC).date()) + timedelta(days=1)
    found: list[tuple[int, date]] = []
    for match in _TEXT_DATE.finditer(norm):
        found += _plausible(match.start(), int(match[3]), _MONTH_WORDS[match[2]], int(match[1]), limit)
    for match in _ISO_DATE.finditer(norm):
        found += _plausible(match.start(), int(match[1]), int(match[2]), int(match[3]), limit)
    for match in _DMY_DATE.finditer(norm):
        found += _plausible(match.start(), int(match[3]), int(match[2]), int(match[1]), limit)
    return min(found)[1].isoformat() if found else ""


def _plausible(pos: int, year: int, month: int, day: int, limit: date) -> list[tuple[int, date]]:
    try:
        value = date(year, month, day)
    except ValueError:
        return []
    return [(pos, value)] if date(1990, 1, 1) <= value <= limit else []


def _page_date(root, url: str, hint: DateHint | None) -> str:
    from htmldate import find_date

    try:
        marked = find_date(root, extensive_search=False, original_date=True, url=url)
    except (ValueError, TypeError):
        marked = None
    if marked:
        return marked
    if hint and hint.value and hint.published:
        return hint.value
    written = text_date(_text_after_headline(root))
    if written:
        return written
    try:
        guessed = find_date(root, extensive_search=True, original_date=True, url=url)
    except (ValueError, TypeError):
        guessed = None
    return guessed or (hint.value if hint else "") or ""


def _text_after_headline(root, chars: int = 600) -> str:
    """Text of the page from its headline on (where bylines and dates sit), else its start."""
    body = root.find("body")
    if body is None:
        body = root
    text = " ".join(" ".join(t.split()) for t in body.itertext() if t.strip())
    h1 = next(root.iter("h1"), None)
    if h1 is not None:
        heading = " ".join(h1.text_content().split())
        at = text.find(heading) if heading else -1
        if at >= 0:
            return text[at : at + len(heading) + chars]
    return text[:chars]


# ------------------------------------------------------------------ extraction


def extract_article(content: bytes, url: str, header_charset: str = "", hint: DateHint | None = None) -> WebArticle:
    """The article of a downloaded HTML page; ``NotAnArticle`` when there is none."""
    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    html, encoding = decode_html(content, header_charset)
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)  # lxml refuses str input with an encoding declaration
    try:
        root = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise NotAnArticle(f"could not parse the HTML ({exc})") from None
    for bad in root.xpath("//script[not(@type='application/ld+json')]|//style|//noscript|//template"):
        _remove(bad)
    feeds = [
        canonical_url(href, url)
        for href in root.xpath("//link[@rel='alternate'][contains(@type,'rss') or contains(@type,'atom')]/@href")
    ]
    found_date = _page_date(root, url, hint)
    title_fallback = _first_text(root, "//meta[@property='og:title']/@content", "//h1", "//title")
    drop_furniture(root)
    try:
        doc = trafilatura.bare_extraction(
            root,
            url=url,
            with_metadata=True,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
        )
    except (RecursionError, ValueError, TypeError) as exc:
        raise NotAnArticle(f"could not extract the page ({type(exc).__name__})") from None
    data = (doc.as_dict() if hasattr(doc, "as_dict") else doc) if doc is not None else {}
    sitename = (data.get("sitename") or "").strip()
    title = _strip_site(" ".join((data.get("title") or title_fallback).split()), sitename)
    text = clean_lines(data.get("text") or "", title)
    if len(text) < MIN_TEXT_CHARS:
        hint_text = f"; its feed: {feeds[0]}" if feeds and feeds[0] else ""
        raise NotAnArticle(f"no article text found on the page{hint_text}")
    return WebArticle(
        url=_canonical(data.get("url") or "", url),
        title=title,
        text=text,
        date=found_date or "",
        source=sitename or url_hostname(url).removeprefix("www."),
        author=" ".join((data.get("author") or "").split()),
        encoding=encoding,
        feeds=[f for f in feeds if f],
    )


def _first_text(root, *paths: str) -> str:
    for path in paths:
        for value in root.xpath(path):
            value = value if isinstance(value, str) else value.text_content()
            value = " ".join(value.split())
            if value:
                return value
    return ""


def _strip_site(title: str, sitename: str) -> str:
    """ "Headline | Site" -> "Headline"."""
    if sitename and title.endswith(sitename) and len(title) > len(sitename) + 5:
        return re.sub(r"[\s|\-–—:·•]+$", "", title[: -len(sitename)]).strip() or title
    return title


def _canonical(declared: str, fetched: str) -> str:
    """The page's canonical URL when it is a sensible one, else the URL it was fetched from."""
    fetched_c = canonical_url(fetched)
    declared_c = canonical_url(declared, fetched) if declared else ""
    if not declared_c or len(declared_c) > MAX_URL_CHARS:  # an absurd canonical link is not worth keeping
        return fetched_c
    # a canonical pointing at the home page (a common template bug) would merge every article into one
    if declared_c.rstrip("/").count("/") <= 2 and fetched_c.rstrip("/").count("/") > 2:
        return fetched_c
    return declared_c
