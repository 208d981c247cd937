"""The fetch targets on a small local site, through the real CLI: every page indexed with the right title,
date and URL; at least 95% of each body's sentences kept; no boilerplate or teaser line in the index; a
re-run downloads only the feed and embeds nothing. (bench/fetch.py measures the same on 200 pages.)"""

from __future__ import annotations

import os
import subprocess
import sys

from index.search.searcher import Searcher
from tests.support.corpus import ROOT
from tests.support.website import NewsSite, SiteServer, site_quality
from tests.test_corrections import CORRECTION


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "index", "fetch", "--quiet", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_site_is_indexed_completely_and_cleanly(tmp_path, embedder):
    site = NewsSite.generate(30, seed=11)
    with SiteServer(site) as server:
        env = {
            **os.environ,
            "ALLOW_PRIVATE_URLS": "true",
            "FETCH_DELAY_SECONDS": "0",
            "INDEX_DIR": str(tmp_path / "index"),
            "ARTICLES_DIR": str(tmp_path / "articles"),
            "FEEDS": server.url("/feeds/rss.xml"),
        }
        first = run_cli(env=env)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "added 30, changed 0, skipped 0, failed 0" in first.stdout
        quality = site_quality(site, server.base, tmp_path / "index")
        assert quality["indexed"] == quality["right_title_date_url"] == 30
        assert quality["min_sentences_kept"] >= 0.95
        assert quality["boilerplate"] == []

        server.reset_log()
        again = run_cli(env={**env, "FETCH_RECHECK_DAYS": "0"})
        assert again.returncode == 0, again.stderr[-2000:]
        assert server.paths() == ["/feeds/rss.xml"]
        assert "index already up to date: nothing embedded" in again.stdout
        # with the re-check of recent pages (the default), each page is asked for once more with its ETag: all 304
        server.reset_log()
        rechecked = run_cli(env=env)
        assert rechecked.returncode == 0 and "index already up to date: nothing embedded" in rechecked.stdout
        assert sorted(server.paths()) == sorted(["/feeds/rss.xml", *(p.path for p in site.pages)])
        assert "changed 0" in rechecked.stdout
        # a correction the feed does not mention (same items, same dates): the next scheduled refresh serves it
        page = site.pages[4]
        page.paragraphs.append(CORRECTION)
        corrected = run_cli(env=env)
        assert corrected.returncode == 0 and "changed 1" in corrected.stdout, corrected.stdout
        searcher = Searcher.open(tmp_path / "index", embedder=embedder)
        assert searcher.manifest.articles == 30, "the corrected page replaced its old version"
        hits = searcher.search(CORRECTION, k=5).hits
        assert hits[0].url == server.url(page.path) and CORRECTION in hits[0].passage.text
        assert [h.url for h in hits].count(server.url(page.path)) == 1, "0 stale versions served"


def test_cli_reports_failures_per_url_and_exits_2(tmp_path):
    site = NewsSite.generate(3)
    with SiteServer(site) as server:
        env = {**os.environ, "ALLOW_PRIVATE_URLS": "true", "FETCH_DELAY_SECONDS": "0"}
        listed = tmp_path / "links.txt"
        listed.write_text(f"{server.url(site.pages[0].path)}\n{server.url('/fault/404')}\n", encoding="utf-8")
        done = run_cli(str(listed), "--index", str(tmp_path / "ix"), "--articles", str(tmp_path / "a"), env=env)
    assert done.returncode == 2
    assert "added 1, changed 0, skipped 0, failed 1" in done.stdout
    assert f"{server.url('/fault/404')} — HTTP 404 Not Found" in done.stderr
    assert "index updated: 1 articles" in done.stdout
    assert (tmp_path / "a" / "web" / "127.0.0.1.jsonl").exists()


def test_cli_without_sources_or_feeds_is_a_clear_error(tmp_path):
    env = {**os.environ, "FEEDS": "", "ARTICLES_DIR": str(tmp_path)}
    done = run_cli(env=env)
    assert done.returncode == 1 and "FEEDS setting is empty" in done.stderr


def test_the_measure_sees_leaks_wrong_dates_and_lost_sentences(tmp_path, embedder):
    """The quality check itself can fail: an index holding a cookie banner, a teaser, a wrong date and a cut body."""
    from index.build import run_build
    from tests.support.corpus import write_jsonl
    from tests.support.website import COOKIE

    site = NewsSite.generate(3)
    base = "http://127.0.0.1:9"
    records = [{"title": p.title, "date": p.iso_date, "url": base + p.path, "text": "\n".join(p.paragraphs)} for p in site.pages]
    records[0]["text"] += "\n" + COOKIE
    records[1]["text"] += "\n" + site.page(site.pages[1].related[0]).title
    records[2]["date"] = "2026-01-01"
    records[2]["text"] = site.pages[2].paragraphs[0]
    write_jsonl(tmp_path / "a" / "x.jsonl", records)
    run_build([tmp_path / "a"], tmp_path / "ix", embedder=embedder, progress=False)
    quality = site_quality(site, base, tmp_path / "ix")
    assert quality["right_title_date_url"] == 2
    assert quality["min_sentences_kept"] < 0.5
    assert {slug for slug, _ in quality["boilerplate"]} == {site.pages[0].slug, site.pages[1].slug}
