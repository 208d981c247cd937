"""Tests of the fake Telegram server, driven through the real python-telegram-bot so the fake stays faithful to it."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.support.fake_telegram import FakeTelegram, parse_html

USER = 1001


def _request(read_timeout: float = 5.0) -> HTTPXRequest:
    # trust_env=False: proxy variables in the environment must not hijack loopback traffic.
    return HTTPXRequest(read_timeout=read_timeout, httpx_kwargs={"trust_env": False})


def build_app(fake: FakeTelegram, token: str | None = None) -> Application:
    return (
        ApplicationBuilder()
        .token(token or fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .request(_request())
        .get_updates_request(_request(read_timeout=15.0))
        .build()
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:
    application = build_app(fake)
    async with application:
        yield application


async def test_get_me_and_valid_html_is_accepted_and_recorded(fake: FakeTelegram, app: Application) -> None:
    me = await app.bot.get_me()
    assert (me.id, me.username, me.is_bot) == (fake.bot_id, fake.bot_username, True)

    fake.message("سلام")
    html = '<b>الخبر</b> &amp; <a href="https://example.org/a?x=1&amp;y=2">المصدر</a> <i>😀 <u>مهم</u></i> &#x27;q&#39;'
    sent = await app.bot.send_message(USER, html, parse_mode=ParseMode.HTML)

    assert sent.text == "الخبر & المصدر 😀 مهم 'q'"
    assert sent.chat.id == USER and sent.from_user.id == fake.bot_id and sent.message_id == 2
    by_type = {e.type: e for e in sent.entities}
    assert sent.parse_entity(by_type["bold"]) == "الخبر"
    assert sent.parse_entity(by_type["text_link"]) == "المصدر" and by_type["text_link"].url == "https://example.org/a?x=1&y=2"
    assert sent.parse_entity(by_type["underline"]) == "مهم"  # UTF-16 offsets survive the emoji before it
    assert fake.sent[-1]["text"] == sent.text and fake.messages_to(USER) == fake.sent
    assert fake.calls[-1] == ("sendMessage", {"chat_id": USER, "text": html, "parse_mode": "HTML"})


async def test_string_params_are_not_json_decoded_but_others_are(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="1")]])
    await app.bot.send_message(USER, "42", reply_markup=markup, disable_notification=True)
    method, params = fake.calls[-1]
    assert method == "sendMessage"
    assert params["text"] == "42" and params["chat_id"] == USER and params["disable_notification"] is True
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "1", "callback_data": "1"}]]}
    assert fake.sent[-1]["text"] == "42" and fake.sent[-1]["reply_markup"] == params["reply_markup"]


def test_parse_html_entities_offsets_and_pre_language() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>\n<blockquote expandable>q</blockquote>')
    assert text == "x = 1\nq"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 6, "length": 1},
    ]
    assert parse_html('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>')[1][1]["type"] == "spoiler"


@pytest.mark.parametrize(
    ("text", "parse_mode", "expected"),
    [
        ("<b>x", "HTML", "can't parse entities: Can't find end tag corresponding to start tag \"b\""),
        ("<div>x</div>", "HTML", 'can\'t parse entities: Unsupported start tag "div" at byte offset 0'),
        ("a < b & c", "HTML", 'can\'t parse entities: Unsupported start tag "" at byte offset 2'),
        ("a &amp; b & c", "HTML", 'must be escaped as "&amp;" at byte offset 10'),
        ("&nbsp;x", "HTML", 'unsupported HTML entity "&nbsp;"'),
        ("<b><i>x</b></i>", "HTML", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "HTML", "Unexpected end tag at byte offset 1"),
        ('<b class="x">x</b>', "HTML", 'Unsupported attribute "class" in the tag "b"'),
        ("<a>x</a>", "HTML", 'Tag "a" must have a non-empty attribute "href"'),
        ("<span>x</span>", "HTML", 'Tag "span" must have class "tg-spoiler"'),
        ("<br>", "HTML", 'Unsupported start tag "br"'),
        ("", None, "message text is empty"),
        (" \n\t ", None, "message text is empty"),
        ("<b> </b>", "HTML", "message text is empty"),
        ("x" * 4097, None, "message is too long"),
        ("😀" * 2049, None, "message is too long"),  # 2049 characters but 4098 UTF-16 code units
        ("<b>x</b>" + "y" * 4096, "HTML", "message is too long"),
    ],
)
async def test_send_message_rejects_like_telegram(
    fake: FakeTelegram, app: Application, text: str, parse_mode: str | None, expected: str
) -> None:
    fake.message("hi")
    with pytest.raises(BadRequest) as caught:
        await app.bot.send_message(USER, text, parse_mode=parse_mode)
    # PTB drops the "Bad Request: " prefix and re-capitalises, so the exact wording is checked on the server side.
    assert expected.lower() in caught.value.message.lower()
    method, status, description = fake.errors_returned[-1]
    assert (method, status) == ("sendMessage", 400) and description.startswith("Bad Request: ") and expected in description
    assert fake.sent == []


async def test_length_limit_counts_parsed_text(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    await app.bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await app.bot.send_message(USER, "ب" * 4096)
    assert [len(m["text"]) for m in fake.sent] == [4096, 4096]


async def test_callback_data_limit_is_64_utf8_bytes(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ب" * 32)]])  # 64 bytes
    await app.bot.send_message(USER, "x", reply_markup=ok)
    for data in ("a" * 65, "ب" * 33):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data=data)]])
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await app.bot.send_message(USER, "x", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await app.bot.send_message(USER, "x", reply_markup={"inline_keyboard": [[{"text": "bare"}]]})
    assert len(fake.sent) == 1


async def test_unknown_chat_token_and_method(fake: FakeTelegram, app: Application) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(999, "x")
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("getChatFoo")
    assert fake.errors_returned[-1] == ("getChatFoo", 404, "Not Found")
    with pytest.raises(InvalidToken):
        async with build_app(fake, token="999:WRONG"):
            pass
    assert fake.errors_returned[-1] == ("getMe", 401, "Unauthorized")


async def test_running_application_echoes_and_stops_fast(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"صدى: {update.message.text}")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"start args={context.args}")

    application = build_app(fake)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0)
        fake.message("مرحبا")
        fake.command("/start@news_qa_test_bot now", user_id=2002, chat_id=-100, chat_type="supergroup")
        assert [m["text"] for m in await fake.wait_for_messages(1, chat_id=USER, timeout=5)] == ["صدى: مرحبا"]
        assert [m["text"] for m in await fake.wait_for_messages(1, chat_id=-100, timeout=5)] == ["start args=['now']"]
        began = time.monotonic()
        await application.updater.stop()
        await application.stop()
    assert time.monotonic() - began < 2
    polls = [p for m, p in fake.calls if m == "getUpdates"]
    assert polls[-1]["offset"] == 3 and polls[-1]["timeout"] == 0  # PTB's final confirming call


async def test_long_poll_is_woken_by_injection_and_by_stop(fake: FakeTelegram, app: Application) -> None:
    began = time.monotonic()
    poll = asyncio.create_task(app.bot.get_updates(timeout=10))
    await fake.wait_for_call("getUpdates", timeout=2)
    fake.message("wake up")
    (update,) = await poll
    assert update.message.text == "wake up" and time.monotonic() - began < 2

    poll = asyncio.create_task(app.bot.get_updates(offset=update.update_id + 1, timeout=10))
    await fake.wait_for_call("getUpdates", n=2, timeout=2)
    began = time.monotonic()
    await fake.stop()
    assert await poll == () and time.monotonic() - began < 2


async def test_get_updates_offset_limit_and_conflicts(fake: FakeTelegram, app: Application) -> None:
    ids = [fake.message(f"m{i}")["update_id"] for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    assert [u.update_id for u in await app.bot.get_updates(limit=2)] == [1, 2]
    assert [u.update_id for u in await app.bot.get_updates(offset=3)] == [3, 4, 5]
    assert [u.update_id for u in await app.bot.get_updates(offset=-1)] == [5]
    assert await app.bot.get_updates(offset=6) == ()

    await app.bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert fake.webhook == {"url": "https://example.org/hook", "secret_token": "s3cret"}
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await app.bot.get_updates()
    assert (await app.bot.get_webhook_info()).url == "https://example.org/hook"
    await app.bot.delete_webhook()

    polls = len(await fake.wait_for_call("getUpdates", timeout=0))
    first = asyncio.create_task(app.bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates", n=polls + 1, timeout=2)
    second = asyncio.create_task(app.bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await first
    assert await second == ()


async def test_retry_after_and_server_errors(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    fake.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(USER, "x")
    assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert fake.errors_returned == [("sendMessage", 429, "Too Many Requests: retry after 1")]
    await app.bot.send_message(USER, "x")  # only the next call failed

    fake.fail_next("sendmessage", status=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await app.bot.send_message(USER, "y")
    assert [m["text"] for m in fake.sent] == ["x"]


async def test_random_faults_are_seeded() -> None:
    async def pattern() -> list[str]:
        async with FakeTelegram() as server:
            bot_app = build_app(server)
            async with bot_app:
                server.message("hi")
                server.random_faults(rate_5xx=0.3, rate_429=0.3, seed=7)
                outcome = []
                for _ in range(12):
                    try:
                        await bot_app.bot.send_message(USER, "x")
                        outcome.append("ok")
                    except RetryAfter:
                        outcome.append("429")
                    except NetworkError:
                        outcome.append("5xx")
                return outcome

    first, second = await pattern(), await pattern()
    assert first == second and {"ok", "429", "5xx"} <= set(first)


async def test_delay_times_out_the_client_but_the_message_is_sent(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    fake.delay("sendMessage", 3)
    began = time.monotonic()
    with pytest.raises(TimedOut):
        await app.bot.send_message(USER, "slow", read_timeout=0.3)
    assert time.monotonic() - began < 2 and [m["text"] for m in fake.sent] == ["slow"]


async def test_document_download(fake: FakeTelegram, app: Application) -> None:
    content = "محتوى الملف".encode()
    update = Update.de_json(fake.message(None, document=("تقرير 1.txt", content, "text/plain"), caption="اقرأ"), app.bot)
    document = update.message.document
    assert (document.file_name, document.mime_type, document.file_size, update.message.caption) == (
        "تقرير 1.txt",
        "text/plain",
        len(content),
        "اقرأ",
    )
    file = await app.bot.get_file(document.file_id)
    assert file.file_size == len(content)
    assert bytes(await file.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await app.bot.get_file("nope")


async def test_document_upload_is_decoded_from_multipart(fake: FakeTelegram, app: Application) -> None:
    fake.message("hi")
    sent = await app.bot.send_document(USER, document=b"%PDF-1", filename="r.pdf", caption="<b>تقرير</b>", parse_mode="HTML")
    method, params = fake.calls[-1]
    assert method == "sendDocument" and params["chat_id"] == USER and params["caption"] == "<b>تقرير</b>"
    assert (params["document"].file_name, params["document"].content) == ("r.pdf", b"%PDF-1")
    assert sent.caption == "تقرير" and sent.caption_entities[0].type == "bold"
    assert bytes(await (await app.bot.get_file(sent.document.file_id)).download_as_bytearray()) == b"%PDF-1"


async def test_media_and_special_updates_parse_in_ptb(fake: FakeTelegram, app: Application) -> None:
    sticker = Update.de_json(fake.message(None, sticker=True), app.bot).message.sticker
    photo = Update.de_json(fake.message(None, photo=True, caption="صورة"), app.bot).message.photo
    voice = Update.de_json(fake.message(None, voice=True), app.bot).message.voice
    assert sticker.type == "regular" and photo[-1].width == 800 and voice.duration in (3, dtm.timedelta(seconds=3))
    assert bytes(await (await app.bot.get_file(photo[-1].file_id)).download_as_bytearray()).startswith(b"\xff\xd8")

    edited = Update.de_json(fake.message("fixed", edited=True), app.bot)
    assert edited.edited_message.message_id == 3 and edited.edited_message.edit_date is not None
    post = Update.de_json(fake.channel_post(-1005, "خبر"), app.bot)
    assert post.channel_post.chat.type == "channel" and post.channel_post.sender_chat.id == -1005

    mention = Update.de_json(fake.message("سؤال @news_qa_test_bot؟", chat_id=-7, chat_type="group"), app.bot).message
    assert mention.parse_entities() == {mention.entities[0]: "@news_qa_test_bot"}
    assert mention.chat.title and mention.from_user.id == USER
    assert "entities" not in fake.message("/سؤال")["message"]  # Telegram commands are Latin only

    await app.bot.send_message(-7, "جواب")
    reply = Update.de_json(fake.message("و؟", chat_id=-7, chat_type="group", reply_to_bot=True), app.bot).message
    assert reply.reply_to_message.from_user.id == fake.bot_id and reply.reply_to_message.text == "جواب"


async def test_callback_query_answer_and_edit(fake: FakeTelegram) -> None:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("نعم", callback_data="yes"), InlineKeyboardButton("لا", callback_data="no")]]
        )
        await update.message.reply_text("هل أعجبك؟", reply_markup=keyboard)

    async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("شكرا")
        await update.callback_query.edit_message_text(f"اخترت {update.callback_query.data}")

    application = build_app(fake)
    application.add_handler(CommandHandler("ask", ask))
    application.add_handler(CallbackQueryHandler(answered))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0)
        fake.command("/ask")
        (question,) = await fake.wait_for_messages(1, timeout=5)
        with pytest.raises(ValueError, match="no inline button"):
            fake.callback("maybe", message=question)
        query_id = fake.callback("yes", message=question)["callback_query"]["id"]
        (edit,) = await fake.wait_for_call("editMessageText", timeout=5)
        await application.updater.stop()
        await application.stop()

        assert edit["text"] == "اخترت yes"
        current = fake.current(USER, question["message_id"])
        assert current["text"] == "اخترت yes" and "reply_markup" not in current
        assert fake.sent[0]["text"] == "هل أعجبك؟"  # the record of what was sent stays unedited
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await application.bot.answer_callback_query(query_id)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await application.bot.edit_message_text("اخترت yes", chat_id=USER, message_id=question["message_id"])
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await application.bot.edit_message_text("x", chat_id=USER, message_id=999)
        assert await application.bot.delete_message(USER, question["message_id"])
        assert fake.current(USER, question["message_id"]) is None


async def test_commands_chat_action_and_reply(fake: FakeTelegram, app: Application) -> None:
    await app.bot.set_my_commands([("ask", "اسأل عن الأخبار"), ("help", "مساعدة")])
    assert [c.command for c in await app.bot.get_my_commands()] == ["ask", "help"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([("Ask-Me", "x")])
    await app.bot.delete_my_commands()
    assert await app.bot.get_my_commands() == ()

    question = fake.message("ما الخبر؟")["message"]
    assert await app.bot.send_chat_action(USER, "typing")
    reply = await app.bot.send_message(USER, "هذا", reply_to_message_id=question["message_id"])
    assert reply.reply_to_message.text == "ما الخبر؟"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await app.bot.send_message(USER, "x", reply_to_message_id=12345)

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("أكثر", callback_data="more")]])
    await app.bot.edit_message_reply_markup(USER, reply.message_id, reply_markup=keyboard)
    assert fake.current(USER, reply.message_id)["reply_markup"] == keyboard.to_dict()
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_reply_markup(USER, reply.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await app.bot.edit_message_text("x", chat_id=USER, message_id=question["message_id"])


async def test_plain_http_clients_get_telegram_shaped_answers(fake: FakeTelegram) -> None:
    fake.add_chat(USER)
    async with httpx.AsyncClient(trust_env=False) as client:
        root = f"{fake.base_url}{fake.token}"
        sent = (await client.post(f"{root}/SENDMESSAGE", json={"chat_id": USER, "text": "مرحبا"})).json()
        assert sent["ok"] and sent["result"]["text"] == "مرحبا"
        assert (await client.get(f"{root}/getMe")).json()["result"]["username"] == fake.bot_username
        markup = json.dumps({"inline_keyboard": [[{"text": "go", "url": "not a url"}]]})
        bad = await client.post(f"{root}/sendMessage", data={"chat_id": str(USER), "text": "x", "reply_markup": markup})
        assert bad.status_code == 400 and "Wrong HTTP URL" in bad.json()["description"]
        assert (await client.get(f"{fake.base_url}0:bad/getMe")).json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_wait_for_messages_timeout_explains(fake: FakeTelegram, app: Application) -> None:
    with pytest.raises(TimeoutError, match=r"expected 1 message\(s\) to chat 5(.|\n)*getMe"):
        await fake.wait_for_messages(1, chat_id=5, timeout=0.1)


# ---------------------------------------------------------------- inline queries, photos, channels


async def _inline_query_id(fake: FakeTelegram, app: Application, text: str = "q") -> str:
    fake.inline_query(text, user_id=USER)
    updates = await app.bot.get_updates(timeout=1)
    return updates[-1].inline_query.id


def _article(result_id: str, message: str, title: str = "t"):
    from telegram import InlineQueryResultArticle, InputTextMessageContent

    return InlineQueryResultArticle(result_id, title, InputTextMessageContent(message, parse_mode=ParseMode.HTML))


async def test_answer_inline_query_is_checked_like_telegram(fake: FakeTelegram, app: Application):
    query_id = await _inline_query_id(fake, app)
    for results, reason in (
        ([_article("x" * 65, "ok")], "RESULT_ID_INVALID"),
        ([_article("a", "ok"), _article("a", "ok")], "RESULT_ID_DUPLICATE"),
        ([_article("a", "<b>broken")], "can't parse entities"),
        ([_article("a", "x" * 4097)], "too long"),
    ):
        with pytest.raises(BadRequest, match=f"(?i){reason}"):
            await app.bot.answer_inline_query(query_id, results)
    assert await app.bot.answer_inline_query(query_id, [_article("a", "<b>fine</b>")], cache_time=60)
    assert fake.inline_answers[-1]["results"][0]["id"] == "a"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await app.bot.answer_inline_query(query_id, [_article("b", "again")])


async def test_send_photo_and_get_chat(fake: FakeTelegram, app: Application):
    fake.add_chat(USER)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    message = await app.bot.send_photo(USER, png, caption="<b>chart</b>", parse_mode=ParseMode.HTML)
    assert message.caption == "chart" and fake.photos[-1]["content"] == png
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await app.bot.send_photo(USER, b"not an image")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_photo(USER, png, caption="x" * 1025)
    fake.channel_post(-1001234, "first post", username="news_channel", title="News channel")
    chat = await app.bot.get_chat("@news_channel")
    assert (chat.id, chat.type, chat.title) == (-1001234, "channel", "News channel")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.get_chat("@nobody_here")


async def test_channel_posts_and_their_edits_arrive_as_channel_updates(fake: FakeTelegram, app: Application):
    fake.channel_post(-1001234, "see https://example.org/a", username="news_channel")
    fake.channel_post(-1001234, None, caption="a caption", photo=True)
    fake.channel_post(-1001234, "edited text", edit_of=1)
    updates = await app.bot.get_updates(timeout=1)
    first, second, edit = updates[-3:]
    assert first.channel_post.text.startswith("see") and first.channel_post.entities[0].type == "url"
    assert second.channel_post.caption == "a caption" and second.channel_post.photo
    assert edit.edited_channel_post.message_id == 1 and edit.edited_channel_post.date == first.channel_post.date
    assert edit.effective_chat.username == "news_channel"
