"""Fetching from a local Arabic news site: politeness, safety, faults, re-runs, storage."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from index.corpus.articles import load_articles
from index.corpus.urls import canonical_url
from index.web.addresses import address_problem
from index.web.client import FetchConfig, Fetcher, FetchError, user_agent
from index.web.harvest import FAILED, harvest, read_sources
from index.web.store import StoreBusy, WebStore
from tests.support.website import NewsSite, SiteServer

# small timeouts and no pauses: the suite runs on 2 busy cores
FAST = FetchConfig(
    user_agent=user_agent("ops@example.org"),
    connect_timeout=1.0,
    read_timeout=0.5,
    max_bytes=1024 * 1024,
    delay=0.0,
    retries=2,
    backoff=0.05,
    allow_private=True,
    workers=4,
)


@pytest.fixture(scope="module")
def site() -> NewsSite:
    return NewsSite.generate(12)


@pytest.fixture(scope="module")
def server(site):
    with SiteServer(site, slow_seconds=1.2) as srv:
        yield srv


def test_every_fault_is_reported_per_url_and_nothing_else_is_lost(server, site, tmp_path):
    faults = {
        "/fault/404": "HTTP 404",
        "/fault/slow": "timed out",
        "/fault/huge": "cut off",
        "/fault/huge-declared": "too large",
        "/fault/loop": "redirect loop",
        "/private/secret.html": "robots.txt",
        "/fault/report.pdf": "PDF",
        "/feeds/broken.xml": "malformed feed XML",
        "/fault/empty": "no article text",
        "/fault/js-redirect": "redirect",
    }
    recovered = ["/fault/flaky", "/fault/busy", "/fault/redirect"]  # 500 then 200; 429 + Retry-After then 200; 2 hops
    sources = [server.url(p) for p in [*faults, *recovered, "/feeds/rss.xml"]]
    report = harvest(sources, tmp_path, FAST)

    failed = {o.url.removeprefix(server.base): o.reason for o in report.failed}
    for path, reason in faults.items():
        assert reason in failed.pop(path), path
    assert failed == {}
    # the three recovered pages are the site's first, second and fourth articles; the feed brings all 12
    assert len(report.added) == len(site.pages)
    stored = {json.loads(line)["url"] for line in (tmp_path / "web" / "127.0.0.1.jsonl").read_text().splitlines()}
    assert stored == {canonical_url(server.url(p.path)) for p in site.pages}
    huge_sent = server.sent_bytes.get("/fault/huge", 0)
    assert huge_sent < 10 * 1024 * 1024, "the 30 MB page was cut off while streaming, not loaded"


def test_user_agent_robots_and_per_host_limit(site, tmp_path):
    with SiteServer(site, latency=0.05) as srv:
        report = harvest([srv.url("/feeds/atom.xml")], tmp_path, replace(FAST, workers=8))
        assert len(report.added) == len(site.pages)
        assert srv.max_in_flight == 2, "at most 2 requests at once per host, and 2 are used"
        assert srv.agents == {user_agent("ops@example.org")}
        assert srv.paths()[0] == "/robots.txt"
        # robots.txt is kept for a day: a second run does not ask for it again
        srv.reset_log()
        harvest([srv.url("/private/other.html")], tmp_path, FAST)
        assert "/robots.txt" not in srv.paths() and "/private/other.html" not in srv.paths()


def test_delay_spaces_requests_on_a_slot(site, tmp_path):
    import time

    with SiteServer(site) as srv:
        config = replace(FAST, delay=0.2, workers=4)
        started = time.perf_counter()
        report = harvest([srv.url(site.pages[i].path) for i in range(4)], tmp_path, config)
        elapsed = time.perf_counter() - started
    assert len(report.added) == 4
    # 5 requests (robots.txt + 4 pages) over 2 slots: the third and later requests on a slot wait 0.2 s each
    assert elapsed >= 0.4


def test_rerun_of_an_unchanged_feed_downloads_only_the_feed(server, site, tmp_path):
    first = harvest([server.url("/feeds/rss.xml"), server.url("/sitemap_index.xml")], tmp_path, FAST)
    assert len(first.added) == len(site.pages) and not first.failed
    server.reset_log()
    again = harvest([server.url("/feeds/rss.xml"), server.url("/sitemap_index.xml")], tmp_path, FAST)
    assert not again.stored and not again.failed
    assert sorted(server.paths()) == ["/feeds/rss.xml", "/sitemap_index.xml"]  # both answered 304 Not Modified
    assert all(listing.not_modified for listing in again.listings)


def test_feed_links_with_tracking_parameters_are_known_by_canonical_url(server, site, tmp_path):
    harvest([server.url("/feeds/rss.xml")], tmp_path, FAST)  # links carry ?utm_source=rss
    server.reset_log()
    report = harvest([server.url("/feeds/atom.xml"), server.url("/listing")], tmp_path, FAST)
    assert not report.added and len(report.skipped) == len(site.pages)
    assert sorted(server.paths()) == ["/feeds/atom.xml", "/listing"]


def test_sources_told_apart_by_content(server, site, tmp_path):
    listed = tmp_path / "sources.txt"
    listed.write_text(
        f"# a list of sources\n{server.url('/listing')}\n\n{server.url('/feeds/rss-as-html')}\nftp://example.org/x\n",
        encoding="utf-8",
    )
    report = harvest([str(listed)], tmp_path / "articles", FAST)
    kinds = {listing.url.removeprefix(server.base): listing.kind for listing in report.listings}
    assert kinds == {"/listing": "sitemap", "/feeds/rss-as-html": "feed"}
    assert len(report.added) == 3  # both list the three newest articles
    assert [o.reason for o in report.failed] == ["not an http(s) URL: 'ftp://example.org/x'"]


def test_changed_article_replaces_its_line_and_reads_back(site, tmp_path):
    own = NewsSite.generate(3)
    with SiteServer(own) as srv:
        url = srv.url(own.pages[0].path)
        assert [o.status for o in harvest([url], tmp_path, FAST).outcomes] == ["added"]
        assert [o.status for o in harvest([url], tmp_path, FAST).outcomes] == ["unchanged"]  # 304 on its ETag
        own.pages[0].paragraphs.append("وأكدت الجهة في بيان لاحق أن المرحلة الثانية ستبدأ مطلع العام المقبل.")
        assert [o.status for o in harvest([url], tmp_path, FAST).outcomes] == ["changed"]
    lines = (tmp_path / "web" / "127.0.0.1.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "المرحلة الثانية" in json.loads(lines[0])["text"]
    loaded = load_articles([tmp_path])
    assert not loaded.problems
    (article,) = loaded.articles
    record = json.loads(lines[0])
    assert (article.id, article.title, article.date, article.url, article.source) == (
        record["id"],
        record["title"],
        record["date"],
        record["url"],
        record["source"],
    )
    assert article.date == own.pages[0].iso_date and article.title == own.pages[0].title


def test_one_fetch_at_a_time_per_articles_directory(server, tmp_path):
    store = WebStore(tmp_path)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.lock():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    try:
        with pytest.raises(StoreBusy):
            harvest([server.url("/feeds/rss.xml")], tmp_path, FAST, lock_wait=0)
    finally:
        release.set()
        thread.join()


def test_private_addresses_refused_unless_allowed(server):
    strict = replace(FAST, allow_private=False)
    with Fetcher(strict) as fetcher, pytest.raises(FetchError, match="loopback"):
        fetcher.get(server.url("/feeds/rss.xml"))
    with Fetcher(replace(strict, robots=False)) as fetcher, pytest.raises(FetchError, match="loopback"):
        fetcher.get(server.url("/feeds/rss.xml").replace("127.0.0.1", "localhost"))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(server.url("/feeds/rss.xml")).status == 200


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "address"),
        ("0.0.0.0", "unspecified"),
        ("8.8.8.8", ""),
        ("2001:4860:4860::8888", ""),
    ],
)
def test_address_problem(ip, kind):
    problem = address_problem(ip)
    assert (kind in problem) if kind else problem == ""


@pytest.mark.parametrize(
    "url", ["ftp://example.org/a", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "/relative"]
)
def test_only_http_and_https_are_fetched(url):
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="only http and https"):
        fetcher.get(url)


def test_redirects_are_limited_to_five(server):
    for n in range(7):
        target = f"/hop/{n + 1}" if n < 6 else server.site.pages[0].path
        server.extra[f"/hop/{n}"] = (302, {"Location": target}, b"")
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(server.url("/hop/2")).redirects == 5  # 2 -> 3 -> 4 -> 5 -> 6 -> article
        with pytest.raises(FetchError, match="more than 5 redirects"):
            fetcher.get(server.url("/hop/0"))


def test_retry_after_longer_than_allowed_gives_up(server):
    server.extra["/fault/wait-an-hour"] = (503, {"Retry-After": "3600"}, b"")
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="asks to wait 3600 s"):
        fetcher.get(server.url("/fault/wait-an-hour"))


def test_read_sources_reports_bad_entries(tmp_path):
    listed = tmp_path / "list.txt"
    listed.write_text("https://a.example/1\n# comment\nnot a url\nhttps://a.example/1\n", encoding="utf-8")
    urls, problems = read_sources([str(listed), "https://b.example/feed", "missing.txt", "mailto:x@y"])
    assert urls == ["https://a.example/1", "https://b.example/feed"]
    assert [(p.url, p.status) for p in problems] == [
        (f"{listed}:3", FAILED),
        ("missing.txt", FAILED),
        ("mailto:x@y", FAILED),
    ]


def test_a_page_stating_no_date_gets_the_day_it_was_fetched(server, tmp_path):
    from datetime import UTC, datetime

    body = "<p>" + "افتتحت البلدية حديقة جديدة في وسط المدينة تضم ملاعب للأطفال ومسارات للمشي. " * 3 + "</p>"
    page = f"<html><head><title>حديقة جديدة</title></head><body><h1>حديقة جديدة</h1>{body}</body></html>".encode()
    server.extra["/undated.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    server.extra["/undated-modified.html"] = (
        200,
        {"Content-Type": "text/html; charset=utf-8", "Last-Modified": "Tue, 03 Nov 2026 10:00:00 GMT"},
        page.replace("حديقة جديدة".encode(), "حديقة ثانية".encode()),
    )
    report = harvest([server.url("/undated.html"), server.url("/undated-modified.html")], tmp_path, FAST)
    assert len(report.added) == 2
    records = {
        json.loads(line)["title"]: json.loads(line) for line in (tmp_path / "web" / "127.0.0.1.jsonl").read_text().splitlines()
    }
    assert records["حديقة جديدة"]["date"] == datetime.now(UTC).date().isoformat()
    assert records["حديقة جديدة"]["date_from"] == "fetched"
    assert (records["حديقة ثانية"]["date"], records["حديقة ثانية"]["date_from"]) == ("2026-11-03", "last-modified")


# ------------------------------------------------------------------ red-team findings of 2026-12 (docs/reliability.md)


def test_a_response_that_runs_past_its_deadline_is_not_retried(server):
    """A server dripping a byte at a time held one link for 6 minutes: its deadline, retried 4 times."""
    server.reset_log()
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="too slow"):
        fetcher.get(server.url("/fault/drip?once"))
    assert server.paths().count("/fault/drip?once") == 1


def test_a_fetch_run_stops_at_its_time_budget_and_leaves_the_rest_for_the_next(server, tmp_path):
    links = "".join(f"<item><title>خبر {n}</title><link>{server.url(f'/fault/drip?{n}')}</link></item>" for n in range(6))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>بطيء</title>{links}</channel></rss>'.encode()
    server.extra["/feeds/drip.xml"] = (200, {"Content-Type": "application/rss+xml"}, feed)
    server.reset_log()
    slow_pages = replace(FAST, read_timeout=5.0, workers=2)  # each page would take 5 + 4 x 5 s before its deadline
    report = harvest([server.url("/feeds/drip.xml")], tmp_path, slow_pages, budget=0.5)
    assert report.left == 6 and report.budget == 0.5 and "time budget" in report.summary()
    started = [p for p in server.paths() if p.startswith("/fault/drip?")]
    assert len(started) == 2, "the two cut off at the budget; the other four never started"
    assert not report.failed


def test_an_unfinished_listing_is_read_again_after_a_budget_stop(server, tmp_path):
    server.extra["/feeds/one-drip.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        f'<rss version="2.0"><channel><item><link>{server.url("/fault/drip?again")}</link></item></channel></rss>'.encode(),
    )
    harvest([server.url("/feeds/one-drip.xml")], tmp_path, replace(FAST, read_timeout=5.0), budget=0.3)
    server.reset_log()
    harvest([server.url("/feeds/one-drip.xml")], tmp_path, replace(FAST, read_timeout=5.0), budget=0.3)
    assert any(p.startswith("/fault/drip?again") for p in server.paths()), "the link left by the budget is tried again"


@pytest.mark.parametrize(
    "ip",
    [
        "2002:c0a8:0101::1",  # 6to4 of 192.168.1.1
        "2002:7f00:0001::1",  # 6to4 of 127.0.0.1
        "fec0::1",  # site-local
        "192.0.0.8",  # IETF protocol assignments
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2001:db8::1",  # documentation
        "fc00::1",  # unique-local
        "198.18.0.1",  # benchmarking
        "::",
        "224.0.0.1",
    ],
)
def test_special_ranges_are_refused(ip):
    assert address_problem(ip), ip


@pytest.mark.parametrize("ip", ["2002:0808:0808::1", "64:ff9b::808:808", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_inside_v6_forms_are_allowed(ip):
    assert address_problem(ip) == ""


@pytest.mark.parametrize("source", ["data:text/html,<h1>x</h1>", "file:///etc/passwd", "javascript:alert(1)"])
def test_sources_with_another_scheme_say_only_http_and_https(source):
    _urls, (problem,) = read_sources([source])
    assert "only http and https" in problem.reason
