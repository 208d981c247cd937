"""Webhook mode: the secret is checked before a body is read, bodies are capped, bad bodies get 400.

Red-team findings of 2026-12 (docs/reliability.md): python-telegram-bot's built-in server read a
whole unauthenticated body (four 95 MB posts took the bot to 699 MB) and answered a body that is
not JSON with a 500 and a traceback.
"""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from tests.support.botkit import READER, make_settings
from tests.support.corpus import CORPUS, write_jsonl
from tests.support.fake_telegram import FakeTelegram

SECRET = "s3cret-Token_0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def webhook_bot(tmp_path, embedder):
    """The bot in webhook mode (its own server on a free port) against the fake Bot API server."""
    from bot.__main__ import webhook_options
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.service import QAService
    from bot.webhook import run_webhook
    from index.build import run_build
    from index.search.searcher import Searcher

    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    port = free_port()
    async with FakeTelegram() as fake:
        settings = make_settings(
            fake, tmp_path, webhook_url="https://bot.example.org/telegram", webhook_secret=SECRET, webhook_port=port
        )
        run_build([settings.articles_dir], settings.index_dir, embedder=embedder, progress=False)
        app = build_application(settings, QAService(settings, Searcher.open(settings.index_dir, embedder=embedder)))
        stop, stats = asyncio.Event(), {}
        task = asyncio.create_task(
            run_webhook(app, **webhook_options(settings), allowed_updates=ALLOWED_UPDATES, stop=stop, stats=stats)
        )
        for _ in range(300):
            if fake.webhook["url"] and _listening(port):
                break
            await asyncio.sleep(0.05)
        try:
            yield fake, f"http://127.0.0.1:{port}/telegram", stats
        finally:
            stop.set()
            await task
        assert app.bot_data.errors == []


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def update(update_id: int, text: str) -> dict:
    user = {"id": READER, "is_bot": False, "first_name": "Reader"}
    chat = {"id": READER, "type": "private", "first_name": "Reader"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 1, "chat": chat, "from": user, "text": text}}


async def test_an_update_with_the_secret_is_answered(webhook_bot):
    fake, url, _stats = webhook_bot
    assert fake.webhook == {"url": "https://bot.example.org/telegram", "secret_token": SECRET}
    fake.add_chat(READER, "private")
    async with httpx.AsyncClient(trust_env=False) as client:
        ok = await client.post(url, json=update(1, "قطار الحرمين السريع"), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert ok.status_code == 200
    (reply,) = await fake.wait_for_messages(1, chat_id=READER)
    assert "قطار الحرمين" in reply["text"]


async def raw_post(url: str, head: bytes, body: list[bytes]) -> bytes:
    """POST by hand (a client that keeps sending after the server answered); returns the status line."""
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head + b"\r\n")
    try:
        for piece in body:
            writer.write(piece)
            await writer.drain()
    except ConnectionError:  # the server answered and hung up: what it should do
        pass
    try:
        return await asyncio.wait_for(reader.readline(), timeout=30)
    finally:
        writer.close()


async def test_a_body_without_the_secret_is_refused_before_it_is_read(webhook_bot):
    _fake, url, stats = webhook_bot
    # the start of a 95 MB body; the rest never comes
    status = await raw_post(url, b"Content-Length: 95000000\r\n", [b"{" + b" " * 65536])
    assert status.startswith(b"HTTP/1.1 403"), status
    assert stats.get("read", 0) == 0, "not one byte of the body was kept"


async def test_a_body_over_the_cap_is_refused_with_the_secret_too(webhook_bot):
    _fake, url, stats = webhook_bot
    secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n".encode()
    declared = await raw_post(url, secret + b"Content-Length: 95000000\r\n", [b"{" + b" " * 65536])
    assert declared.startswith(b"HTTP/1.1 413"), declared
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"  # chunked: no size known until it has come
    streamed = await raw_post(url, secret + b"Transfer-Encoding: chunked\r\n", [chunk] * 40)
    assert streamed.startswith((b"HTTP/1.1 413", b"HTTP/1.1 400")), streamed
    assert stats.get("read", 0) <= 1024 * 1024 + 65536


@pytest.mark.parametrize("body", [b"not json at all", b"[1, 2]", b'{"update_id": "x", "message": 5}', b"\xff\xfe"])
async def test_a_body_that_is_not_an_update_gets_400_without_a_traceback(webhook_bot, body, caplog):
    _fake, url, _stats = webhook_bot
    async with httpx.AsyncClient(trust_env=False) as client:
        answer = await client.post(url, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert "Traceback" not in caplog.text


def test_a_short_webhook_secret_is_refused_at_start_with_how_to_make_one(tmp_path):
    from bot.__main__ import webhook_options
    from bot.settings import Settings

    settings = Settings(_env_file=None, webhook_url="https://bot.example.org/hook", webhook_secret="abc123")
    with pytest.raises(SystemExit) as stop:
        webhook_options(settings)
    message = str(stop.value)
    assert message.startswith("error:") and "16" in message and "secrets.token_urlsafe" in message
    assert "\n" not in message


def test_update_json_shape():
    assert json.loads(json.dumps(update(1, "x")))["message"]["text"] == "x"
