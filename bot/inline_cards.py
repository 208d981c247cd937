"""Inline mode's result cards: a plain-text title and description for the list, and the HTML message sent when one
is picked. Only a sure answer gets cards that quote passages; below the sure band one card says so."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from index.corpus.urls import safe_link
from index.results import SNIPPET_CHARS, SearchResult

from .render import ANSWER_CHARS, Block, Format, Run, clip, meta_line, pack
from .texts import AR, text

INLINE_TITLE_CHARS = 120
INLINE_DESCRIPTION_CHARS = 200


@dataclass(frozen=True)
class InlineItem:
    """One inline result: a plain-text title and description for the list, the HTML message sent when it is picked."""

    key: str
    title: str
    description: str
    message: str


def inline_message(title: str, url: str, meta: str, answer: str, lang: str, mark: str = "💡") -> str:
    """The attributed message an inline result sends: answer line (bold when it is a sure answer), title as link, outlet · date."""
    fmt = Format(html=True, rtl=lang == AR)
    link = safe_link(url)
    title = clip(title or text("untitled", lang), INLINE_TITLE_CHARS * 2)
    head: Block = [Run(f"{mark} "), Run(clip(answer, ANSWER_CHARS), "b" if mark == "💡" else None)] if answer else []
    source_block: Block = [Run(title, "a", link) if link else Run(title, "b")]
    if meta:
        source_block += [Run("\n"), Run(meta, "i")]
    return pack([head, source_block], fmt)[0]


def _inline_item(key: str, title: str, url: str, meta: str, summary: str, answer: str, lang: str, mark: str) -> InlineItem:
    """One inline result: the title and "outlet · date — ``summary``" in the list, ``answer`` leading the message."""
    return InlineItem(
        key=key,
        title=clip(title or text("untitled", lang), INLINE_TITLE_CHARS),
        description=clip(f"{meta} — {summary}" if meta else summary, INLINE_DESCRIPTION_CHARS),
        message=inline_message(title, url, meta, answer, lang, mark),
    )


def inline_items(result: SearchResult, lang: str, limit: int = 5, prefix: str = "r") -> list[InlineItem]:
    """Inline results for a sure answer: one per source (at most ``limit``), each carrying its own answer line.

    Only for the sure band: below it, ``inline_unsure`` says so instead. Result ids are ``prefix-n``
    (``prefix``: the search's short result id), well under Telegram's 64 bytes.
    """
    items = []
    for n, hit in enumerate(result.hits[:limit]):
        start, end = hit.passage.snippet_span
        snippet = " ".join(hit.passage.text[start:end].split())
        meta = meta_line(hit.source, hit.date, lang)
        items.append(_inline_item(f"{prefix}-{n}", hit.title, hit.url, meta, snippet, hit.passage.answer or snippet, lang, "💡"))
    return items


def inline_unsure(question: str, lang: str) -> InlineItem:
    """The one inline result for a question without a sure answer: it says so, and quotes no passage."""
    fmt = Format(html=True, rtl=lang == AR)
    body = text("inline_unsure", lang, question=clip(question, INLINE_TITLE_CHARS))
    return InlineItem("unsure", text("inline_unsure_title", lang), text("inline_unsure_hint", lang), pack([[Run(body)]], fmt)[0])


def inline_latest(articles: list[dict[str, str]], lang: str) -> list[InlineItem]:
    """Inline results for an empty or very short query: the newest articles, each with its opening lines."""
    items = []
    for article in articles:
        key = "l" + hashlib.sha1(article["id"].encode()).hexdigest()[:16]
        lead = clip(article.get("lead") or "", SNIPPET_CHARS)
        meta = meta_line(article.get("source", ""), article.get("date", ""), lang)
        items.append(_inline_item(key, article.get("title", ""), article.get("url", ""), meta, lead, lead, lang, "📰"))
    return items


def inline_notice(key: str, title_key: str, body_key: str, lang: str) -> InlineItem:
    """A single explanatory result (nothing found, no index yet): picking it sends the explanation."""
    fmt = Format(html=True, rtl=lang == AR)
    body = text(body_key, lang)
    return InlineItem(key, text(title_key, lang), clip(body, INLINE_DESCRIPTION_CHARS), pack([[Run(body)]], fmt)[0])
