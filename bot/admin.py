"""Admins' handlers: /reindex, /stats, /report, /uploads, article uploads, and the confirmations they may ask for.

Anything that changes the index goes through the service's update, which refuses
to remove much of the index without a confirmation (``index.build.check_removals``):
the admin then gets the list and a button. Uploads are saved under time-stamped
names (``index.uploads``), so no upload ever replaces another without the admin's word.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.settings import Settings
from index.build import BuildReport, RemovalRefused
from index.corpus.articles import SUPPORTED_SUFFIXES, load_file
from index.corpus.records import Article, LoadResult
from index.corpus.uploads import (
    Upload,
    dropped_by,
    is_supported,
    list_uploads,
    name_for_document,
    remove_uploads,
    same_name,
    save_upload,
    uploads_dir,
)
from index.questionlog import read_log
from index.tools.report import Report, build_report, daily_chart_png

from .handlers import _send, _service, _settings, admin_only, is_admin, reader_lang
from .render import report_messages
from .replies import stats_text
from .service import LockWaitTimeout, ReindexBusy
from .texts import AR, stage_text, text

log = logging.getLogger(__name__)

LISTED = 10  # articles listed by title in a confirmation
PENDING_SECONDS = 24 * 3600  # a confirmation button works this long
DOWNLOAD_CHUNK = 64 * 1024


@dataclass
class Pending:
    """A decision waiting for an admin's button: confirm an update's removals, or replace an earlier upload."""

    kind: str  # "removals" | "upload"
    lang: str = AR
    created: float = field(default_factory=time.monotonic)
    earlier: list[Upload] = field(default_factory=list)  # "upload": the earlier files of that name


def _pending(context: ContextTypes.DEFAULT_TYPE | Application) -> dict[str, Pending]:
    data = context.bot_data
    pending: dict[str, Pending] = data.setdefault("pending", {})
    now = time.monotonic()
    for token in [t for t, p in pending.items() if now - p.created > PENDING_SECONDS]:
        del pending[token]
    return pending


def _ask(context: ContextTypes.DEFAULT_TYPE | Application, item: Pending, yes: str, no: str, prefix: str) -> InlineKeyboardMarkup:
    """Keep ``item`` for a button press and return the two buttons (data ``<prefix>ok:<token>`` / ``<prefix>no:<token>``)."""
    token = secrets.token_urlsafe(6)
    _pending(context)[token] = item
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=f"{prefix}ok:{token}"),
                InlineKeyboardButton(no, callback_data=f"{prefix}no:{token}"),
            ]
        ]
    )


# ---------------------------------------------------------------- updates


def removal_prompt(
    context: ContextTypes.DEFAULT_TYPE | Application, refused: RemovalRefused, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What a refused update tells an admin (counts, the first titles, foreign folders by name), with its buttons."""
    titles = list(refused.removed.values())
    listed = "\n".join(f"• {html.escape(t or text('untitled', lang))}" for t in titles[:LISTED])
    if len(titles) > LISTED:
        listed += "\n" + text("and_more", lang, n=len(titles) - LISTED)
    folders = ""
    if refused.folders:  # by their last part only: no server path is shown in Telegram
        names = ", ".join(html.escape(Path(f).name or f) for f in refused.folders)
        folders = text("removal_folders", lang, folders=names)
    body = text("removal_refused", lang, removed=len(titles), total=refused.total, folders=folders, list=listed)
    markup = _ask(context, Pending("removals", lang), text("btn_confirm_removal", lang), text("btn_cancel", lang), "rm")
    return body, markup


async def run_update(
    context: ContextTypes.DEFAULT_TYPE,
    status: Message,
    lang: str,
    *,
    reserved: bool = False,
    allow_removals: bool = False,
) -> BuildReport | None:
    """Update the index, editing ``status`` as it goes, and reply with the outcome (None when it did not happen)."""
    service = _service(context)
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
        minutes = f"{service.settings.index_lock_wait_seconds / 60:g}"
        await status.reply_html(text("reindex_waiting", lang, minutes=minutes))

    try:
        if reserved:
            report = await service.reindex(on_stage, reserved=True, allow_removals=allow_removals, on_wait=on_wait)
        else:
            report = await service.update_when_free(allow_removals=allow_removals, on_wait=on_wait)
    except ReindexBusy:
        await status.reply_html(text("reindex_busy", lang))
        return None
    except LockWaitTimeout:
        await status.reply_html(text("reindex_gave_up", lang, minutes=f"{service.settings.index_lock_wait_seconds / 60:g}"))
        return None
    except RemovalRefused as refused:
        body, markup = removal_prompt(context, refused, lang)
        await status.reply_html(body, reply_markup=markup)
        return None
    except Exception as exc:  # any failure leaves the old index serving; tell the admin why
        log.exception("index update failed")
        error = without_paths(str(exc), service.settings)
        await status.reply_html(text("reindex_failed", lang, error=html.escape(error[:500])))
        return None
    await status.reply_html(done_text(report, lang, service.settings))
    return report


def without_paths(message: str, settings: Settings) -> str:
    """``message`` with the server's folders named by their settings: no server path is shown in Telegram."""
    for folder, name in ((settings.articles_dir, "ARTICLES_DIR"), (settings.index_dir, "INDEX_DIR")):
        for spelled in {str(folder.resolve()), str(folder)}:
            message = message.replace(spelled, name)
    return message


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
async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): incremental update from ARTICLES_DIR in the background."""
    lang = reader_lang(update, context)
    service = _service(context)
    if not service.reserve():  # taken before "started" is said: two presses cannot both start one
        await update.effective_message.reply_html(text("reindex_busy", lang))
        return
    try:
        status = await update.effective_message.reply_html(text("reindex_started", lang))
    except BaseException:
        service.release()
        raise
    context.application.create_task(run_update(context, status, lang, reserved=True), update=update)


async def confirm_removals(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The buttons under a refused update: run it with its removals, or leave the index as it is."""
    query = update.callback_query
    answer, _, token = (query.data or "").partition(":")
    if not is_admin(update, context):
        await query.answer(text("not_allowed", reader_lang(update, context)), show_alert=True)
        return
    item = _pending(context).pop(token, None)
    lang = item.lang if item else reader_lang(update, context)
    if item is None or item.kind != "removals":
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer()
    await _edit_quietly_markup(query.message)
    if answer == "rmno":
        await query.message.reply_html(text("removal_cancelled", lang))
        return
    status = await query.message.reply_html(text("removal_confirmed", lang))
    context.application.create_task(run_update(context, status, lang, allow_removals=True), update=update)


async def _edit_quietly_markup(message: Message | None) -> None:
    """Take the buttons off a message whose question was answered (a second press then finds nothing)."""
    if message is None:
        return
    try:
        await message.edit_reply_markup(None)
    except TelegramError as exc:
        log.debug("could not remove the buttons: %s", exc)


# ---------------------------------------------------------------- information


@admin_only
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): index size, model, last build, questions answered, latency."""
    lang = reader_lang(update, context)
    service = _service(context)
    manifest = service.searcher.manifest if service.searcher else None
    reply = stats_text(lang, manifest, service.answered, service.refused, service.latency_ms(), service.reindexing)
    await update.effective_message.reply_html(reply)


@admin_only
async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report [days] (admins): the editor's report over the question log, and a chart of the daily counts."""
    message = update.effective_message
    lang = reader_lang(update, context)
    path = _settings(context).question_log
    if path is None:
        await message.reply_html(text("report_no_log", lang))
        return
    args = context.args or []
    if len(args) > 1 or (args and not (args[0].isdigit() and 0 < int(args[0]) <= 3650)):
        await message.reply_html(text("report_usage", lang))
        return
    days = int(args[0]) if args else None
    made, chart = await asyncio.to_thread(_make_report, path, days)
    await _send(message, report_messages(made, lang))
    if chart:
        await message.reply_photo(chart, caption=text("report_chart", lang))


def _make_report(path: Path, days: int | None) -> tuple[Report, bytes | None]:
    """Read the log and build the report (and the chart when there are 3+ days): in a worker thread."""
    records = read_log(path)[0] if path.exists() else []
    made = build_report(records, days=days)
    return made, daily_chart_png(made) if made.chart_worthy else None


@admin_only
async def uploads(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/uploads (admins): the uploaded files, newest first, with when they came and how many articles each holds."""
    lang = reader_lang(update, context)
    found = await asyncio.to_thread(_uploads_listing, _settings(context).articles_dir)
    if not found:
        await update.effective_message.reply_html(text("uploads_none", lang))
        return
    lines = [
        text("uploads_line", lang, name=html.escape(u.name), when=u.uploaded.strftime("%Y-%m-%d %H:%M"), articles=n)
        for u, n in found[:30]
    ]
    if len(found) > 30:
        lines.append(text("and_more", lang, n=len(found) - 30))
    await _send(update.effective_message, [text("uploads_list", lang, n=len(found), list="\n".join(lines))])


def _uploads_listing(articles_dir: Path) -> list[tuple[Upload, int]]:
    """Uploads newest first, each with its number of articles (a worker thread reads them)."""
    return [(u, len(load_file(u.path, LoadResult()))) for u in reversed(list_uploads(articles_dir))]


# ---------------------------------------------------------------- uploads


class UploadTooLarge(Exception):
    """The file grew past MAX_UPLOAD_MB while downloading (Telegram declared no size, or a wrong one)."""


async def download_capped(url: str, target: Path, limit: int) -> int:
    """Stream ``url`` to ``target``, stopping as soon as more than ``limit`` bytes came; returns the size.

    python-telegram-bot's own download reads the whole file into memory first, and a file's
    declared size may be missing or wrong: this never holds or writes more than ``limit`` bytes
    (and one network chunk).
    """
    loopback = (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}
    size = 0
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), trust_env=not loopback)
    async with client, client.stream("GET", url) as response:
        response.raise_for_status()
        with open(target, "wb") as out:
            async for piece in response.aiter_bytes(DOWNLOAD_CHUNK):
                size += len(piece)
                if size > limit:
                    raise UploadTooLarge()
                out.write(piece)
    return size


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's article file: check, save under a new time-stamped name in ARTICLES_DIR/uploads, update the index."""
    message = update.effective_message
    lang = reader_lang(update, context)
    if not is_admin(update, context):
        if update.effective_chat.type == ChatType.PRIVATE:
            await message.reply_html(text("upload_not_allowed", lang))
        return
    settings = _settings(context)
    doc = message.document
    limit_mb = settings.max_upload_mb
    limit = int(limit_mb * 1024 * 1024)
    if doc.file_size and doc.file_size > limit:
        await message.reply_html(text("upload_too_big", lang, limit=f"{limit_mb:g}"))
        return
    name = name_for_document(doc.file_name, doc.mime_type)
    types = " ".join(SUPPORTED_SUFFIXES)
    if name is None:
        await message.reply_html(text("upload_no_name", lang, types=types))
        return
    if not is_supported(name):
        await message.reply_html(text("upload_bad_type", lang, types=types))
        return
    folder = uploads_dir(settings.articles_dir)
    folder.mkdir(parents=True, exist_ok=True)
    file = await doc.get_file()
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=Path(name).suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        refusal, saved = await _check_and_save(file.file_path, tmp, limit, settings.articles_dir, name)
    finally:
        tmp.unlink(missing_ok=True)  # before any reply: a reply means the folder holds only what was kept
    if refusal is not None:
        reason = (
            text("upload_too_big", lang, limit=f"{limit_mb:g}")
            if refusal == ""
            else text("upload_rejected", lang, reason=html.escape(refusal))
        )
        await message.reply_html(reason)
        return
    assert saved is not None
    await _after_upload(update, context, name, *saved, lang)


async def _check_and_save(
    url: str, tmp: Path, limit: int, articles_dir: Path, name: str
) -> tuple[str | None, tuple[list[Article], list[Upload], list[Article]] | None]:
    """Download, load and save an upload: (None, (articles, earlier uploads of that name, articles they would drop)),
    or (why it was refused, None), "" meaning too large."""
    try:
        await download_capped(url, tmp, limit)
    except UploadTooLarge:
        return "", None
    checked = LoadResult()
    articles = await asyncio.to_thread(load_file, tmp, checked)
    if not articles:
        return "; ".join(p.reason for p in checked.problems[:3]) or "no articles found", None
    earlier, dropped = await asyncio.to_thread(_earlier_of, articles_dir, name, articles)
    await asyncio.to_thread(save_upload, articles_dir, tmp, name)
    return None, (articles, earlier, dropped)


def _earlier_of(articles_dir: Path, name: str, articles: list[Article]) -> tuple[list[Upload], list[Article]]:
    """Earlier uploads of ``name`` and the articles that replacing them with ``articles`` would drop."""
    earlier = same_name(articles_dir, name)
    return earlier, dropped_by([u.path for u in earlier], articles) if earlier else []


async def _after_upload(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    name: str,
    articles: list[Article],
    earlier: list[Upload],
    dropped: list[Article],
    lang: str,
) -> None:
    """Tell the admin what the upload did (asking before anything would be dropped), then update the index."""
    message = update.effective_message
    shown = html.escape(name)
    if earlier and not dropped:  # the new file holds every article of the earlier ones: nothing is lost
        await asyncio.to_thread(remove_uploads, earlier)
        status = await message.reply_html(text("upload_replaces", lang, name=shown, articles=len(articles)))
    elif earlier:
        listed = "\n".join(f"• {html.escape(a.title or a.id)}" for a in dropped[:LISTED])
        if len(dropped) > LISTED:
            listed += "\n" + text("and_more", lang, n=len(dropped) - LISTED)
        markup = _ask(
            context, Pending("upload", lang, earlier=earlier), text("btn_replace", lang), text("btn_keep_both", lang), "up"
        )
        body = text("upload_conflict", lang, name=shown, articles=len(articles), n=len(dropped), list=listed)
        status = await message.reply_html(body, reply_markup=markup)
    else:
        status = await message.reply_html(text("upload_saved", lang, name=shown, articles=len(articles)))
    if _service(context).reindexing:
        await status.reply_html(text("upload_queued", lang))
    context.application.create_task(run_update(context, status, lang), update=update)


async def upload_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The buttons under an upload that would drop articles: replace the earlier file(s), or keep both."""
    query = update.callback_query
    answer, _, token = (query.data or "").partition(":")
    if not is_admin(update, context):
        await query.answer(text("not_allowed", reader_lang(update, context)), show_alert=True)
        return
    item = _pending(context).pop(token, None)
    lang = item.lang if item else reader_lang(update, context)
    if item is None or item.kind != "upload":
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer()
    await _edit_quietly_markup(query.message)
    if answer == "upno":
        await query.message.reply_html(text("upload_kept_both", lang))
        return
    await asyncio.to_thread(remove_uploads, item.earlier)
    status = await query.message.reply_html(text("upload_replacing", lang))
    # the admin chose to drop those articles: a deliberate removal
    context.application.create_task(run_update(context, status, lang, allow_removals=True), update=update)


# ---------------------------------------------------------------- telling every admin


async def notify_admins(app: Application, make: Callable[[str], tuple[str, InlineKeyboardMarkup | None]]) -> None:
    """Send each admin a message (``make(lang)``: its text and buttons) in the language they chose, Arabic by default."""
    settings = app.bot_data["settings"]
    for admin in settings.admin_user_ids:
        lang = (app.user_data.get(admin) or {}).get("lang") or AR
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
