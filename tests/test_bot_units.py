from datetime import UTC, datetime

from telegram import Chat, Message, MessageEntity, User

from bot.handlers import addressed_question, result_keyboard
from bot.logs import redactor
from bot.ratelimit import QuestionLimiter
from bot.texts import AR, EN, keys, language_for, stage_text, text


def test_language_choice():
    assert language_for("كم سعر النفط؟") == AR
    assert language_for("What is the oil price?") == EN
    assert language_for("ما سعر Brent اليوم؟") == AR
    assert language_for(None, "en") == EN
    assert language_for(None, "ar") == AR
    assert language_for("", None) == AR


def test_every_text_has_both_languages():
    """Both catalogs hold the same keys (the Arabic gists of fetch failures aside: English shows the reason itself)."""
    assert keys(EN) == {k for k in keys(AR) if not k.startswith("reason.")}


def test_stage_translation():
    assert stage_text("embedding 120 chunks", AR) == "حساب التضمينات 120 chunks"
    assert stage_text("writing", EN) == "saving the new index"
    assert text("btn_full", EN, n=2) == "📄 Full passage 2"


def test_limiter_sliding_window():
    now = [0.0]
    limiter = QuestionLimiter(3, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check(1) > 0
    assert limiter.check(2) == 0.0, "other users are not affected"
    assert limiter.should_warn(1) and not limiter.should_warn(1)
    now[0] = 61
    assert limiter.check(1) == 0.0
    assert QuestionLimiter(0).check(1) == 0.0


def test_keyboard_callback_data_is_short():
    kb = result_keyboard("AbCdEf12", total=12, start=9, per_page=3, lang=AR)
    datas = [b.callback_data for row in kb.inline_keyboard for b in row]
    assert datas == ["full:AbCdEf12:9", "full:AbCdEf12:10", "full:AbCdEf12:11"]
    kb = result_keyboard("AbCdEf12", total=12, start=0, per_page=3, lang=AR)
    assert kb.inline_keyboard[-1][0].callback_data == "more:AbCdEf12:3"
    assert all(len(b.callback_data.encode()) <= 64 for row in kb.inline_keyboard for b in row)


def test_redactor():
    clean = redactor(["123456:SECRET-TOKEN-VALUE", "x"])
    assert clean("GET https://api/bot123456:SECRET-TOKEN-VALUE/getMe") == "GET https://api/bot<redacted>/getMe"
    assert clean("x marks") == "<redacted> marks", "a secret of any length is redacted"


async def test_retry_policy():
    """5xx are retried for every call; timeouts only for calls that cannot post twice; bad requests never."""
    import pytest
    from telegram.error import BadRequest, NetworkError, TimedOut

    from bot.app import RetryingRateLimiter

    limiter = RetryingRateLimiter(network_retries=2, overall_max_rate=0)
    await limiter.initialize()

    def flaky(exc: Exception, failures: int):
        calls = []

        async def callback():
            calls.append(1)
            if len(calls) <= failures:
                raise exc
            return "ok"

        return callback, calls

    callback, calls = flaky(NetworkError("Bad Gateway"), 2)
    assert await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, None) == "ok" and len(calls) == 3
    callback, calls = flaky(TimedOut(), 1)
    with pytest.raises(TimedOut):
        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == 1, "a sendMessage that timed out may have been delivered: not repeated"
    callback, calls = flaky(TimedOut(), 1)
    assert await limiter.process_request(callback, (), {}, "sendChatAction", {"chat_id": 1}, None) == "ok" and len(calls) == 2
    callback, calls = flaky(BadRequest("Message is too long"), 1)
    with pytest.raises(BadRequest):
        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == 1
    await limiter.shutdown()


def test_mention_is_cut_out_even_after_an_emoji():
    """Telegram counts entity offsets in UTF-16 units; an emoji before the mention takes two."""
    text = "😀 @NewsBot متى افتتح المعرض؟"
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(-100, Chat.SUPERGROUP),
        from_user=User(7, "قارئ", is_bot=False),
        text=text,
        entities=[MessageEntity(MessageEntity.MENTION, offset=3, length=8)],
    )
    assert addressed_question(message, bot_id=42, bot_username="newsbot") == "😀 متى افتتح المعرض؟"
    assert addressed_question(message, bot_id=42, bot_username="otherbot") is None


def test_no_server_path_reaches_telegram():
    """Errors quote the paths they failed on: the configured folders by their settings' names, any other by its
    last part; links and fractions stay as they are."""
    from pathlib import Path
    from types import SimpleNamespace

    from bot.admin import without_paths

    folders = SimpleNamespace(articles_dir=Path("/srv/news/articles"), index_dir=Path("/srv/news/index"))
    assert without_paths("Permission denied: '/srv/news/index/tmp/notes.txt'", folders) == (
        "Permission denied: 'INDEX_DIR/tmp/notes.txt'"
    )
    assert without_paths("could not read /var/lib/other/file.json at line 3", folders) == "could not read file.json at line 3"
    kept = "see https://example.org/a/b/c and the ratio 3/4/5"
    assert without_paths(kept, folders) == kept
