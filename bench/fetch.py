"""Fetch benchmark: a 200-page local Arabic news site fetched and indexed with `python -m index fetch`.

The site (tests/website.py) has three page templates with real-looking furniture (menus,
cookie banner, share bar, comments, related-article teasers, most-read lists, footers),
a third of its pages in windows-1256 or ISO-8859-6 declared in the header, in a <meta>
tag or nowhere, and an RSS feed of all its pages. Measured, as an admin runs it (one
process, default settings except ALLOW_PRIVATE_URLS=true for the loopback site):

- quality: pages indexed with the right title, date and URL; the share of each body's
  sentences kept (minimum and mean); boilerplate or teaser strings found in the index;
- time: the first fetch (download, extraction, index update) in wall-clock seconds;
- a re-run: requests the site received (target: only the feed) and passages embedded.

    python -m bench.fetch [--pages 200] [--source rss|atom|sitemap] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, record, table
from tests.support.website import NewsSite, SiteServer, site_quality

SOURCES = {"rss": "/feeds/rss.xml", "atom": "/feeds/atom.xml", "sitemap": "/sitemap_index.xml"}


def fetch(env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "index", "fetch", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"fetch failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--source", choices=SOURCES, default="rss")
    parser.add_argument("--seed", type=int, default=2026, help="site generator seed (the tests use others)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs/benchmarks.md")
    args = parser.parse_args()

    site = NewsSite.generate(args.pages, seed=args.seed)
    with SiteServer(site) as server, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ALLOW_PRIVATE_URLS": "true",
            "INDEX_DIR": str(Path(tmp) / "index"),
            "ARTICLES_DIR": str(Path(tmp) / "articles"),
            "FEEDS": server.url(SOURCES[args.source]),
        }
        first_s, first_out = fetch(env)
        first_requests = len(server.paths())
        quality = site_quality(site, server.base, Path(tmp) / "index")
        server.reset_log()
        again_s, again_out = fetch(env)
        again_paths = server.paths()
    embedded = re.search(r"(\d+) newly embedded", again_out)
    again_embedded = int(embedded.group(1)) if embedded else 0
    n = quality["pages"]
    rows = [
        ["pages indexed with the right title, date and URL", "100%", f"{quality['right_title_date_url']}/{n}"],
        [
            "sentences of each body kept (min / mean)",
            "≥ 95%",
            f"{quality['min_sentences_kept']:.1%} / {quality['mean_sentences_kept']:.1%}",
        ],
        ["boilerplate or teaser strings in the index", "0", str(len(quality["boilerplate"]))],
        [f"first fetch of {n} pages + index update (wall clock)", "≤ 60 s", f"{first_s:.1f} s ({first_requests} requests)"],
        ["re-run: requests to the site", "the feed only", ", ".join(again_paths)],
        ["re-run: passages embedded / time", "0", f"{again_embedded} / {again_s:.1f} s"],
    ]
    body = (
        f"Local site of {n} generated Arabic pages (three templates with menus, cookie banners, share bars, comments, "
        f"related-article teasers and footers; a third in windows-1256 / ISO-8859-6), source `{SOURCES[args.source]}`, "
        "default fetch settings (FETCH_DELAY_SECONDS=0.25, 2 requests at once per host), built-in model. "
        "Times include process start, model load and the index update.\n\n"
        + table(["what", "target", "measured"], rows)
        + "\n\nfirst run: "
        + " ".join(first_out.split())
        + "\n\nre-run: "
        + " ".join(again_out.split())
    )
    if quality["boilerplate"]:
        body += "\n\nleaks (first 5): " + "; ".join(f"{slug}: {text[:60]}" for slug, text in quality["boilerplate"][:5])
    figures = {
        "fetch of a 200-page local site: right title/date/URL, furniture indexed, time": (
            f"{quality['right_title_date_url']}/{n}, {len(quality['boilerplate'])}, {first_s:.1f} s ({args.source})"
        )
    }
    record(f"Fetch: {n}-page local news site ({args.source})", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
