"""Helpers for tests that run the real bot against the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import build_application
from bot.service import QAService
from bot.settings import Settings
from index.build import run_build
from index.search.searcher import Searcher
from tests.support.corpus import CORPUS, write_jsonl
from tests.support.fake_telegram import FakeTelegram

ADMIN = 42
READER = 1001
GROUP = -100200300


def make_settings(fake: FakeTelegram, root: Path, **overrides) -> Settings:
    values = {
        "telegram_bot_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        "telegram_api_file_url": fake.base_file_url,
        "admin_user_ids": [ADMIN],
        "index_dir": root / "index",
        "articles_dir": root / "articles",
        "rate_limit_per_minute": 100,
        "question_log": root / "questions.jsonl",
        **overrides,
    }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_bot(tmp_path: Path, embedder, polling: bool = True, read_timeout: float = 20.0, **overrides):
    """Fake server + index of the test corpus + the bot's Application, started; errors asserted empty at the end."""
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    async with FakeTelegram() as fake:
        settings = make_settings(fake, tmp_path, **overrides)
        target = settings.store_target()  # INDEX_STORE in ``overrides``: the index on Milvus
        run_build(
            [settings.articles_dir], settings.index_dir, settings.build_config(), embedder=embedder, progress=False, target=target
        )
        searcher = Searcher.open(settings.index_dir, embedder=embedder, params=settings.search_params(), store=target)
        service = QAService(settings, searcher)
        app = build_application(settings, service, read_timeout=read_timeout)
        async with app:
            await app.start()
            if polling:
                await app.updater.start_polling(poll_interval=0)
            try:
                yield fake, app
            finally:
                if app.updater.running:
                    await app.updater.stop()
                await app.stop()
        assert app.bot_data.errors == [], f"handler errors: {app.bot_data.errors}"


async def eventually(condition: Callable[[], object], timeout: float) -> None:
    """Wait until ``condition()`` is true, checking every 0.1 s; fail the test when it is still false after ``timeout`` s
    (the bound only keeps a broken test from hanging: nothing is measured against it)."""
    for _ in range(max(1, round(timeout / 0.1))):
        if condition():
            return
        await asyncio.sleep(0.1)
    if not condition():
        raise AssertionError(f"still not true after {timeout} s: {getattr(condition, '__name__', condition)}")


async def reply_despite(fake: FakeTelegram, method: str, status: int, question: str, retry_after=None, times: int = 1) -> dict:
    """Fail the next ``times`` calls of ``method`` with ``status``, ask ``question``: the reply that still arrives."""
    fake.fail_next(method, status=status, retry_after=retry_after, times=times)
    fake.message(question, user_id=READER)
    (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=30)
    return reply


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]
