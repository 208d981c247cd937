"""The real python-telegram-bot Application against the fake Bot API server."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from index.build import run_build
from index.layout import IndexLayout
from index.storage.store import current_build_id
from tests.support.botkit import ADMIN, GROUP, READER, buttons, eventually, reply_despite, running_bot
from tests.support.corpus import write_jsonl


async def test_question_gets_attributed_answer(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert reply["text"].count("قطار الحرمين يرفع عدد رحلاته") >= 1
        assert "ساعتين و20 دقيقة" in reply["text"]
        assert "وكالة الاختبار" in reply["text"] and "10 فبراير 2026" in reply["text"]
        links = [e for e in reply.get("entities", []) if e["type"] == "text_link"]
        assert any(e["url"] == "https://example.org/t/train" for e in links)
        assert any(c[1].get("action") == "typing" for c in fake.calls if c[0] == "sendChatAction")
        assert any(data.startswith("full:") for _, data in buttons(reply))
        log_file = tmp_path / "questions.jsonl"
        # the log line is appended from the log's own thread
        await eventually(lambda: log_file.exists() and log_file.read_text(encoding="utf-8").strip(), timeout=5)
        log = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
        assert log[0]["top_article"] == "t-train" and str(READER) not in json.dumps(log)


async def test_english_question_gets_english_interface(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("chess championship Africa women", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "Sources:" in reply["text"] or "I found no sure answer" in reply["text"]
        assert not any(word in reply["text"] for word in ("المصادر", "لم أجد")), "no Arabic interface words"


async def test_start_and_help(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/start", user_id=READER, first_name="<سارة>")
        fake.command("/help", user_id=ADMIN)
        msgs = await fake.wait_for_messages(1, chat_id=READER)
        assert "أهلاً <سارة>" in msgs[0]["text"] and "6 أخبار" in msgs[0]["text"]
        assert "@news_qa_test_bot" in msgs[0]["text"]
        (help_msg,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "/reindex" in help_msg["text"]


async def test_group_answers_only_when_addressed(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("حديث عادي عن فيضان النيل", user_id=READER, chat_id=GROUP, chat_type="supergroup")
        fake.message(
            "@news_qa_test_bot كم أسرة فقدت منازلها في فيضان النيل؟", user_id=READER, chat_id=GROUP, chat_type="supergroup"
        )
        first = await fake.wait_for_messages(1, chat_id=GROUP)
        assert "5 آلاف أسرة" in first[0]["text"]
        assert first[0].get("reply_to_message"), "group answers quote the question"
        fake.message(
            "وما قيمة جوائز مسابقة جمال الإبل؟", user_id=READER, chat_id=GROUP, chat_type="supergroup", reply_to_bot=True
        )
        fake.command("/ask فوز لاعبة الشطرنج المصرية", user_id=READER, chat_id=GROUP, chat_type="supergroup")
        msgs = await fake.wait_for_messages(3, chat_id=GROUP)
        await asyncio.sleep(0.3)
        assert len(fake.messages_to(GROUP)) == 3, "the unaddressed message got no reply"
        texts = " ".join(m["text"] for m in msgs)
        assert "250 مليون ريال" in texts and "سلمى عبد الرحمن" in texts


async def test_pagination_and_full_passage_buttons(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, top_k=2, min_confidence=0.0) as (fake, _app):
        fake.message("ارتفاع الأسعار والأمطار والفيضانات والمهرجانات", user_id=READER)
        (first,) = await fake.wait_for_messages(1, chat_id=READER)
        more = [data for _, data in buttons(first) if data.startswith("more:")]
        assert more
        fake.callback(more[0], message=first, user_id=READER)
        msgs = await fake.wait_for_messages(2, chat_id=READER)
        assert "مصادر إضافية" in msgs[1]["text"] and "3. " in msgs[1]["text"]
        await fake.wait_for_call("answerCallbackQuery")
        edited = fake.current(READER, first["message_id"])
        assert not any(data.startswith("more:") for _, data in buttons(edited)), "the pressed button is gone"
        full = next(data for _, data in buttons(msgs[1]) if data.startswith("full:"))
        fake.callback(full, message=msgs[1], user_id=READER)
        msgs = await fake.wait_for_messages(3, chat_id=READER)
        assert "المقطع كاملاً" in msgs[2]["text"]
        await fake.wait_for_call("answerCallbackQuery", 2)


async def test_stale_and_forged_buttons_say_expired(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.message("قطار الحرمين", user_id=READER)
        (first,) = await fake.wait_for_messages(1, chat_id=READER)
        # the index is rebuilt with a new article: old buttons now expire (an unchanged folder keeps the build)
        write_jsonl(tmp_path / "articles" / "more.jsonl", [{"id": "n-1", "title": "خبر جديد", "text": "افتتح جسر جديد."}])
        await app.bot_data.builds.reindex()
        fake.callback(buttons(first)[0][1], message=first, user_id=READER)
        fake.callback("full:../../etc:99", message=first, user_id=READER, forged=True)
        answers = await fake.wait_for_call("answerCallbackQuery", 2)
        assert all("انتهت صلاحية" in a.get("text", "") for a in answers)


async def test_admin_commands_refused_for_others(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.command("/reindex", user_id=READER)
        fake.command("/stats", user_id=READER)
        # an admin of nothing: the chat is a group where the admin is present, but the sender is not the admin
        fake.command("/reindex", user_id=READER, chat_id=GROUP, chat_type="group")
        msgs = await fake.wait_for_messages(2, chat_id=READER)
        assert all("للمشرفين فقط" in m["text"] for m in msgs)
        await fake.wait_for_messages(1, chat_id=GROUP)
        assert not app.bot_data.builds.reindexing
        fake.message(None, user_id=READER, document=("x.jsonl", b'{"title": "t", "text": "x"}', "application/json"))
        msgs = await fake.wait_for_messages(3, chat_id=READER)
        assert "للمشرفين فقط" in msgs[2]["text"]
        assert not (tmp_path / "articles" / "uploads").exists()


async def test_stats_for_admin(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("قطار الحرمين", user_id=ADMIN)
        await fake.wait_for_messages(1, chat_id=ADMIN)
        fake.command("/stats", user_id=ADMIN)
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN)
        assert "الأخبار: 6" in msgs[1]["text"] and "أسئلة أُجيب عنها: 1" in msgs[1]["text"]


async def test_reindex_swaps_while_questions_keep_being_answered(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        new = {
            "id": "t-new",
            "title": "افتتاح حديقة حيوان جديدة في أبها",
            "url": "",
            "date": "2026-10-10",
            "source": "وكالة الاختبار",
            "text": "افتتحت أمانة منطقة عسير حديقة حيوان جديدة في مدينة أبها تضم أكثر من 600 حيوان من 80 نوعاً، بينها النمر العربي المهدد بالانقراض.",
        }
        write_jsonl(tmp_path / "articles" / "extra.jsonl", [new])
        old_build = app.bot_data.service.build_id
        fake.command("/reindex", user_id=ADMIN)
        for i in range(5):  # questions keep flowing during the rebuild
            fake.message("فيضان النيل في السودان", user_id=2000 + i)
        for i in range(5):
            await fake.wait_for_messages(1, chat_id=2000 + i)
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "اكتمل تحديث الفهرس" in msgs[-1]["text"] and "أضيف: 1" in msgs[-1]["text"]
        assert app.bot_data.service.build_id != old_build
        fake.message("كم حيواناً في حديقة أبها الجديدة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "النمر العربي" in reply["text"]


async def test_bot_follows_a_build_made_on_the_command_line(tmp_path, embedder):
    """A cron `python -m index update` is picked up without a restart; a broken build is skipped, not fatal."""
    async with running_bot(tmp_path, embedder, index_watch_seconds=1) as (fake, app):
        service, builds, settings = app.bot_data.service, app.bot_data.builds, app.bot_data.settings
        await app.post_init(app)  # what run_polling does: starts the index watcher
        try:
            await _follow_a_cron_build(tmp_path, embedder, fake, service, builds, settings)
        finally:
            await app.post_shutdown(app)  # stops the watcher


async def _follow_a_cron_build(tmp_path, embedder, fake, service, builds, settings):
    """Write an article, update on the "command line", wait for the watcher; then a broken build."""
    old_build = service.build_id
    new = {
        "id": "t-cron",
        "title": "افتتاح أول مرصد فلكي عام في تبوك",
        "date": "2026-11-01",
        "source": "وكالة الاختبار",
        "text": "افتتحت جامعة تبوك أول مرصد فلكي مفتوح للجمهور في المنطقة، ويضم تلسكوباً بقطر 60 سنتيمتراً.",
    }
    write_jsonl(tmp_path / "articles" / "cron.jsonl", [new])
    await asyncio.to_thread(
        run_build,
        [settings.articles_dir],
        settings.index_dir,
        settings.build_config(),
        embedder=embedder,
        incremental=True,
        progress=False,
    )
    await eventually(lambda: service.build_id != old_build, timeout=10)  # the watcher looks every second
    assert service.build_id == current_build_id(settings.index_dir) != old_build
    fake.message("ما قطر تلسكوب مرصد تبوك؟", user_id=READER)
    (reply,) = await fake.wait_for_messages(1, chat_id=READER)
    assert "60 سنتيمتراً" in reply["text"]

    # a build that cannot be opened: logged once, the bot keeps serving what it has
    serving = service.build_id
    broken = IndexLayout(settings.index_dir).build("2099-01-01T00-00-00-000000Z").root
    broken.mkdir()
    IndexLayout(settings.index_dir).current.write_text(broken.name, encoding="utf-8")
    assert not await builds.follow_current()
    assert service.build_id == serving and not await builds.follow_current()


async def test_second_reindex_is_refused_politely(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        builds = app.bot_data.builds
        builds.reindexing = True  # as if one were running
        fake.command("/reindex", user_id=ADMIN)
        (msg,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "يجري تحديث الفهرس" in msg["text"]
        builds.reindexing = False


async def test_two_reindex_commands_at_once_start_one_update(tmp_path, embedder):
    """Red-team finding of 2026-12: two /reindex within milliseconds both got "started". The slow sendMessage holds
    the first handler inside its "started" reply while the second one runs (updates are handled concurrently)."""
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.delay("sendMessage", 0.5)
        fake.command("/reindex", user_id=ADMIN)
        fake.command("/reindex", user_id=ADMIN)
        msgs = await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)  # started, busy, then done
        texts = [m["text"] for m in msgs]
        assert len([t for t in texts if "بدأ تحديث الفهرس" in t]) == 1, texts
        assert len([t for t in texts if "يجري تحديث الفهرس" in t]) == 1, texts
        assert any("اكتمل تحديث الفهرس" in t for t in texts), texts


async def test_admin_upload_is_saved_safely_and_indexed(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        article = {
            "title": "مطار جديد في العلا",
            "text": "افتتح مطار العلا الدولي الجديد بطاقة استيعابية تبلغ مليوني مسافر سنوياً.",
        }
        fake.message(
            None,
            user_id=ADMIN,
            document=("../../../etc/evil.jsonl", json.dumps(article, ensure_ascii=False).encode(), "application/json"),
        )
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "حفظت" in msgs[0]["text"] and "evil.jsonl" in msgs[0]["text"]
        (saved,) = (tmp_path / "articles" / "uploads").iterdir()
        assert saved.name.endswith("-evil.jsonl")  # named by upload time, inside the uploads folder
        assert "أضيف: 1" in msgs[1]["text"]
        fake.message(None, user_id=ADMIN, document=("bad.json", b"{not json", "application/json"))
        fake.message(None, user_id=ADMIN, document=("photo.png", b"\x89PNG", "image/png"))
        later = [m["text"] for m in (await fake.wait_for_messages(4, chat_id=ADMIN))[2:]]
        assert any("لم أضف الملف" in t and "bad JSON" in t for t in later)
        assert any("غير مدعوم" in t for t in later)
        assert [p.name for p in (tmp_path / "articles" / "uploads").iterdir()] == [saved.name]


async def test_upload_during_a_running_update_is_indexed_after_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        builds = app.bot_data.builds
        builds.reindexing = True  # as if an update were running
        article = {"title": "سوق جديد للتمور في القصيم", "text": "افتتح في بريدة سوق جديد للتمور يضم 400 محل."}
        fake.message(None, user_id=ADMIN, document=("dates.jsonl", json.dumps(article, ensure_ascii=False).encode(), "x"))
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN)
        assert "حفظت" in msgs[0]["text"] and "فور انتهائه" in msgs[1]["text"]
        builds.reindexing = False  # ... and now it ends
        msgs = await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        assert "أضيف: 1" in msgs[2]["text"]


async def test_long_replies_are_split(tmp_path, embedder):
    long_text = " ".join(f"وأضاف التقرير أن قطار الحرمين السريع نقل {i} ألف راكب في اليوم رقم {i} من الموسم." for i in range(150))
    write_jsonl(
        tmp_path / "articles" / "long.jsonl", [{"id": "t-long", "title": "تقرير مطول عن قطار الحرمين", "text": long_text}]
    )
    # passages of up to 2,000 words, so one passage is longer than a Telegram message
    big = {"chunk_target_words": 1500, "chunk_max_words": 2000}
    async with running_bot(tmp_path, embedder, **big) as (fake, _app):
        fake.message("تقرير مطول عن قطار الحرمين", user_id=READER)
        (first,) = await fake.wait_for_messages(1, chat_id=READER)
        full = [data for _, data in buttons(first) if data.startswith("full:")]
        for data in full:
            fake.callback(data, message=first, user_id=READER)
        await fake.wait_for_call("answerCallbackQuery", len(full))
        await asyncio.sleep(0.5)
        sent = fake.messages_to(READER)
        assert len(sent) > 1 + len(full), "at least one full passage needed several messages"
        assert not fake.errors_returned


async def test_flood_limit_429_is_retried_and_delivered(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        reply = await reply_despite(fake, "sendMessage", 429, "قطار الحرمين السريع", retry_after=1)
        assert "قطار الحرمين" in reply["text"]
        assert [e[1] for e in fake.errors_returned] == [429]


async def test_server_error_is_retried(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        reply = await reply_despite(fake, "sendMessage", 502, "قطار الحرمين السريع", times=2)
        assert "قطار الحرمين" in reply["text"]
        assert len(fake.messages_to(READER)) == 1


async def test_non_text_messages_get_an_explanation(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message(None, user_id=READER, sticker=True)
        fake.message(None, user_id=READER, photo=True, caption="ما هذا؟")
        fake.message(None, user_id=READER, voice=True, language_code="en")
        msgs = await fake.wait_for_messages(3, chat_id=READER)
        assert sum("الأسئلة المكتوبة" in m["text"] for m in msgs) == 2
        assert sum("written questions" in m["text"] for m in msgs) == 1
        fake.message(None, user_id=READER, chat_id=GROUP, chat_type="group", sticker=True)
        await asyncio.sleep(0.3)
        assert fake.messages_to(GROUP) == [], "stickers in groups are ignored"


async def test_no_answer_reply_and_empty_ask(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("ما هي عاصمة أستراليا؟", user_id=READER)
        fake.command("/ask", user_id=ADMIN)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "لم أجد" in reply["text"] and not buttons(reply)
        (hint,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "/ask" in hint["text"]


async def test_rate_limit_is_friendly(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, rate_limit_per_minute=2) as (fake, _app):
        for _ in range(4):
            fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(3, chat_id=READER)
        await asyncio.sleep(0.5)
        msgs = fake.messages_to(READER)
        assert len(msgs) == 3 and sum("مهلة قدرها" in m["text"] for m in msgs) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_requires_the_secret_token(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, polling=False) as (fake, app):
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        public = "https://bot.example.org/hook"  # what Telegram is told; it posts to our local listener
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=public, secret_token="s3cret-Token_1"
        )
        assert fake.webhook["url"] == public and fake.webhook["secret_token"] == "s3cret-Token_1"
        update = {
            "update_id": 77,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": READER, "type": "private", "first_name": "R"},
                "from": {"id": READER, "is_bot": False, "first_name": "R"},
                "text": "قطار الحرمين السريع",
            },
        }
        fake.add_chat(READER, "private")
        async with httpx.AsyncClient(trust_env=False) as client:
            bad = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            missing = await client.post(url, json=update)
            good = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"})
        assert bad.status_code == 403 and missing.status_code == 403 and good.status_code == 200
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "قطار الحرمين" in reply["text"]
        await asyncio.sleep(0.3)
        assert len(fake.messages_to(READER)) == 1, "the rejected posts were not processed"


async def test_error_handler_reports_and_records(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        service = app.bot_data.service
        original = service.ask

        async def broken(*args, **kwargs):
            raise RuntimeError("search exploded")

        service.ask = broken
        fake.message("قطار الحرمين", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "حدث خطأ غير متوقع" in reply["text"]
        assert [str(e) for e in app.bot_data.errors] == ["search exploded"]
        app.bot_data.errors.clear()  # expected here; the fixture asserts no others
        service.ask = original
        fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(2, chat_id=READER)


@pytest.mark.parametrize("token", ["", "not-a-token", "123:has spaces"])
def test_missing_or_malformed_token_is_a_clear_error(token, tmp_path):
    import subprocess
    import sys

    from tests.support.corpus import ROOT

    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": token, "INDEX_DIR": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr


async def test_real_entry_point_answers_and_stops_cleanly_on_sigterm(tmp_path, embedder):
    """`python -m bot` as deployed: long polling against the fake server, then SIGTERM."""
    import os
    import signal
    import sys

    from index.build import run_build
    from tests.support.corpus import CORPUS, ROOT
    from tests.support.fake_telegram import FakeTelegram

    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    run_build([tmp_path / "articles"], tmp_path / "index", embedder=embedder, progress=False)
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "INDEX_DIR": str(tmp_path / "index"),
            "ARTICLES_DIR": str(tmp_path / "articles"),
            "ADMIN_USER_IDS": str(ADMIN),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            await fake.wait_for_call("getUpdates", timeout=120)
            fake.message("قطار الحرمين السريع", user_id=READER)
            (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
            assert "قطار الحرمين" in reply["text"]
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        finally:
            if proc.returncode is None:
                proc.kill()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "Traceback" not in err.decode() and fake.token not in err.decode()
        assert any(c[0] == "setMyCommands" for c in fake.calls)
