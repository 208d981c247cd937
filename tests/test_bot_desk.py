"""The editor acts on 👎, through the fake Bot API: the admins get the question, the reply and its sources with pin
and block buttons; a pin answers that question and only that one; /pins undoes; a pin whose article changed drops
itself and the admins are told; a block keeps a domain out of answers. The other admins hear of each change."""

from __future__ import annotations

from index.corpus.desk import read_desk
from tests.support.botkit import ADMIN, READER, buttons, running_bot
from tests.support.corpus import CORPUS, write_jsonl

OTHER_ADMIN = 43
TRAIN = "كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟"


async def _down_vote(fake, question: str, count: int):
    """A reader asks and votes 👎; returns the reply and the feedback message the admin got (their ``count``-th,
    after the /start that opens the admin's chat with the bot)."""
    fake.message("/start", user_id=ADMIN)
    await fake.wait_for_messages(count - 1, chat_id=ADMIN)
    fake.message(question, user_id=READER)
    replies = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
    reply = replies[-1]
    down = next(data for label, data in buttons(reply) if label == "👎")
    fake.callback(down, message=reply, user_id=READER)
    told = await fake.wait_for_messages(count, chat_id=ADMIN, timeout=60)
    return reply, told[-1]


async def test_a_down_vote_lets_an_editor_pin_the_right_passage_and_undo_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, min_confidence=0.0, admin_user_ids=[ADMIN, OTHER_ADMIN]) as (fake, app):
        fake.message("/start", user_id=OTHER_ADMIN)
        await fake.wait_for_messages(1, chat_id=OTHER_ADMIN)
        reply, feedback = await _down_vote(fake, TRAIN, 2)
        assert "👎" in feedback["text"] and TRAIN in feedback["text"] and "المصادر" in feedback["text"]
        labels = [label for label, _ in buttons(feedback)]
        assert "📌 ثبّت 2" in labels and "⛔ احجب example.org" in labels
        other = (await fake.wait_for_messages(2, chat_id=OTHER_ADMIN, timeout=60))[1]
        assert TRAIN in other["text"], "every admin sees it"
        # a second 👎 on the same answer (another reader) does not repeat it
        down = next(data for label, data in buttons(reply) if label == "👎")
        fake.callback(down, message=reply, user_id=READER + 1)
        await fake.wait_for_call("answerCallbackQuery", 2)
        assert len(fake.messages_to(ADMIN)) == 2 and len(fake.messages_to(OTHER_ADMIN)) == 2, "not told twice"

        second = next(h for h in app.bot_data.service.results.get(down.split(":")[1]).result.hits[1:2])
        fake.callback(next(data for label, data in buttons(feedback) if label == "📌 ثبّت 2"), message=feedback, user_id=ADMIN)
        done = (await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60))[2]
        assert "📌" in done["text"] and second.title in done["text"]
        told = (await fake.wait_for_messages(3, chat_id=OTHER_ADMIN, timeout=60))[2]
        assert "tg:42" in told["text"] and second.title in told["text"]
        (pin,) = read_desk(tmp_path / "articles").pins.values()
        assert pin.article_id == second.article_id and pin.passage == second.passage.text and pin.body_key

        fake.message(TRAIN, user_id=READER)
        pinned = (await fake.wait_for_messages(2, chat_id=READER, timeout=60))[1]
        assert "📌" in pinned["text"] and pinned["text"].index(second.title) < pinned["text"].index("2.")
        fake.message("كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة المنورة؟", user_id=READER)  # another question
        assert "📌" not in (await fake.wait_for_messages(3, chat_id=READER, timeout=60))[2]["text"]

        fake.command("/pins", user_id=ADMIN)
        listing = (await fake.wait_for_messages(4, chat_id=ADMIN, timeout=60))[3]
        assert TRAIN in listing["text"] and "tg:42" in listing["text"]
        fake.callback(next(data for label, data in buttons(listing) if label.startswith("↩️")), message=listing, user_id=ADMIN)
        undone = (await fake.wait_for_messages(5, chat_id=ADMIN, timeout=60))[4]
        assert "↩️" in undone["text"] and not read_desk(tmp_path / "articles").pins
        assert "↩️" in (await fake.wait_for_messages(4, chat_id=OTHER_ADMIN, timeout=60))[3]["text"]
        fake.message(TRAIN, user_id=READER)
        assert "📌" not in (await fake.wait_for_messages(4, chat_id=READER, timeout=60))[3]["text"]


async def test_a_pin_whose_article_changed_drops_itself_and_the_admins_are_told(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, min_confidence=0.0) as (fake, _app):
        _, feedback = await _down_vote(fake, TRAIN, 2)
        fake.callback(next(data for label, data in buttons(feedback) if label == "📌 ثبّت 1"), message=feedback, user_id=ADMIN)
        await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        (pin,) = read_desk(tmp_path / "articles").pins.values()
        changed = [dict(a, text=a["text"] + " وأضافت الهيئة تفاصيل جديدة.") if a["id"] == pin.article_id else a for a in CORPUS]
        write_jsonl(tmp_path / "articles" / "news.jsonl", changed)
        fake.command("/reindex", user_id=ADMIN)
        await fake.wait_for_messages(5, chat_id=ADMIN, timeout=120)
        fake.message(TRAIN, user_id=READER)
        reply = (await fake.wait_for_messages(2, chat_id=READER, timeout=60))[1]
        assert "📌" not in reply["text"]
        dropped = (await fake.wait_for_messages(6, chat_id=ADMIN, timeout=60))[5]
        assert "سقط تثبيت" in dropped["text"] and "تغيّر الخبر" in dropped["text"]
        assert not read_desk(tmp_path / "articles").pins


async def test_a_blocked_domain_leaves_the_answers(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, min_confidence=0.0) as (fake, _app):
        _, feedback = await _down_vote(fake, TRAIN, 2)
        fake.callback(next(data for label, data in buttons(feedback) if label.startswith("⛔")), message=feedback, user_id=ADMIN)
        done = (await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60))[2]
        assert "⛔" in done["text"] and "example.org" in done["text"]
        fake.message(TRAIN, user_id=READER)
        reply = (await fake.wait_for_messages(2, chat_id=READER, timeout=60))[1]
        assert "example.org" not in str(reply.get("entities", [])) and "قطار" not in reply["text"].split("\n")[0]
