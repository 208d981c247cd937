"""An update never empties an index built from another folder without a confirmation.

Red-team finding of 2026-12 (docs/reliability.md): the index was built with ``--articles DIR1``
and the bot run with ``ARTICLES_DIR=DIR2``; the first upload then reported "added 1 · removed 305".
"""

from __future__ import annotations

import json
import os

import pytest

from index.__main__ import main as index_cli
from tests.support.botkit import ADMIN, READER, buttons, eventually, make_settings
from tests.support.corpus import CORPUS, ROOT, write_jsonl
from tests.support.fake_telegram import FakeTelegram

NEW = {"id": "g-new", "title": "افتتاح جسر جديد فوق الخليج", "text": "افتتح جسر بطول 40 كيلومتراً يربط الضفتين فوق الخليج."}


def cli(*args: str) -> int:
    return index_cli([*args, "-q"])


def stats(index):
    from index.storage.loading import open_index

    return open_index(index).manifest


def test_an_update_from_another_folder_is_refused_until_confirmed(tmp_path, capsys):
    write_jsonl(tmp_path / "built-from" / "news.jsonl", CORPUS)
    write_jsonl(tmp_path / "other" / "one.jsonl", [NEW])
    index = str(tmp_path / "ix")
    assert cli("build", "--articles", str(tmp_path / "built-from"), "--index", index) == 0
    capsys.readouterr()
    assert cli("update", "--articles", str(tmp_path / "other"), "--index", index) == 1
    err = capsys.readouterr().err
    assert "update refused" in err and "6 of the index's 6 articles" in err and "--allow-removals" in err
    assert "Traceback" not in err and stats(index).articles == 6, "nothing changed"
    assert cli("update", "--articles", str(tmp_path / "other"), "--index", index, "--allow-removals") == 0
    assert stats(index).articles == 1


def test_every_article_of_a_folder_not_given_is_refused_even_below_half(tmp_path, capsys):
    write_jsonl(tmp_path / "a" / "news.jsonl", CORPUS[:2])
    write_jsonl(tmp_path / "b" / "news.jsonl", CORPUS[2:])
    write_jsonl(tmp_path / "c" / "news.jsonl", [NEW])
    index = str(tmp_path / "ix")
    assert cli("build", "--articles", str(tmp_path / "a"), str(tmp_path / "b"), "--index", index) == 0
    capsys.readouterr()
    # 2 of 6 removed (under half), but they are every article of folder a, which this update was not given
    assert cli("update", "--articles", str(tmp_path / "b"), str(tmp_path / "c"), "--index", index) == 1
    err = capsys.readouterr().err
    assert "every article read from" in err and str((tmp_path / "a").resolve()) in err
    # dropping some of a folder's articles, with the folder given, is an ordinary update
    write_jsonl(tmp_path / "a" / "news.jsonl", CORPUS[:1])
    assert cli("update", "--articles", str(tmp_path / "a"), str(tmp_path / "b"), "--index", index) == 0


def test_sources_are_recorded_resolved(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    monkeypatch.chdir(tmp_path)
    assert cli("build", "--articles", "articles", "--index", "ix") == 0
    assert stats(tmp_path / "ix").sources == [str((tmp_path / "articles").resolve())]
    # the next update, from another working directory, compares the same folder
    os.chdir(ROOT)
    assert cli("update", "--articles", str(tmp_path / "articles"), "--index", str(tmp_path / "ix")) == 0


def test_the_share_is_a_setting(tmp_path, monkeypatch, capsys):
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    index = str(tmp_path / "ix")
    assert cli("build", "--articles", str(tmp_path / "articles"), "--index", index) == 0
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS[:4])  # 2 of 6 removed: a third
    monkeypatch.setenv("MAX_REMOVED_SHARE", "0.25")
    assert cli("update", "--articles", str(tmp_path / "articles"), "--index", index) == 1
    monkeypatch.setenv("MAX_REMOVED_SHARE", "0.5")
    assert cli("update", "--articles", str(tmp_path / "articles"), "--index", index) == 0


@pytest.fixture
async def bot_on_another_folder(tmp_path, embedder):
    """The README's old path: the index built from one folder, the bot run with ARTICLES_DIR pointing at another."""
    from bot.app import build_application
    from bot.service import QAService
    from index.build import run_build
    from index.search.searcher import Searcher

    write_jsonl(tmp_path / "demo" / "news.jsonl", CORPUS)
    async with FakeTelegram() as fake:
        settings = make_settings(fake, tmp_path, articles_dir=tmp_path / "bot-articles", index_channels="@gulf_news_ch")
        run_build([tmp_path / "demo"], settings.index_dir, embedder=embedder, progress=False)
        app = build_application(settings, QAService(settings, Searcher.open(settings.index_dir, embedder=embedder)))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
            try:
                yield fake, app
            finally:
                await app.updater.stop()
                await app.stop()
        assert app.bot_data.errors == []


async def answered(fake, user: int) -> str:
    fake.message("كم سريراً في مستشفى الدمام لعلاج السرطان؟", user_id=user)
    (reply,) = await fake.wait_for_messages(1, chat_id=user, timeout=60)
    return reply["text"]


async def test_an_upload_to_the_bot_cannot_empty_an_index_built_elsewhere(bot_on_another_folder):
    fake, _app = bot_on_another_folder
    fake.message(None, user_id=ADMIN, document=("one.jsonl", json.dumps(NEW, ensure_ascii=False).encode(), "application/json"))
    msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
    refusal = msgs[1]
    assert "رفضت تحديث الفهرس" in refusal["text"] and "6 أخبار من أصل 6" in refusal["text"]
    assert CORPUS[0]["title"] in refusal["text"] and "/" not in refusal["text"].split("\n")[0], "titles, no server paths"
    assert "300 سرير" in await answered(fake, READER), "the index still serves every article"
    confirm = next(data for label, data in buttons(refusal) if "أكّد" in label)
    fake.callback(confirm, message=refusal, user_id=ADMIN)
    msgs = await fake.wait_for_messages(4, chat_id=ADMIN, timeout=60)
    assert "حُذف: 6" in msgs[3]["text"] and "أضيف: 1" in msgs[3]["text"]


async def test_reindex_on_the_wrong_folder_is_refused_and_can_be_cancelled(bot_on_another_folder, tmp_path):
    fake, _app = bot_on_another_folder
    write_jsonl(tmp_path / "bot-articles" / "one.jsonl", [NEW])
    fake.command("/reindex", user_id=ADMIN)
    msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
    refusal = msgs[1]
    assert "رفضت تحديث الفهرس" in refusal["text"]
    cancel = next(data for label, data in buttons(refusal) if "إلغاء" in label)
    fake.callback(cancel, message=refusal, user_id=ADMIN)
    assert "أُلغي" in (await fake.wait_for_messages(3, chat_id=ADMIN))[2]["text"]
    assert "300 سرير" in await answered(fake, READER)


async def test_a_refused_channel_batch_keeps_its_posts_and_tells_the_admins_once(bot_on_another_folder, tmp_path):
    from index.corpus.telegram import channel_file

    fake, app = bot_on_another_folder
    feed = app.bot_data.channels
    feed.interval, feed.settle = 0.3, 0.05
    fake.message("/start", user_id=ADMIN)
    await fake.wait_for_messages(1, chat_id=ADMIN)
    for n in range(2):
        fake.channel_post(-1001234500001, f"خبر رقم {n} من القناة\nنص الخبر رقم {n} عن افتتاح مدرسة.", username="gulf_news_ch")
        await eventually(lambda n=n: feed.batches > n and feed._task.done(), timeout=60)  # the batch, refusal told or not
    await fake.wait_for_messages(2, chat_id=ADMIN)
    told = [m for m in fake.messages_to(ADMIN) if "رفضت" in m["text"]]
    assert len(told) == 1, "told once, not at every batch"
    assert len(channel_file(tmp_path / "bot-articles", "gulf_news_ch").read_text(encoding="utf-8").splitlines()) == 2
    assert "300 سرير" in await answered(fake, READER)
