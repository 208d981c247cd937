"""Fetched web articles on disk: one JSONL file per host under ``ARTICLES_DIR/web/``.

Each article is one JSON line in the loader's own format (``index.articles``), so a
full ``build`` reproduces the index without the network. A new article is
appended; a changed one replaces its line (the file is rewritten aside and
swapped in, so a build reading it sees the old or the new file, never half).
Articles are known by canonical URL and by every URL that led to them, so a feed
link with tracking parameters is not downloaded again.

Beside them, ``.state.json`` (hidden: the loader skips it) keeps what makes the
next run cheap: ETag / Last-Modified of each feed and sitemap, robots.txt files
(cached for a day), and when articles were last stored. ``.lock`` lets one fetch
run at a time per articles directory (the bot's refresh and a cron job may meet).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from index.corpus.records import ArticleError, article_from_record, make_id
from index.corpus.urls import canonical_url, url_hostname
from index.files import write_atomically
from index.layout import ArticlesLayout

log = logging.getLogger(__name__)

STATE_FILE = ".state.json"
LOCK_FILE = ".lock"


class StoreBusy(RuntimeError):
    """Another fetch is running on the same articles directory."""


@dataclass
class StoredPage:
    """What the store knows about one stored article."""

    id: str
    url: str
    file: Path
    digest: str
    title: str = ""
    fetched_at: str = ""
    etag: str = ""
    last_modified: str = ""
    links: list[str] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def content_digest(title: str, text: str) -> str:
    """What decides whether a re-fetched article "changed": its title and body."""
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:24]


def host_file_name(url: str) -> str:
    """``news.example.org.jsonl`` for any URL on that host (safe as a file name)."""
    host = url_hostname(url) or "unknown-host"
    return re.sub(r"[^a-z0-9.\-]+", "_", host).strip(".") + ".jsonl"


class WebStore:
    """The ``web/`` folder of an articles directory. Not thread-safe: one fetch run uses it from one thread."""

    def __init__(self, articles_dir: Path | str) -> None:
        self.root = ArticlesLayout(Path(articles_dir)).web
        self._by_url: dict[str, StoredPage] = {}
        self._by_id: dict[str, StoredPage] = {}
        self.state: dict[str, Any] = {"listings": {}, "robots": {}, "stored_at": "", "listed": {}}
        self._loaded = False

    # -------------------------------------------------------------- loading

    def load(self) -> WebStore:
        """Read what is stored (bad lines are left for the loader to report at build time)."""
        self._by_url.clear()
        self._by_id.clear()
        if self.root.is_dir():
            for path in sorted(self.root.glob("*.jsonl")):
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(record, dict) and record.get("id") and record.get("url"):
                        self._remember(record, path)
            self.load_state()
        self._loaded = True
        return self

    def load_state(self) -> dict[str, Any]:
        """Read only what runs remembered (listings, robots.txt, each source's syncs), not the stored pages."""
        state_path = self.root / STATE_FILE
        if state_path.exists():
            try:
                loaded = json.loads(state_path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.state.update(loaded)
            except (OSError, json.JSONDecodeError) as exc:
                log.warning("ignoring unreadable %s: %s", state_path, exc)
        return self.state

    def _remember(self, record: dict[str, Any], path: Path) -> StoredPage:
        page = StoredPage(
            id=str(record["id"]),
            url=str(record["url"]),
            file=path,
            digest=content_digest(str(record.get("title", "")), str(record.get("text", ""))),
            title=str(record.get("title", "")),
            fetched_at=str(record.get("fetched_at", "")),
            etag=str(record.get("etag", "")),
            last_modified=str(record.get("last_modified", "")),
            links=[str(u) for u in record.get("links", []) if isinstance(u, str)],
        )
        self._by_id[page.id] = page
        for url in (page.url, *page.links):
            self._by_url[canonical_url(url) or url] = page
        return page

    def __len__(self) -> int:
        return len(self._by_id)

    def lookup(self, url: str) -> StoredPage | None:
        """The stored article that ``url`` (canonical or a link that led to it) names, if any."""
        return self._by_url.get(canonical_url(url) or url)

    # -------------------------------------------------------------- saving

    def save(self, fields: dict[str, Any], links: list[str], extra: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Store an article (``fields``: title, text, url, date, source, author).

        Returns ("added" | "changed" | "unchanged", the record as stored). The record is
        first passed through the loader's own cleaning so that reading it back gives the
        same id, title, text, date, url and source. Raises ``ArticleError`` for an empty one.
        """
        url = fields["url"]
        record = article_from_record({**fields, "id": make_id(url=url)})
        links = [u for u in dict.fromkeys(canonical_url(x) or x for x in [*links, url]) if u]
        existing = self._by_id.get(record.id) or self.lookup(url)
        stored: dict[str, Any] = {
            "id": existing.id if existing else record.id,
            "title": record.title,
            "text": record.text,
            "url": record.url,
            "date": record.date,
            "source": record.source,
            "author": record.author,
            **(extra or {}),
            "fetched_at": now_iso(),
        }
        digest = content_digest(record.title, record.text)
        if existing is not None:
            stored["links"] = list(dict.fromkeys([*existing.links, *links]))
            if existing.digest == digest:
                if set(stored["links"]) - set(existing.links):  # a new link to it: remember it for next time
                    self._replace(existing, stored)
                return "unchanged", stored
            self._replace(existing, stored)
            self.state["stored_at"] = now_iso()
            return "changed", stored
        stored["links"] = links
        path = self.root / host_file_name(record.url)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(stored, ensure_ascii=False) + "\n")
        self._remember(stored, path)
        self.state["stored_at"] = now_iso()
        return "added", stored

    def _replace(self, old: StoredPage, record: dict[str, Any]) -> None:
        lines = old.file.read_text(encoding="utf-8").splitlines()
        out = []
        for line in lines:
            try:
                same = json.loads(line).get("id") == old.id
            except (json.JSONDecodeError, AttributeError):
                same = False
            out.append(json.dumps(record, ensure_ascii=False) if same else line)
        write_atomically(old.file, "\n".join(out) + "\n")
        self._remember(record, old.file)

    def save_state(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(self.root / STATE_FILE, json.dumps(self.state, ensure_ascii=False, indent=1))

    # -------------------------------------------------------------- listings

    def listing(self, url: str) -> dict[str, str]:
        """ETag / Last-Modified / fetched time of a feed or sitemap from the last run that read all of it."""
        return self.state["listings"].get(url, {})

    def remember_listing(self, url: str, etag: str, last_modified: str) -> None:
        self.state["listings"][url] = {"etag": etag, "last_modified": last_modified, "fetched_at": now_iso()}

    def forget_listing(self, url: str) -> None:
        self.state["listings"].pop(url, None)

    def remember_sync(self, source: str, kind: str, listings: list[str], read: bool, error: str) -> None:
        """One source's run: its kind and listings, when it was last read in full, and its last error."""
        entry = self.state.setdefault("sources", {}).setdefault(source, {})
        now = now_iso()
        if kind and kind != "listing":  # "listing": read before and not modified since, its kind already known
            entry["kind"] = kind
        if listings:
            entry["listings"] = sorted(set(entry.get("listings", [])) | set(listings))
        if read:
            entry["ok_at"] = now
        if error:
            entry["error_at"], entry["error"] = now, error

    def changed_since(self, page: StoredPage, updated: str, listing: str, link: str) -> bool:
        """Whether ``listing``, giving the page ``link`` the date ``updated`` (ISO, UTC), says it changed since stored.

        The date the listing gave the page at the last run is remembered: any move of it is a new
        version (a correction often moves a feed item's date). Without one, the date is compared with
        the time the page was fetched; a date with no time (a sitemap's ``2026-12-05``, read as
        midnight) cannot be later than a fetch that same day, so the same day counts as changed and
        the page is asked for again with its ETag (a 304 when nothing changed).
        """
        if not updated:
            return False
        seen = self.listed_date(listing, link) if listing else None
        if seen is not None:
            return updated != seen
        if not page.fetched_at:
            return False
        if updated.endswith("T00:00:00+00:00"):
            return updated[:10] >= page.fetched_at[:10]
        return updated > page.fetched_at

    def listed_date(self, listing: str, url: str) -> str | None:
        """The date ``listing`` gave the page ``url`` at the last run that handled it, or None."""
        return self.state.setdefault("listed", {}).get(listing, {}).get(canonical_url(url) or url)

    def remember_listed_dates(self, listing: str, dates: dict[str, str], replace: bool = False) -> None:
        """Keep the dates ``listing`` gave its pages (URL -> date); ``replace``: forget the pages it no longer lists."""
        listed = self.state.setdefault("listed", {})
        kept = {} if replace else listed.get(listing, {})
        listed[listing] = kept | {canonical_url(url) or url: updated for url, updated in dates.items()}

    def due_for_recheck(self, days: float, now: datetime | None = None) -> list[StoredPage]:
        """Pages stored (or changed) in the last ``days`` days, newest first: each refresh asks for them all again.

        Each costs one conditional request (a 304 when unchanged), so a correction is served after the
        next refresh even when neither a feed nor a sitemap says the page changed.
        """
        now = now or datetime.now(UTC)
        self.state.pop("checked", None)  # kept by an earlier version that spaced the checks out
        since = (now - timedelta(days=days)).isoformat(timespec="seconds")
        recent = [page for page in self._by_id.values() if page.fetched_at and page.fetched_at >= since]
        return sorted(recent, key=lambda p: p.fetched_at, reverse=True)

    # -------------------------------------------------------------- locking

    @contextlib.contextmanager
    def lock(self, wait: float = 600.0) -> Iterator[None]:
        """Hold the store for one fetch run; wait up to ``wait`` seconds, then raise ``StoreBusy``."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(f"another fetch is running on {self.root}") from None
                    time.sleep(0.2)
            try:
                self.load()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["ArticleError", "StoreBusy", "StoredPage", "WebStore", "content_digest", "host_file_name"]
