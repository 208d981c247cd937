"""The bot's question-answering service: one searcher, a thread pool, statistics, reindexing.

The searcher is loaded once and replaced as a whole after a rebuild, so a search
in flight finishes on the build it started with. Searches run in a thread pool:
a slow one never blocks the event loop or the other chats.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.settings import Settings
from index.build import BuildReport, run_build
from index.embedding.embedder import Embedder
from index.percentiles import percentile
from index.questionlog import QuestionRecord, Record, VoteRecord, append
from index.search.searcher import ModelMismatch, Searcher, SearchResult
from index.storage.store import IndexBusy, current_build_id

log = logging.getLogger(__name__)

RESULTS_PER_QUESTION = 12
CACHED_RESULTS = 2000


@dataclass
class CachedResult:
    """A search kept for its "more results" and "full passage" buttons."""

    result: SearchResult
    build_id: str
    lang: str
    created: float = field(default_factory=time.monotonic)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReindexBusy(RuntimeError):
    """A reindex is already running."""


class LockWaitTimeout(RuntimeError):
    """A build run outside the bot (the command line) held the index for longer than INDEX_LOCK_WAIT_SECONDS."""


LOCK_POLL_SECONDS = 2.0  # how often a waiting update tries the index lock again


class QAService:
    """Answers questions from the current index; swaps in a new index after a rebuild."""

    def __init__(self, settings: Settings, searcher: Searcher | None) -> None:
        self.settings = settings
        self._searcher = searcher
        self._pool = ThreadPoolExecutor(max_workers=settings.search_workers, thread_name_prefix="search")
        self._build_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
        # one writer thread of its own: a slow disk delays log lines, never answers
        self._log_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="question-log")
        self._results: collections.OrderedDict[str, CachedResult] = collections.OrderedDict()
        self._latencies: collections.deque[float] = collections.deque(maxlen=2000)
        self._votes: collections.OrderedDict[tuple[str, int], bool] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.answered = 0
        self.refused = 0
        self.inline_answered = 0  # inline queries, counted apart from questions
        self.reindexing = False
        self._unusable_build = ""
        self._latest: tuple[tuple[str, int] | None, list[dict[str, str]]] = (None, [])  # (build id, n), articles
        self._log_key = (settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else "local").encode()

    # ---------------------------------------------------------------- index

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

    # ---------------------------------------------------------------- questions

    async def ask(
        self, question: str, lang: str, user_id: int | None = None, chat_type: str = "private"
    ) -> tuple[str, SearchResult]:
        """Search in the thread pool; returns (result id for the buttons, result), logged and kept for the buttons."""
        searcher = self._searcher
        result, elapsed = await self._search(searcher, question)
        with self._lock:
            self._latencies.append(elapsed)
            self.answered += 1
            self.refused += result.no_answer
        build = searcher.manifest.build_id
        rid = self._remember(CachedResult(result, build, lang))
        self._log(self._question_entry, rid, build, question, lang, user_id, chat_type, result, elapsed)
        return rid, result

    async def search_inline(self, question: str) -> SearchResult:
        """Search for an inline query, asked afresh at each keystroke: not in the question log, not
        in /stats, and not kept for buttons (its results carry none), so typing cannot push
        readers' answers out of the cache."""
        result, _ = await self._search(self._searcher, question)
        with self._lock:
            self.inline_answered += 1
        return result

    async def _search(self, searcher: Searcher | None, question: str) -> tuple[SearchResult, float]:
        """The confident part of a search run in the thread pool, and the seconds it took."""
        if searcher is None:
            raise LookupError("no index loaded")
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._pool, lambda: searcher.search(question, k=RESULTS_PER_QUESTION))
        return result.confident_only(), time.perf_counter() - started

    @property
    def feedback_on(self) -> bool:
        """Votes are kept with the question log, so there are none without it."""
        return self.settings.question_log is not None

    def vote(self, rid: str, user_id: int, up: bool) -> str:
        """Record a reader's 👍/👎 on answer ``rid``: "recorded", "changed", "same", or "expired" (unknown answer).

        One vote per user per answer: a second click that differs replaces the first (the
        log keeps both lines; the report counts the last).
        """
        with self._lock:
            item = self._results.get(rid)  # any build: a vote on an answer from before an update still counts
            if item is None or not self.feedback_on:
                return "expired"
            key = (rid, user_id)
            before = self._votes.get(key)
            if before == up:
                return "same"
            self._votes[key] = up
            while len(self._votes) > CACHED_RESULTS * 4:
                self._votes.popitem(last=False)
        self._log(self._vote_entry, rid, item, user_id, up)
        return "recorded" if before is None else "changed"

    def _log(self, make_entry: Callable[..., Record], *args) -> None:
        """Append an entry to the question log from the log's own thread (no-op when the log is off)."""
        if self.settings.question_log is None:
            return
        try:
            self._log_pool.submit(self._write_log, make_entry, *args)
        except RuntimeError:  # shutting down: the line is lost, the answer is not
            log.debug("question log closed; not logged")

    def _user_key(self, user_id: int | None) -> str | None:
        """A keyed hash of the user id: votes and questions of one reader can be told apart, never traced back."""
        if user_id is None:
            return None
        return hmac.new(self._log_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]

    async def latest(self, n: int = 5) -> list[dict[str, str]]:
        """The ``n`` newest articles (title, url, date, source, the start of the text), read once per build."""
        searcher = self._searcher
        if searcher is None:
            return []
        key = (searcher.manifest.build_id, n)
        if self._latest[0] != key:
            rows = await asyncio.get_running_loop().run_in_executor(self._pool, searcher.stored.latest_articles, n)
            self._latest = (key, rows)
        return self._latest[1]

    def _remember(self, item: CachedResult) -> str:
        rid = secrets.token_urlsafe(6)
        with self._lock:
            self._results[rid] = item
            while len(self._results) > CACHED_RESULTS:
                self._results.popitem(last=False)
        return rid

    def recall(self, rid: str) -> CachedResult | None:
        """The cached result for a button, or None when unknown or made on an older build."""
        with self._lock:
            item = self._results.get(rid)
        if item is None or item.build_id != self.build_id:
            return None
        return item

    def latency_ms(self) -> tuple[float, float]:
        with self._lock:
            values = list(self._latencies)
        return percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000

    def _question_entry(
        self,
        rid: str,
        build: str,
        question: str,
        lang: str,
        user_id: int | None,
        chat_type: str,
        result: SearchResult,
        elapsed: float,
    ) -> QuestionRecord:
        return QuestionRecord(
            time=_now(),
            question=question,
            band=result.band,
            user=self._user_key(user_id),
            chat_type=chat_type,
            lang=lang,
            answer_id=rid,
            build=build,
            top_article=result.hits[0].article_id if result.hits else None,
            top_title=result.hits[0].title if result.hits else None,
            articles=[hit.article_id for hit in result.hits],
            latency_ms=round(elapsed * 1000, 1),
        )

    def _vote_entry(self, rid: str, item: CachedResult, user_id: int, up: bool) -> VoteRecord:
        hits = item.result.hits
        return VoteRecord(
            time=_now(),
            answer_id=rid,
            up=up,
            user=self._user_key(user_id),
            question=item.result.question,
            build=item.build_id,
            top_title=hits[0].title if hits else None,
            articles=[hit.article_id for hit in hits],
        )

    def _write_log(self, make_entry: Callable[..., Record], *args) -> None:
        """Append one line to the question log (only the log thread writes; user ids are keyed hashes)."""
        path = self.settings.question_log
        assert path is not None  # only submitted when the log is on
        try:
            append(path, make_entry(*args))
        except (OSError, TypeError, ValueError) as exc:
            log.warning("cannot write the question log %s: %s", path, exc)

    # ---------------------------------------------------------------- reindex

    def reserve(self) -> bool:
        """Take the one slot for changing the served index now (False when taken), for a ``reindex(reserved=True)``
        started later: a command that says "started" has its slot before it says so."""
        with self._lock:
            if self.reindexing:
                return False
            self.reindexing = True
            return True

    async def reindex(
        self,
        on_stage: Callable[[str], None] | None = None,
        *,
        reserved: bool = False,
        allow_removals: bool = False,
        on_wait: Callable[[], Awaitable[None]] | None = None,
    ) -> BuildReport:
        """Incremental update from ARTICLES_DIR in a worker thread, then swap to the new build.

        Raises ``ReindexBusy`` if one is already running (unless ``reserved``: the caller holds the
        slot from ``reserve``). A build run from the command line holding the index lock is waited
        for, up to INDEX_LOCK_WAIT_SECONDS (``on_wait`` is awaited once when the wait starts), then
        ``LockWaitTimeout``. An update that would remove much of the index raises ``RemovalRefused``
        unless ``allow_removals``. The bot keeps answering from the current build meanwhile.
        """
        with self._held() if reserved else self._index_work():
            loop = asyncio.get_running_loop()
            waited_since: float | None = None
            while True:
                try:
                    report = await loop.run_in_executor(self._build_pool, self._rebuild, on_stage, allow_removals)
                    break
                except IndexBusy:
                    now = time.monotonic()
                    if waited_since is None:
                        waited_since = now
                        log.info(
                            "the index is locked by another build; waiting up to %s s", self.settings.index_lock_wait_seconds
                        )
                        if on_wait is not None:
                            await on_wait()
                    if now - waited_since >= self.settings.index_lock_wait_seconds:
                        raise LockWaitTimeout(
                            f"another build held the index for more than {self.settings.index_lock_wait_seconds:g} s"
                        ) from None
                    await asyncio.sleep(min(LOCK_POLL_SECONDS, max(0.05, self.settings.index_lock_wait_seconds / 10)))
            await self._switch_to_current(report.build_id)
            return report

    async def update_when_free(
        self, allow_removals: bool = False, on_wait: Callable[[], Awaitable[None]] | None = None
    ) -> BuildReport:
        """``reindex`` once any update already running ends (uploads, links, channel posts, the feed refresh)."""
        while True:
            while self.reindexing:
                await asyncio.sleep(0.2)
            try:
                return await self.reindex(allow_removals=allow_removals, on_wait=on_wait)
            except ReindexBusy:  # someone else started one between the check and ours
                continue

    async def follow_current(self) -> bool:
        """Switch to the build ``CURRENT`` names when it was made outside the bot (a cron ``update``).

        Returns True when it switched. A build that fails to open is logged once
        and skipped; the bot keeps serving the one it has.
        """
        current = current_build_id(self.settings.index_dir)
        if not current or current in (self.build_id, self._unusable_build):
            return False
        try:
            with self._index_work():
                await self._switch_to_current(current)
        except ReindexBusy:
            return False  # the running /reindex swaps when it is done
        except OSError as exc:  # perhaps passing (permissions, a full disk): try again next time
            log.warning("cannot open build %s made outside the bot yet: %s", current, exc)
            return False
        except Exception as exc:  # a broken build must not stop the bot
            log.warning("cannot open build %s made outside the bot: %s", current, exc)
            self._unusable_build = current
            return False
        return True

    @contextlib.contextmanager
    def _index_work(self) -> Iterator[None]:
        """Hold the one slot for changing the served index (a /reindex or a switch); ``ReindexBusy`` if taken."""
        if not self.reserve():
            raise ReindexBusy()
        with self._held():
            yield

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        """Give the slot back at the end, however the work ended."""
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        """Free the slot taken with ``reserve`` (when the work it was taken for does not start after all)."""
        with self._lock:
            self.reindexing = False

    async def _switch_to_current(self, expected: str) -> None:
        """Open the current build and serve it. A build older than ``expected`` means the store
        fell back from a broken one: that is an error, not a switch. A newer one (a cron update
        meanwhile) is fine."""
        searcher = await asyncio.get_running_loop().run_in_executor(self._build_pool, self._open_new)
        if searcher.manifest.build_id < expected:
            raise RuntimeError(f"the new build {expected} did not load; still serving {self.build_id or 'nothing'}")
        self.swap(searcher)

    def _rebuild(self, on_stage: Callable[[str], None] | None, allow_removals: bool = False) -> BuildReport:
        s = self.settings
        s.articles_dir.mkdir(parents=True, exist_ok=True)
        return run_build(
            [s.articles_dir],
            s.index_dir,
            s.build_config(),
            incremental=True,
            embedder=self.embedder,
            progress=False,
            on_stage=on_stage,
            allow_removals=allow_removals,
            max_removed_share=s.max_removed_share,
        )

    def _open_new(self) -> Searcher:
        """The current build, reusing the loaded model when the build uses the same one."""
        params = self.settings.search_params()
        models = self._searcher.models if self._searcher else self.settings.answer_models()
        try:
            # embedder None: the bot started without an index, so the model is loaded here once
            return Searcher.open(self.settings.index_dir, params=params, embedder=self.embedder, models=models)
        except ModelMismatch:  # rebuilt with another model: load that one
            return Searcher.open(self.settings.index_dir, params=params, models=models)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._build_pool.shutdown(wait=False, cancel_futures=True)
        self._log_pool.shutdown(wait=True)  # the few pending log lines
