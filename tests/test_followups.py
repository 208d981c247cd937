"""Follow-up questions: the rule, the engine, the console, the command line and the bot in chats and groups."""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest

from bot.console import ConsoleSession
from bot.conversations import Conversations, private_key, thread_key
from index.__main__ import main as index_cli
from index.search.followup import MAX_CARRIED, Understood, understand
from index.text.followup import signs, words
from tests.support.botkit import GROUP, READER, buttons, running_bot

FIRST = "كم رحلة يومياً يسيرها قطار الحرمين السريع في رمضان؟"
FOLLOW = "وكم تستغرق الرحلة بين المدينتين؟"
UNDERSTOOD = "فهمت سؤالك"


def shares_of(table: dict[str, float]):
    """A stand-in for the build's word counts: the share of passages holding each word (unlisted: 0.5)."""
    return lambda ws: [table.get(w, 0.5) for w in ws]


# ------------------------------------------------------------------ the rule, word by word


@pytest.mark.parametrize(
    ("question", "opener", "reference"),
    [
        ("ومتى حدث ذلك؟", True, True),
        ("ومن يرأسها؟", True, True),
        ("كم عددهم؟", False, True),
        ("وكم بلغت تكلفته؟", True, True),
        ("فمن المسؤول عنه؟", True, True),
        ("وماذا عن جدة؟", True, False),
        ("ما هي عاصمة فرنسا؟", False, False),  # «ما هي» asks; it points back to nothing
        ("من هو وزير الصحة؟", False, False),
        ("متى افتتح مستشفى الدمام؟", False, False),
        ("And who else?", True, True),
        ("What about Jeddah?", True, False),
        ("How much did it cost?", False, True),
        ("Who is the Saudi minister of health?", False, False),
    ],
)
def test_signs_of_leaning_on_the_previous_question(question, opener, reference):
    sign = signs(question)
    assert (sign.opener, sign.reference) == (opener, reference)


def test_content_words_leave_out_question_and_function_words():
    assert signs("ومتى حدث ذلك؟").content == ("حدث",)
    assert signs("And when did that happen?").content == ("happen",)
    assert signs("وما هي الجهة التي أعلنت عن مهرجان الزهور في ينبع؟").content == ("الجهة", "أعلنت", "مهرجان", "الزهور", "ينبع")


def test_diacritics_do_not_split_words():
    assert words("ومن سجّل الهدف الأوّل؟") == ["ومن", "سجل", "الهدف", "الأول"]


def test_a_follow_up_carries_the_previous_questions_rarest_words_in_their_order():
    previous = Understood("كم عدد الحجاج القادمين عبر مطار الملك عبدالعزيز في جدة؟")
    shares = shares_of({"عدد": 0.2, "الحجاج": 0.01, "القادمين": 0.02, "مطار": 0.03, "الملك": 0.3, "عبدالعزيز": 0.04, "جدة": 0.05})
    understood = understand("ومتى حدث ذلك؟", previous, shares)
    assert understood.followup
    assert understood.carried == ("الحجاج", "القادمين", "مطار", "عبدالعزيز")[:MAX_CARRIED]
    assert understood.text == "ومتى حدث ذلك؟ الحجاج القادمين مطار عبدالعزيز"
    assert understood.shown == "ومتى حدث ذلك؟ (الحجاج القادمين مطار عبدالعزيز)"


def test_a_fully_specified_question_opening_with_waw_stands_alone():
    previous = Understood("كم عدد الحجاج القادمين عبر مطار جدة؟")
    question = "وما هي الجهة التي أعلنت عن مهرجان الزهور في ينبع؟"
    assert not understand(question, previous, shares_of({})).followup


def test_a_question_that_does_not_lean_back_stands_alone_however_short():
    previous = Understood("كم عدد الحجاج القادمين عبر مطار جدة؟")
    assert not understand("ما هي عاصمة فرنسا؟", previous, shares_of({})).followup
    assert not understand("ومتى حدث ذلك؟", None, shares_of({})).followup


def test_words_already_asked_are_not_carried_again():
    previous = Understood("متى افتتح مستشفى السرطان في الدمام؟")
    understood = understand("ومن افتتح المستشفى؟", previous, shares_of({}))
    assert understood.followup and "افتتح" not in understood.carried


def test_english_follow_ups_carry_the_first_content_words_of_an_english_question():
    previous = Understood("How many pilgrims arrived at Jeddah airport this year?")
    understood = understand("And when did that happen?", previous, shares_of({}))
    assert understood.carried == ("pilgrims", "arrived", "Jeddah", "airport", "year")


def test_the_article_the_reply_led_with_goes_with_the_follow_up(searcher):
    first = searcher.understand(FIRST)
    result = searcher.search(first)
    answered = first.answered(result)
    assert answered.about == ("t-train",)
    assert searcher.understand(FOLLOW, answered).about == ("t-train",)
    assert searcher.understand("ما سعة مستشفى السرطان في الدمام؟", answered).about == ()


def test_carried_terms_weigh_less_in_the_answer_stages_only(searcher):
    q = searcher.analyse("وكم تستغرق الرحلة؟", ("قطار", "الحرمين")).q
    assert q.followup and q.carried.sum() == 2
    lighter = q.carried_weighing(0.1)
    assert np.allclose(lighter.idf[q.carried], q.idf[q.carried] * 0.1)
    assert np.allclose(lighter.idf[~q.carried], q.idf[~q.carried])
    assert not searcher.analyse("وكم تستغرق الرحلة؟").q.followup


def test_search_says_how_a_follow_up_was_understood(searcher):
    first = searcher.understand(FIRST)
    first = first.answered(searcher.search(first))
    result = searcher.search(searcher.understand(FOLLOW, first))
    assert result.understood_as and "قطار" in result.understood_as
    assert "ساعتين" in result.hits[0].passage.text
    payload = result.to_json()
    assert payload["understood_as"] == result.understood_as and payload["band"] in ("answer", "tentative")
    assert searcher.search(FIRST).to_json()["understood_as"] is None


# ------------------------------------------------------------------ memory of conversations


def test_conversations_forget_after_the_timeout_and_on_new():
    now = [0.0]
    conversations = Conversations(timeout=600, clock=lambda: now[0])
    conversations.remember([private_key(1)], Understood("سؤال"))
    now[0] = 599
    assert conversations.previous(private_key(1)) == Understood("سؤال")
    now[0] = 601  # silence is counted from the last question, not from the last look
    assert conversations.previous(private_key(1)) is None
    conversations.remember([private_key(1)], Understood("سؤال"))
    assert conversations.forget(private_key(1)) and conversations.previous(private_key(1)) is None
    assert not conversations.forget(private_key(1))


def test_conversations_are_bounded_and_keyed_by_thread():
    conversations = Conversations(size=3)
    for n in range(5):
        conversations.remember([thread_key(GROUP, n)], Understood(f"q{n}"))
    assert len(conversations) == 3
    assert conversations.previous(thread_key(GROUP, 0)) is None
    assert conversations.previous(thread_key(GROUP, 4)) == Understood("q4")


# ------------------------------------------------------------------ console and command line


def test_the_console_is_one_private_chat(searcher):
    session = ConsoleSession(searcher)
    session.reply(FIRST)
    followed = session.reply(FOLLOW)
    assert UNDERSTOOD in followed and "ساعتين" in followed
    assert "صفحة جديدة" in session.reply("/new")
    assert UNDERSTOOD not in session.reply(FOLLOW)


def test_the_console_forgets_after_the_follow_up_time(searcher):
    now = [0.0]
    session = ConsoleSession(searcher, followup_seconds=600, clock=lambda: now[0])
    session.reply(FIRST)
    now[0] = 601
    assert UNDERSTOOD not in session.reply(FOLLOW)


def test_search_conversation_on_the_command_line(built_index, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{FIRST}\n{FOLLOW}\n/new\n{FOLLOW}\n"))
    assert index_cli(["search", "--index", str(built_index), "--conversation", "--json", "-q"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["understood_as"] is not None for row in rows] == [False, True, False]
    assert rows[1]["understood_as"].startswith(FOLLOW)


def test_search_after_a_given_question(built_index, capsys):
    assert index_cli(["search", "--index", str(built_index), "--after", FIRST, "--json", "-q", FOLLOW]) == 0
    assert json.loads(capsys.readouterr().out)["understood_as"].startswith(FOLLOW)


# ------------------------------------------------------------------ the bot


async def test_private_follow_up_new_question_button_and_new_command(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message(FIRST, user_id=READER)
        fake_first = await fake.wait_for_messages(1, chat_id=READER)
        assert "120 رحلة" in fake_first[0]["text"] and UNDERSTOOD not in fake_first[0]["text"]
        fake.message(FOLLOW, user_id=READER)
        (followed,) = (await fake.wait_for_messages(2, chat_id=READER))[1:]
        assert UNDERSTOOD in followed["text"] and "قطار" in followed["text"].split("\n")[0]
        assert "ساعتين" in followed["text"]
        anew = [data for _, data in buttons(followed) if data.startswith("anew:")]
        assert len(anew) == 1
        fake.callback(anew[0], message=followed, user_id=READER)
        (again,) = (await fake.wait_for_messages(3, chat_id=READER))[2:]
        assert UNDERSTOOD not in again["text"], "the new-question button asks without the earlier context"
        fake.message(FIRST, user_id=READER)
        await fake.wait_for_messages(4, chat_id=READER)
        fake.command("/new", user_id=READER)
        (cleared,) = (await fake.wait_for_messages(5, chat_id=READER))[4:]
        assert "صفحة جديدة" in cleared["text"]
        fake.message(FOLLOW, user_id=READER)
        (alone,) = (await fake.wait_for_messages(6, chat_id=READER))[5:]
        assert UNDERSTOOD not in alone["text"]


async def test_english_follow_up_is_explained_in_english(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("How many trips a day does the Haramain high speed train run in Ramadan?", user_id=READER)
        await fake.wait_for_messages(1, chat_id=READER)
        fake.message("And how long does the trip take?", user_id=READER)
        (followed,) = (await fake.wait_for_messages(2, chat_id=READER))[1:]
        assert "I took your question as:" in followed["text"]
        assert any(label.startswith("🆕 New question") for label, _ in buttons(followed))


async def test_group_threads_follow_replies_and_unrelated_replies_stay_clean(tmp_path, embedder):
    kw = {"user_id": READER, "chat_id": GROUP, "chat_type": "supergroup"}
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message(f"@news_qa_test_bot {FIRST}", **kw)
        (train,) = await fake.wait_for_messages(1, chat_id=GROUP)
        fake.message("@news_qa_test_bot كم أسرة فقدت منازلها في فيضان النيل؟", **kw)
        (flood,) = (await fake.wait_for_messages(2, chat_id=GROUP))[1:]
        # a reply to the first answer continues that thread, not the latest one
        fake.message(FOLLOW, reply_to=train["message_id"], **kw)
        (followed,) = (await fake.wait_for_messages(3, chat_id=GROUP))[2:]
        assert UNDERSTOOD in followed["text"] and "قطار" in followed["text"] and "ساعتين" in followed["text"]
        # a reply that asks something unrelated, even opening with «و», is answered on its own
        fake.message("وما قيمة جوائز مسابقة جمال الإبل؟", reply_to=flood["message_id"], **kw)
        (unrelated,) = (await fake.wait_for_messages(4, chat_id=GROUP))[3:]
        assert UNDERSTOOD not in unrelated["text"] and "250 مليون ريال" in unrelated["text"]
        # a new mention that replies to nothing starts afresh
        fake.message(f"@news_qa_test_bot {FOLLOW}", **kw)
        (fresh,) = (await fake.wait_for_messages(5, chat_id=GROUP))[4:]
        assert UNDERSTOOD not in fresh["text"]
        await asyncio.sleep(0.2)
        assert len(fake.messages_to(GROUP)) == 5
