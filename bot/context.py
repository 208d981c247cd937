"""The typed context every handler gets, and the small helpers several handler modules share.

Following python-telegram-bot's ``contexttypesbot.py`` example: ``bot_data`` and ``user_data``
are classes of ours (``ContextTypes``), so handlers read ``context.bot_data.service``, never a
dict by string keys. python-telegram-bot makes one ``BotData`` per application and one
``UserData`` per user, with no arguments; ``bot.app`` fills the application's ``BotData`` in.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from .texts import AR, EN, language_for, text

if TYPE_CHECKING:
    from .admin import AdminAlerts, Pending
    from .builds import Builds
    from .channels import ChannelFeed
    from .ratelimit import QuestionLimiter
    from .service import QAService
    from .settings import Settings


class BotData:
    """What every handler shares: settings, the service and the builds, the limits, pending decisions."""

    settings: Settings
    service: QAService
    builds: Builds
    limiter: QuestionLimiter  # questions per reader
    inline_limiter: QuestionLimiter  # inline queries per reader (a few per typed question)
    button_limiter: QuestionLimiter  # "full passage" and "more results" presses per reader

    def __init__(self) -> None:
        self.alerts: AdminAlerts | None = None
        self.channels: ChannelFeed | None = None
        self.pending: dict[str, Pending] = {}  # decisions waiting for an admin's button
        self.errors: list[BaseException] = []  # the last errors handlers raised (tests assert there are none)
        self.fetch_cancel = threading.Event()  # set at shutdown: a running fetch starts no more pages
        self.tasks: dict[str, asyncio.Task] = {}  # the feed refresher and the index watcher
        self.feedback_told: dict[str, None] = {}  # answers whose 👎 the admins were told of (oldest first)


@dataclass
class UserData:
    """What the bot keeps per user, in memory until a restart."""

    lang: str | None = None  # chosen with /lang; otherwise each message's script decides
    wrote: str | None = None  # the language of the last message with words of its own (for buttons, links, files)
    extra: dict[str, object] = field(default_factory=dict)


Context = CallbackContext[ExtBot, UserData, dict, BotData]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, bot_data=BotData, user_data=UserData)
Handler = Callable[[Update, Context], Awaitable[None]]


def reader_lang(update: Update, context: Context, sample: str | None = None) -> str:
    """The reader's /lang choice; else the script of ``sample``'s own words (links, commands and mentions aside);
    else the language they last wrote in; else English for a non-Arabic app; else Arabic.

    An admin who writes Arabic and sends "/add https://…" gets Arabic: a link is not a language.
    """
    data = context.user_data
    if data is not None and data.lang in (AR, EN):
        return data.lang
    words = _NOT_WORDS.sub(" ", sample or "")
    if any(ch.isalpha() for ch in words):
        lang = language_for(words)
        if data is not None:
            data.wrote = lang
        return lang
    if data is not None and data.wrote in (AR, EN):
        return data.wrote
    user = update.effective_user
    return language_for(None, user.language_code if user else None)


# what a message holds besides its writer's words: links, bot commands, @mentions, e-mail addresses
_NOT_WORDS = re.compile(r"(?:https?://|www\.)\S+|/\w+(?:@\w+)?|\S+@\S+|@\w+")


def who(update: Update) -> str:
    """The sender, as the desk's logs record them ("tg:123 @name")."""
    user = update.effective_user
    if user is None:
        return "telegram"
    return f"tg:{user.id}" + (f" @{user.username}" if user.username else "")


def is_admin(update: Update, context: Context) -> bool:
    """Admin rights follow the sender's user id, never the chat."""
    user = update.effective_user
    return user is not None and user.id in context.bot_data.settings.admin_user_ids


def admin_only(handler: Handler) -> Handler:
    """Let only ADMIN_USER_IDS (by sender) run ``handler``; tell anyone else it is not allowed."""

    @functools.wraps(handler)
    async def checked(update: Update, context: Context) -> None:
        if not is_admin(update, context):
            await update.effective_message.reply_html(text("not_allowed", reader_lang(update, context)))
            return
        await handler(update, context)

    return checked


async def send(
    message: Message, chunks: list[str], markup: InlineKeyboardMarkup | None = None, quote: bool = False
) -> list[Message]:
    """Send a reply split over several messages; buttons go on the last one. Returns the messages sent."""
    sent = []
    for i, chunk in enumerate(chunks):
        sent.append(
            await message.reply_html(chunk, reply_markup=markup if i == len(chunks) - 1 else None, do_quote=quote and i == 0)
        )
    return sent


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_question(raw: str) -> str:
    """The question as searched: control characters and runs of whitespace become single spaces."""
    return " ".join(_CONTROL_RE.sub(" ", raw).split())


def button_match(context: Context) -> re.Match[str] | None:
    """The groups of a button's data, matched by the pattern its handler was registered with; None for a button with
    no data at all (python-telegram-bot hands those to the first callback handler with a bare ``True``)."""
    match = context.matches[0] if context.matches else None
    return match if isinstance(match, re.Match) else None


def command_text(message_text: str) -> str:
    """The text after a command ("/add", "/add@bot"), line breaks kept (``context.args`` would lose them)."""
    return re.sub(r"^/\w+(?:@\w+)?", "", message_text, count=1).strip()
