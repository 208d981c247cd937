"""The bot's replies to /start, /help and /stats, composed apart from Telegram.

The handlers send them as HTML; the console prints them as plain text. Both get
the same words from the same functions.
"""

from __future__ import annotations

import html

from index.manifest import Manifest
from index.search.searcher import Searcher

from .texts import AR, examples, text


def welcome_text(searcher: Searcher | None, lang: str, name: str, mention: str) -> str:
    """/start: what the bot answers, from which corpus, two example questions (from the newest titles)."""
    articles, outlets, shown = 0, "", list(examples(lang))
    if searcher is not None:
        articles = searcher.manifest.articles
        outlets = ("، " if lang == AR else ", ").join(searcher.stored.top_sources(3))
        titles = searcher.stored.latest_titles(2)
        if len(titles) == 2:
            shown = [f"ما تفاصيل «{t}»؟" if lang == AR else f"What happened: “{t}”?" for t in titles]
    return text(
        "welcome",
        lang,
        name=html.escape(name),
        articles=articles,
        outlets=html.escape(outlets or "—"),
        example1=html.escape(shown[0]),
        example2=html.escape(shown[1]),
        mention=html.escape(mention),
    )


def help_text(lang: str, admin: bool, mention: str) -> str:
    """/help: how to ask (``mention``: the bot's @username, for groups and inline mode); admin commands for admins."""
    body = text("help", lang, example1=html.escape(examples(lang)[0]), mention=html.escape(mention))
    return body + text("admin_help", lang) if admin else body


def stats_text(
    lang: str, manifest: Manifest | None, answered: int, refused: int, latency_ms: tuple[float, float], reindexing: bool
) -> str:
    """/stats: index size, model, last build, questions answered, latency."""
    p50, p95 = latency_ms
    return text(
        "stats",
        lang,
        articles=manifest.articles if manifest else 0,
        chunks=manifest.chunks if manifest else 0,
        model=html.escape(manifest.model if manifest else "—"),
        built_at=html.escape(manifest.built_at if manifest else "—"),
        answered=answered,
        refused=refused,
        p50=p50,
        p95=p95,
        reindexing=text("yes" if reindexing else "no", lang),
    )
