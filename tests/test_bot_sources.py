"""Fresh news from the bot, against the fake Bot API server and a local news site: links, /add, pasted text, schedule."""

from __future__ import annotations

import asyncio

import pytest

from index.corpus.articles import load_articles
from index.storage.loading import open_index
from tests.support.botkit import ADMIN, READER, eventually, running_bot
from tests.support.website import NewsSite, SiteServer

FETCH = {"allow_private_urls": True, "fetch_delay_seconds": 0, "fetch_timeout_seconds": 2}


@pytest.fixture(scope="module")
def site() -> NewsSite:
    return NewsSite.generate(4)


@pytest.fixture
def server(site):
    with SiteServer(site) as srv:
        yield srv


async def test_admin_links_are_fetched_indexed_and_answered(tmp_path, embedder, site, server):
    page = site.pages[0]
    async with running_bot(tmp_path, embedder, **FETCH) as (fake, app):
        old_build = app.bot_data.service.build_id
        fake.message(f"أضف هذين الخبرين:\n{server.url(page.path)}\n{server.url('/fault/404')}", user_id=ADMIN)
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "أجلب الروابط (رابطان)" in msgs[0]["text"]
        done = msgs[1]["text"]
        assert "أضيف 1" in done and "تعذّر 1" in done
        assert page.title in done
        assert "الصفحة غير موجودة (HTTP 404 Not Found)" in done and "/fault/404" in done
        assert "حدّثت الفهرس" in done
        assert app.bot_data.service.build_id != old_build
        fake.message(
            f"كم تبلغ كلفة {page.paragraphs[1].split('كلفة ')[1].split(' تبلغ')[0]} في {page.title.split(' في ')[1].split(' ضمن')[0]}؟",
            user_id=READER,
        )
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert page.title in reply["text"]
        assert any(e.get("url") == server.url(page.path) for e in reply.get("entities", []) if e["type"] == "text_link")


async def test_links_behind_words_and_non_links_from_admins(tmp_path, embedder, site, server):
    page = site.pages[1]
    async with running_bot(tmp_path, embedder, **FETCH) as (fake, _app):
        entity = {"type": "text_link", "offset": 0, "length": 4, "url": server.url(page.path)}
        fake.message("الخبر هنا", user_id=ADMIN, entities=[entity])
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert page.title in msgs[1]["text"]
        fake.message("ما معنى http:// في الروابط؟", user_id=ADMIN)  # no link after all: a question
        msgs = await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        assert "أجلب" not in msgs[2]["text"]


async def test_add_command_with_a_feed_in_english(tmp_path, embedder, site, server):
    async with running_bot(tmp_path, embedder, **FETCH) as (fake, _app):
        fake.command(f"/add {server.url('/feeds/atom.xml')}", user_id=ADMIN, language_code="en")
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "Fetching 1 link" in msgs[0]["text"]
        assert f"added {len(site.pages)}" in msgs[1]["text"] and "Index updated" in msgs[1]["text"]
        assert all(p.title in msgs[1]["text"] for p in site.pages)


async def test_an_admin_who_writes_arabic_gets_arabic_whatever_the_link_or_the_app(tmp_path, embedder, site, server):
    """/add with a link alone (Latin letters only) from an admin with an English app, after an Arabic message."""
    async with running_bot(tmp_path, embedder, **FETCH) as (fake, _app):
        fake.command(f"/add {server.url(site.pages[1].path)}", user_id=ADMIN)  # no app language: Arabic
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "أجلب" in msgs[0]["text"] and "انتهى الجلب" in msgs[1]["text"]
        fake.message("ما آخر الأخبار عن القطار؟", user_id=ADMIN, language_code="en")
        await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        fake.command(f"/add {server.url(site.pages[2].path)}", user_id=ADMIN, language_code="en")
        msgs = await fake.wait_for_messages(5, chat_id=ADMIN, timeout=60)
        assert "أجلب" in msgs[3]["text"] and "انتهى الجلب" in msgs[4]["text"], "the language the admin writes in"
        fake.command("/reindex", user_id=ADMIN, language_code="en")
        msgs = await fake.wait_for_messages(7, chat_id=ADMIN, timeout=120)
        assert all("Index" not in m["text"] and "/tmp" not in m["text"] for m in msgs[5:]), [m["text"] for m in msgs[5:]]


async def test_links_from_readers_are_questions(tmp_path, embedder, server):
    async with running_bot(tmp_path, embedder, **FETCH) as (fake, _app):
        question = f"كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟ {server.url('/feeds/rss.xml')}"
        fake.message(question, user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "أجلب" not in reply["text"]
        assert "ساعتين و20 دقيقة" in reply["text"] or "لم أجد" in reply["text"]  # answered as a question
        fake.command(f"/add {server.url('/feeds/rss.xml')}", user_id=READER)
        msgs = await fake.wait_for_messages(2, chat_id=READER)
        assert "للمشرفين فقط" in msgs[1]["text"]
        assert server.paths() == [] and not (tmp_path / "articles" / "web").exists()


DUMP = """افتتاح أكبر مكتبة عامة في مدينة تبوك

زوار يتجولون بين رفوف المكتبة الجديدة في تبوك (واس)
زوار يتجولون بين رفوف المكتبة الجديدة في تبوك (واس)
TT

افتتاح أكبر مكتبة عامة في مدينة تبوك

زوار يتجولون بين رفوف المكتبة الجديدة في تبوك (واس)

افتتحت أمانة منطقة تبوك أكبر مكتبة عامة في المنطقة، وتضم أكثر من 85 ألف كتاب ومخطوطة نادرة.

وقال مدير المكتبة إن القاعة الرئيسية تتسع لـ400 قارئ، وإنها تفتح أبوابها يومياً حتى منتصف الليل.

مقالات ذات صلة

معرض الكتاب في الرياض يستقبل مليون زائر
قال منظمو معرض الكتاب إن عدد الزوار تجاوز مليون زائر في أيامه الخمسة الأولى.
"""


async def test_add_with_pasted_page_text_uses_the_page_dump_reader(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/add\n" + DUMP, user_id=ADMIN)
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        assert "استخرجت من النص (خبر واحد)" in msgs[0]["text"] and "افتتاح أكبر مكتبة عامة" in msgs[0]["text"]
        assert "حدّثت الفهرس" in msgs[1]["text"]
        (article,) = load_articles([tmp_path / "articles" / "pasted"]).articles
        assert "85 ألف كتاب" in article.text and "معرض الكتاب" not in article.text and "(واس)" not in article.text
        fake.message("كم كتاباً في مكتبة تبوك الجديدة؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "85 ألف كتاب" in reply["text"]


async def test_add_with_plain_pasted_text_drops_the_related_block(tmp_path, embedder):
    text = (
        "/add سباق للهجن في الطائف\nانطلق سباق الهجن السنوي في الطائف بمشاركة 500 مطية من دول الخليج.\n"
        "اقرأ أيضاً: مهرجان الإبل يجذب آلاف الزوار\nوتبلغ قيمة جوائز السباق 12 مليون ريال.\nأخبار ذات صلة\nخبر آخر تماماً عن الطقس"
    )
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command(text, user_id=ADMIN)
        await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60)
        (article,) = load_articles([tmp_path / "articles" / "pasted"]).articles
        assert article.title == "سباق للهجن في الطائف"
        assert "12 مليون ريال" in article.text
        assert "مهرجان الإبل" not in article.text and "الطقس" not in article.text


async def test_add_alone_explains_itself(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/add", user_id=ADMIN)
        (msg,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "/add https://" in msg["text"]


async def test_feeds_are_refreshed_on_a_schedule(tmp_path, embedder, site, server):
    settings = {**FETCH, "feeds": [server.url("/feeds/rss.xml")], "feed_refresh_minutes": 0.01, "index_watch_seconds": 0}
    settings["fetch_recheck_days"] = 0  # the re-check of recent pages (tests/test_corrections.py) would ask for them too
    async with running_bot(tmp_path, embedder, **settings) as (_fake, app):
        service = app.bot_data.service
        before = service.searcher.manifest.articles
        await app.post_init(app)  # what run_polling does: starts the refresher
        try:
            await eventually(lambda: service.searcher.manifest.articles == before + len(site.pages), timeout=60)
            assert service.searcher.manifest.articles == before + len(site.pages)
            first = service.build_id
            server.reset_log()
            await eventually(lambda: "/feeds/rss.xml" in server.paths(), timeout=30)  # the next round
            await asyncio.sleep(0.5)
            assert set(server.paths()) == {"/feeds/rss.xml"}, "an unchanged feed: only the feed is downloaded"
            assert service.build_id == first, "nothing new: no new build"
        finally:
            await app.post_shutdown(app)
    titles = {row["title"] for row in open_index(tmp_path / "index").articles(list(range(before + len(site.pages)))).values()}
    assert {p.title for p in site.pages} <= titles
