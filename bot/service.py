"""Serving answers: the searcher of the current build, searches in a thread pool, counts for /stats.

The searcher is loaded once and replaced as a whole after a rebuild (``bot.builds``), so a
search in flight finishes on the build it started with. Searches run in a thread pool: a slow
one never blocks the event loop or the other chats. Each answer is kept for its buttons
(``bot.results``) and written to the question log (``bot.questionlog``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from bot.settings import Settings
from index.answer.claims import name_like_in
from index.answer.reader import ReaderAnswer
from index.corpus.desk import Desk, Pin, desk_file, read_desk, record
from index.embedding.embedder import Embedder
from index.percentiles import percentile
from index.search.desk import Applied, apply_desk
from index.search.followup import Understood
from index.search.searcher import Searcher, SearchResult

from .conversations import Conversations
from .questionlog import QuestionLog
from .results import CachedResult, ResultsCache

log = logging.getLogger(__name__)

RESULTS_PER_QUESTION = 12


class QAService:
    """Answers questions from the current build; ``swap`` serves a new one."""

    def __init__(
        self,
        settings: Settings,
        searcher: Searcher | None,
        results: ResultsCache | None = None,
        questions: QuestionLog | None = None,
    ) -> None:
        self.settings = settings
        self._searcher = searcher
        self._pool = ThreadPoolExecutor(max_workers=settings.search_workers, thread_name_prefix="search")
        self.results = results or ResultsCache()
        self.conversations = Conversations(settings.followup_minutes * 60)
        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else "local"
        self.questions = questions or QuestionLog(settings.question_log, token)
        self._latencies: collections.deque[float] = collections.deque(maxlen=2000)
        self._lock = threading.Lock()
        self.answered = 0
        self.refused = 0
        self.inline_answered = 0  # inline queries, counted apart from questions
        self._latest: tuple[tuple[str, int] | None, list[dict[str, str]]] = (None, [])  # (build id, n), articles
        self._desk_stamp: tuple[int, int] | None = None
        self._desk_cached: Desk | None = None
        self._dropping: set[str] = set()  # pins being recorded as dropped
        self._tasks: set[asyncio.Task] = set()  # those recordings, kept until done
        self.on_pin_dropped: Callable[[Pin], Awaitable[None]] | None = None  # set by the app: tells the editors
        self.reader = settings.reader()  # the language-model reader (None: LLM_BASE_URL is empty, nothing changes)
        self._reading = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reader") if self.reader else None

    @property
    def searcher(self) -> Searcher | None:
        return self._searcher

    @property
    def embedder(self) -> Embedder | None:
        return self._searcher.embedder if self._searcher else None

    @property
    def build_id(self) -> str:
        return self._searcher.manifest.build_id if self._searcher else ""

    def swap(self, searcher: Searcher) -> None:
        """Serve from ``searcher`` from now on; searches already running finish on the old one."""
        self._searcher = searcher
        log.info("now serving build %s (%s articles)", searcher.manifest.build_id, searcher.manifest.articles)

    async def ask(
        self,
        question: str,
        lang: str,
        user_id: int | None = None,
        chat_type: str = "private",
        previous: Understood | None = None,
    ) -> tuple[str, SearchResult, Understood]:
        """Search in the thread pool, ``question`` understood after ``previous`` (the conversation's last question).

        Returns the result id for the buttons, the result (logged and kept for the buttons) and the
        question as understood, with the article its reply led with: the next follow-up's ``previous``.
        """
        searcher = self._searcher
        understood, result, elapsed = await self._understand_and_search(searcher, question, previous)
        with self._lock:
            self._latencies.append(elapsed)
            self.answered += 1
            self.refused += result.no_answer
        build = searcher.manifest.build_id
        rid = self.results.remember(CachedResult(result, build, lang, asked=question))
        self.questions.question(rid, build, understood.shown, lang, user_id, chat_type, result, elapsed)
        return rid, result, understood.answered(result)

    async def search_inline(self, question: str) -> SearchResult:
        """Search for an inline query, asked afresh at each keystroke: not in the question log, not
        in /stats, and not kept for buttons (its results carry none), so typing cannot push
        readers' answers out of the cache."""
        result, _ = await self._search(self._searcher, question)
        with self._lock:
            self.inline_answered += 1
        return result

    async def _understand_and_search(
        self, searcher: Searcher | None, question: str, previous: Understood | None
    ) -> tuple[Understood, SearchResult, float]:
        """``_search`` of ``question`` as understood after ``previous`` (in the pool too: it reads the build)."""
        if searcher is None:
            raise LookupError("no index loaded")
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        understood = await loop.run_in_executor(self._pool, searcher.understand, question, previous)
        result, _ = await self._search(searcher, understood)
        return understood, result, time.perf_counter() - started

    async def _search(self, searcher: Searcher | None, question: str | Understood) -> tuple[SearchResult, float]:
        """The confident part of a search run in the thread pool, the desk's pins and blocks applied, and the seconds
        it took. A pin found stale on the way is recorded as dropped and the editors are told (``on_pin_dropped``)."""
        if searcher is None:
            raise LookupError("no index loaded")
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        desk = self.desk()

        def run() -> Applied:
            result = searcher.search(question, k=RESULTS_PER_QUESTION).confident_only()
            return apply_desk(searcher, result, desk, result.question) if desk.pins or desk.blocks else Applied(result)

        applied = await loop.run_in_executor(self._pool, run)
        fresh = [pin for pin in applied.dropped if pin.key not in self._dropping]
        if fresh:  # each stale pin dropped once, however many searches meet it at the same time
            self._dropping.update(pin.key for pin in fresh)
            task = asyncio.get_running_loop().create_task(self._drop(fresh))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return applied.result, time.perf_counter() - started

    async def _drop(self, pins: list[Pin]) -> None:
        """Record stale pins as dropped (off the event loop) and tell the editors; a write that fails is logged and
        tried again by the next search that meets the pin."""
        standing = (await asyncio.to_thread(read_desk, self.settings.articles_dir)).pins
        # only pins still standing as the stale one: a search that began before the drop, or a new pin, is no repeat
        pins = [
            p
            for p in pins
            if (s := standing.get(p.key)) and (s.article_id, s.passage, s.body_key) == (p.article_id, p.passage, p.body_key)
        ]
        try:
            await asyncio.to_thread(record, self.settings.articles_dir, pins)
        except OSError as exc:
            log.warning("could not record a dropped pin: %s", exc)
            return
        finally:
            self._dropping.difference_update(pin.key for pin in pins)
            self._desk_stamp = None
        for pin in pins:
            if self.on_pin_dropped is not None:
                await self.on_pin_dropped(pin)

    def reads(self, result: SearchResult) -> bool:
        """Will the reader write an answer for ``result`` (it is on, the endpoint checked, the reply has passages)?"""
        return self.reader is not None and self.reader.usable and bool(result.hits) and self._searcher is not None

    def cached_read(self, result: SearchResult, lang: str, n: int = 3) -> ReaderAnswer | None:
        """The reader's answer already written for ``result``, if any."""
        return self.reader.cached(result.question, result, lang, n) if self.reader is not None else None

    async def read(
        self, result: SearchResult, lang: str, on_sentence: Callable[[str], None] | None = None, n: int = 3
    ) -> ReaderAnswer:
        """The reader's checked answer over ``result``, in its own threads (a slow model never holds up searches)."""
        reader, searcher = self.reader, self._searcher
        if reader is None or searcher is None:
            raise LookupError("no reader")
        name_like = name_like_in(searcher.stored.lexical)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._reading, lambda: reader.read(result.question, result, lang, name_like, on_sentence, n)
        )

    def desk(self) -> Desk:
        """The desk's standing pins and blocks (``ARTICLES_DIR/.desk.jsonl``), read again when the file changed."""
        try:
            info = desk_file(self.settings.articles_dir).stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        if stamp != self._desk_stamp or self._desk_cached is None:
            self._desk_cached = read_desk(self.settings.articles_dir) if stamp is not None else Desk()
            self._desk_stamp = stamp
        return self._desk_cached

    @property
    def feedback_on(self) -> bool:
        """Votes are kept with the question log, so there are none without it."""
        return self.questions.on

    def vote(self, rid: str, user_id: int, up: bool) -> str:
        """A reader's 👍/👎 on answer ``rid`` (from any build): "recorded", "changed", "same" or "expired"."""
        return self.questions.vote(rid, self.results.get(rid), user_id, up)

    def recall(self, rid: str) -> CachedResult | None:
        """The cached result for a button, or None when unknown or made on an older build."""
        return self.results.recall(rid, self.build_id)

    async def latest(self, n: int = 5) -> list[dict[str, str]]:
        """The ``n`` newest articles (title, url, date, source, the start of the text), read once per build."""
        searcher = self._searcher
        if searcher is None:
            return []
        key = (searcher.manifest.build_id, n)
        if self._latest[0] != key:
            rows = await asyncio.get_running_loop().run_in_executor(self._pool, searcher.stored.latest_articles, 3 * n)
            self._latest = (key, rows)
        desk = self.desk()
        return [row for row in self._latest[1] if not desk.blocked(row.get("url", ""))][:n]

    def latency_ms(self) -> tuple[float, float]:
        with self._lock:
            values = list(self._latencies)
        return percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._reading is not None:
            self._reading.shutdown(wait=False, cancel_futures=True)
        self.questions.close()
