"""Admins' handlers: /reindex, /stats, /report, and the confirmations an update may ask for; alerts to every admin.

Anything that changes the index goes through ``bot.builds``, whose update refuses to remove
much of the index without a confirmation (``index.build.guard``): the admin then gets the list
and a button. Work that runs with no admin watching (channel batches, the feed refresh) tells
every admin through ``AdminAlerts``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application

from index.build import BuildReport, RemovalRefused
from index.build.takedown import Found
from index.corpus.desk import Block, Pin
from index.corpus.uploads import Upload
from index.questionlog import read_log
from index.results import SearchResult
from index.tools.report import ChartLabels, Report, build_report, daily_chart_png
from index.tools.sources import source_lines

from .builds import LockWaitTimeout, ReindexBusy
from .context import BotData, Context, admin_only, button_match, is_admin, reader_lang, send
from .render import report_messages, sources_messages
from .replies import stats_text
from .settings import Settings
from .texts import AR, stage_text, text

log = logging.getLogger(__name__)

LISTED = 10  # articles listed by title in a confirmation
CONFIRM_REMOVALS = r"^rm(ok|no):([A-Za-z0-9_-]{4,16})$"  # the buttons under a refused update
PENDING_SECONDS = 24 * 3600  # a confirmation button works this long


@dataclass
class Pending:
    """A decision waiting for an admin's button: confirm an update's removals, or replace an earlier upload."""

    kind: str  # "removals" | "upload" | "takedown"
    lang: str = AR
    created: float = field(default_factory=time.monotonic)
    earlier: list[Upload] = field(default_factory=list)  # "upload": the earlier files of that name
    found: list[Found] = field(default_factory=list)  # "takedown": the articles to take down
    unknown: list[str] = field(default_factory=list)  # "takedown": links to keep out, not in the index now
    by: str = ""  # "takedown": who asked
    result: SearchResult | None = None  # "feedback": the answer a reader voted down
    asked: str = ""  # "feedback": the question as the reader wrote it
    desk: Pin | Block | None = None  # "undo": the pin or block to lift


def capped(lines: Sequence[str], lang: str) -> str:
    """The first ``LISTED`` lines, then "… and N more" for the rest."""
    shown = list(lines[:LISTED])
    if len(lines) > LISTED:
        shown.append(text("and_more", lang, n=len(lines) - LISTED))
    return "\n".join(shown)


def pending_decisions(context: Context | Application) -> dict[str, Pending]:
    pending = _data(context).pending
    now = time.monotonic()
    for token in [t for t, p in pending.items() if now - p.created > PENDING_SECONDS]:
        del pending[token]
    return pending


def ask_admin(context: Context | Application, item: Pending, yes: str, no: str, prefix: str) -> InlineKeyboardMarkup:
    """Keep ``item`` for a button press and return the two buttons (data ``<prefix>ok:<token>`` / ``<prefix>no:<token>``)."""
    token = secrets.token_urlsafe(6)
    pending_decisions(context)[token] = item
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=f"{prefix}ok:{token}"),
                InlineKeyboardButton(no, callback_data=f"{prefix}no:{token}"),
            ]
        ]
    )


def _data(context: Context | Application) -> BotData:
    return context.bot_data


# ---------------------------------------------------------------- updates


def removal_prompt(context: Context | Application, refused: RemovalRefused, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """What a refused update tells an admin (counts, the first titles, foreign folders by name), with its buttons."""
    titles = list(refused.removed.values())
    listed = capped([f"• {html.escape(t or text('untitled', lang))}" for t in titles], lang)
    folders = ""
    if refused.folders:  # by their last part only: no server path is shown in Telegram
        names = ", ".join(html.escape(Path(f).name or f) for f in refused.folders)
        folders = text("removal_folders", lang, folders=names)
    body = text("removal_refused", lang, removed=len(titles), total=refused.total, folders=folders, list=listed)
    markup = ask_admin(context, Pending("removals", lang), text("btn_confirm_removal", lang), text("btn_cancel", lang), "rm")
    return body, markup


async def run_update(
    context: Context,
    status: Message,
    lang: str,
    *,
    reserved: bool = False,
    allow_removals: bool = False,
    confirmed: Collection[str] = (),
) -> BuildReport | None:
    """Update the index, editing ``status`` as it goes, and reply with the outcome (None when it did not happen)."""
    builds = context.bot_data.builds
    loop = asyncio.get_running_loop()
    last_edit = [0.0]

    def on_stage(stage: str) -> None:  # called from the build thread
        now = time.monotonic()
        if now - last_edit[0] < 1.0:
            return
        last_edit[0] = now
        note = text("reindex_stage", lang, stage=html.escape(stage_text(stage, lang)))
        asyncio.run_coroutine_threadsafe(_edit_quietly(status, note), loop)

    async def on_wait() -> None:
        minutes = builds.settings.index_lock_wait_seconds / 60
        await status.reply_html(text("reindex_waiting", lang, minutes=minutes))

    try:
        if reserved:
            report = await builds.reindex(
                on_stage, reserved=True, allow_removals=allow_removals, on_wait=on_wait, confirmed=confirmed
            )
        else:
            report = await builds.update_when_free(allow_removals=allow_removals, on_wait=on_wait, confirmed=confirmed)
    except ReindexBusy:
        await status.reply_html(text("reindex_busy", lang))
        return None
    except LockWaitTimeout:
        await status.reply_html(text("reindex_gave_up", lang, minutes=builds.settings.index_lock_wait_seconds / 60))
        return None
    except RemovalRefused as refused:
        body, markup = removal_prompt(context, refused, lang)
        await status.reply_html(body, reply_markup=markup)
        return None
    except Exception as exc:  # any failure leaves the old index serving; tell the admin why
        log.exception("index update failed")
        error = without_paths(str(exc), builds.settings)
        await status.reply_html(text("reindex_failed", lang, error=html.escape(error[:500])))
        return None
    await status.reply_html(done_text(report, lang, builds.settings))
    return report


def without_paths(message: str, settings: Settings) -> str:
    """``message`` with no server path in it: the configured folders by their settings' names, any other path by
    its last part (error texts from libraries quote the paths they failed on)."""
    for folder, name in ((settings.articles_dir, "ARTICLES_DIR"), (settings.index_dir, "INDEX_DIR")):
        for spelled in sorted({str(folder.resolve()), str(folder)}, key=len, reverse=True):
            message = message.replace(spelled, name)
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", message)


# an absolute path that is not part of a URL or a word: "/srv/x/y.json" -> "y.json"
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~])/(?:[^\s/:'\"<>]+/)+([^\s/:'\"<>]*)")


def done_text(report: BuildReport, lang: str, settings: Settings) -> str:
    """The admin's summary of an update: counts, and the skipped files or lines (paths inside ARTICLES_DIR)."""
    problems = ""
    if report.problems:
        shown = [without_paths(str(p), settings) for p in report.problems[:10]]
        listed = "\n".join(f"• {html.escape(p[:200])}" for p in shown)  # cut, then escape
        problems = text("reindex_problems", lang, n=len(report.problems), list=listed)
    return text(
        "reindex_done",
        lang,
        seconds=report.seconds,
        articles=report.articles,
        chunks=report.chunks,
        encoded=report.encoded,
        added=len(report.added),
        changed=len(report.changed),
        removed=len(report.removed),
        problems=problems,
    )


async def _edit_quietly(message: Message, new_text: str) -> None:
    try:
        await message.edit_text(new_text)
    except TelegramError as exc:
        log.debug("progress edit failed: %s", exc)


@admin_only
async def reindex(update: Update, context: Context) -> None:
    """/reindex (admins): incremental update from ARTICLES_DIR in the background."""
    lang = reader_lang(update, context)
    builds = context.bot_data.builds
    if not builds.reserve():  # taken before "started" is said: two presses cannot both start one
        await update.effective_message.reply_html(text("reindex_busy", lang))
        return
    try:
        status = await update.effective_message.reply_html(text("reindex_started", lang))
    except BaseException:
        builds.release()
        raise
    context.application.create_task(run_update(context, status, lang, reserved=True), update=update)


async def take_decision(update: Update, context: Context, kind: str, said_no: str) -> Pending | None:
    """A press on one of ``ask_admin``'s buttons: the decision of ``kind`` waiting for it when the answer was yes.
    None when the presser is not an admin, the decision is gone (they are told), or the answer was no (the admin
    gets the text ``said_no``)."""
    query = update.callback_query
    match = button_match(context)
    answer, token = (match.group(1), match.group(2)) if match else ("", "")
    if not is_admin(update, context):
        await query.answer(text("not_allowed", reader_lang(update, context)), show_alert=True)
        return None
    item = pending_decisions(context).pop(token, None)
    if item is None or item.kind != kind:
        await query.answer(text("expired", item.lang if item else reader_lang(update, context)), show_alert=True)
        return None
    await query.answer()
    await edit_quietly_markup(query.message)
    if answer != "ok":
        await query.message.reply_html(text(said_no, item.lang))
        return None
    return item


async def confirm_removals(update: Update, context: Context) -> None:
    """The buttons under a refused update: run it with its removals, or leave the index as it is."""
    item = await take_decision(update, context, "removals", "removal_cancelled")
    if item is None:
        return
    query, lang = update.callback_query, item.lang
    status = await query.message.reply_html(text("removal_confirmed", lang))
    context.application.create_task(run_update(context, status, lang, allow_removals=True), update=update)


async def edit_quietly_markup(message: Message | None) -> None:
    """Take the buttons off a message whose question was answered (a second press then finds nothing)."""
    if message is None:
        return
    try:
        await message.edit_reply_markup(None)
    except TelegramError as exc:
        log.debug("could not remove the buttons: %s", exc)


# ---------------------------------------------------------------- information


@admin_only
async def stats(update: Update, context: Context) -> None:
    """/stats (admins): index size, model, last build, questions answered, latency."""
    lang = reader_lang(update, context)
    service = context.bot_data.service
    manifest = service.searcher.manifest if service.searcher else None
    reading = context.bot_data.builds.reindexing
    reply = stats_text(lang, manifest, service.answered, service.refused, service.latency_ms(), reading)
    await update.effective_message.reply_html(reply)


@admin_only
async def report(update: Update, context: Context) -> None:
    """/report [days] (admins): the editor's report over the question log, and a chart of the daily counts."""
    message = update.effective_message
    lang = reader_lang(update, context)
    path = context.bot_data.settings.question_log
    if path is None:
        await message.reply_html(text("report_no_log", lang))
        return
    args = context.args or []
    if len(args) > 1 or (args and not (args[0].isdigit() and 0 < int(args[0]) <= 3650)):
        await message.reply_html(text("report_usage", lang))
        return
    days = int(args[0]) if args else None
    made, chart = await asyncio.to_thread(_make_report, path, days, lang)
    await send(message, report_messages(made, lang))
    if chart:
        await message.reply_photo(chart, caption=text("report_chart", lang))


@admin_only
async def sources(update: Update, context: Context) -> None:
    """/sources (admins): each feed, sitemap, channel and folder with its last sync, last error, articles and gaps."""
    lang = reader_lang(update, context)
    settings = context.bot_data.settings
    lines = await asyncio.to_thread(source_lines, settings.articles_dir, settings.feeds)
    if not lines:
        await update.effective_message.reply_html(text("sources_none", lang))
        return
    await send(update.effective_message, sources_messages(lines, lang))


def _make_report(path: Path, days: int | None, lang: str) -> tuple[Report, bytes | None]:
    """Read the log and build the report (and the chart, labelled in ``lang``, when there are 3+ days): in a worker
    thread."""
    records = read_log(path)[0] if path.exists() else []
    made = build_report(records, days=days)
    return made, daily_chart_png(made, chart_labels(lang)) if made.chart_worthy else None


def chart_labels(lang: str) -> ChartLabels:
    """The report chart's words in ``lang``."""
    return ChartLabels(*(text(f"chart_{part}", lang) for part in ("title", "axis", "answered", "tentative", "nothing")))


# ---------------------------------------------------------------- telling every admin


async def notify_admins(
    app: Application, make: Callable[[str], tuple[str, InlineKeyboardMarkup | None]], but: int | None = None
) -> None:
    """Send each admin (``but`` one) a message (``make(lang)``: its text and buttons) in the language they chose,
    Arabic by default."""
    data: BotData = app.bot_data
    for admin in data.settings.admin_user_ids:
        if admin == but:
            continue
        known = app.user_data.get(admin)
        lang = (known.lang if known is not None else None) or AR
        body, markup = make(lang)
        try:
            await app.bot.send_message(admin, body, reply_markup=markup)
        except TelegramError as exc:  # an admin who never opened a chat with the bot
            log.warning("could not tell admin %s: %s", admin, exc)


class AdminAlerts:
    """Messages to every admin about work that runs with no admin watching (channel batches, the feed refresh).

    A refused update is told once per kind of work until one of its updates goes through again,
    so a channel posting every minute does not repeat the same question every minute.
    """

    def __init__(self, app: Application) -> None:
        self.app = app
        self._refusals_told: set[str] = set()

    async def refused(self, kind: str, refused: RemovalRefused) -> None:
        if kind in self._refusals_told:
            return
        self._refusals_told.add(kind)
        await notify_admins(self.app, lambda lang: removal_prompt(self.app, refused, lang))

    def succeeded(self, kind: str) -> None:
        self._refusals_told.discard(kind)

    async def say(self, key: str, **values: object) -> None:
        await notify_admins(self.app, lambda lang: (text(key, lang, **values), None))
