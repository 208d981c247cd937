"""Admins' uploads through the fake Bot API server: nothing an earlier upload brought is ever lost without a word.

Red-team findings of 2026-12 (docs/reliability.md): a second upload under an earlier one's
name replaced it; an upload made while a command-line build held the lock was never indexed;
an upload with no declared size was downloaded whole before its size was checked; long names
lost their suffix; a file with no name was read as text.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.botkit import ADMIN, READER, buttons, eventually, running_bot

ARTICLE_A = {
    "id": "up-falcon",
    "title": "مزاد الصقور يبيع صقراً بمليون ريال",
    "text": "اشترى رجل أعمال من الأحساء صقراً نادراً في مزاد نادي الصقور بمبلغ مليون ريال، وهو أعلى سعر في موسم المزاد.",
}
ARTICLE_B = {
    "id": "up-oman-train",
    "title": "قطار عُمان يربط مسقط بصحار",
    "text": "تستغرق رحلة القطار الجديد بين مسقط وصحار ساعة وأربعين دقيقة، بسرعة تبلغ 200 كيلومتر في الساعة.",
}


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


async def upload(fake, name: str | None, content: bytes, mime: str = "application/json", **kw) -> None:
    fake.message(None, user_id=ADMIN, document=(name, content, mime), **kw)


async def ask(fake, question: str, user: int) -> str:
    fake.message(question, user_id=user)
    (reply,) = await fake.wait_for_messages(1, chat_id=user, timeout=60)
    return reply["text"]


async def admin_messages(fake, n: int) -> list[dict]:
    return await fake.wait_for_messages(n, chat_id=ADMIN, timeout=90)


def upload_files(tmp_path):
    folder = tmp_path / "articles" / "uploads"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


async def test_a_second_upload_under_the_same_name_keeps_the_first_and_asks_before_dropping(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        await upload(fake, "news.jsonl", jsonl(ARTICLE_A))
        assert "أضيف: 1" in (await admin_messages(fake, 2))[1]["text"]
        await upload(fake, "news.jsonl", jsonl(ARTICLE_B))
        msgs = await admin_messages(fake, 4)
        question = msgs[2]
        assert ARTICLE_A["title"] in question["text"], "the article the new file would drop is named"
        assert [label for label, _ in buttons(question)] == ["♻️ استبدل السابق", "📚 أبقِ الملفين"]
        assert "حُذف: 0" in msgs[3]["text"] and "أضيف: 1" in msgs[3]["text"]
        assert len(upload_files(tmp_path)) == 2 and all(n.endswith("-news.jsonl") for n in upload_files(tmp_path))
        assert "مليون ريال" in await ask(fake, "بكم بيع الصقر في مزاد نادي الصقور؟", READER)
        assert "ساعة وأربعين دقيقة" in await ask(fake, "كم تستغرق رحلة القطار بين مسقط وصحار؟", READER + 1)
        keep = next(data for label, data in buttons(question) if "أبقِ" in label)
        fake.callback(keep, message=question, user_id=ADMIN)
        assert "أبقيت الملفين" in (await admin_messages(fake, 5))[4]["text"]
        assert len(upload_files(tmp_path)) == 2


async def test_replace_drops_the_earlier_file_after_the_admin_says_so(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        await upload(fake, "news.jsonl", jsonl(ARTICLE_A))
        await admin_messages(fake, 2)
        await upload(fake, "news.jsonl", jsonl(ARTICLE_B))
        question = (await admin_messages(fake, 4))[2]
        replace = next(data for label, data in buttons(question) if "استبدل" in label)
        fake.callback(replace, message=fake.current(ADMIN, question["message_id"]), user_id=READER, forged=True)
        await fake.wait_for_call("answerCallbackQuery", 1)
        assert len(upload_files(tmp_path)) == 2, "only an admin's press replaces"
        fake.callback(replace, message=fake.current(ADMIN, question["message_id"]), user_id=ADMIN)
        msgs = await admin_messages(fake, 6)
        assert "حذفت الملف السابق" in msgs[4]["text"] and "حُذف: 1" in msgs[5]["text"]
        assert len(upload_files(tmp_path)) == 1
        assert "مليون ريال" not in await ask(fake, "بكم بيع الصقر في مزاد نادي الصقور؟", READER)


async def test_the_same_name_with_every_earlier_article_replaces_it_quietly(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        await upload(fake, "news.jsonl", jsonl(ARTICLE_A))
        await admin_messages(fake, 2)
        corrected = {**ARTICLE_A, "text": ARTICLE_A["text"].replace("مليون ريال", "مليوني ريال")}
        await upload(fake, "news.jsonl", jsonl(corrected, ARTICLE_B))
        msgs = await admin_messages(fake, 4)
        assert "يحل محل الملف السابق" in msgs[2]["text"] and not buttons(msgs[2])
        assert len(upload_files(tmp_path)) == 1
        assert "مليوني ريال" in await ask(fake, "بكم بيع الصقر في مزاد نادي الصقور؟", READER)


async def test_the_newest_upload_of_an_article_wins_whatever_its_name(tmp_path, embedder):
    """Two files with the same article id: the later upload's copy is indexed (the loader reads uploads in time order)."""
    async with running_bot(tmp_path, embedder) as (fake, _app):
        await upload(fake, "b-first.jsonl", jsonl(ARTICLE_A))
        await admin_messages(fake, 2)
        corrected = {**ARTICLE_A, "text": ARTICLE_A["text"].replace("مليون ريال", "ثلاثة ملايين ريال")}
        await upload(fake, "a-correction.jsonl", jsonl(corrected))  # sorts before the first by name
        msgs = await admin_messages(fake, 4)
        assert "تغيّر: 1" in msgs[3]["text"]
        assert "ثلاثة ملايين ريال" in await ask(fake, "بكم بيع الصقر في مزاد نادي الصقور؟", READER)


async def test_uploads_lists_every_file_with_its_articles(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/uploads", user_id=ADMIN)
        assert "لا توجد ملفات" in (await admin_messages(fake, 1))[0]["text"]
        await upload(fake, "one.jsonl", jsonl(ARTICLE_A, ARTICLE_B))
        await admin_messages(fake, 3)
        fake.command("/uploads", user_id=ADMIN)
        listing = (await admin_messages(fake, 4))[3]["text"]
        assert "one.jsonl" in listing and "خبران" in listing
        fake.command("/uploads", user_id=READER)
        assert "للمشرفين فقط" in (await fake.wait_for_messages(1, chat_id=READER))[0]["text"]


async def test_an_upload_while_the_command_line_holds_the_lock_is_indexed_when_it_ends(tmp_path, embedder):
    from index.storage.store import build_lock

    async with running_bot(tmp_path, embedder) as (fake, _app):
        with build_lock(tmp_path / "index"):  # a `python -m index update` running from cron
            await upload(fake, "news.jsonl", jsonl(ARTICLE_A))
            msgs = await admin_messages(fake, 2)
            assert "سطر الأوامر" in msgs[1]["text"], "the admin is told the update waits"
        done = (await admin_messages(fake, 3))[2]
        assert "أضيف: 1" in done["text"]
        assert "مليون ريال" in await ask(fake, "بكم بيع الصقر في مزاد نادي الصقور؟", READER)


async def test_an_update_gives_up_on_a_lock_held_too_long_and_says_so(tmp_path, embedder):
    from index.storage.store import build_lock

    async with running_bot(tmp_path, embedder, index_lock_wait_seconds=0.5) as (fake, _app):
        with build_lock(tmp_path / "index"):
            await upload(fake, "news.jsonl", jsonl(ARTICLE_A))
            msgs = await admin_messages(fake, 3)
        assert "لم أحدّث الفهرس" in msgs[2]["text"] and "/reindex" in msgs[2]["text"]
        assert len(upload_files(tmp_path)) == 1, "the file is kept for the next update"


@pytest.mark.parametrize("declared", [None, 100], ids=["no-size-declared", "wrong-size-declared"])
async def test_an_upload_is_streamed_and_cut_at_the_size_limit(tmp_path, embedder, declared):
    big = jsonl(*({**ARTICLE_A, "id": f"big-{i}"} for i in range(60_000)))  # about 19 MB
    assert len(big) > 15_000_000
    async with running_bot(tmp_path, embedder, max_upload_mb=0.05) as (fake, _app):
        await upload(fake, "big.jsonl", big, declared_size=declared)
        (reply,) = await admin_messages(fake, 1)
        assert "أكبر من الحد" in reply["text"]
        await asyncio.sleep(0.2)  # let the server notice the hang-up
        (served,) = fake.file_bytes_served.values()
        assert served < len(big) // 2, f"read {served:,} of {len(big):,} bytes: the download was not cut off"
        assert upload_files(tmp_path) == [] and not list((tmp_path / "articles" / "uploads").iterdir())


async def test_a_long_arabic_name_keeps_its_suffix(tmp_path, embedder):
    name = "تقرير " + "أخبار المنطقة الشرقية وتطورات مشاريع البنية التحتية " * 4 + ".jsonl"
    assert len(name) > 150
    async with running_bot(tmp_path, embedder) as (fake, _app):
        await upload(fake, name, jsonl(ARTICLE_A))
        msgs = await admin_messages(fake, 2)
        assert "حفظت" in msgs[0]["text"] and "أضيف: 1" in msgs[1]["text"]
        (saved,) = upload_files(tmp_path)
        assert saved.endswith(".jsonl") and len(saved.encode()) < 255


async def test_a_file_with_no_name_is_read_by_its_type_or_refused(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        await upload(fake, None, jsonl(ARTICLE_A), mime="application/json")
        await admin_messages(fake, 2)
        service = app.bot_data.service
        await eventually(lambda: not app.bot_data.builds.reindexing, timeout=30)
        titles = [a["title"] for a in service.searcher.stored.latest_articles(50)]
        assert ARTICLE_A["title"] in titles, "read as JSON, not as text whose first line is the title"
        await upload(fake, None, b"\x00\x01 data", mime="application/octet-stream")
        assert "اسم" in (await admin_messages(fake, 3))[2]["text"]


def test_safe_filename():
    from index.corpus.uploads import safe_filename

    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("..\\..\\win.ini.json") == "win.ini.json"
    assert safe_filename(".hidden.jsonl") == "hidden.jsonl"
    assert safe_filename("أخبار اليوم.JSONL") == "أخبار اليوم.jsonl"
    assert safe_filename("a;rm -rf ~.txt") == "a_rm -rf _.txt"
    assert "/" not in safe_filename("/abs/path/x.md")
    assert safe_filename("noext") == "upload-noext"
    long = safe_filename("خبر" * 200 + ".jsonl")
    assert long.endswith(".jsonl") and len(long.encode()) <= 180


def test_uploads_are_never_overwritten_and_sort_by_time(tmp_path):
    from datetime import UTC, datetime

    from index.corpus.uploads import list_uploads, save_upload

    at = datetime(2026, 12, 5, 20, 30, tzinfo=UTC)
    for content in ("one", "two", "three"):
        incoming = tmp_path / f".incoming-{content}"
        incoming.write_text(content, encoding="utf-8")
        save_upload(tmp_path, incoming, "news.jsonl", now=at)  # the same second, even the same microsecond
    found = list_uploads(tmp_path)
    assert [u.path.read_text(encoding="utf-8") for u in found] == ["one", "two", "three"]
    assert {u.name for u in found} == {"news.jsonl"}


def test_uploads_from_before_the_stamped_names_are_renamed_by_their_time(tmp_path):
    import os

    from index.corpus.uploads import list_uploads

    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "zzz-old.jsonl").write_text("old", encoding="utf-8")
    os.utime(folder / "zzz-old.jsonl", (1_700_000_000, 1_700_000_000))
    (folder / "20261205-203000-000000-new.jsonl").write_text("new", encoding="utf-8")
    assert [(u.name, u.path.read_text(encoding="utf-8")) for u in list_uploads(tmp_path)] == [
        ("zzz-old.jsonl", "old"),
        ("new.jsonl", "new"),
    ]
