"""Channel posts as a live corpus, through the fake Bot API server; and the Telegram Desktop export reader."""

from __future__ import annotations

import errno
import json

from index.corpus.articles import load_file
from index.corpus.records import LoadResult
from index.corpus.telegram import bare_channel_id, channel_file, export_records, post_record, store_posts
from tests.support.botkit import ADMIN, READER, eventually, running_bot

PUBLIC = -1001234500001
PRIVATE = -1001234500002
OTHER = -1001234500003

POST = (
    "افتتاح متحف للطيران في جدة\n"
    "افتتحت هيئة المتاحف متحفاً للطيران في مدينة جدة يضم 45 طائرة تاريخية، أقدمها طائرة شراعية من عام 1930."
)


def _feed(app, interval: float = 0.5):
    feed = app.bot_data.channels
    feed.interval, feed.settle = interval, 0.1
    return feed


async def test_channel_post_is_answerable_and_edits_replace_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch, -1001234500002") as (fake, app):
        feed = _feed(app)
        fake.channel_post(PUBLIC, POST, username="gulf_news_ch", title="قناة أخبار الخليج")
        fake.message("فيضان النيل في السودان", user_id=READER + 5)  # answered meanwhile
        await fake.wait_for_messages(1, chat_id=READER + 5)
        await eventually(lambda: feed.updates >= 1, timeout=60)
        assert feed.updates == 1
        fake.message("كم طائرة في متحف الطيران في جدة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "45 طائرة" in reply["text"] and "قناة أخبار الخليج" in reply["text"]
        assert any(e.get("url") == "https://t.me/gulf_news_ch/1" for e in reply.get("entities", []))
        # the edit replaces the article
        fake.channel_post(PUBLIC, POST.replace("45", "60"), username="gulf_news_ch", title="قناة أخبار الخليج", edit_of=1)
        await eventually(lambda: feed.updates >= 2, timeout=60)
        fake.message("كم طائرة في متحف الطيران في جدة؟", user_id=READER)
        replies = await fake.wait_for_messages(2, chat_id=READER)
        assert "60 طائرة" in replies[1]["text"] and "45 طائرة" not in replies[1]["text"]
        stored = (tmp_path / "articles" / "telegram" / "gulf_news_ch.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(stored) == 1 and "60 طائرة" in stored[0]
        await feed.close()


async def test_private_channel_caption_and_unlisted_channel(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, index_channels=str(PRIVATE)) as (fake, app):
        feed = _feed(app)
        fake.channel_post(OTHER, "خبر من قناة غير مدرجة عن مرصد فلكي في تبوك يضم تلسكوباً عملاقاً", title="قناة أخرى")
        caption = "وصول أول قطار كهربائي إلى ميناء ينبع\nوصل أول قطار شحن كهربائي إلى ميناء ينبع محملاً بـ 80 حاوية."
        fake.channel_post(PRIVATE, None, caption=caption, photo=True, title="نشرة الموانئ")
        await eventually(lambda: feed.updates >= 1, timeout=60)
        assert not (tmp_path / "articles" / "telegram" / str(bare_channel_id(OTHER))).with_suffix(".jsonl").exists()
        (record,) = [json.loads(line) for line in channel_file(tmp_path / "articles", "1234500002").read_text().splitlines()]
        assert record["url"] == "" and record["source"] == "نشرة الموانئ" and record["title"].startswith("وصول أول قطار")
        fake.message("كم حاوية حمل القطار الكهربائي إلى ميناء ينبع؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "80 حاوية" in reply["text"]
        await feed.close()


async def test_a_burst_of_posts_is_one_index_update(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch") as (fake, app):
        feed = _feed(app, interval=60)
        feed.settle = 1.0
        for n in range(3):
            fake.channel_post(PUBLIC, f"خبر عاجل رقم {n}\nنص الخبر العاجل رقم {n} عن افتتاح سوق جديدة.", username="gulf_news_ch")
        await eventually(lambda: feed.updates >= 1, timeout=60)
        fake.channel_post(PUBLIC, "خبر رابع\nنص خبر رابع عن افتتاح مكتبة عامة.", username="gulf_news_ch")
        stored = channel_file(tmp_path / "articles", "gulf_news_ch")
        await eventually(lambda: len(stored.read_text().splitlines()) == 4, timeout=30)  # stored at once...
        assert feed.updates == 1 and feed._dirty, "... and indexed by the next batch, which waits out the minute"
        await feed.close()


def test_post_record_and_store_replace_by_id(tmp_path):
    record = post_record(
        chat_id=PUBLIC, message_id=7, text="  عنوان\nنص  ", date="2026-11-01T10:00:00", channel_title="ق", username="abcd_e"
    )
    assert record["id"] == "tg-1234500001-7" and record["title"] == "عنوان" and record["url"] == "https://t.me/abcd_e/7"
    assert record["date"] == "2026-11-01 10:00:00"
    assert post_record(chat_id=PUBLIC, message_id=8, text=" \n ", date="", channel_title="ق") is None
    path = tmp_path / "c.jsonl"
    assert store_posts(path, [record]) == 1 and store_posts(path, [record]) == 0
    assert store_posts(path, [{**record, "text": "عنوان\nنص آخر"}]) == 1
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_telegram_desktop_export_is_read_as_articles(tmp_path):
    export = {
        "name": "قناة الاختبار",
        "type": "private_channel",
        "id": 1234500002,
        "messages": [
            {"id": 1, "type": "service", "date": "2026-01-01T09:00:00", "action": "create_channel"},
            {
                "id": 2,
                "type": "message",
                "date": "2026-01-02T10:30:00",
                "text": ["افتتاح ", {"type": "bold", "text": "جسر"}, " جديد\nافتتح جسر جديد فوق الوادي بطول 2 كيلومتر."],
            },
            {"id": 3, "type": "message", "date": "2026-01-03T11:00:00", "text": "", "photo": "photos/1.jpg"},
            {"id": 4, "type": "message", "date": "2026-01-04T12:00:00", "text": "سطر واحد فقط عن المطر"},
        ],
    }
    records = export_records(export)
    assert [r["id"] for r in records] == ["tg-1234500002-2", "tg-1234500002-4"]
    path = tmp_path / "export" / "result.json"
    path.parent.mkdir()
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    result = LoadResult()
    articles = load_file(path, result)
    assert not result.problems
    assert [a.title for a in articles] == ["افتتاح جسر جديد", "سطر واحد فقط عن المطر"]
    assert articles[0].text == "افتتح جسر جديد فوق الوادي بطول 2 كيلومتر." and articles[0].source == "قناة الاختبار"
    assert articles[0].date == "2026-01-02 10:30:00" and articles[0].url == ""
    # the same post from the bot has the same id, so an export and live posts never count twice
    live = post_record(chat_id=PRIVATE, message_id=2, text="x", date="", channel_title="")
    assert live["id"] == articles[0].id


async def test_pages_linked_from_posts_are_fetched_and_indexed(tmp_path, embedder):
    from index.corpus.articles import load_articles
    from tests.support.website import NewsSite, SiteServer

    site = NewsSite.generate(2)
    page = site.pages[0]
    with SiteServer(site) as server:
        settings = {"allow_private_urls": True, "fetch_delay_seconds": 0, "fetch_timeout_seconds": 2}
        async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch", **settings) as (fake, app):
            feed = _feed(app)
            fake.channel_post(PUBLIC, f"التفاصيل في موقعنا\n{server.url(page.path)}", username="gulf_news_ch")
            await eventually(lambda: feed.updates >= 1, timeout=60)
            titles = {a.title for a in load_articles([tmp_path / "articles" / "web"]).articles}
            assert page.title in titles
            assert page.title in {t for (t,) in app.bot_data.service.searcher.stored.db().execute("SELECT title FROM articles")}
            await feed.close()


def test_store_keeps_a_damaged_line_and_drops_removed_posts(tmp_path):
    path = tmp_path / "c.jsonl"
    one = post_record(chat_id=PUBLIC, message_id=1, text="عنوان\nنص أول", date="", channel_title="ق")
    two = post_record(chat_id=PUBLIC, message_id=2, text="عنوان\nنص ثان", date="", channel_title="ق")
    store_posts(path, [one, two])
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    assert store_posts(path, [], (one["id"],)) == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "{not json" and len(lines) == 2 and json.loads(lines[0])["id"] == two["id"]


async def test_a_post_that_cannot_be_written_waits_and_is_indexed_later(tmp_path, embedder, monkeypatch):
    """A full disk when a post arrives: the post waits in memory, the admins are told once, nothing is posted
    in the channel, and the next batch writes and indexes it (Telegram never sends a post twice)."""
    import bot.channels

    real = bot.channels.store_posts
    failing = [True]

    def store_posts(*args, **kwargs):
        if failing[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.channels, "store_posts", store_posts)
    async with running_bot(tmp_path, embedder, index_channels="1234500002") as (fake, app):  # as exports show ids
        feed = _feed(app)
        fake.message("/start", user_id=ADMIN)  # the admin has a chat with the bot
        await fake.wait_for_messages(1, chat_id=ADMIN)
        fake.channel_post(PRIVATE, POST, title="نشرة")
        fake.channel_post(PRIVATE, POST.replace("جدة", "الطائف"), title="نشرة")
        await eventually(lambda: feed.waiting == 2, timeout=30)
        (told,) = (await fake.wait_for_messages(2, chat_id=ADMIN))[1:]
        assert "منشورات القناة" in told["text"] and "إعادة تشغيل" in told["text"]
        assert fake.messages_to(PRIVATE) == []  # never published in the channel
        failing[0] = False  # space again: the next batch writes both posts, in order, and indexes them
        await eventually(lambda: feed.waiting == 0 and feed.updates >= 1, timeout=60)
        assert len(channel_file(tmp_path / "articles", "1234500002").read_text(encoding="utf-8").splitlines()) == 2
        fake.message("كم طائرة في متحف الطيران في الطائف؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "45 طائرة" in reply["text"]
        recovered = (await fake.wait_for_messages(3, chat_id=ADMIN))[2]
        assert "حُفظت منشورات القناة" in recovered["text"]
        assert len([m for m in fake.messages_to(ADMIN) if "تعذّر حفظ" in m["text"]]) == 1, "told once"


async def test_a_channel_check_that_fails_in_any_way_never_stops_the_bot(tmp_path, embedder, monkeypatch):
    """At start the bot asks getChat about each listed channel; an answer it cannot read is logged, not fatal."""
    from telegram.ext import ExtBot

    async def odd_answer(self, *args, **kwargs):
        raise TypeError("ChatFullInfo.__init__() missing 1 required positional argument: 'accent_color_id'")

    monkeypatch.setattr(ExtBot, "get_chat", odd_answer)
    async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch, 1234500002") as (fake, app):
        await app.post_init(app)  # what run_polling does first: it must not raise
        fake.message("فيضان النيل في السودان", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "السودان" in reply["text"]


async def test_an_edit_that_removes_the_text_removes_the_article(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch") as (fake, app):
        feed = _feed(app)
        fake.channel_post(PUBLIC, POST, username="gulf_news_ch", title="قناة أخبار الخليج")
        await eventually(lambda: feed.updates >= 1, timeout=60)
        fake.channel_post(PUBLIC, None, username="gulf_news_ch", title="قناة أخبار الخليج", edit_of=1)
        await eventually(lambda: feed.updates >= 2, timeout=60)
        assert channel_file(tmp_path / "articles", "gulf_news_ch").read_text(encoding="utf-8") == ""
        fake.message("كم طائرة في متحف الطيران في جدة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "45 طائرة" not in reply["text"]
        await feed.close()


def test_the_channel_file_beats_an_exported_copy_of_a_post(tmp_path):
    from index.corpus.articles import load_articles

    export = {"name": "ق", "type": "public_channel", "id": 1234500001, "messages": [
        {"id": 1, "type": "message", "date": "2026-01-02T10:30:00", "text": POST},
    ]}  # fmt: skip
    (tmp_path / "result.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    edited = post_record(chat_id=PUBLIC, message_id=1, text=POST.replace("45", "60"), date="", channel_title="ق")
    store_posts(channel_file(tmp_path, "gulf_news_ch"), [edited])  # read after result.json, yet it wins
    result = load_articles([tmp_path])
    (article,) = result.articles
    assert "60 طائرة" in article.text and not result.problems
