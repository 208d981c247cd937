"""Admins' takedowns: /remove and /restore, and the 🗑 button under a full passage (``index.build.takedown``).

A takedown is previewed first (title, outlet, date, link) and done on a button; it is recorded
with who and when, the index is updated as for any change (the bot keeps answering meanwhile),
and the other admins are told.
"""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import Message, Update
from telegram.ext import Application

from index.build.takedown import Found, find, record_removals, record_restores, standing

from .admin import Pending, ask_admin, capped, notify_admins, run_update, take_decision
from .context import Context, admin_only, button_match, is_admin, reader_lang, who
from .handlers import RESULT_ID
from .texts import text

log = logging.getLogger(__name__)

CONFIRM_TAKEDOWN = r"^td(ok|no):([A-Za-z0-9_-]{4,16})$"
TAKE_DOWN_SHOWN = rf"^down:{RESULT_ID}:(\d{{1,3}})$"  # the 🗑 button under a full passage


def _listed(found: list[Found], lang: str) -> str:
    return capped([_line(f, lang) for f in found], lang)


def _line(f: Found, lang: str) -> str:
    """One article of a takedown: title, outlet and date, link, id."""
    title = html.escape(f.title or text("untitled", lang))
    where = ", ".join(html.escape(v) for v in (f.source, f.date[:10]) if v)
    link = f' <a href="{html.escape(f.url, quote=True)}">🔗</a>' if f.url else ""
    return f"• {title}" + (f" — {where}" if where else "") + link + f" <code>{html.escape(f.article_id)}</code>"


async def _preview(update: Update, context: Context, targets: list[str], lang: str) -> None:
    """Show what ``targets`` would take down, with the buttons that do it."""
    message = update.effective_message
    searcher = context.bot_data.service.searcher
    if searcher is None:
        await message.reply_html(text("takedown_nothing", lang))
        return
    found, unknown = await asyncio.to_thread(lambda: find(searcher.stored, targets))  # the served build
    if not found and not all(t.startswith(("http://", "https://")) for t in unknown):
        await message.reply_html(text("takedown_nothing", lang))
        return
    others = text("takedown_unknown", lang, targets=html.escape(" ".join(unknown))) if unknown else ""
    body = text("takedown_preview", lang, n=len(found) + len(unknown), list=_listed(found, lang), unknown=others)
    item = Pending("takedown", lang, found=found, unknown=unknown, by=who(update))
    markup = ask_admin(context, item, text("btn_takedown_confirm", lang), text("btn_cancel", lang), "td")
    await message.reply_html(body, reply_markup=markup, disable_web_page_preview=True)


@admin_only
async def remove_command(update: Update, context: Context) -> None:
    """/remove ID|link... (admins): preview the articles, then take them down on a button."""
    lang = reader_lang(update, context)
    if not context.args:
        await update.effective_message.reply_html(text("takedown_usage", lang))
        return
    await _preview(update, context, list(context.args), lang)


async def take_down_shown(update: Update, context: Context) -> None:
    """The 🗑 button under a full passage (admins): the takedown preview of that article."""
    query = update.callback_query
    lang = reader_lang(update, context)
    match = button_match(context)
    item = context.bot_data.service.recall(match.group(1)) if match else None
    if not is_admin(update, context):
        await query.answer(text("not_allowed", lang), show_alert=True)
        return
    if item is None or int(match.group(2)) >= len(item.result.hits):
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer()
    await _preview(update, context, [item.result.hits[int(match.group(2))].article_id], item.lang)


async def confirm_takedown(update: Update, context: Context) -> None:
    """The buttons under a takedown preview: take the articles down, or leave them."""
    item = await take_decision(update, context, "takedown", "removal_cancelled")
    if item is None:
        return
    query, lang = update.callback_query, item.lang
    settings = context.bot_data.settings
    await asyncio.to_thread(record_removals, settings.articles_dir, item.found, item.unknown, item.by)
    status = await query.message.reply_html(text("takedown_running", lang))
    listed = item.found
    confirmed = [f.article_id for f in listed]
    context.application.create_task(
        _update_and_tell(context, status, lang, confirmed, "takedown_told", item.by, listed, item.unknown, update)
    )


async def _update_and_tell(
    context: Context,
    status: Message,
    lang: str,
    confirmed: list[str],
    told: str,
    who: str,
    found: list[Found],
    unknown: list[str],
    update: Update,
) -> None:
    """Update the index (the admin sees its progress and outcome), then tell the other admins what was done."""
    report = await run_update(context, status, lang, confirmed=confirmed)
    if report is None:
        return
    user = update.effective_user
    await _tell_others(context.application, told, who, found, unknown, user.id if user else None)


async def _tell_others(app: Application, key: str, who: str, found: list[Found], unknown: list[str], but: int | None) -> None:
    def make(lang: str) -> tuple[str, None]:
        listed = _listed(found, lang) + ("\n• " + html.escape(" ".join(unknown)) if unknown else "")
        return text(key, lang, who=html.escape(who), list=listed), None

    await notify_admins(app, make, but=but)


@admin_only
async def restore_command(update: Update, context: Context) -> None:
    """/restore [ID|link...] (admins): list the takedowns in force, or undo them."""
    message = update.effective_message
    lang = reader_lang(update, context)
    settings = context.bot_data.settings
    if not context.args:
        current = await asyncio.to_thread(standing, settings.articles_dir)
        if not current:
            await message.reply_html(text("restore_usage_none", lang))
            return
        lines = [
            f"• {html.escape(t.title or t.url or t.article_id)} <code>{html.escape(t.article_id)}</code> — "
            f"{html.escape(t.by or '?')}, {html.escape(t.at[:16].replace('T', ' '))}"
            for t in current[:30]
        ]
        await message.reply_html(text("restore_list", lang, list="\n".join(lines)))
        return
    restored, unknown = await asyncio.to_thread(record_restores, settings.articles_dir, list(context.args), who(update))
    if unknown:
        await message.reply_html(text("restore_unknown", lang, targets=html.escape(" ".join(unknown))))
    if not restored:
        return
    found = [Found(t.article_id, t.article_id, t.title, "", "", t.url, t.path) for t in restored]
    status = await message.reply_html(text("restore_running", lang))
    context.application.create_task(_update_and_tell(context, status, lang, [], "restore_told", who(update), found, [], update))
