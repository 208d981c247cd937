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
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from index.builder import BuildReport, run_build
from index.embedding import Embedder
from index.search import ModelMismatch, Searcher, SearchResult
from index.settings import Settings
from index.store import current_build_id

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


class ReindexBusy(RuntimeError):
    """A reindex is already running."""


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
        self._lock = threading.Lock()
        self.answered = 0
        self.refused = 0
        self.reindexing = False
        self._unusable_build = ""
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
        return self._searcher.manifest["build_id"] if self._searcher else ""

    def swap(self, searcher: Searcher) -> None:
        """Serve from ``searcher`` from now on; searches already running finish on the old one."""
        self._searcher = searcher
        log.info("now serving build %s (%s articles)", searcher.manifest["build_id"], searcher.manifest["articles"])

    # ---------------------------------------------------------------- questions

    async def ask(
        self, question: str, lang: str, user_id: int | None = None, chat_type: str = "private", log_it: bool = True
    ) -> tuple[str, SearchResult]:
        """Search in the thread pool; returns (result id for the buttons, result). ``log_it`` False: not in the question log."""
        searcher = self._searcher
        if searcher is None:
            raise LookupError("no index loaded")
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._pool, lambda: searcher.search(question, k=RESULTS_PER_QUESTION))
        result = result.confident_only()
        elapsed = time.perf_counter() - started
        with self._lock:
            self._latencies.append(elapsed)
            self.answered += 1
            self.refused += result.no_answer
        rid = self._remember(CachedResult(result, searcher.manifest["build_id"], lang))
        if self.settings.question_log is not None and log_it:
            try:
                self._log_pool.submit(self._log_question, question, lang, user_id, chat_type, result, elapsed)
            except RuntimeError:  # shutting down: the line is lost, the answer is not
                log.debug("question log closed; not logged")
        return rid, result

    async def latest(self, n: int = 5) -> list[dict[str, str]]:
        """The ``n`` newest articles (title, url, date, source, the start of the text), read in the search pool."""
        searcher = self._searcher
        if searcher is None:
            return []

        def read() -> list[dict[str, str]]:
            rows = searcher.stored.db().execute(
                "SELECT id, title, url, date, source, substr(text, 1, 600) AS lead FROM articles "
                "ORDER BY date DESC, idx DESC LIMIT ?",
                (n,),
            )
            return [dict(row) for row in rows]

        return await asyncio.get_running_loop().run_in_executor(self._pool, read)

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
            values = sorted(self._latencies)
        if not values:
            return 0.0, 0.0

        def pick(q: float) -> float:
            return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] * 1000

        return pick(0.5), pick(0.95)

    def _log_question(
        self, question: str, lang: str, user_id: int | None, chat_type: str, result: SearchResult, elapsed: float
    ) -> None:
        """Append to the question log (if configured); user ids are keyed hashes, never stored raw."""
        path = self.settings.question_log
        assert path is not None  # only submitted when the log is on
        user = hmac.new(self._log_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16] if user_id is not None else None
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "user": user,
            "chat_type": chat_type,
            "lang": lang,
            "question": question,
            "no_answer": result.no_answer,
            "top_article": result.hits[0].article_id if result.hits else None,
            "latency_ms": round(elapsed * 1000, 1),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:  # only the log thread writes
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.warning("cannot write the question log %s: %s", path, exc)

    # ---------------------------------------------------------------- reindex

    async def reindex(self, on_stage: Callable[[str], None] | None = None) -> BuildReport:
        """Incremental update from ARTICLES_DIR in a worker thread, then swap to the new build.

        Raises ``ReindexBusy`` if one is already running. The bot keeps answering
        from the current build meanwhile.
        """
        with self._index_work():
            loop = asyncio.get_running_loop()
            report = await loop.run_in_executor(self._build_pool, self._rebuild, on_stage)
            await self._switch_to_current(report.build_id)
            return report

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
        with self._lock:
            if self.reindexing:
                raise ReindexBusy()
            self.reindexing = True
        try:
            yield
        finally:
            with self._lock:
                self.reindexing = False

    async def _switch_to_current(self, expected: str) -> None:
        """Open the current build and serve it. A build older than ``expected`` means the store
        fell back from a broken one: that is an error, not a switch. A newer one (a cron update
        meanwhile) is fine."""
        searcher = await asyncio.get_running_loop().run_in_executor(self._build_pool, self._open_new)
        if searcher.manifest["build_id"] < expected:
            raise RuntimeError(f"the new build {expected} did not load; still serving {self.build_id or 'nothing'}")
        self.swap(searcher)

    def _rebuild(self, on_stage: Callable[[str], None] | None) -> BuildReport:
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
