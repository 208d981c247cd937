"""Readers' handlers: questions in private chats and groups, /start /help /lang /ask, the buttons under answers.

Small async functions, wired together in ``bot.app``; shared state is the typed
``context.bot_data`` (``bot.context``). Nothing here blocks the event loop: searches run in
the service's thread pool.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Hashable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import BadRequest, TelegramError

from index.storage.store import IndexUnavailable

from .context import Context, button_match, clean_question, is_admin, reader_lang, send
from .conversations import private_key, thread_key
from .deeplinks import question_from_payload
from .feedback import down_voted
from .render import first_page, full_passage_messages, reply_messages
from .replies import examples, help_text, welcome_text
from .texts import AR, EN, text
from .written import write_in

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
# Button data, matched when the handlers are registered (bot.app); the formats of buttons already sent stay valid.
RESULT_ID = r"([A-Za-z0-9_-]{4,16})"
FULL_PASSAGE = rf"^full:{RESULT_ID}:(\d{{1,3}})$"
MORE_RESULTS = rf"^more:{RESULT_ID}:(\d{{1,3}})$"
VOTE = rf"^vote:{RESULT_ID}:([ud])$"
ASK_ANEW = rf"^anew:{RESULT_ID}$"


async def start(update: Update, context: Context) -> None:
    """Welcome the reader (what the bot answers, two examples); a t.me/bot?start=<question> link asks at once."""
    question = question_from_payload(context.args[0]) if len(context.args or []) == 1 else None
    if question:
        await answer(update, context, question)
        return
    user = update.effective_user
    lang = reader_lang(update, context)
    searcher, name = context.bot_data.service.searcher, user.first_name if user else ""
    # off the event loop: with the index on Milvus the outlets and latest titles are a request away
    welcome = await asyncio.to_thread(welcome_text, searcher, lang, name, f"@{context.bot.username}")
    await update.effective_message.reply_html(welcome)


async def help_command(update: Update, context: Context) -> None:
    """How to ask, buttons, group rules; admin commands for admins."""
    lang = reader_lang(update, context)
    await update.effective_message.reply_html(help_text(lang, is_admin(update, context), f"@{context.bot.username}"))


async def lang_command(update: Update, context: Context) -> None:
    """/lang ar|en — choose the interface language (otherwise it follows each question's script)."""
    choice = (context.args or [""])[0].lower()[:2] if context.args else ""
    if choice in (AR, EN):
        context.user_data.lang = choice
        await update.effective_message.reply_html(text("lang_set", choice))
        return
    await update.effective_message.reply_html(text("lang_usage", reader_lang(update, context)))


async def ask_command(update: Update, context: Context) -> None:
    """/ask <question> — works in private chats and groups."""
    question = " ".join(context.args or [])
    await answer(update, context, question)


async def private_text(update: Update, context: Context) -> None:
    """Any text in a private chat is a question."""
    await answer(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: Context) -> None:
    """In groups, answer only when mentioned or when a message replies to the bot."""
    message = update.effective_message
    question = addressed_question(message, context.bot.id, context.bot.username)
    if question is not None:
        await answer(update, context, question)


def addressed_question(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message meant for the bot, without the @mention; None if not for the bot."""
    msg_text = message.text or ""
    mention = f"@{bot_username}".lower() if bot_username else None
    mentioned = False
    # parse_entities turns Telegram's UTF-16 offsets into the mention's own text
    for value in message.parse_entities([MessageEntityType.MENTION]).values():
        if mention and value.lower() == mention:
            mentioned = True
            msg_text = msg_text.replace(value, " ")
    replied = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and (message.reply_to_message.from_user.id == bot_id)
    )
    return " ".join(msg_text.split()) if mentioned or replied else None


async def new_command(update: Update, context: Context) -> None:
    """/new — the next question stands alone (a follow-up would otherwise be read in the last one's context)."""
    message = update.effective_message
    chat = update.effective_chat
    conversations = context.bot_data.service.conversations
    if chat.type == ChatType.PRIVATE:
        conversations.forget(private_key(chat.id))
    elif message.reply_to_message is not None:
        conversations.forget(thread_key(chat.id, message.reply_to_message.message_id))
    await message.reply_html(text("new_conversation", reader_lang(update, context)), do_quote=chat.type != ChatType.PRIVATE)


def conversation_key(message: Message, chat_id: int, private: bool, bot_id: int) -> Hashable | None:
    """Which conversation a question continues: the private chat, or the group thread of the bot's answer it
    replies to (None: a group message that replies to nothing of the bot's starts afresh)."""
    if private:
        return private_key(chat_id)
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return thread_key(chat_id, replied.message_id)
    return None


async def answer(update: Update, context: Context, question: str, fresh: bool = False) -> None:
    """Check, rate-limit, search off the loop, and reply with attributed passages.

    In a conversation (``conversation_key``) the question may follow up the last one (``fresh``: it may not).
    """
    message = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    question = clean_question(question)
    lang = reader_lang(update, context, question)
    in_group = chat.type != ChatType.PRIVATE
    if not question:
        await message.reply_html(text("empty_question", lang, example1=html.escape(examples(lang)[0])), do_quote=in_group)
        return
    if len(question) > MAX_QUESTION_CHARS:
        await message.reply_html(text("too_long", lang), do_quote=in_group)
        return
    limiter = context.bot_data.limiter
    wait = limiter.check(user.id) if user else 0
    if wait:
        if limiter.should_warn(user.id):
            await message.reply_html(text("rate_limited", lang, seconds=int(wait + 0.5)), do_quote=in_group)
        return
    service = context.bot_data.service
    if service.searcher is None:
        await message.reply_html(text("no_index", lang), do_quote=in_group)
        return
    # "typing…" goes out beside the search, not before it: the first one is never cancelled
    context.application.create_task(_typing(chat.id, context))  # the Application keeps and awaits it
    typing = asyncio.create_task(_keep_typing(chat.id, context))
    settings = context.bot_data.settings
    key = conversation_key(message, chat.id, not in_group, context.bot.id)
    previous = service.conversations.previous(key) if key is not None and not fresh and settings.followup_minutes > 0 else None
    try:
        rid, result, understood = await service.ask(question, lang, user.id if user else None, chat.type, previous)
    finally:
        typing.cancel()
    top_k = settings.top_k
    markup = result_keyboard(
        rid,
        0 if result.no_answer else len(result.hits),
        0,
        first_page(result, top_k),
        lang,
        feedback=service.feedback_on and not result.no_answer,
        followup=result.understood_as is not None,
    )
    shown = reply_messages(result, lang, 0, top_k)
    sent = await send(message, shown, markup, quote=in_group)
    if sent and service.reads(result):  # the checked written answer is edited in above the extractive reply
        buttons = markup if len(sent) == 1 else None  # the buttons ride on the last message; only the first is edited
        cached = service.results.get(rid)
        if cached is not None:
            cached.buttons = buttons
        context.application.create_task(write_in(context, sent[0], shown[0], result, lang, rid, buttons), update=update)
    keys = [private_key(chat.id)] if not in_group else [thread_key(chat.id, m.message_id) for m in sent]
    service.conversations.remember(keys, understood)


async def _typing(chat_id: int, context: Context) -> bool:
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        return True
    except TelegramError as exc:  # a lost typing indicator is not worth failing a reply for
        log.debug("typing indicator failed: %s", exc)
        return False


async def _keep_typing(chat_id: int, context: Context) -> None:
    """Renew "typing…" while a slow search runs (Telegram clears it after about 5 seconds)."""
    try:
        while True:
            await asyncio.sleep(4.5)
            if not await _typing(chat_id, context):
                return
    except asyncio.CancelledError:
        pass


def result_keyboard(
    rid: str,
    total: int,
    start: int,
    per_page: int,
    lang: str,
    with_more: bool = True,
    feedback: bool = False,
    followup: bool = False,
) -> InlineKeyboardMarkup | None:
    """Buttons under a page of sources: one "full passage" per source, "more results", 👍/👎 under the answer, and
    under a follow-up's answer "new question" (the same question asked without the earlier one's context)."""
    shown = range(max(0, start), min(start + per_page, total))
    rows = [[InlineKeyboardButton(text("btn_full", lang, n=i + 1), callback_data=f"full:{rid}:{i}") for i in shown]]
    if with_more and start + per_page < total:
        rows.append([InlineKeyboardButton(text("btn_more", lang), callback_data=f"more:{rid}:{start + per_page}")])
    if followup and start <= 0:
        rows.append([InlineKeyboardButton(text("btn_anew", lang), callback_data=f"anew:{rid}")])
    if feedback and start <= 0:
        rows.append(
            [InlineKeyboardButton("👍", callback_data=f"vote:{rid}:u"), InlineKeyboardButton("👎", callback_data=f"vote:{rid}:d")]
        )
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def full_passage(update: Update, context: Context) -> None:
    """ "Full passage" under a source: the whole passage (its own per-reader limit: each press sends a message)."""
    await _result_button(update, context, more=False)


async def more_results(update: Update, context: Context) -> None:
    """ "More results": the next page of sources, and that button taken off the page it was on."""
    await _result_button(update, context, more=True)


async def _result_button(update: Update, context: Context, more: bool) -> None:
    query = update.callback_query
    match = button_match(context)
    rid, number = (match.group(1), int(match.group(2))) if match else ("", 0)
    service = context.bot_data.service
    item = service.recall(rid) if match else None
    if item is None:
        await query.answer(text("expired", reader_lang(update, context)), show_alert=True)
        return
    hits = item.result.hits
    if number >= len(hits):
        await query.answer(text("no_more", item.lang))
        return
    user = update.effective_user
    wait = context.bot_data.button_limiter.check(user.id) if user else 0
    if wait:  # each press sends a message: presses count against a limit of their own
        await query.answer(text("buttons_limited", item.lang, seconds=int(wait + 0.5)), show_alert=True)
        return
    await query.answer()
    message = query.message
    top_k = context.bot_data.settings.top_k
    if not more:
        hit = hits[number]  # of the build serving now (``recall``): an article taken down since is not shown
        down = None
        if is_admin(update, context):  # the editor's way to a takedown (bot.takedowns)
            down = InlineKeyboardMarkup(
                [[InlineKeyboardButton(text("btn_takedown", item.lang), callback_data=f"down:{rid}:{number}")]]
            )
        await send(message, full_passage_messages(hit, number + 1, item.lang), down)
        return
    first = first_page(item.result, top_k)
    before = (0, first) if number <= first else (number - top_k, top_k)  # the page the button was on
    without_more = result_keyboard(rid, len(hits), *before, item.lang, with_more=False, feedback=service.feedback_on)
    if before[0] == 0:
        item.buttons = without_more  # a reader's edit still to come keeps this, not the "more" button pressed
    try:  # drop the "more" button from the page it was on
        await query.edit_message_reply_markup(without_more)
    except BadRequest as exc:  # too old to edit, or already edited by a double press
        log.debug("could not edit buttons: %s", exc)
    markup = result_keyboard(rid, len(hits), number, top_k, item.lang)
    await send(message, reply_messages(item.result, item.lang, number, top_k), markup)


async def vote(update: Update, context: Context) -> None:
    """👍/👎 under an answer: stored with the question log, acknowledged; one vote per reader per answer."""
    query = update.callback_query
    match = button_match(context)
    user = update.effective_user
    outcome = "expired"
    if match and user is not None:
        rid, up = match.group(1), match.group(2) == "u"
        try:
            outcome = context.bot_data.service.vote(rid, user.id, up)
        except Exception:  # a vote must never break anything: the reader just gets "thanks"
            log.exception("could not record a vote")
            outcome = "recorded"
    lang = reader_lang(update, context)
    if outcome == "expired":
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer(text(f"vote_{outcome}", lang))
    if not up and outcome in ("recorded", "changed"):  # the editors see the answer and can pin or block
        await down_voted(context, rid)


async def ask_anew(update: Update, context: Context) -> None:
    """ "New question" under a follow-up's answer: the reader's own words asked again, without the earlier context."""
    query = update.callback_query
    match = button_match(context)
    item = context.bot_data.service.results.get(match.group(1)) if match else None
    if item is None or not item.asked:
        await query.answer(text("expired", reader_lang(update, context)), show_alert=True)
        return
    await query.answer()
    await answer(update, context, item.asked, fresh=True)


async def expired_button(update: Update, context: Context) -> None:
    """Any other button data (stale, forged, from an older version): the results expired."""
    await update.callback_query.answer(text("expired", reader_lang(update, context)), show_alert=True)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes…: explain that only written questions are answered."""
    await update.effective_message.reply_html(text("not_text", reader_lang(update, context)))


async def on_error(update: object, context: Context) -> None:
    """Log the error with its context and tell the user something went wrong; never re-raise."""
    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        where = f" (update {update.update_id}, chat {chat.id if chat else '-'}, user {user.id if user else '-'})"
    unavailable = isinstance(context.error, IndexUnavailable)  # Milvus lost: it passes, no traceback needed
    if unavailable:
        log.warning("the index is unavailable%s: %s", where, context.error)
    else:
        log.error("error while handling an update%s", where, exc_info=context.error)
    errors = context.bot_data.errors
    errors.append(context.error)
    del errors[:-100]
    if not isinstance(update, Update):
        return
    lang = reader_lang(update, context, update.effective_message.text if update.effective_message else None)
    # only a reader's own message or button gets the apology: never a channel post (it would be
    # published in the channel) nor an edit
    message = update.message
    said = text("index_unavailable" if unavailable else "error", lang)
    try:
        if update.callback_query:
            await update.callback_query.answer(said, show_alert=True)
        elif message and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            await message.reply_html(said)
        elif message:
            await message.reply_html(said, do_quote=True)
    except TelegramError:
        log.warning("could not tell the user about the error")
