"""The language-model reader in Telegram: the extractive reply at once, then the checked answer edited in above it.

Each sentence is shown only once the reader has checked it (``index.answer.reader``); edits come
at most about once a second; if a later sentence fails, the message goes back to the extractive
reply, which with its sources always stays under the answer. A label says who wrote it. /reader
turns it off and on while the bot runs; a check of the endpoint runs at start and every few
minutes, and a failing check only logs one warning and keeps the extractive replies.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from index.answer.reader import ReaderAnswer
from index.results import SearchResult

from .context import Context, admin_only, reader_lang
from .render import LIMIT, first_page, plain, utf16_len
from .texts import text

log = logging.getLogger(__name__)

EDIT_SECONDS = 1.0  # at most about one edit a second (Telegram's own limit for editing one message is near it)
RECHECK_SECONDS = 300  # a failing endpoint is asked again this often
INLINE_WAIT = 2.0  # inline mode uses the checked answer if it is ready this soon


def answer_html(sentences: list[str], lang: str) -> str:
    """The model's checked sentences as the reply's first block, with the label."""
    body = html.escape(" ".join(sentences))
    return f"🤖 <b>{body}</b>\n<i>{html.escape(text('reader_label', lang))}</i>\n\n"


async def write_in(
    context: Context,
    message: Message,
    extractive: str,
    result: SearchResult,
    lang: str,
    rid: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the model's checked answer into ``message`` (whose HTML is ``extractive`` and buttons ``markup``, kept on
    every edit) sentence by sentence. A failure of the reader leaves the extractive reply as it is."""
    service = context.bot_data.service
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def on_sentence(sentence: str) -> None:  # from the reader's thread
        loop.call_soon_threadsafe(queue.put_nowait, sentence)

    reading = asyncio.ensure_future(service.read(result, lang, on_sentence, first_page(result, context.bot_data.settings.top_k)))
    reading.add_done_callback(lambda _: loop.call_soon_threadsafe(queue.put_nowait, None))
    shown: list[str] = []
    on_screen = 0
    last_edit = 0.0
    while True:
        sentence = await queue.get()
        if sentence is not None:
            shown.append(sentence)
        if sentence is None:
            break
        if time.monotonic() - last_edit >= EDIT_SECONDS and await _edit(
            message, answer_html(shown, lang) + extractive, _buttons(context, rid, markup)
        ):
            on_screen, last_edit = len(shown), time.monotonic()
    try:
        answer: ReaderAnswer = await reading
    except Exception:  # a reader bug must never cost the reader their reply: the extractive one stands
        log.exception("the language-model reader failed")
        if on_screen:
            await _edit(message, extractive, _buttons(context, rid, markup))
        return
    service.questions.reader(rid, answer)
    if (
        answer.shown
        and len(shown) > on_screen
        and await _edit(message, answer_html(shown, lang) + extractive, _buttons(context, rid, markup))
    ):
        on_screen = len(shown)
    cached = service.results.get(rid)
    if cached is not None and answer.shown and on_screen:
        cached.written = " ".join(shown[:on_screen])  # a 👎 on this reply shows the admins what the reader saw
    elif not answer.shown and on_screen:  # a later sentence failed: back to the extractive reply
        await _edit(message, extractive, _buttons(context, rid, markup))


def _buttons(context: Context, rid: str, markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The reply's buttons as they are now (a "more results" pressed meanwhile is gone from them)."""
    cached = context.bot_data.service.results.get(rid)
    return cached.buttons if cached is not None and cached.buttons is not None else markup  # type: ignore[return-value]


async def _edit(message: Message, body: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """Edit ``message`` to ``body``; False when it would be too long or Telegram refuses (the reply stays as it is)."""
    if utf16_len(plain(body)) > LIMIT:
        return False
    try:
        await message.edit_text(body, reply_markup=markup)
        return True
    except (BadRequest, TelegramError) as exc:
        log.debug("could not edit in the reader's answer: %s", exc)
        return False


async def keep_checking(app: Application) -> None:
    """The start-up check of the endpoint, then again every few minutes while it fails (one warning each time)."""
    reader = app.bot_data.service.reader
    while reader is not None:
        problem = await asyncio.to_thread(reader.check)
        if not problem:
            log.info("language-model reader ready: %s at %s", reader.config.model, reader.config.base_url)
            return
        log.warning(
            "language-model reader off for now (%s); extractive replies meanwhile, checking again in %d s",
            problem,
            RECHECK_SECONDS,
        )
        await asyncio.sleep(RECHECK_SECONDS)


@admin_only
async def reader_command(update: Update, context: Context) -> None:
    """/reader [on|off] (admins): the language-model reader's state, or turn it off and on."""
    lang = reader_lang(update, context)
    reader = context.bot_data.service.reader
    if reader is None:
        await update.effective_message.reply_html(text("reader_none", lang))
        return
    arg = (context.args or [""])[0].lower()
    if arg in ("on", "off"):
        reader.enabled = arg == "on"
    state = text("reader_state_on" if reader.usable else "reader_state_off", lang)
    why = reader.problem or (text("reader_over_cap", lang) if reader.over_cap else "")
    await update.effective_message.reply_html(
        text(
            "reader_status",
            lang,
            state=state,
            model=html.escape(reader.config.model),
            tokens=reader.tokens_today(),
            cap=reader.daily_tokens or "—",
            why=html.escape(why) if why else "—",
        )
    )
