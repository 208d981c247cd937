"""The editor acts on 👎: the admins see the question, the reply and its sources, and pin or block; /pins undoes.

A reader's 👎 (the first on an answer) sends every admin the question, the reply and its sources,
with a button per source to *pin* its passage as the answer to that question, and one per source
to *block* its domain or channel (``index.corpus.desk``). /pins lists the standing pins and blocks
with a button to undo each. Whoever acts, the other admins are told.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from index.corpus.desk import Block, Pin, question_key, read_desk, record, source_target
from index.results import NOTHING, TENTATIVE, SearchResult

from .admin import Pending, notify_admins, pending_decisions
from .context import Context, admin_only, button_match, is_admin, reader_lang, who
from .render import clip
from .texts import text

FEEDBACK_BUTTON = r"^fb([pb])(\d):([A-Za-z0-9_-]{4,16})$"  # pin / block source n of the answer a 👎 was about
UNDO_BUTTON = r"^undo:([A-Za-z0-9_-]{4,16})$"  # undo one pin or block listed by /pins
SHOWN = 3  # sources shown (and offered to pin or block) per 👎
TOLD = 500  # answers remembered as already told, so a second 👎 on one answer does not repeat it
QUESTION_CHARS = 200


async def down_voted(context: Context, rid: str) -> None:
    """A reader's 👎 on answer ``rid`` counted: the first one on it goes to every admin, with the buttons."""
    data = context.bot_data
    item = data.service.results.get(rid)
    if item is None or rid in data.feedback_told:
        return
    data.feedback_told[rid] = None
    while len(data.feedback_told) > TOLD:
        del data.feedback_told[next(iter(data.feedback_told))]
    token = secrets.token_urlsafe(6)
    pending_decisions(context)[token] = Pending("feedback", item.lang, result=item.result, asked=item.asked)
    await notify_admins(context.application, lambda lang: feedback_message(item.result, item.asked, token, lang, item.written))


def feedback_message(
    result: SearchResult, asked: str, token: str, lang: str, written: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What admins get for a 👎: question, reply (the model's written answer when the reader saw one), sources;
    a pin button per source and a block button per domain."""
    hits = result.hits[:SHOWN]
    if written:
        reply = "🤖 " + html.escape(clip(written, QUESTION_CHARS))
    elif result.band == NOTHING:
        reply = text("feedback_reply_nothing", lang)
    elif result.band == TENTATIVE:
        reply = text("feedback_reply_unsure", lang)
    else:
        reply = "💡 " + html.escape(clip(result.answer_line, QUESTION_CHARS))
    targets = [source_target(h.url) for h in hits]  # what a block of each source would name ("": none)
    sources = "\n".join(
        f"{n}. {html.escape(clip(h.title or text('untitled', lang), 120))} — {html.escape(h.source or '?')}"
        + (f" ({html.escape(target)})" if target else "")
        for n, (h, target) in enumerate(zip(hits, targets, strict=True), start=1)
    )
    body = text(
        "feedback_head",
        lang,
        question=html.escape(clip(asked or result.question, QUESTION_CHARS)),
        reply=reply,
        sources=sources or "—",
    )
    rows = [
        [InlineKeyboardButton(text("btn_pin", lang, n=n), callback_data=f"fbp{n - 1}:{token}") for n in range(1, len(hits) + 1)]
    ]
    first_of: dict[str, int] = {}  # each domain or channel once, by the first source from it
    for i, target in enumerate(targets):
        if target:
            first_of.setdefault(target, i)
    rows += [
        [InlineKeyboardButton(text("btn_block", lang, target=target), callback_data=f"fbb{i}:{token}")]
        for target, i in first_of.items()
    ]
    rows = [row for row in rows if row]
    return body, InlineKeyboardMarkup(rows) if rows else None


async def _admin_press(update: Update, context: Context) -> tuple[CallbackQuery, re.Match | None, str] | None:
    """A button press: (the query, the button's match, the presser's language), or None when the presser is not an
    admin (told so)."""
    query, lang = update.callback_query, reader_lang(update, context)
    if not is_admin(update, context):
        await query.answer(text("not_allowed", lang), show_alert=True)
        return None
    return query, button_match(context), lang


async def feedback_button(update: Update, context: Context) -> None:
    """A pin or block button under a 👎 (admins): recorded, the presser and the other admins told."""
    pressed = await _admin_press(update, context)
    if pressed is None:
        return
    query, match, lang = pressed
    item = pending_decisions(context).get(match.group(3)) if match else None  # kept: the other buttons stay usable
    n = int(match.group(2)) if match else 0
    if item is None or item.kind != "feedback" or item.result is None or n >= len(item.result.hits):
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer()
    hit, result = item.result.hits[n], item.result
    question = clip(item.asked or result.question, QUESTION_CHARS)
    by = who(update)
    folder = context.bot_data.settings.articles_dir
    if match.group(1) == "p":
        searcher = context.bot_data.service.searcher
        body_key = await asyncio.to_thread(_body_key, searcher, hit.article_id) if searcher else ""
        pin = Pin(question_key(result.question), question, hit.article_id, hit.passage.text, body_key, hit.title, by)
        await asyncio.to_thread(record, folder, [pin])
        values = {"title": html.escape(clip(hit.title, 120)), "question": html.escape(question)}
        await query.message.reply_html(text("pin_done", lang, **values))
        await _tell_others(context.application, "pin_told", update, **values)
    else:
        target = source_target(hit.url)
        await asyncio.to_thread(record, folder, [Block(target, by)])
        await query.message.reply_html(text("block_done", lang, target=html.escape(target)))
        await _tell_others(context.application, "block_told", update, target=html.escape(target))


def _body_key(searcher, article_id: str) -> str:
    """The article's body key in the served build: a pin drops itself when it changes."""
    stored = searcher.stored
    idxs = stored.article_index([article_id])
    return stored.articles(idxs)[idxs[0]]["body_key"] if idxs else ""


async def _tell_others(app: Application, key: str, update: Update, **values: str) -> None:
    user = update.effective_user
    await notify_admins(
        app, lambda lang: (text(key, lang, who=html.escape(who(update)), **values), None), but=user.id if user else None
    )


@admin_only
async def pins_command(update: Update, context: Context) -> None:
    """/pins (admins): the standing pins and blocks, each with a button that undoes it."""
    lang = reader_lang(update, context)
    desk = await asyncio.to_thread(read_desk, context.bot_data.settings.articles_dir)
    if not desk.pins and not desk.blocks:
        await update.effective_message.reply_html(text("pins_none", lang))
        return
    decisions = pending_decisions(context)
    pins, rows = [], []
    for n, pin in enumerate(desk.pins.values(), start=1):
        pins.append(
            f"{n}. «{html.escape(clip(pin.question, 120))}» → {html.escape(clip(pin.title or pin.article_id, 100))}"
            f" — {html.escape(pin.by or '?')}, {html.escape(pin.at[:10])}"
        )
        token = secrets.token_urlsafe(6)
        decisions[token] = Pending("undo", lang, desk=pin)
        rows.append(InlineKeyboardButton(text("btn_unpin", lang, n=n), callback_data=f"undo:{token}"))
    blocks = []
    for block in desk.blocks.values():
        blocks.append(f"• {html.escape(block.target)} — {html.escape(block.by or '?')}, {html.escape(block.at[:10])}")
        token = secrets.token_urlsafe(6)
        decisions[token] = Pending("undo", lang, desk=block)
        rows.append(InlineKeyboardButton(text("btn_unblock", lang, target=block.target), callback_data=f"undo:{token}"))
    body = text(
        "pins_list",
        lang,
        pins="\n".join(pins) or text("pins_empty", lang),
        blocks="\n".join(blocks) or text("pins_empty", lang),
    )
    markup = InlineKeyboardMarkup([rows[i : i + 3] for i in range(0, len(rows), 3)])
    await update.effective_message.reply_html(body, reply_markup=markup, disable_web_page_preview=True)


async def undo_button(update: Update, context: Context) -> None:
    """An undo button under /pins (admins): the pin or block lifted, the presser and the other admins told."""
    pressed = await _admin_press(update, context)
    if pressed is None:
        return
    query, match, lang = pressed
    item = pending_decisions(context).pop(match.group(1), None) if match else None
    if item is None or item.kind != "undo" or item.desk is None:
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer()
    folder = context.bot_data.settings.articles_dir
    entry = item.desk
    if isinstance(entry, Pin):
        await asyncio.to_thread(record, folder, [Pin(entry.key, entry.question, entry.article_id, by=who(update), undone=True)])
        values = {"title": html.escape(clip(entry.title or entry.article_id, 120)), "question": html.escape(entry.question)}
        await query.message.reply_html(text("unpin_done", lang, **values))
        await _tell_others(context.application, "unpin_told", update, **values)
    else:
        await asyncio.to_thread(record, folder, [Block(entry.target, who(update), undone=True)])
        await query.message.reply_html(text("unblock_done", lang, target=html.escape(entry.target)))
        await _tell_others(context.application, "unblock_told", update, target=html.escape(entry.target))


async def pin_dropped(app: Application, pin: Pin) -> None:
    """Tell every admin that a pin dropped itself (its article changed or left the index)."""

    def make(lang: str) -> tuple[str, None]:
        why = text(f"pin_why_{pin.reason or 'changed'}", lang)
        values = {"title": html.escape(clip(pin.title or pin.article_id, 120)), "question": html.escape(pin.question)}
        return text("pin_dropped", lang, why=why, **values), None

    await notify_admins(app, make)
