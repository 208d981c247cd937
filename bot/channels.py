"""Channels as a live corpus: posts in INDEX_CHANNELS become articles, indexed in small batches.

A post is stored at once (``ARTICLES_DIR/telegram/<channel>.jsonl``, so a rebuild
keeps it); the index is updated through the service's /reindex path at most once
per ``interval`` seconds, after any update already running, so answers never
wait for it. Pages a post links to are fetched and indexed in the same batch.

Telegram never sends a post again, so one that cannot be written (a full disk)
waits in a bounded queue in memory and is written, in order, before anything
newer, at the next post or batch; the admins are told. A restart loses that queue.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import TYPE_CHECKING

from telegram import Bot, Message, Update
from telegram.constants import MessageEntityType

from index.build import RemovalRefused
from index.corpus.telegram import bare_channel_id, channel_file, channel_key, post_id, post_record, store_posts
from index.corpus.urls import is_web_url
from index.web.harvest import harvest

from .context import Context
from .settings import Settings

if TYPE_CHECKING:
    from .admin import AdminAlerts
    from .builds import Builds

log = logging.getLogger(__name__)

BATCH_SECONDS = 60.0  # at most one index update a minute from channel posts
SETTLE_SECONDS = 2.0  # wait this long after a first post, so a burst of posts is indexed together
MAX_LINKS = 5  # linked pages fetched per post
MAX_WAITING = 1000  # posts kept in memory while they cannot be written; beyond that the oldest are lost

# One change to a channel's file: (channel key, records to add or replace, article ids to remove).
Change = tuple[str, list[dict], tuple[str, ...]]


class ChannelFeed:
    """Stores posts of listed channels and keeps the index up to date with them, one batch at a time."""

    def __init__(
        self,
        builds: Builds,
        settings: Settings,
        alerts: AdminAlerts | None = None,
        interval: float = BATCH_SECONDS,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self.builds = builds
        self.settings = settings
        self.alerts = alerts
        self.interval = interval
        self.settle = settle
        self.batches = 0  # index updates tried for posts
        self.updates = 0  # index updates made for posts (for /stats and tests)
        self.lost = 0  # posts dropped because the waiting queue was full
        self._waiting: collections.deque[Change] = collections.deque()
        self._failing = False  # writes are failing (the admins were told)
        self._links: list[str] = []
        self._dirty = False
        self._last_update = float("-inf")
        self._task: asyncio.Task | None = None
        self._write = asyncio.Lock()
        wanted = settings.index_channels
        # an id counts with or without the Bot API's -100 prefix (exports show it without)
        self._ids = {bare_channel_id(w) for w in wanted if w.lstrip("-").isdigit()}
        self._names = {w.lower() for w in wanted if w.startswith("@")}

    def listed(self, chat_id: int, username: str | None) -> bool:
        """Is this channel in INDEX_CHANNELS (by id, or by @username)?"""
        return bare_channel_id(chat_id) in self._ids or (username is not None and f"@{username.lower()}" in self._names)

    @property
    def waiting(self) -> int:
        """Changes not written yet (the disk refused them); retried with every post and batch."""
        return len(self._waiting)

    async def add(self, record: dict, links: list[str]) -> None:
        """Store (or replace) a post's article now; index it with the next batch."""
        self._links += [url for url in links if is_web_url(url) and "//t.me/" not in url][:MAX_LINKS]
        await self._store(record["channel"], [record])

    async def remove(self, article_id: str, channel: str) -> None:
        """Drop a post's article (its edit removed the text); the next batch takes it out of the index."""
        await self._store(channel, [], (article_id,))

    async def _store(self, channel: str, records: list[dict], removed: tuple[str, ...] = ()) -> None:
        """Queue the change behind any that could not be written yet, then write what the disk takes."""
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.popleft()
            self.lost += 1
            log.error("channel posts waiting to be written: more than %d; the oldest is lost", MAX_WAITING)
        self._waiting.append((channel, records, removed))
        await self._flush()

    async def _flush(self) -> None:
        """Write waiting changes in order; on the first failure keep the rest and retry with the next batch."""
        changed = 0
        async with self._write:  # one writer per file; the rewrite itself runs off the event loop
            while self._waiting:
                channel, records, removed = self._waiting[0]
                path = channel_file(self.settings.articles_dir, channel)
                try:
                    changed += await asyncio.to_thread(store_posts, path, records, removed)
                except OSError as exc:
                    log.error("cannot write channel posts to %s: %s; %d waiting in memory", path, exc, len(self._waiting))
                    if not self._failing and self.alerts is not None:
                        await self.alerts.say(
                            "channel_store_failed", error=exc.strerror or type(exc).__name__, n=len(self._waiting)
                        )
                    self._failing = True
                    self._schedule()  # the batch retries the write
                    return
                self._waiting.popleft()
        if self._failing:
            self._failing = False
            log.info("channel posts that waited are written")
            if self.alerts is not None:
                await self.alerts.say("channel_store_recovered")
        if changed:
            self._schedule()

    def _schedule(self) -> None:
        """Mark the index stale and start the batching task unless it is running."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="channel-indexer")

    async def _run(self) -> None:
        """Update the index while posts keep coming, no more often than every ``interval`` seconds."""
        loop = asyncio.get_running_loop()
        while self._dirty:
            await asyncio.sleep(max(self.settle, self._last_update + self.interval - loop.time()))
            self._dirty = False
            if self._waiting:
                await self._flush()
            links, self._links = list(dict.fromkeys(self._links)), []
            if links:
                await self._fetch(links)
            self._last_update = loop.time()
            self.batches += 1
            try:
                build = await self.builds.update_when_free()  # the same path as /reindex and the feed refresh
            except RemovalRefused as refused:  # the posts stay stored; the admins decide
                log.warning("indexing channel posts: %s", refused)
                if self.alerts is not None:
                    await self.alerts.refused("channels", refused)
                continue
            except Exception as exc:  # the posts are stored; the next batch or /reindex indexes them
                log.warning("indexing channel posts failed: %s", exc)
                continue
            self.updates += 1
            if self.alerts is not None:
                self.alerts.succeeded("channels")
            log.info("channel posts indexed (%s newly embedded)", build.encoded)

    async def _fetch(self, links: list[str]) -> None:
        """Fetch the article pages posts link to into ARTICLES_DIR/web (indexed with the posts)."""
        try:
            report = await asyncio.to_thread(
                harvest,
                links,
                self.settings.articles_dir,
                self.settings.fetch_config(workers=2),
                max_pages=len(links) * 2,
                lock_wait=60,
                budget=self.settings.fetch_budget_seconds,
            )
            log.info("pages linked from channel posts: %s", report.summary())
        except Exception as exc:  # the posts themselves are indexed anyway
            log.warning("fetching pages linked from channel posts failed: %s", exc)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def post_links(message: Message) -> list[str]:
    """Links in a post's text or caption, including links behind words."""
    types = [MessageEntityType.URL, MessageEntityType.TEXT_LINK]
    found = message.parse_entities(types) if message.text else message.parse_caption_entities(types)
    return [
        entity.url if entity.type == MessageEntityType.TEXT_LINK else value
        for entity, value in found.items()
        if entity.url or value
    ]


async def channel_post(update: Update, context: Context) -> None:
    """A post or an edited post in a listed channel: store it as an article (other channels are ignored)."""
    message = update.effective_message
    chat = update.effective_chat
    feed = context.bot_data.channels
    if feed is None or message is None or chat is None or not feed.listed(chat.id, chat.username):
        return
    record = post_record(
        chat_id=chat.id,
        message_id=message.message_id,
        text=message.text or message.caption or "",
        date=message.date,
        channel_title=chat.title or "",
        username=chat.username,
    )
    if record is not None:
        await feed.add(record, post_links(message))
    elif update.edited_channel_post is not None:  # an edit that left no text: the post no longer says anything
        await feed.remove(post_id(chat.id, message.message_id), channel_key(chat.id, chat.username))


async def check_channels(bot: Bot, settings: Settings) -> None:
    """At start: say which listed channels the bot can see (posts arrive only where it is an admin).

    Only informs: whatever one channel's check raises is logged and the next is checked; it never stops the bot.
    """
    for channel in settings.index_channels:
        try:
            chat = await bot.get_chat(int(channel) if channel.lstrip("-").isdigit() else channel)
            log.info("indexing posts of channel %s (%s)", chat.title, chat.id)
        except Exception as exc:
            log.warning("channel %s in INDEX_CHANNELS is not reachable (%s); is the bot an admin there?", channel, exc)
