"""The bot's index updates, one at a time: /reindex, uploads, links, channel posts and the feed refresh all
update through here, and builds made outside the bot (a cron ``update``) are followed.

Updates run in a worker thread; the service keeps answering from the build it has and swaps to
the new one when it is complete. A build run from the command line holding the index lock is
waited for, up to INDEX_LOCK_WAIT_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor

from index.build import BuildReport, run_build
from index.search.searcher import ModelMismatch, Searcher
from index.storage.store import IndexBusy
from index.storage.stores import store_build_id

from .service import QAService

log = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 2.0  # how often a waiting update tries the index lock again


class ReindexBusy(RuntimeError):
    """A reindex is already running."""


class LockWaitTimeout(RuntimeError):
    """A build run outside the bot (the command line) held the index for longer than INDEX_LOCK_WAIT_SECONDS."""


class Builds:
    """Runs the bot's updates of the index and follows builds made outside it; swaps the service to each new build."""

    def __init__(self, service: QAService) -> None:
        self.service = service
        self.settings = service.settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
        self._lock = threading.Lock()
        self.reindexing = False
        self._unusable_build = ""

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
        confirmed: Collection[str] = (),
    ) -> BuildReport:
        """Incremental update from ARTICLES_DIR in a worker thread, then swap to the new build.

        Raises ``ReindexBusy`` if one is already running (unless ``reserved``: the caller holds the
        slot from ``reserve``). A build run from the command line holding the index lock is waited
        for, up to INDEX_LOCK_WAIT_SECONDS (``on_wait`` is awaited once when the wait starts), then
        ``LockWaitTimeout``. An update that would remove much of the index raises ``RemovalRefused``
        unless ``allow_removals``; ``confirmed`` articles (an admin's takedowns) never count against it. The bot keeps
        answering from the current build meanwhile.
        """
        with self._held() if reserved else self._index_work():
            loop = asyncio.get_running_loop()
            waited_since: float | None = None
            while True:
                try:
                    report = await loop.run_in_executor(self._pool, self._rebuild, on_stage, allow_removals, confirmed)
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
        self,
        allow_removals: bool = False,
        on_wait: Callable[[], Awaitable[None]] | None = None,
        confirmed: Collection[str] = (),
    ) -> BuildReport:
        """``reindex`` once any update already running ends (uploads, links, channel posts, the feed refresh)."""
        while True:
            while self.reindexing:
                await asyncio.sleep(0.2)
            try:
                return await self.reindex(allow_removals=allow_removals, on_wait=on_wait, confirmed=confirmed)
            except ReindexBusy:  # someone else started one between the check and ours
                continue

    async def follow_current(self) -> bool:
        """Switch to the build ``CURRENT`` names when it was made outside the bot (a cron ``update``).

        Returns True when it switched. A build that fails to open is logged once
        and skipped; the bot keeps serving the one it has.
        """
        served = self.service.searcher.stored if self.service.searcher else None
        current = await asyncio.to_thread(store_build_id, self.settings.index_dir, self.settings.store_target(), served)
        if not current or current in (self.service.build_id, self._unusable_build):
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
        searcher = await asyncio.get_running_loop().run_in_executor(self._pool, self._open_new)
        if searcher.manifest.build_id < expected:
            raise RuntimeError(f"the new build {expected} did not load; still serving {self.service.build_id or 'nothing'}")
        self.service.swap(searcher)

    def _rebuild(
        self, on_stage: Callable[[str], None] | None, allow_removals: bool = False, confirmed: Collection[str] = ()
    ) -> BuildReport:
        s = self.settings
        s.articles_dir.mkdir(parents=True, exist_ok=True)
        return run_build(
            [s.articles_dir],
            s.index_dir,
            s.build_config(),
            incremental=True,
            embedder=self.service.embedder,
            progress=False,
            on_stage=on_stage,
            allow_removals=allow_removals,
            max_removed_share=s.max_removed_share,
            confirmed=confirmed,
            target=s.store_target(),
        )

    def _open_new(self) -> Searcher:
        """The current build, reusing the loaded model when the build uses the same one."""
        params = self.settings.search_params()
        current = self.service.searcher
        models = current.models if current else self.settings.answer_models()
        store = self.settings.store_target()
        try:
            # embedder None: the bot started without an index, so the model is loaded here once
            return Searcher.open(
                self.settings.index_dir, params=params, embedder=self.service.embedder, models=models, store=store
            )
        except ModelMismatch:  # rebuilt with another model: load that one
            return Searcher.open(self.settings.index_dir, params=params, models=models, store=store)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
