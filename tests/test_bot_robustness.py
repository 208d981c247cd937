"""Bad messages, Telegram faults and security checks against the running bot."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from bot.logs import install_redaction
from tests.support.botkit import ADMIN, GROUP, READER, buttons, eventually, reply_despite, running_bot
from tests.support.corpus import ROOT
from tests.support.fake_telegram import FakeTelegram

BAD_MESSAGES = [
    "   ",
    "\t\n",
    "ا" * 4096,
    "😀😀😀🙈",
    "\x01\x02\x03",
    "<b>unclosed <i>tags & entities &amp;",
    "*bold* _italic_ [link](http://x) `code`",
    "<script>alert('x')</script> قطار الحرمين",
    "/ask <a href='javascript:alert(1)'>اضغط</a>",
    "/start junk arguments <>&",
    "/help %s %d {0} {name}",
    "/stats ../../etc/passwd",
    "/unknowncommand",
    "\u200f\u202e\u2066",
]


async def test_bad_messages_get_a_sensible_reply(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        for i, text in enumerate(BAD_MESSAGES):
            fake.message(text, user_id=5000 + i)
        await asyncio.sleep(0.2)
        for i, text in enumerate(BAD_MESSAGES):
            if text == "/unknowncommand":
                continue  # unknown commands are ignored
            (reply,) = await fake.wait_for_messages(1, chat_id=5000 + i)
            assert reply["text"].strip(), text
        assert "طويل جداً" in fake.messages_to(5000 + 2)[0]["text"]
        injected = fake.messages_to(5000 + 8)[0]  # "/ask <a href='javascript:…'>": a question, never a link
        assert "does not seem to cover" in injected["text"] and not any(
            e["type"] == "text_link" for e in injected.get("entities", [])
        )
        assert not fake.errors_returned, fake.errors_returned
        await asyncio.sleep(0.3)
        assert fake.messages_to(5000 + BAD_MESSAGES.index("/unknowncommand")) == []


async def test_edits_and_channel_posts_are_ignored(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(1, chat_id=READER)
        fake.message("قطار الحرمين السريع", user_id=READER, edited=True)
        fake.channel_post(-100999, "قطار الحرمين")
        await asyncio.sleep(0.5)
        assert len(fake.messages_to(READER)) == 1 and fake.messages_to(-100999) == []


async def test_forged_callback_data_variants(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("قطار الحرمين", user_id=READER)
        (first,) = await fake.wait_for_messages(1, chat_id=READER)
        rid = buttons(first)[0][1].split(":")[1]
        for data in ["", "more", "full:x", f"full:{rid}:999", f"more:{rid}:-1", "more:" + "A" * 60, "delete:everything:1"]:
            fake.callback(data, message=first, user_id=READER, forged=True)
        answers = await fake.wait_for_call("answerCallbackQuery", 7)
        assert len(answers) == 7 and all(a.get("text") for a in answers)


async def test_admin_rights_follow_the_sender_not_the_chat(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        # the admin's private chat id used by someone else in a group message: still not an admin
        fake.command("/stats", user_id=READER, chat_id=ADMIN, chat_type="private")
        fake.command("/stats", user_id=ADMIN, chat_id=GROUP, chat_type="group")
        refused = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "للمشرفين فقط" in refused[0]["text"]
        (allowed,) = await fake.wait_for_messages(1, chat_id=GROUP)
        assert "الأخبار: 6" in allowed["text"]


async def test_telegram_faults_no_reply_lost_or_duplicated(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.random_faults(rate_5xx=0.2, rate_429=0.1, retry_after=1, seed=7, methods=("sendMessage", "sendChatAction"))
        users = range(7000, 7012)
        for uid in users:
            fake.message("فيضان نهر النيل في السودان", user_id=uid)
        for uid in users:
            await fake.wait_for_messages(1, chat_id=uid, timeout=60)
        await asyncio.sleep(1.0)
        assert [len(fake.messages_to(uid)) for uid in users] == [1] * len(users)
        assert {status for _, status, _ in fake.errors_returned} >= {429}


async def test_server_errors_on_typing_are_retried_and_reply_still_sent(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        reply = await reply_despite(fake, "sendChatAction", 500, "قطار الحرمين", times=2)
        assert "قطار الحرمين" in reply["text"]
        # typing goes on beside the search: its retries may end after the reply
        await eventually(lambda: len([c for c in fake.calls if c[0] == "sendChatAction"]) >= 3, timeout=30)
        assert len([e for e in fake.errors_returned if e[0] == "sendChatAction"]) == 2, "two 500s, then the retry that worked"


async def test_timeouts_on_typing_are_retried_and_reply_still_sent(tmp_path, embedder):
    """A real client timeout: the fake answers sendChatAction after the bot stopped waiting (read timeout 0.3 s)."""
    async with running_bot(tmp_path, embedder, read_timeout=0.3, telegram_network_retries=1) as (fake, _app):
        fake.delay("sendChatAction", 1.0)
        fake.message("قطار الحرمين", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
        assert "قطار الحرمين" in reply["text"]
        await eventually(lambda: len([c for c in fake.calls if c[0] == "sendChatAction"]) >= 2, timeout=30)


async def test_token_never_logged_even_verbosely(tmp_path, embedder, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    install_redaction([FakeTelegram().token])  # as `python -m bot` does before anything is logged
    # two retries, not five: the same failing requests (and their logged URLs) in a fraction of the waiting
    async with running_bot(tmp_path, embedder, telegram_network_retries=2) as (fake, app):
        try:
            fake.fail_next("sendMessage", status=500, retry_after=None, times=100)
            fake.message("قطار الحرمين", user_id=READER)
            # the reply fails after all retries and reaches the error handler
            await eventually(lambda: app.bot_data.errors, timeout=60)
            await fake.wait_for_call("sendMessage", 6, timeout=60)  # ...which then fails to tell the user too
            app.bot_data.errors.clear()  # expected here
            logging.getLogger("test").error("token check %s", fake.token)
        finally:
            logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.setLogRecordFactory(logging.LogRecord)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "bot<redacted>" in text or "<redacted>" in text
    assert fake.token not in text


async def test_question_log_can_be_off(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, question_log=None) as (fake, _app):
        fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(1, chat_id=READER)
    assert not (tmp_path / "questions.jsonl").exists()


def test_no_pickle_eval_or_shell_in_the_code():
    banned = re.compile(
        r"import pickle|pickle\.|allow_pickle\s*=\s*True|\beval\(|\bexec\(|os\.system|shell\s*=\s*True|subprocess\.|yaml\.load\("
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("index", "bot")
        for path in (ROOT / package).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if banned.search(line)
    ]
    assert offenders == []


def test_model_that_cannot_load_names_the_setting(tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "EMBEDDING_MODEL": str(tmp_path / "missing-model"),
        "HF_HUB_OFFLINE": "1",
    }
    (tmp_path / "a.txt").write_text("عنوان\nنص قصير عن موضوع ما.", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "index", "build", "--articles", str(tmp_path / "a.txt"), "--index", str(tmp_path / "ix")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "EMBEDDING_MODEL" in done.stderr and "Traceback" not in done.stderr


def test_bot_with_damaged_index_is_a_clear_error(tmp_path, embedder):
    import subprocess
    import sys

    from index.build import run_build
    from index.layout import BuildFiles
    from tests.support.corpus import CORPUS, write_jsonl

    write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    report = run_build([tmp_path / "a"], tmp_path / "ix", embedder=embedder, progress=False)
    BuildFiles(Path(report.path)).meta.write_bytes(b"not a database")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "INDEX_DIR": str(tmp_path / "ix")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--console"], cwd=ROOT, env=env, input="سؤال\n", capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1 and BuildFiles(Path(report.path)).meta.name in done.stderr and "Traceback" not in done.stderr
