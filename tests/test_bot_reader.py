"""The language-model reader in the bot, through the fake Bot API and a fake OpenAI-compatible server: the
extractive reply comes at once and the checked answer is edited in above it; a failing sentence takes the reply
back; /reader turns it off; inline mode uses it when ready; the question log records it."""

from __future__ import annotations

import json

from tests.support.botkit import ADMIN, READER, buttons, eventually, running_bot
from tests.support.fake_llm import FakeLLM, Reply

TRAIN = "كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟"
GOOD = "تستغرق الرحلة بين المدينتين ساعتين و20 دقيقة [1]. ويسير القطار بسرعة تصل إلى 300 كيلومتر في الساعة [1]."


def _llm(fake_llm: FakeLLM) -> dict:
    return {"llm_base_url": fake_llm.base_url, "llm_model": "fake-model", "llm_timeout_seconds": 5}


async def test_the_checked_answer_is_edited_in_above_the_extractive_reply(tmp_path, embedder):
    with FakeLLM([Reply(GOOD, chunk=9)]) as llm:
        async with running_bot(tmp_path, embedder, **_llm(llm)) as (fake, _app):
            fake.message(TRAIN, user_id=READER)
            (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
            assert "🤖" not in reply["text"], "the extractive reply goes out at once"

            def current() -> str:
                return fake.current(READER, reply["message_id"])["text"]

            await eventually(lambda: "300 كيلومتر في الساعة [1]" in current(), timeout=30)
            text = current()
            assert text.index("🤖") < text.index("المصادر"), "the answer above, the sources still under it"
            assert buttons(fake.current(READER, reply["message_id"])) == buttons(reply), "the buttons stay"
            assert "نموذج لغوي" in text and reply["text"].strip("\u200f")[:40] in text
            sent = llm.requests[0]["body"]
            assert str(READER) not in json.dumps(sent) and "<passage" in sent["messages"][1]["content"]
        log = [json.loads(line) for line in (tmp_path / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
        (read,) = [entry for entry in log if entry.get("type") == "reader"]
        assert read["shown"] and read["model"] == "fake-model" and read["prompt_tokens"] == 100


async def test_a_sentence_that_fails_takes_the_reply_back_to_the_extractive_one(tmp_path, embedder):
    bad = "تستغرق الرحلة بين المدينتين ساعتين و20 دقيقة [1]. وسعر التذكرة 99 ريالاً [1]."
    with FakeLLM([Reply(bad, chunk=3)]) as llm:
        async with running_bot(tmp_path, embedder, **_llm(llm)) as (fake, _app):
            fake.message(TRAIN, user_id=READER)
            (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
            await eventually(lambda: llm.calls == 1, timeout=30)
            await eventually(lambda: any(e.get("type") == "reader" for e in _log(tmp_path)), timeout=30)
            assert fake.current(READER, reply["message_id"])["text"] == reply["text"], "no unchecked claim stays"
            assert "99" not in fake.current(READER, reply["message_id"])["text"]


async def test_reader_off_and_on_by_an_admin(tmp_path, embedder):
    with FakeLLM([Reply(GOOD)]) as llm:
        async with running_bot(tmp_path, embedder, **_llm(llm)) as (fake, _app):
            fake.command("/reader off", user_id=ADMIN)
            (status,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
            assert "متوقف" in status["text"] and "fake-model" in status["text"]
            fake.message(TRAIN, user_id=READER)
            await fake.wait_for_messages(1, chat_id=READER, timeout=60)
            assert llm.calls == 0
            fake.command("/reader on", user_id=ADMIN)
            assert "يعمل" in (await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60))[1]["text"]


async def test_inline_mode_uses_the_checked_answer_when_it_is_ready(tmp_path, embedder):
    with FakeLLM([Reply(GOOD)]) as llm:
        async with running_bot(tmp_path, embedder, min_confidence=0.0, sure_confidence=0.0, **_llm(llm)) as (fake, _app):
            fake.inline_query(TRAIN, user_id=READER)  # a finished question (it ends with ؟): the reader is asked
            (answer,) = await fake.wait_for_inline_answers(1)
            first = answer["results"][0]["input_message_content"]["message_text"]
            assert "🤖" in first and "300 كيلومتر" in first


def _log(tmp_path) -> list[dict]:
    path = tmp_path / "questions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


async def test_inline_asks_the_model_only_for_a_finished_question(tmp_path, embedder):
    with FakeLLM([Reply(GOOD)]) as llm:
        async with running_bot(tmp_path, embedder, min_confidence=0.0, sure_confidence=0.0, **_llm(llm)) as (fake, _app):
            fake.inline_query(TRAIN.rstrip("؟"), user_id=READER)  # still being typed: no question mark yet
            (answer,) = await fake.wait_for_inline_answers(1)
            assert llm.calls == 0 and "🤖" not in answer["results"][0]["input_message_content"]["message_text"]
