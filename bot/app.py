"""Wiring: build the python-telegram-bot Application with every handler in one place."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.settings import Settings

from . import admin, channels, feedback, handlers, inline, links, takedowns, uploads, written
from .builds import Builds
from .context import CONTEXT_TYPES, BotData
from .ratelimit import QuestionLimiter
from .service import QAService
from .texts import AR, EN, commands

log = logging.getLogger(__name__)

# Calls that are safe to repeat after a timeout: repeating them cannot post a second message.
_IDEMPOTENT = {
    "setWebhook",
    "deleteWebhook",
    "sendChatAction",
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "getFile",
    "getMe",
    "setMyCommands",
}
# Calls that post nothing and so do not count against the messages-per-second budget.
# Not messages in a chat: Telegram's 30 messages a second do not apply to them.
_UNMETERED = {
    "sendChatAction",
    "answerCallbackQuery",
    "answerInlineQuery",
    "getFile",
    "getMe",
    "setMyCommands",
    "deleteWebhook",
    "setWebhook",
}
# A reader typing one question sends a few inline queries: the inline limit is this many times the question limit.
INLINE_QUERIES_PER_QUESTION = 6
# "Full passage" and "more results" presses per question allowed (each sends a message); votes are free.
PRESSES_PER_QUESTION = 3


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits (AIORateLimiter retries after RetryAfter), plus retries of server errors.

    A 5xx answer means Telegram did not act on the request, so it is retried for
    every method. A timeout is retried only for idempotent calls: a sendMessage
    that timed out may have been delivered, and repeating it would send it twice.
    """

    def __init__(self, network_retries: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network_retries = network_retries

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        for attempt in range(self.network_retries + 1):
            try:
                if endpoint in _UNMETERED:
                    return await callback(*args, **kwargs)
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter as exc:  # metered calls were already retried by AIORateLimiter
                if endpoint not in _UNMETERED or attempt == self.network_retries:
                    raise
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TimedOut:
                if endpoint not in _IDEMPOTENT or attempt == self.network_retries:
                    raise
            except NetworkError as exc:
                if type(exc) is not NetworkError or attempt == self.network_retries:
                    raise  # BadRequest and friends are NetworkError subclasses: not retried
            log.warning("%s failed (attempt %d), retrying", endpoint, attempt + 1)
            await asyncio.sleep(min(0.5 * 2**attempt, 5.0))
        raise AssertionError("unreachable")


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


def _request(settings: Settings, read_timeout: float) -> HTTPXRequest:
    # A local Bot API server must not be reached through a proxy from the environment.
    extra = {"trust_env": False} if _is_loopback(settings.telegram_api_base_url) else {}
    return HTTPXRequest(
        connection_pool_size=64,
        connect_timeout=10,
        read_timeout=read_timeout,
        write_timeout=20,
        pool_timeout=10,
        httpx_kwargs=extra,
    )


def build_application(settings: Settings, service: QAService, read_timeout: float = 20.0) -> Application:
    """The Application with handlers, error handler, flood control and shared state (``read_timeout``: seconds to
    wait for a Bot API answer; tests shorten it to see real timeouts)."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_base_url
    file_url = settings.telegram_api_file_url or base.replace("/bot", "/file/bot", 1)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_url)
        .request(_request(settings, read_timeout=read_timeout))
        .get_updates_request(_request(settings, read_timeout=read_timeout * 2))
        .rate_limiter(
            RetryingRateLimiter(
                network_retries=settings.telegram_network_retries, max_retries=5, overall_max_rate=settings.telegram_max_rate
            )
        )
        .concurrent_updates(64)
        .context_types(CONTEXT_TYPES)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    data: BotData = app.bot_data
    data.settings = settings
    data.service = service
    data.builds = Builds(service)
    data.limiter = QuestionLimiter(settings.rate_limit_per_minute)
    # inline queries come a few per typed question (Telegram sends them as the reader types)
    data.inline_limiter = QuestionLimiter(settings.rate_limit_per_minute * INLINE_QUERIES_PER_QUESTION)
    # buttons that send messages have a limit of their own: twenty presses once sent 1,540 messages
    data.button_limiter = QuestionLimiter(settings.rate_limit_per_minute * PRESSES_PER_QUESTION)
    data.alerts = admin.AdminAlerts(app)
    service.on_pin_dropped = functools.partial(feedback.pin_dropped, app)  # a pin's article changed or left
    data.channels = channels.ChannelFeed(data.builds, settings, data.alerts)
    add_handlers(app)
    return app


def add_handlers(app: Application) -> None:
    """Every handler, in one place. Only new messages are handled; edits are ignored except in indexed channels.
    Buttons are routed by their data's pattern; data no pattern knows says the results expired."""
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", handlers.start, filters=new))
    app.add_handler(CommandHandler("help", handlers.help_command, filters=new))
    app.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    app.add_handler(CommandHandler("lang", handlers.lang_command, filters=new))
    app.add_handler(CommandHandler("new", handlers.new_command, filters=new))
    app.add_handler(CommandHandler("reindex", admin.reindex, filters=new))
    app.add_handler(CommandHandler("stats", admin.stats, filters=new))
    app.add_handler(CommandHandler("add", links.add_command, filters=new))
    app.add_handler(CommandHandler("report", admin.report, filters=new))
    app.add_handler(CommandHandler("uploads", uploads.uploads, filters=new))
    app.add_handler(CommandHandler("remove", takedowns.remove_command, filters=new))
    app.add_handler(CommandHandler("restore", takedowns.restore_command, filters=new))
    app.add_handler(CommandHandler("sources", admin.sources, filters=new))
    app.add_handler(CommandHandler("pins", feedback.pins_command, filters=new))
    app.add_handler(CommandHandler("reader", written.reader_command, filters=new))
    app.add_handler(CallbackQueryHandler(handlers.full_passage, pattern=re.compile(handlers.FULL_PASSAGE)))
    app.add_handler(CallbackQueryHandler(handlers.more_results, pattern=re.compile(handlers.MORE_RESULTS)))
    app.add_handler(CallbackQueryHandler(handlers.vote, pattern=re.compile(handlers.VOTE)))
    app.add_handler(CallbackQueryHandler(handlers.ask_anew, pattern=re.compile(handlers.ASK_ANEW)))
    app.add_handler(CallbackQueryHandler(admin.confirm_removals, pattern=re.compile(admin.CONFIRM_REMOVALS)))
    app.add_handler(CallbackQueryHandler(uploads.upload_choice, pattern=re.compile(uploads.UPLOAD_CHOICE)))
    app.add_handler(CallbackQueryHandler(takedowns.confirm_takedown, pattern=re.compile(takedowns.CONFIRM_TAKEDOWN)))
    app.add_handler(CallbackQueryHandler(takedowns.take_down_shown, pattern=re.compile(takedowns.TAKE_DOWN_SHOWN)))
    app.add_handler(CallbackQueryHandler(feedback.feedback_button, pattern=re.compile(feedback.FEEDBACK_BUTTON)))
    app.add_handler(CallbackQueryHandler(feedback.undo_button, pattern=re.compile(feedback.UNDO_BUTTON)))
    app.add_handler(CallbackQueryHandler(handlers.expired_button))
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, channels.channel_post))
    # links from admins in a private chat are fetched; anyone else's links are questions (private_text below)
    admins = filters.User(user_id=app.bot_data.settings.admin_user_ids)
    web_links = filters.Entity("url") | filters.Entity("text_link") | filters.Regex(r"(?i)https?://")
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & private & admins & web_links, links.admin_links))
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, handlers.private_text))
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, handlers.group_text))
    app.add_handler(MessageHandler(new & filters.Document.ALL, uploads.document))
    app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.Document.ALL, handlers.not_text))
    app.add_error_handler(handlers.on_error)


async def _post_init(app: Application) -> None:
    """Start following the index directory and the feeds; check the channels; publish the command menus."""
    data: BotData = app.bot_data
    settings = data.settings
    if data.service.reader is not None:  # the endpoint checked at start and, while it fails, every few minutes
        data.tasks["reader_check"] = asyncio.create_task(written.keep_checking(app), name="reader-check")
    if settings.feed_refresh_minutes > 0 and settings.feeds:
        data.tasks["feed_refresher"] = asyncio.create_task(
            links.refresh_feeds_forever(data.builds, settings, data.fetch_cancel, data.alerts), name="feed-refresher"
        )
    if settings.index_channels:
        await channels.check_channels(app.bot, settings)
    if settings.index_watch_seconds > 0:
        data.tasks["index_watcher"] = asyncio.create_task(
            _follow_index(data.builds, settings.index_watch_seconds), name="index-watcher"
        )
    await publish_commands(app.bot, settings.admin_user_ids)


def _menu(lang: str | None, admin: bool) -> list[BotCommand]:
    """The command menu for apps in ``lang`` (None: any other language, given the Arabic menu)."""
    return [BotCommand(c, d) for c, d in commands(lang or AR, admin)]


async def publish_commands(bot, admin_ids: list[int]) -> None:
    """The command menus: Arabic by default, English for English apps; admins' chats get the admin commands too."""
    try:
        for lang in (None, AR, EN):
            await bot.set_my_commands(_menu(lang, admin=False), scope=BotCommandScopeDefault(), language_code=lang)
    except TelegramError as exc:
        log.warning("could not publish the command menu: %s", exc)
        return
    for admin_id in admin_ids:
        try:
            for lang in (None, AR, EN):
                await bot.set_my_commands(_menu(lang, admin=True), scope=BotCommandScopeChat(admin_id), language_code=lang)
        except TelegramError:  # the admin has not opened a chat with the bot yet
            log.info("admin %s has no chat with the bot yet; admin commands not published there", admin_id)


async def _follow_index(builds: Builds, every: float) -> None:
    """Every ``every`` seconds, switch to a build made outside the bot (so cron updates need no restart)."""
    while True:
        await asyncio.sleep(every)
        try:
            await builds.follow_current()
        except Exception as exc:  # keep watching whatever happened this time
            log.warning("checking for a new index build failed: %s", exc)


async def _post_shutdown(app: Application) -> None:
    data: BotData = app.bot_data
    data.fetch_cancel.set()  # a running fetch starts no more pages
    for task in data.tasks.values():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    data.tasks.clear()
    if data.channels is not None:
        await data.channels.close()
    data.builds.close()
    data.service.close()


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY, Update.CHANNEL_POST, Update.EDITED_CHANNEL_POST]
