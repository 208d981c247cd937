"""Recover clean articles from text dumps of news web pages.

Copying a news page as text keeps the page furniture: the headline and the image
caption appear twice, a logo leaves a short marker line (Asharq Al-Awsat's "TT"),
and a «مقالات ذات صلة» ("related articles") block of teasers for *other* stories
follows the body. Several pages may be pasted one after another.

The shape we rely on: a headline line, caption lines, a marker line, then the
headline again. The body runs from there to the related-articles heading or to
the next page's headline, whichever comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.text.arabic import normalize

# Short lines left by a logo image; only lines consisting of exactly this text count.
MARKERS = frozenset({"TT"})
# Headings that open a block of teasers for other articles (in dumps, and on web pages: index/webpages.py).
RELATED_HEADINGS = frozenset(
    {
        "مقالات ذات صلة",
        "اقرأ أيضا",
        "اقرأ أيضاً",
        "إقرأ أيضاً",
        "اقرأ المزيد",
        "أخبار ذات صلة",
        "مواضيع ذات صلة",
        "موضوعات ذات صلة",
        "قد يهمك أيضا",
        "قد يعجبك أيضا",
        "اخترنا لك",
        "Related articles",
        "Related stories",
        "Related news",
        "Read more",
        "Read also",
        "See also",
    }
)
# Compared after Arabic normalisation (hamza, tanwin, case), without trailing punctuation.
_RELATED_KEYS = frozenset(normalize(h) for h in RELATED_HEADINGS)
_TRAILING = re.compile(r"[\s:：.،,;؛!…\-–—|»«>]+$")


def is_related_heading(line: str) -> bool:
    """True for a line that is only a related-articles heading ("اقرأ أيضاً:", "مقالات ذات صلة")."""
    return len(line) < 40 and normalize(_TRAILING.sub("", line)) in _RELATED_KEYS


def is_inline_teaser(line: str) -> bool:
    """True for a one-line teaser inside a body: a related heading, a colon, then another article's title."""
    head, sep, rest = line.partition(":")
    return bool(sep and rest.strip()) and is_related_heading(head) and len(rest) < 300


def drop_related(lines: list[str]) -> list[str]:
    """Body lines without the related-articles block (a heading line and everything after it)
    and without one-line teasers ("اقرأ أيضاً: عنوان خبر آخر")."""
    kept: list[str] = []
    for line in lines:
        if is_related_heading(line):
            break
        if not is_inline_teaser(line):
            kept.append(line)
    return kept


@dataclass
class DumpedArticle:
    """One page recovered from a dump: ``line`` is the 1-based line of its headline."""

    title: str
    paragraphs: list[str]
    captions: list[str] = field(default_factory=list)
    line: int = 1

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def looks_like_page_dump(text: str) -> bool:
    """True if some marker line is followed by a repeat of a headline seen just before it."""
    return bool(_headers([line.strip() for line in text.splitlines()]))


def _headers(lines: list[str]) -> list[tuple[int, int]]:
    """For each marker line with a repeated headline: (index of the headline's last earlier line, index of the repeat).

    One pass with a table of where each line was last seen, so a file of many
    marker lines costs no more than one of a few.
    """
    next_nonempty: list[int | None] = [None] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        next_nonempty[i] = i if lines[i] else next_nonempty[i + 1]
    headers: list[tuple[int, int]] = []
    last_seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line in MARKERS:
            repeat = next_nonempty[i + 1]
            if repeat is not None and (first := last_seen.get(lines[repeat])) is not None:
                headers.append((first, repeat))
        last_seen[line] = i
    return headers


def parse_page_dump(text: str) -> list[DumpedArticle]:
    """Split a dump into its articles (pure; the caller reports an empty result)."""
    lines = [line.strip() for line in text.splitlines()]
    headers = _headers(lines)
    articles: list[DumpedArticle] = []
    for n, (first, repeat) in enumerate(headers):
        title = lines[repeat]
        captions = list(
            dict.fromkeys(line for line in lines[first + 1 : repeat] if line and line not in MARKERS and line != title)
        )
        furniture = {title, *captions, *MARKERS}
        end = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        paragraphs = [line for line in drop_related(lines[repeat + 1 : end]) if line and line not in furniture]
        if paragraphs:
            articles.append(DumpedArticle(title, paragraphs, captions, first + 1))
    return articles
