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

from dataclasses import dataclass, field

# Short lines left by a logo image; only lines consisting of exactly this text count.
MARKERS = frozenset({"TT"})
# Headings that open a block of teasers for other articles.
RELATED_HEADINGS = frozenset(
    {"مقالات ذات صلة", "اقرأ أيضا", "اقرأ أيضاً", "إقرأ أيضاً", "اقرأ المزيد", "أخبار ذات صلة", "Related articles", "Read more"}
)


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
    lines = [line.strip() for line in text.splitlines()]
    return any(_page_header(lines, i) is not None for i, line in enumerate(lines) if line in MARKERS)


def _next_nonempty(lines: list[str], i: int) -> int | None:
    while i < len(lines):
        if lines[i]:
            return i
        i += 1
    return None


def _page_header(lines: list[str], marker: int) -> tuple[int, int] | None:
    """For a marker line, return (index of the first headline, index of the repeated headline)."""
    repeat = _next_nonempty(lines, marker + 1)
    if repeat is None:
        return None
    title = lines[repeat]
    for i in range(marker - 1, -1, -1):
        if lines[i] == title:
            return i, repeat
    return None


def parse_page_dump(text: str) -> list[DumpedArticle]:
    """Split a dump into its articles (pure; the caller reports an empty result)."""
    lines = [line.strip() for line in text.splitlines()]
    headers = [h for i, line in enumerate(lines) if line in MARKERS and (h := _page_header(lines, i))]
    articles: list[DumpedArticle] = []
    for n, (first, repeat) in enumerate(headers):
        title = lines[repeat]
        captions = list(
            dict.fromkeys(line for line in lines[first + 1 : repeat] if line and line not in MARKERS and line != title)
        )
        furniture = {title, *captions, *MARKERS}
        end = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        paragraphs: list[str] = []
        for line in lines[repeat + 1 : end]:
            if line in RELATED_HEADINGS:
                break
            if line and line not in furniture:
                paragraphs.append(line)
        if paragraphs:
            articles.append(DumpedArticle(title, paragraphs, captions, first + 1))
    return articles
