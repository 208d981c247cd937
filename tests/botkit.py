"""Helpers for tests that run the real bot against the fake Bot API server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from conftest import CORPUS, write_jsonl
from fake_telegram import FakeTelegram

from bot.app import build_application
from bot.service import QAService
from index.builder import run_build
from index.search import Searcher
from index.settings import Settings

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
async def running_bot(tmp_path: Path, embedder, polling: bool = True, **overrides):
    """Fake server + index of the test corpus + the bot's Application, started; errors asserted empty at the end."""
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    async with FakeTelegram() as fake:
        settings = make_settings(fake, tmp_path, **overrides)
        run_build([settings.articles_dir], settings.index_dir, settings.build_config(), embedder=embedder, progress=False)
        service = QAService(settings, Searcher.open(settings.index_dir, embedder=embedder, params=settings.search_params()))
        app = build_application(settings, service)
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
        assert app.bot_data.get("errors", []) == [], f"handler errors: {app.bot_data.get('errors')}"


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]
