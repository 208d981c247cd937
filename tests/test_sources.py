"""Sources at a glance: each feed, sitemap, channel and folder with its last sync, last error, articles and gaps."""

from __future__ import annotations

import json

from index.__main__ import main as index_cli
from index.tools.sources import source_lines
from index.web.harvest import harvest
from tests.support.botkit import ADMIN, READER, running_bot
from tests.support.corpus import CORPUS, write_jsonl
from tests.support.website import NewsSite, SiteServer
from tests.test_fetch import FAST


def by_name(lines):
    return {line.name: line for line in lines}


def test_every_kind_of_source_is_listed_with_its_sync_error_count_and_gaps(tmp_path, capsys):
    site = NewsSite.generate(4)
    articles = tmp_path / "articles"
    with SiteServer(site) as srv:
        feed, sitemap = srv.url("/feeds/rss.xml"), srv.url("/sitemap_index.xml")
        harvest([feed, sitemap, srv.url("/fault/404")], articles, FAST)
        never = srv.url("/feeds/atom.xml")
        (articles / "telegram").mkdir()
        posts = [
            {"id": "tg-1-1", "title": "منشور", "text": "منشور أول في القناة.", "date": "2026-12-01"},
            {"id": "tg-1-2", "title": "منشور", "text": "منشور ثان في القناة.", "url": "https://t.me/news/2"},
        ]
        write_jsonl(articles / "telegram" / "news.jsonl", posts)
        write_jsonl(articles / "uploads" / "20261205T100000Z-batch.jsonl", CORPUS[:2])
        (articles / "pasted.txt").write_text("عنوان خبر ملصوق\n\nنص خبر ملصوق بلا رابط ولا تاريخ.", encoding="utf-8")
        lines = by_name(source_lines(articles, [feed, never]))
    assert lines[feed].kind == "feed" and lines[feed].articles == 4 and lines[feed].last_sync and not lines[feed].last_error
    assert lines[feed].newest == max(p.iso_date for p in site.pages)
    assert lines[sitemap].kind == "sitemap index" and lines[sitemap].articles == 0, "every page already came by the feed"
    broken = lines[srv.url("/fault/404")]
    assert "HTTP 404" in broken.last_error and not broken.last_sync and broken.kind == "source"
    assert lines[never].last_sync == "" and lines[never].articles == 0, "a configured feed never synced is listed"
    assert (lines["@news"].articles, lines["@news"].no_link, lines["@news"].no_date) == (2, 1, 1)
    assert lines["uploads"].articles == 2 and lines["uploads"].no_link == sum(not a.get("url") for a in CORPUS[:2])
    assert (lines["pasted.txt"].articles, lines["pasted.txt"].no_link, lines["pasted.txt"].no_date) == (1, 1, 1)
    assert index_cli(["sources", "--articles", str(articles), "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {p["name"] for p in printed} >= {feed, sitemap, "@news", "uploads", "pasted.txt"}


async def test_sources_in_telegram_for_admins_only(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/sources", user_id=ADMIN)
        (reply,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
        assert "news.jsonl" in reply["text"] and "الأخبار: 6" in reply["text"] and "/" not in reply["text"].split("\n")[0]
        fake.command("/sources", user_id=READER)
        assert "للمشرفين" in (await fake.wait_for_messages(1, chat_id=READER, timeout=60))[0]["text"]
