"""Interface polish: command menus per language and scope, /lang, /start deep links, the inline "ask in private" button."""

from __future__ import annotations

import json

from bot.app import publish_commands
from bot.deeplinks import deep_link, question_from_payload, start_payload
from tests.support.botkit import ADMIN, READER, running_bot


def test_deep_link_payloads_round_trip():
    for question in ("كم تستغرق الرحلة بالقطار؟", "Who won the chess title?", "قطار"):
        payload = start_payload(question)
        assert (
            payload
            and len(payload) <= 64
            and set(payload) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        )
        assert question_from_payload(payload) == question
    assert start_payload("سؤال طويل جداً " * 10) is None, "longer than Telegram's 64 characters"
    assert deep_link("news_qa_test_bot", "قطار") == f"https://t.me/news_qa_test_bot?start={start_payload('قطار')}"
    for bad in ("", "a b", "////", "_w", "gA", "x" * 65, start_payload("\x00\x01")):
        assert question_from_payload(bad or "") is None


async def test_start_with_a_question_payload_answers_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command(f"/start {start_payload('فيضان النيل في السودان')}", user_id=READER)
        fake.command("/start !!notbase64", user_id=READER + 1)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "5 آلاف أسرة" in reply["text"] or "فيضانات في السودان" in reply["text"]
        (welcome,) = await fake.wait_for_messages(1, chat_id=READER + 1)
        assert "أهلاً" in welcome["text"]


async def test_lang_command_switches_the_interface(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/lang en", user_id=READER)
        (done,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "now English" in done["text"]
        fake.message("فيضان النيل في السودان", user_id=READER)
        msgs = await fake.wait_for_messages(2, chat_id=READER)
        assert "Sources:" in msgs[1]["text"], "an Arabic question, English interface by choice"
        fake.command("/lang xx", user_id=READER)
        fake.command("/lang ar", user_id=READER)
        msgs = await fake.wait_for_messages(4, chat_id=READER)
        assert "/lang ar" in msgs[2]["text"] and "العربية" in msgs[3]["text"]
        fake.command("/help", user_id=READER)
        msgs = await fake.wait_for_messages(5, chat_id=READER)
        assert "@news_qa_test_bot" in msgs[4]["text"] and "/report" not in msgs[4]["text"]


async def test_command_menus_per_language_and_admin_scope(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.add_chat(ADMIN)
        await publish_commands(app.bot, [ADMIN, 999])  # 999: an admin with no chat yet is skipped quietly
        menus = {}
        for method, params in fake.calls:
            if method == "setMyCommands":
                scope = params.get("scope") or {"type": "default"}
                key = (json.dumps(scope, sort_keys=True), params.get("language_code"))
                menus[key] = [c["command"] for c in params["commands"]]
        default = json.dumps({"type": "default"})
        admin = json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)
        assert menus[(default, "ar")] == menus[(default, None)] == ["start", "help", "ask", "new", "lang"]
        assert (default, "en") in menus and (admin, "ar") in menus and (admin, "en") in menus
        assert "report" in menus[(admin, "en")] and "report" not in menus[(default, "en")]
        descriptions = [p for m, p in fake.calls if m == "setMyCommands" and p.get("language_code") == "en"]
        assert any(c["description"] == "Update the index" for p in descriptions for c in p["commands"])
    assert not [e for e in fake.errors_returned if e[0] == "setMyCommands" and "chat not found" not in e[2]]


async def test_inline_answer_offers_a_private_chat_deep_link(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("قطار الحرمين", user_id=READER)
        (answer,) = await fake.wait_for_inline_answers(1)
        assert question_from_payload(answer["button"]["start_parameter"]) == "قطار الحرمين"
