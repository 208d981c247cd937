"""Fresh news from the bot: admins' links and /add, pasted page text, and the scheduled refresh of FEEDS.

The work itself is ``index.web.harvest`` (fetching, extraction, storage) and the bot's
update (``bot.builds``: incremental update and build swap, as /reindex does); this module
only runs them off the event loop and tells the admin what happened.
Links sent by anyone else are questions: the wiring in ``bot.app`` sends only
admins' messages here.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from telegram import Message, Update
from telegram.constants import MessageEntityType

from index.build import RemovalRefused, index_is_stale
from index.corpus.articles import load_file
from index.corpus.pagedump import drop_related, looks_like_page_dump
from index.corpus.records import LoadResult
from index.corpus.urls import urls_in_text
from index.files import replacing
from index.layout import ArticlesLayout
from index.web.harvest import HarvestReport, Outcome, harvest
from index.web.store import StoreBusy

from .admin import AdminAlerts, capped, removal_prompt, without_paths
from .builds import Builds, LockWaitTimeout
from .context import Context, admin_only, command_text, reader_lang
from .handlers import private_text
from .settings import Settings
from .texts import reason_text, text

log = logging.getLogger(__name__)

MAX_LINKS = 20  # links taken from one message
LISTED = 10  # titles and failures listed in a reply
FETCH_WORKERS = 4  # the bot shares its 2 cores with readers' searches


# ---------------------------------------------------------------- handlers


@admin_only
async def add_command(update: Update, context: Context) -> None:
    """/add URL ... (admins): fetch and index links; /add followed by pasted page text: index that text."""
    message = update.effective_message
    body = command_text(message.text or "")
    lang = reader_lang(update, context, body[:400])
    links = urls_in_text(body)
    rest = re.sub(r"https?://\S+", " ", body).split()
    if links and len(rest) <= 3 * len(links) + 3:  # links, perhaps with a word or two around them
        await _add_links(message, context, links[:MAX_LINKS], lang)
    elif body.strip():
        await _add_pasted(message, context, body, lang)
    else:
        await message.reply_html(text("add_usage", lang))


async def admin_links(update: Update, context: Context) -> None:
    """Links an admin sends in a private chat: fetch and index them (anyone else's links are questions)."""
    message = update.effective_message
    hidden = [e.url for e in message.parse_entities([MessageEntityType.TEXT_LINK]) if e.url]  # links behind words
    links = list(dict.fromkeys(urls_in_text(message.text or "") + urls_in_text(" ".join(hidden))))
    if not links:  # "http://" alone, or a link that is not http(s): an ordinary question after all
        await private_text(update, context)
        return
    lang = reader_lang(update, context, message.text)
    await _add_links(message, context, links[:MAX_LINKS], lang)


async def _add_links(message: Message, context: Context, links: list[str], lang: str) -> None:
    settings = context.bot_data.settings
    status = await message.reply_html(text("fetch_started", lang, n=len(links)))
    try:
        report = await asyncio.to_thread(
            harvest,
            links,
            settings.articles_dir,
            settings.fetch_config(workers=FETCH_WORKERS),
            max_pages=settings.fetch_max_pages,
            cancel=context.bot_data.fetch_cancel,
            lock_wait=120,
            budget=settings.fetch_budget_seconds,
        )
    except StoreBusy:
        await status.reply_html(text("fetch_busy", lang))
        return
    indexed = await _index_if_needed(context, settings, report.stored, status, lang)
    await status.reply_html(fetch_reply(report, lang, indexed))


async def _add_pasted(message: Message, context: Context, body: str, lang: str) -> None:
    """Save pasted page text as a .txt file (the loader's page-dump reader splits it) and index it."""
    settings = context.bot_data.settings
    folder = ArticlesLayout(settings.articles_dir).pasted
    content = body if looks_like_page_dump(body) else _without_related(body)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{hashlib.sha1(content.encode()).hexdigest()[:8]}.txt"
    articles, reason = await asyncio.to_thread(_save_checked, folder, name, content)
    if not articles:
        await message.reply_html(text("pasted_rejected", lang, reason=html.escape(reason)))
        return
    titles = "\n".join(f"• {html.escape(title)}" for title in articles[:LISTED])
    status = await message.reply_html(text("pasted_saved", lang, n=len(articles), titles=titles))
    if len(body) > 3900:
        await status.reply_html(text("pasted_maybe_cut", lang))
    indexed = await _index_if_needed(context, settings, True, status, lang)
    if indexed:
        await status.reply_html(indexed)


def _without_related(body: str) -> str:
    """Plain pasted text: the first line is the title; the related-articles block and one-line teasers go."""
    lines = [line.strip() for line in body.splitlines()]
    first = next((i for i, line in enumerate(lines) if line), 0)
    return "\n".join([lines[first], *drop_related(lines[first + 1 :])]).strip() + "\n"


def _save_checked(folder: Path, name: str, content: str) -> tuple[list[str], str]:
    """Write the text aside, read it back with the article loader, keep it only if it gives articles."""
    checked = LoadResult()
    try:
        with replacing(folder / name) as scratch:
            scratch.write_text(content, encoding="utf-8")
            articles = load_file(scratch, checked)
            if not articles:
                raise _NoArticle
    except _NoArticle:
        return [], "; ".join(p.reason for p in checked.problems[:3]) or "no article found"
    return [a.title for a in articles], ""


class _NoArticle(Exception):
    """The pasted text gave no article: nothing is kept."""


async def _index_if_needed(context: Context, settings: Settings, stored: bool, status: Message, lang: str) -> str:
    """Update the index (after any running update) when articles were stored; "" or a line for the reply.
    An update refused for its removals asks the admin with buttons, in a message of its own."""
    if not stored and not await asyncio.to_thread(index_is_stale, settings.index_dir, settings.articles_dir):
        return ""
    try:
        build = await context.bot_data.builds.update_when_free()
    except RemovalRefused as refused:
        body, markup = removal_prompt(context, refused, lang)
        await status.reply_html(body, reply_markup=markup)
        return ""
    except LockWaitTimeout:
        minutes = settings.index_lock_wait_seconds / 60
        return text("reindex_gave_up", lang, minutes=minutes)
    except Exception as exc:  # the articles are stored; the next update indexes them
        log.exception("index update after fetching failed")
        return text("fetch_index_failed", lang, error=html.escape(without_paths(str(exc), settings)[:300]))
    return text("fetch_indexed", lang, articles=build.articles, encoded=build.encoded, seconds=build.seconds)


def fetch_reply(report: HarvestReport, lang: str, indexed: str = "") -> str:
    """The admin's answer: counts, the titles added, and why each failure failed."""

    def listed(items: list[Outcome], fmt) -> str:
        return capped([fmt(o) for o in items], lang)

    parts = [
        text(
            "fetch_done",
            lang,
            added=len(report.added),
            changed=len(report.changed),
            skipped=len(report.skipped),
            failed=len(report.failed),
        )
    ]
    new = report.added + report.changed
    if new:
        parts.append(text("fetch_titles", lang) + "\n" + listed(new, lambda o: f"• {html.escape(o.title)}"))
    if report.failed:
        parts.append(
            text("fetch_failures", lang)
            + "\n"
            + listed(report.failed, lambda o: f"• {html.escape(o.url[:150])} — {html.escape(reason_text(o.reason, lang)[:200])}")
        )
    if report.left:
        parts.append(text("fetch_left", lang, n=report.left))
    if indexed:
        parts.append(indexed)
    return "\n\n".join(parts)


# ---------------------------------------------------------------- schedule


async def refresh_feeds(
    builds: Builds, settings: Settings, cancel: threading.Event | None = None, alerts: AdminAlerts | None = None
) -> HarvestReport | None:
    """Fetch FEEDS once and update the index if anything new came in; None when another fetch was running.
    An update refused for its removals is told to the admins (once, until an update goes through)."""
    try:
        report = await asyncio.to_thread(
            harvest,
            settings.feeds,
            settings.articles_dir,
            settings.fetch_config(workers=FETCH_WORKERS),
            max_pages=settings.fetch_max_pages,
            cancel=cancel,
            lock_wait=0,
            budget=settings.fetch_budget_seconds,
            recheck_days=settings.fetch_recheck_days,
        )
    except StoreBusy:
        log.info("feed refresh skipped: another fetch is running")
        return None
    log.info("feed refresh: %s", report.summary())
    for outcome in report.failed:
        log.warning("feed refresh: %s — %s", outcome.url, outcome.reason)
    if report.stored or await asyncio.to_thread(index_is_stale, settings.index_dir, settings.articles_dir):
        try:
            build = await builds.update_when_free()
        except RemovalRefused as refused:
            log.warning("feed refresh: %s", refused)
            if alerts is not None:
                await alerts.refused("feeds", refused)
            return report
        if alerts is not None:
            alerts.succeeded("feeds")
        log.info("feed refresh: index updated (%s newly embedded)", build.encoded)
    return report


async def refresh_feeds_forever(
    builds: Builds, settings: Settings, cancel: threading.Event, alerts: AdminAlerts | None = None
) -> None:
    """Every FEED_REFRESH_MINUTES: fetch FEEDS and switch to the new build, as /reindex does."""
    every = settings.feed_refresh_minutes * 60
    await asyncio.sleep(min(every, 10.0))  # first run soon after start, not in the middle of it
    while not cancel.is_set():
        try:
            await refresh_feeds(builds, settings, cancel, alerts)
        except Exception as exc:  # the next round tries again
            log.warning("feed refresh failed: %s", exc)
        await asyncio.sleep(every)
