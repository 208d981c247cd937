"""👍/👎 under answers: acknowledged, stored with the question log, one vote per reader per answer."""

from __future__ import annotations

import json

from tests.support.botkit import READER, buttons, eventually, running_bot


def _log(tmp_path) -> list[dict]:
    path = tmp_path / "questions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _votes(tmp_path) -> list[dict]:
    return [entry for entry in _log(tmp_path) if entry.get("type") == "vote"]


async def test_votes_are_acknowledged_stored_and_changed(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.message("كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        votes = {label: data for label, data in buttons(reply) if data.startswith("vote:")}
        assert set(votes) == {"👍", "👎"}
        fake.callback(votes["👍"], message=reply, user_id=READER)
        (ack,) = await fake.wait_for_call("answerCallbackQuery")
        assert "شكراً" in ack["text"]
        await eventually(lambda: len(_votes(tmp_path)) == 1, timeout=5)
        (first,) = _votes(tmp_path)
        question = next(e for e in _log(tmp_path) if "type" not in e)
        assert first["vote"] == "up" and first["answer_id"] == question["answer_id"]
        assert first["question"] == question["question"] and first["build"] == app.bot_data.service.build_id
        assert first["articles"][0] == "t-train" and first["user"] == question["user"] and str(READER) not in json.dumps(first)
        # a second click changes the vote; the same click again changes nothing
        fake.callback(votes["👎"], message=reply, user_id=READER)
        fake.callback(votes["👎"], message=reply, user_id=READER)
        acks = await fake.wait_for_call("answerCallbackQuery", 3)
        assert "غيّرتُ" in acks[1]["text"] and "من قبل" in acks[2]["text"]
        await eventually(lambda: len(_votes(tmp_path)) == 2, timeout=5)
        assert [v["vote"] for v in _votes(tmp_path)] == ["up", "down"]
        # another reader's vote on the same answer is a vote of its own
        fake.callback(votes["👎"], message=reply, user_id=READER + 1)
        await fake.wait_for_call("answerCallbackQuery", 4)
        await eventually(lambda: len(_votes(tmp_path)) == 3, timeout=5)
        assert len({v["user"] for v in _votes(tmp_path)}) == 2


async def test_forged_and_stale_votes_say_expired(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.message("فيضان النيل في السودان", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        up = next(data for label, data in buttons(reply) if label == "👍")
        for data in ("vote:AAAAAAAA:u", "vote:../../etc:x", "vote:" + "x" * 40):
            fake.callback(data, message=reply, user_id=READER, forged=True)
        answers = await fake.wait_for_call("answerCallbackQuery", 3)
        app.bot_data.service.results.clear()  # as after a restart: the answer is no longer known
        fake.callback(up, message=reply, user_id=READER)
        answers = await fake.wait_for_call("answerCallbackQuery", 4)
        assert all("انتهت صلاحية" in a["text"] for a in answers)
        # a sentinel after the forged clicks: the log is written in order, so once its line is there any
        # vote wrongly recorded before it would be too
        fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(2, chat_id=READER)
        await eventually(lambda: any(r.get("question") == "قطار الحرمين" for r in _log(tmp_path)), timeout=30)
        assert _votes(tmp_path) == []


async def test_no_vote_buttons_without_question_log(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, question_log=None) as (fake, _app):
        fake.message("فيضان النيل في السودان", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert buttons(reply) and not [data for _, data in buttons(reply) if data.startswith("vote:")]
