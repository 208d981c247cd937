"""Inline mode: "@bot question" typed in any chat lists attributed answers; picking one posts it there.

Short queries list the newest articles; "nothing found" and "no sure answer" are one
explanatory result each, never an error and never a passage dressed as an answer. Searches run in the service's thread pool like every
other, and are kept out of the question log (a reader's every keystroke would
land there).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode

from index.results import NOTHING, TENTATIVE

from .context import Context, clean_question, reader_lang
from .deeplinks import start_payload
from .inline_cards import InlineItem, inline_items, inline_latest, inline_notice, inline_unsure
from .service import QAService
from .texts import text
from .written import INLINE_WAIT, answer_html

log = logging.getLogger(__name__)

INLINE_RESULTS = 5
MIN_QUERY_CHARS = 3  # shorter queries list the latest articles
MAX_QUERY_CHARS = 256  # Telegram's own limit for inline queries
CACHE_SECONDS = 300  # Telegram caches the answer to one query text for this long


async def inline_query(update: Update, context: Context) -> None:
    """Answer an inline query with up to five attributed results."""
    query = update.inline_query
    question = clean_question(query.query or "")[:MAX_QUERY_CHARS]
    lang = reader_lang(update, context, question)
    user_id = query.from_user.id if query.from_user else None
    if user_id is not None and context.bot_data.inline_limiter.check(user_id):
        await query.answer([], cache_time=1, is_personal=True)  # typing too fast: nothing this time, no error
        return
    items = await inline_answer(context.bot_data.service, question, lang)
    results = [
        InlineQueryResultArticle(
            id=item.key,
            title=item.title,
            description=item.description,
            input_message_content=InputTextMessageContent(item.message, parse_mode=ParseMode.HTML),
        )
        for item in items
    ]
    # "ask in a private chat": opens the bot with the question as a /start deep link (when it fits in one)
    payload = start_payload(question) if len(question) >= MIN_QUERY_CHARS else None
    button = InlineQueryResultsButton(text=text("inline_ask_private", lang), start_parameter=payload) if payload else None
    # personal: the results' language follows the reader (/lang, the app's language), not only the query
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True, button=button)


async def _written_in_time(service: QAService, result, lang: str, question: str):
    """The reader's checked answer for an inline query: one already written, else — for a finished question only
    (ending in ? or ؟: every keystroke is a query) — one written within ``INLINE_WAIT``; None otherwise."""
    cached = service.cached_read(result, lang, n=1)  # the card carries one source: the answer may cite only it
    if cached is not None or not question.rstrip().endswith(("?", "؟")):
        return cached
    try:
        return await asyncio.wait_for(service.read(result, lang, n=1), INLINE_WAIT)
    except TimeoutError:
        return None  # it goes on and is cached: the same question in a chat gets it at once
    except Exception:  # a reader failure never costs the inline answer
        log.exception("the language-model reader failed on an inline query")
        return None


async def inline_answer(service: QAService, question: str, lang: str) -> list[InlineItem]:
    """The results for one query text: the latest articles, the search's sources, or one notice."""
    if service.searcher is None:
        return [inline_notice("no-index", "inline_no_index_title", "no_index", lang)]
    if len(question) < MIN_QUERY_CHARS:
        latest = inline_latest(await service.latest(INLINE_RESULTS), lang)
        return latest or [inline_notice("no-index", "inline_no_index_title", "no_index", lang)]
    result = await service.search_inline(question)
    if result.band == NOTHING:
        return [inline_notice("nothing", "inline_nothing_title", "inline_nothing", lang)]
    if result.band == TENTATIVE:  # a card quoting a passage could be sent into any chat as if it answered
        return [inline_unsure(question, lang)]
    items = inline_items(result, lang, INLINE_RESULTS, prefix=secrets.token_urlsafe(6))
    if service.reads(result):  # the checked written answer leads the first card, if it is ready in time
        read = await _written_in_time(service, result, lang, question)
        if read is not None and read.shown:
            first = items[0]
            items[0] = replace(first, message=answer_html([read.answer], lang) + first.message)
    return items
