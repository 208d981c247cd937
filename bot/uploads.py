"""Admins' article files: uploaded in a chat, checked, saved under a new time-stamped name, indexed; /uploads lists them.

No upload ever replaces another without the admin's word (``index.corpus.uploads``): a file sent
under an earlier upload's name that lacks some of its articles lists them and asks "replace /
keep both". The download streams and stops at MAX_UPLOAD_MB whatever size Telegram declared.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from telegram import Update
from telegram.constants import ChatType

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

from .admin import Pending, ask_admin, capped, run_update, take_decision
from .context import Context, admin_only, is_admin, reader_lang, send
from .texts import text

log = logging.getLogger(__name__)

DOWNLOAD_CHUNK = 64 * 1024
UPLOAD_CHOICE = r"^up(ok|no):([A-Za-z0-9_-]{4,16})$"  # "replace the earlier file" / "keep both"


@admin_only
async def uploads(update: Update, context: Context) -> None:
    """/uploads (admins): the uploaded files, newest first, with when they came and how many articles each holds."""
    lang = reader_lang(update, context)
    found = await asyncio.to_thread(_uploads_listing, context.bot_data.settings.articles_dir)
    if not found:
        await update.effective_message.reply_html(text("uploads_none", lang))
        return
    lines = [
        text("uploads_line", lang, name=html.escape(u.name), when=u.uploaded.strftime("%Y-%m-%d %H:%M"), articles=n)
        for u, n in found[:30]
    ]
    if len(found) > 30:
        lines.append(text("and_more", lang, n=len(found) - 30))
    await send(update.effective_message, [text("uploads_list", lang, n=len(found), list="\n".join(lines))])


def _uploads_listing(articles_dir: Path) -> list[tuple[Upload, int]]:
    """Uploads newest first, each with its number of articles (a worker thread reads them)."""
    return [(u, len(load_file(u.path, LoadResult()))) for u in reversed(list_uploads(articles_dir))]


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


async def document(update: Update, context: Context) -> None:
    """An admin's article file: check, save under a new time-stamped name in ARTICLES_DIR/uploads, update the index."""
    message = update.effective_message
    lang = reader_lang(update, context)
    if not is_admin(update, context):
        if update.effective_chat.type == ChatType.PRIVATE:
            await message.reply_html(text("upload_not_allowed", lang))
        return
    settings = context.bot_data.settings
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
    context: Context,
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
        listed = capped([f"• {html.escape(a.title or a.id)}" for a in dropped], lang)
        markup = ask_admin(
            context, Pending("upload", lang, earlier=earlier), text("btn_replace", lang), text("btn_keep_both", lang), "up"
        )
        body = text("upload_conflict", lang, name=shown, articles=len(articles), n=len(dropped), list=listed)
        status = await message.reply_html(body, reply_markup=markup)
    else:
        status = await message.reply_html(text("upload_saved", lang, name=shown, articles=len(articles)))
    if context.bot_data.builds.reindexing:
        await status.reply_html(text("upload_queued", lang))
    context.application.create_task(run_update(context, status, lang), update=update)


async def upload_choice(update: Update, context: Context) -> None:
    """The buttons under an upload that would drop articles: replace the earlier file(s), or keep both."""
    item = await take_decision(update, context, "upload", "upload_kept_both")
    if item is None:
        return
    query, lang = update.callback_query, item.lang
    await asyncio.to_thread(remove_uploads, item.earlier)
    status = await query.message.reply_html(text("upload_replacing", lang))
    # the admin chose to drop those articles: a deliberate removal
    context.application.create_task(run_update(context, status, lang, allow_removals=True), update=update)
