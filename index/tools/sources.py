"""Sources at a glance: every feed, sitemap, channel and folder the index reads, with its health.

For each: its last good sync and its last error, how many of its articles the index reads, its
newest article's date, and how many of them have no link or no date of their own (a date the
fetcher took from the day it fetched the page counts as none). Read from ARTICLES_DIR as the
index reads it (takedowns left out) and from the fetcher's state; nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.corpus.articles import load_articles
from index.corpus.records import Article
from index.corpus.removals import deny_list
from index.corpus.urls import canonical_url
from index.layout import ArticlesLayout


@dataclass
class SourceLine:
    """One source's health."""

    kind: str  # feed | sitemap | sitemap index | url list | page | source (never read) | channel | uploads | folder | file
    name: str  # its URL, @channel, or its name under ARTICLES_DIR
    last_sync: str = ""  # ISO time of the last good read ("" = never)
    last_error: str = ""  # "<ISO time> <what>" of the last failure
    articles: int = 0
    newest: str = ""  # the newest article's date
    no_link: int = 0
    no_date: int = 0
    indexed: int | None = None  # how many of its articles the index holds (None: the index was not read)

    def count(self, articles: Iterable[Article], held: Collection[str] | None = None) -> SourceLine:
        """Add ``articles`` to the counts (``held``: the ids the index holds, when it was read)."""
        if held is not None and self.indexed is None:
            self.indexed = 0
        for a in articles:
            self.articles += 1
            if held is not None:
                self.indexed += a.id in held
            self.no_link += not a.url
            undated = not a.date or a.metadata.get("date_from") == "fetched"
            self.no_date += undated
            if not undated and a.date > self.newest:
                self.newest = a.date[:10]
        return self


def _mtime(paths: Iterable[Path]) -> str:
    times = [p.stat().st_mtime for p in paths if p.exists()]
    return datetime.fromtimestamp(max(times), UTC).isoformat(timespec="seconds") if times else ""


def source_lines(articles_dir: Path, feeds: Sequence[str] = (), held: Collection[str] | None = None) -> list[SourceLine]:
    """Every source under ``articles_dir`` (and every configured feed, synced or not), web sources first; with
    ``held`` (the article ids the index holds), how many of each source's articles it holds."""
    from index.web.store import WebStore

    layout = ArticlesLayout(articles_dir)
    loaded = load_articles([articles_dir], deny=deny_list([articles_dir])) if articles_dir.is_dir() else None
    articles = loaded.articles if loaded else []
    web = [a for a in articles if Path(a.path).parent == layout.web]
    state = WebStore(articles_dir).load_state()  # the pages themselves come with ``articles``
    lines: list[SourceLine] = []
    counted: set[str] = set()
    synced = state.get("sources", {})
    for source in [*synced, *(f for f in feeds if f not in synced)]:
        entry = synced.get(source, {})
        kind = entry.get("kind", "source" if entry else "feed")  # FEEDS never read yet are feeds
        keys = set(entry.get("listings", []))
        if kind == "page":
            mine = [a for a in web if (canonical_url(a.url) or a.url) in keys]
        else:
            mine = [a for a in web if a.metadata.get("listing") in keys]
        counted |= {a.id for a in mine}
        error = f"{entry['error_at']} {entry['error']}" if entry.get("error") else ""
        lines.append(SourceLine(kind, source, entry.get("ok_at", ""), error).count(mine, held))
    rest = [a for a in web if a.id not in counted]
    if rest:  # links sent to the bot, or fetched before sources were recorded
        lines.append(SourceLine("page", "links fetched one by one", _mtime(layout.web.glob("*.jsonl"))).count(rest, held))
    for path in sorted(layout.telegram.glob("*.jsonl")) if layout.telegram.is_dir() else []:
        mine = [a for a in articles if Path(a.path) == path]
        lines.append(SourceLine("channel", f"@{path.stem}", _mtime([path])).count(mine, held))
    if layout.uploads.is_dir():
        mine = [a for a in articles if layout.uploads in Path(a.path).parents]
        lines.append(SourceLine("uploads", "uploads", _mtime(layout.uploads.iterdir())).count(mine, held))
    special = {layout.web, layout.telegram, layout.uploads}
    for entry in sorted(articles_dir.iterdir()) if articles_dir.is_dir() else []:
        if entry in special or entry.name.startswith("."):
            continue
        inside = [a for a in articles if Path(a.path) == entry or entry in Path(a.path).parents]
        lines.append(SourceLine("folder" if entry.is_dir() else "file", entry.name, _mtime([entry])).count(inside, held))
    return lines


def format_lines(lines: Sequence[SourceLine]) -> str:
    """The command line's view: one block per source."""
    if not lines:
        return "no sources yet: nothing fetched, uploaded or posted"
    out = []
    for line in lines:
        out.append(f"{line.kind}: {line.name}")
        indexed = "" if line.indexed is None else f" ({line.indexed} in the index)"
        out.append(
            f"  articles {line.articles}{indexed}, newest {line.newest or '-'}; no link {line.no_link}, no date {line.no_date}"
        )
        out.append(f"  last sync {line.last_sync or 'never'}" + (f"; last error {line.last_error}" if line.last_error else ""))
    return "\n".join(out)
