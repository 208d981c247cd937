"""Corrections are picked up: a page changed on the site is fetched again at the next refresh, whether its listing's
date moved (even to a date with no time, the same day as the last fetch) or only its ETag tells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from index.web.harvest import harvest
from index.web.store import WebStore
from tests.support.website import NewsSite, SiteServer
from tests.test_fetch import FAST

CORRECTION = "وصحّحت الجهة في بيان لاحق موعد افتتاح المرحلة الثانية."


def _sitemap(base: str, path: str, lastmod: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}{path}</loc><lastmod>{lastmod}</lastmod></url></urlset>\n"
    ).encode()


def test_a_date_only_lastmod_moved_to_the_day_of_the_last_fetch_is_a_change(tmp_path):
    site = NewsSite.generate(2)
    page = site.pages[0]
    today = datetime.now(UTC).date()
    with SiteServer(site) as srv:
        xml = {"Content-Type": "application/xml"}
        srv.extra["/map.xml"] = (200, xml, _sitemap(srv.base, page.path, (today - timedelta(days=1)).isoformat()))
        assert [o.status for o in harvest([srv.url("/map.xml")], tmp_path, FAST).outcomes] == ["added"]
        page.paragraphs.append(CORRECTION)
        srv.extra["/map.xml"] = (200, xml, _sitemap(srv.base, page.path, today.isoformat()))  # midnight, before the fetch
        report = harvest([srv.url("/map.xml")], tmp_path, FAST)
        assert [o.status for o in report.outcomes] == ["changed"] and "changed 1" in report.summary()
        srv.reset_log()
        srv.extra["/map.xml"] = (200, xml, _sitemap(srv.base, page.path, today.isoformat()) + b"\n")  # read again
        assert [o.status for o in harvest([srv.url("/map.xml")], tmp_path, FAST).outcomes] == ["known"]
        assert srv.paths() == ["/map.xml"], "the change is fetched once, not at every run"


def test_a_page_stored_before_listing_dates_were_kept_is_asked_again_on_the_days_date(tmp_path):
    site = NewsSite.generate(2)
    page = site.pages[0]
    today = datetime.now(UTC).date().isoformat()
    with SiteServer(site) as srv:
        xml = {"Content-Type": "application/xml"}
        srv.extra["/map.xml"] = (200, xml, _sitemap(srv.base, page.path, today))
        harvest([srv.url("/map.xml")], tmp_path, FAST)
        store = WebStore(tmp_path).load()
        store.state["listed"] = {}  # as an older version left it
        store.save_state()
        page.paragraphs.append(CORRECTION)
        srv.extra["/map.xml"] = (200, xml, _sitemap(srv.base, page.path, today) + b" ")  # a new ETag, the same date
        assert [o.status for o in harvest([srv.url("/map.xml")], tmp_path, FAST).outcomes] == ["changed"]


def test_a_correction_only_the_etag_reveals_is_found_by_the_recheck_of_recent_pages(tmp_path):
    site = NewsSite.generate(3)
    with SiteServer(site) as srv:
        feed = srv.url("/feeds/rss.xml")
        assert len(harvest([feed], tmp_path, FAST, recheck_days=2).added) == 3
        site.pages[1].paragraphs.append(CORRECTION)  # the feed says nothing: same items, same dates
        srv.reset_log()
        without = harvest([feed], tmp_path, FAST)
        assert not without.changed and srv.paths() == ["/feeds/rss.xml"], "without the recheck it is missed"
        srv.reset_log()
        report = harvest([feed], tmp_path, FAST, recheck_days=2)
        assert [o.url for o in report.changed] == [srv.url(site.pages[1].path)]
        assert len(report.outcomes) == 3 and sorted(o.status for o in report.outcomes) == ["changed", "unchanged", "unchanged"]
        assert sorted(srv.paths()) == sorted(["/feeds/rss.xml", *(p.path for p in site.pages)]), "one request each"
        stored = [r for r in (tmp_path / "web").glob("*.jsonl")]
        assert CORRECTION in "".join(p.read_text(encoding="utf-8") for p in stored)


def test_every_page_fetched_in_the_last_days_is_asked_again_at_each_refresh(tmp_path):
    store = WebStore(tmp_path).load()
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    for n, hours in enumerate((1, 24, 47, 49)):
        store.save({"title": f"خبر {n}", "text": f"نص الخبر رقم {n} للاختبار.", "url": f"https://example.org/{n}"}, [])
        page = store.lookup(f"https://example.org/{n}")
        store._by_id[page.id].fetched_at = (now - timedelta(hours=hours)).isoformat(timespec="seconds")
    store.state["checked"] = {"x": now.isoformat()}  # as an earlier version left it
    due = [p.url for p in store.due_for_recheck(2, now)]
    assert due == [f"https://example.org/{n}" for n in (0, 1, 2)], "newest first; the one fetched 49 h ago is not due"
    assert due == [p.url for p in store.due_for_recheck(2, now)], "and again at the next refresh"
    assert "checked" not in store.state
