"""Telegram handlers: small async functions, wired together in ``bot.app``.

Shared state lives in ``context.bot_data``: the QA service, the per-user
question limiter and the settings. Nothing here blocks the event loop: searches
and index builds run in the service's thread pools.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.settings import Settings

from .ratelimit import QuestionLimiter
from .render import full_passage_messages, reply_messages
from .replies import examples, help_text, welcome_text
from .service import QAService
from .texts import AR, EN, language_for, text

log = logging.getLogger(__name__)
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

MAX_QUESTION_CHARS = 500


def _service(context: ContextTypes.DEFAULT_TYPE) -> QAService:
    return context.bot_data["service"]


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data["settings"]


def reader_lang(update: Update, context: ContextTypes.DEFAULT_TYPE, sample: str | None = None) -> str:
    """The reader's /lang choice; else English for Latin-script ``sample`` or a non-Arabic app; else Arabic."""
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    if chosen in (AR, EN):
        return chosen
    user = update.effective_user
    return language_for(sample, user.language_code if user else None)


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Admin rights follow the sender's user id, never the chat."""
    user = update.effective_user
    return user is not None and user.id in _settings(context).admin_user_ids


async def _send(message: Message, chunks: list[str], markup: InlineKeyboardMarkup | None = None, quote: bool = False) -> None:
    """Send a reply split over several messages; buttons go on the last one."""
    for i, chunk in enumerate(chunks):
        await message.reply_html(chunk, reply_markup=markup if i == len(chunks) - 1 else None, do_quote=quote and i == 0)


# ---------------------------------------------------------------- readers


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the reader (what the bot answers, two examples); a t.me/bot?start=<question> link asks at once."""
    question = question_from_payload(context.args[0]) if len(context.args or []) == 1 else None
    if question:
        await _answer(update, context, question)
        return
    user = update.effective_user
    lang = reader_lang(update, context)
    welcome = welcome_text(_service(context).searcher, lang, user.first_name if user else "", f"@{context.bot.username}")
    await update.effective_message.reply_html(welcome)


MAX_PAYLOAD = 64  # Telegram's limit for a /start parameter: A-Z, a-z, 0-9, _ and -
_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def start_payload(question: str) -> str | None:
    """The /start parameter asking ``question`` (base64url of its UTF-8, unpadded); None when it is too long."""
    payload = base64.urlsafe_b64encode(" ".join(question.split()).encode()).decode().rstrip("=")
    return payload if 0 < len(payload) <= MAX_PAYLOAD else None


def deep_link(bot_username: str, question: str) -> str | None:
    """``https://t.me/<bot>?start=<payload>``: opening it asks ``question``; None when the question is too long."""
    payload = start_payload(question)
    return f"https://t.me/{bot_username}?start={payload}" if payload else None


def question_from_payload(payload: str) -> str | None:
    """The question in a /start parameter, or None when it is not base64url of printable UTF-8 text."""
    if not _PAYLOAD_RE.match(payload):
        return None
    try:
        question = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    question = clean_question(question)
    return question if question and question.isprintable() else None


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to ask, buttons, group rules; admin commands for admins."""
    lang = reader_lang(update, context)
    await update.effective_message.reply_html(help_text(lang, is_admin(update, context), f"@{context.bot.username}"))


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang ar|en — choose the interface language (otherwise it follows each question's script)."""
    choice = (context.args or [""])[0].lower()[:2] if context.args else ""
    if choice in (AR, EN):
        context.user_data["lang"] = choice
        await update.effective_message.reply_html(text("lang_set", choice))
        return
    await update.effective_message.reply_html(text("lang_usage", reader_lang(update, context)))


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question> — works in private chats and groups."""
    question = " ".join(context.args or [])
    await _answer(update, context, question)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    await _answer(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when mentioned or when a message replies to the bot."""
    message = update.effective_message
    question = addressed_question(message, context.bot.id, context.bot.username)
    if question is not None:
        await _answer(update, context, question)


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


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Check, rate-limit, search off the loop, and reply with attributed passages."""
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
    limiter: QuestionLimiter = context.bot_data["limiter"]
    wait = limiter.check(user.id) if user else 0
    if wait:
        if limiter.should_warn(user.id):
            await message.reply_html(text("rate_limited", lang, seconds=int(wait + 0.5)), do_quote=in_group)
        return
    service = _service(context)
    if service.searcher is None:
        await message.reply_html(text("no_index", lang), do_quote=in_group)
        return
    # "typing…" goes out beside the search, not before it: the first one is never cancelled
    context.application.create_task(_typing(chat.id, context))  # the Application keeps and awaits it
    typing = asyncio.create_task(_keep_typing(chat.id, context))
    try:
        rid, result = await service.ask(question, lang, user.id if user else None, chat.type)
    finally:
        typing.cancel()
    top_k = _settings(context).top_k
    feedback = service.feedback_on
    markup = result_keyboard(rid, len(result.hits), 0, top_k, lang, feedback=feedback) if not result.no_answer else None
    await _send(message, reply_messages(result, lang, 0, top_k), markup, quote=in_group)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_question(raw: str) -> str:
    """The question as searched: control characters and runs of whitespace become single spaces."""
    return " ".join(_CONTROL_RE.sub(" ", raw).split())


async def _typing(chat_id: int, context: ContextTypes.DEFAULT_TYPE) -> bool:
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        return True
    except TelegramError as exc:  # a lost typing indicator is not worth failing a reply for
        log.debug("typing indicator failed: %s", exc)
        return False


async def _keep_typing(chat_id: int, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Renew "typing…" while a slow search runs (Telegram clears it after about 5 seconds)."""
    try:
        while True:
            await asyncio.sleep(4.5)
            if not await _typing(chat_id, context):
                return
    except asyncio.CancelledError:
        pass


def result_keyboard(
    rid: str, total: int, start: int, per_page: int, lang: str, with_more: bool = True, feedback: bool = False
) -> InlineKeyboardMarkup | None:
    """Buttons under a page of sources: one "full passage" per source, "more results", and 👍/👎 under the answer."""
    shown = range(max(0, start), min(start + per_page, total))
    rows = [[InlineKeyboardButton(text("btn_full", lang, n=i + 1), callback_data=f"full:{rid}:{i}") for i in shown]]
    if with_more and start + per_page < total:
        rows.append([InlineKeyboardButton(text("btn_more", lang), callback_data=f"more:{rid}:{start + per_page}")])
    if feedback and start <= 0:
        rows.append(
            [InlineKeyboardButton("👍", callback_data=f"vote:{rid}:u"), InlineKeyboardButton("👎", callback_data=f"vote:{rid}:d")]
        )
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


_CALLBACK_RE = re.compile(r"^(more|full):([A-Za-z0-9_-]{4,16}):(\d{1,3})$")


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "More results" and "full passage" buttons; stale or forged data says the results expired."""
    query = update.callback_query
    match = _CALLBACK_RE.match(query.data or "")
    item = _service(context).recall(match[2]) if match else None
    if item is None:
        await query.answer(text("expired", reader_lang(update, context)), show_alert=True)
        return
    kind, number = match[1], int(match[3])
    hits = item.result.hits
    if number >= len(hits):
        await query.answer(text("no_more", item.lang))
        return
    user = update.effective_user
    limiter: QuestionLimiter = context.bot_data["button_limiter"]
    wait = limiter.check(user.id) if user else 0
    if wait:  # each press sends a message: presses count against a limit of their own
        await query.answer(text("buttons_limited", item.lang, seconds=int(wait + 0.5)), show_alert=True)
        return
    await query.answer()
    message = query.message
    top_k = _settings(context).top_k
    if kind == "full":
        await _send(message, full_passage_messages(hits[number], number + 1, item.lang))
        return
    # "more": drop that button from the page it was on, then send the next page
    feedback = _service(context).feedback_on
    try:
        await query.edit_message_reply_markup(
            result_keyboard(match[2], len(hits), number - top_k, top_k, item.lang, with_more=False, feedback=feedback)
        )
    except BadRequest as exc:  # too old to edit, or already edited by a double press
        log.debug("could not edit buttons: %s", exc)
    markup = result_keyboard(match[2], len(hits), number, top_k, item.lang)
    await _send(message, reply_messages(item.result, item.lang, number, top_k), markup)


_VOTE_RE = re.compile(r"^vote:([A-Za-z0-9_-]{4,16}):([ud])$")


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍/👎 under an answer: stored with the question log, acknowledged; one vote per reader per answer."""
    query = update.callback_query
    match = _VOTE_RE.match(query.data or "")
    user = update.effective_user
    outcome = "expired"
    if match and user is not None:
        try:
            outcome = _service(context).vote(match[1], user.id, match[2] == "u")
        except Exception:  # a vote must never break anything: the reader just gets "thanks"
            log.exception("could not record a vote")
            outcome = "recorded"
    lang = reader_lang(update, context)
    if outcome == "expired":
        await query.answer(text("expired", lang), show_alert=True)
        return
    await query.answer(text(f"vote_{outcome}", lang))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes…: explain that only written questions are answered."""
    await update.effective_message.reply_html(text("not_text", reader_lang(update, context)))


# ---------------------------------------------------------------- admins


def admin_only(handler: Handler) -> Handler:
    """Let only ADMIN_USER_IDS (by sender) run ``handler``; tell anyone else it is not allowed."""

    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_admin(update, context):
            await update.effective_message.reply_html(text("not_allowed", reader_lang(update, context)))
            return
        await handler(update, context)

    return checked


# ---------------------------------------------------------------- errors


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its context and tell the user something went wrong; never re-raise."""
    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        where = f" (update {update.update_id}, chat {chat.id if chat else '-'}, user {user.id if user else '-'})"
    log.error("error while handling an update%s", where, exc_info=context.error)
    errors = context.bot_data.setdefault("errors", [])
    errors.append(context.error)
    del errors[:-100]
    if not isinstance(update, Update):
        return
    lang = reader_lang(update, context, update.effective_message.text if update.effective_message else None)
    # only a reader's own message or button gets the apology: never a channel post (it would be
    # published in the channel) nor an edit
    message = update.message
    try:
        if update.callback_query:
            await update.callback_query.answer(text("error", lang), show_alert=True)
        elif message and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            await message.reply_html(text("error", lang))
        elif message:
            await message.reply_html(text("error", lang), do_quote=True)
    except TelegramError:
        log.warning("could not tell the user about the error")
