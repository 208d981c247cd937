"""Fetch sources into the articles directory: article links, feeds, sitemaps, URL lists.

``harvest`` is what ``python -m index fetch`` and the bot's /add and scheduled
refresh run. For each source it downloads the URL once and tells by the content
what it is: an article page is extracted and stored; a feed or sitemap gives
links (a sitemap index gives sitemaps); a local text file lists sources. Links
already stored are not downloaded again unless the listing says they changed, so
a re-run on an unchanged feed downloads only the feed (or gets a 304 for it).

Pages are fetched in parallel (``FetchConfig.workers``; at most two at once per
host) and extracted in the worker threads; the store is written from the calling
thread only. Every failure is one ``Outcome`` with its URL and reason; nothing
else is lost. The index is not touched here: callers update it afterwards
(``update_index``), so the bot can swap builds its own way.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from index.corpus.desk import Block, Desk, read_desk
from index.corpus.records import ArticleError
from index.corpus.urls import canonical_url, is_web_url
from index.progress import bar

from .client import FetchConfig, Fetched, Fetcher, FetchError, OutOfTime
from .feeds import HTML, SITEMAP_INDEX, Entry, Listing, NotAListing, parse_listing, sniff
from .outcomes import FAILED, KNOWN, UNCHANGED, HarvestReport, ListingOutcome, Outcome
from .pages import DateHint, NotAnArticle, WebArticle, extract_article
from .robots import RobotsCache
from .store import StoredPage, WebStore

log = logging.getLogger(__name__)

MAX_SITEMAPS = 200  # child sitemaps read from one sitemap index per run


@dataclass(frozen=True)
class _Task:
    url: str
    listing: str = ""
    hint: DateHint | None = None
    published: str = ""  # for newest-first order
    updated: str = ""  # ISO time the listing says the page last changed


@dataclass
class _SourceResult:
    """What reading one source gave: an article, or listings with their links, or a failure."""

    source: str
    article: WebArticle | None = None
    fetched: Fetched | None = None
    listings: list[tuple[str, str, Fetched | None, Listing | None]] = field(
        default_factory=list
    )  # (url, kind, response, listing)
    tasks: list[_Task] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)  # child sitemap -> its index


# ------------------------------------------------------------------ sources


def read_sources(sources: Iterable[str]) -> tuple[list[str], list[Outcome]]:
    """URLs from the command line: URLs as they are, local files read one URL per line (``#`` comments)."""
    urls: list[str] = []
    problems: list[Outcome] = []
    for source in sources:
        source = source.strip()
        if not source:
            continue
        if is_web_url(source):
            urls.append(source)
            continue
        path = Path(source)
        if "://" not in source and path.is_file():
            try:
                lines = path.read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Outcome(source, FAILED, reason=f"cannot read the list: {exc}"))
                continue
            for number, line in enumerate(lines, start=1):
                line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
                if not line:
                    continue
                if is_web_url(line):
                    urls.append(line)
                else:
                    problems.append(Outcome(f"{source}:{number}", FAILED, reason=f"not an http(s) URL: {line[:80]!r}"))
            continue
        looks_like_url = "://" in source or re.match(r"^[A-Za-z][A-Za-z0-9+.-]{1,31}:", source) is not None
        reason = "not an http(s) URL (only http and https are fetched)" if looks_like_url else "no such file"
        problems.append(Outcome(source, FAILED, reason=reason))
    return list(dict.fromkeys(urls)), problems


# ------------------------------------------------------------------ the run


def harvest(
    sources: Sequence[str],
    articles_dir: Path | str,
    config: FetchConfig | None = None,
    *,
    max_pages: int = 500,
    progress: bool = False,
    cancel: threading.Event | None = None,
    lock_wait: float = 600.0,
    on_progress: Callable[[int, int], None] | None = None,
    budget: float | None = None,
    recheck_days: float = 0.0,
) -> HarvestReport:
    """Fetch ``sources`` (URLs or files listing URLs) into ``articles_dir/web/``; return what happened per URL.

    With ``budget`` (seconds, counted once the articles directory is ours), no request starts or
    goes on after that long: what is left waits for the next run and the report says so. Raises
    ``StoreBusy`` when another fetch holds the directory for more than ``lock_wait`` seconds.

    With ``recheck_days`` (the scheduled refresh), pages stored that many days back or less are
    asked for again with their ETag and Last-Modified (``WebStore.due_for_recheck``): a correction
    is found even when neither a feed nor a sitemap says so (unchanged, a 304).
    """
    started = time.perf_counter()
    config = config or FetchConfig()
    urls, problems = read_sources(sources)
    desk = read_desk(Path(articles_dir))  # blocked domains and channels are not fetched
    blocks = {u: b for u in urls if (b := desk.blocked(u))}
    problems += [_blocked(u, blocks[u]) for u in urls if u in blocks]
    urls = [u for u in urls if u not in blocks]
    report = HarvestReport(outcomes=problems)
    store = WebStore(articles_dir)
    cancel = cancel or threading.Event()
    with store.lock(lock_wait):
        robots = RobotsCache(entries=dict(store.state.get("robots", {})))
        with Fetcher(config, robots) as fetcher, ThreadPoolExecutor(config.workers, thread_name_prefix="fetch") as pool:
            fetcher.stop_at = time.monotonic() + budget if budget is not None else None
            results = list(pool.map(lambda u: _read_source(fetcher, store, u), urls))
            tasks: list[_Task] = []
            parents: dict[str, str] = {}
            for result in results:
                report.outcomes += result.outcomes
                parents.update(result.parents)
                if result.article is not None and result.fetched is not None:
                    report.outcomes.append(_store(store, result.article, result.fetched, _Task(result.source)))
                for url, kind, fetched, listing in result.listings:
                    report.listings.append(
                        ListingOutcome(url, kind, len(listing.entries) if listing else 0, bool(fetched and fetched.not_modified))
                    )
                tasks += result.tasks
            todo, known = _plan(store, tasks, report, desk)
            todo.sort(key=lambda t: t.published, reverse=True)
            todo, left = todo[:max_pages], todo[max_pages:]
            if recheck_days > 0:  # after the new links: rechecks use what is left of max_pages
                again, known = _rechecks(store, todo, known, recheck_days, max(0, max_pages - len(todo)), desk)
                todo += again
            report.outcomes += known
            left += _fetch_pages(fetcher, store, pool, todo, report, progress, cancel, on_progress)
            report.left = len(left)
            if fetcher.out_of_time():
                report.budget = budget
            _remember_listings(store, results, report, parents, {t.listing for t in left})
            _remember_listed_dates(store, tasks, report, left)
            _remember_syncs(store, results, report)
            report.requests = fetcher.requests
        store.state["robots"] = robots.entries
        store.save_state()
    report.seconds = time.perf_counter() - started
    return report


def _read_source(fetcher: Fetcher, store: WebStore, url: str) -> _SourceResult:
    """Download one source and tell what it is (runs in a worker thread; reads the store, never writes)."""
    result = _SourceResult(url)
    known = store.lookup(url)
    remembered = store.listing(canonical_url(url) or url)
    etag = remembered.get("etag", "") or (known.etag if known else "")
    last_modified = remembered.get("last_modified", "") or (known.last_modified if known else "")
    try:
        fetched = fetcher.get(url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        result.outcomes.append(Outcome(url, FAILED, reason=exc.reason))
        return result
    if fetched.not_modified:
        if known is not None and not remembered:
            result.outcomes.append(Outcome(url, UNCHANGED, known.title))
        else:
            result.listings.append((canonical_url(url) or url, "listing", fetched, None))
        return result
    try:
        kind = sniff(fetched.content, fetched.content_type)
    except NotAListing as exc:
        result.outcomes.append(Outcome(url, FAILED, reason=str(exc)))
        return result
    if kind == HTML:
        try:
            result.article = extract_article(fetched.content, fetched.url, fetched.charset)
            result.fetched = fetched
        except NotAnArticle as exc:
            result.outcomes.append(Outcome(url, FAILED, reason=str(exc)))
        return result
    if kind.startswith("other"):
        result.outcomes.append(Outcome(url, FAILED, reason=f"not a web page, feed or sitemap ({kind.split(': ', 1)[1]})"))
        return result
    _read_listing(fetcher, store, url, fetched, kind, result, depth=0)
    return result


def _read_listing(
    fetcher: Fetcher, store: WebStore, url: str, fetched: Fetched, kind: str, result: _SourceResult, depth: int
) -> None:
    key = canonical_url(url) or url
    try:
        listing = parse_listing(fetched.content, fetched.url, kind, fetched.content_type)
    except NotAListing as exc:
        result.outcomes.append(Outcome(url, FAILED, reason=str(exc)))
        return
    result.listings.append((key, kind, fetched, listing))
    if listing.problem:
        result.outcomes.append(Outcome(url, FAILED, reason=listing.problem))
    for entry in listing.entries:
        hint = (
            DateHint(entry.published, True) if entry.published else DateHint(entry.updated[:10], False) if entry.updated else None
        )
        result.tasks.append(_Task(entry.url, key, hint, entry.published or entry.updated[:10], entry.updated))
    if kind != SITEMAP_INDEX:
        return
    if depth >= 2:
        result.outcomes.append(Outcome(url, FAILED, reason="sitemap indexes nested too deep; not followed"))
        return
    for child in listing.sitemaps[:MAX_SITEMAPS]:
        result.parents[child.url] = key
        remembered = store.listing(child.url)
        if remembered and child.updated and remembered.get("fetched_at", "") >= child.updated:
            result.listings.append((child.url, "sitemap", None, None))  # unchanged since we read it all
            continue
        try:
            got = fetcher.get(child.url, etag=remembered.get("etag", ""), last_modified=remembered.get("last_modified", ""))
        except FetchError as exc:
            result.outcomes.append(Outcome(child.url, FAILED, reason=exc.reason, listing=key))
            continue
        if got.not_modified:
            result.listings.append((child.url, "sitemap", got, None))
            continue
        try:
            child_kind = sniff(got.content, got.content_type)
        except NotAListing as exc:
            result.outcomes.append(Outcome(child.url, FAILED, reason=str(exc), listing=key))
            continue
        if child_kind == HTML or child_kind.startswith("other"):
            result.outcomes.append(Outcome(child.url, FAILED, reason=f"listed as a sitemap but is {child_kind}", listing=key))
            continue
        _read_listing(fetcher, store, child.url, got, child_kind, result, depth + 1)
    if len(listing.sitemaps) > MAX_SITEMAPS:
        result.outcomes.append(
            Outcome(url, FAILED, reason=f"{len(listing.sitemaps)} sitemaps; only the first {MAX_SITEMAPS} read")
        )


def _plan(store: WebStore, tasks: list[_Task], report: HarvestReport, desk: Desk) -> tuple[list[_Task], list[Outcome]]:
    """Links to download, and links already stored that need no download (a blocked source's: neither)."""
    todo: dict[str, _Task] = {}
    known: list[Outcome] = []
    seen: set[str] = {o.url for o in report.outcomes}
    updated = {t.url: t for t in tasks}
    for task in tasks:
        if task.url in todo or task.url in seen:
            continue
        seen.add(task.url)
        block = desk.blocked(task.url)
        if block is not None:
            report.outcomes.append(_blocked(task.url, block, task.listing))
            continue
        stored = store.lookup(task.url)
        if stored is not None and not store.changed_since(stored, updated[task.url].updated, task.listing, task.url):
            known.append(Outcome(task.url, KNOWN, stored.title, listing=task.listing))
            continue
        todo[task.url] = task
    return list(todo.values()), known


def _blocked(url: str, block: Block, listing: str = "") -> Outcome:
    return Outcome(url, FAILED, reason=f"blocked by the desk ({block.target}; python -m index pins)", listing=listing)


def _rechecks(
    store: WebStore, todo: list[_Task], known: list[Outcome], days: float, limit: int, desk: Desk
) -> tuple[list[_Task], list[Outcome]]:
    """Up to ``limit`` pages stored within ``days`` and not already planned, newest first, as downloads (asked for
    with their ETag); and the "known" outcomes without those pages (their download says what became of them)."""
    planned = {page.id for t in todo if (page := store.lookup(t.url)) is not None}
    recent = [p for p in store.due_for_recheck(days) if p.id not in planned and not desk.blocked(p.url)][:limit]
    again = {p.id for p in recent}
    listing_of: dict[str, str] = {}
    kept = []
    for outcome in known:
        page = store.lookup(outcome.url)
        if page is not None and page.id in again:
            listing_of[page.id] = outcome.listing
        else:
            kept.append(outcome)
    return [_Task(p.url, listing_of.get(p.id, ""), published=p.fetched_at[:10]) for p in recent], kept


def _remember_listed_dates(store: WebStore, tasks: list[_Task], report: HarvestReport, left: list[_Task]) -> None:
    """Keep the date each listing gave each page this run, once the page is handled (a failed or postponed one keeps
    the date of the run before, so its change is still seen next run). A listing whose every link was handled keeps
    only this run's dates: pages it no longer lists are forgotten."""
    unhandled = {o.url for o in report.outcomes if o.status == FAILED} | {t.url for t in left}
    unfinished = {t.listing for t in tasks if t.url in unhandled}
    seen: dict[str, dict[str, str]] = {}
    for task in tasks:
        if task.listing and task.updated and task.url not in unhandled:
            seen.setdefault(task.listing, {})[task.url] = task.updated
    for listing, dates in seen.items():
        store.remember_listed_dates(listing, dates, replace=listing not in unfinished)


def _remember_syncs(store: WebStore, results: list[_SourceResult], report: HarvestReport) -> None:
    """Each source's last good read and last error, and the listings it gave (``index sources``, ``/sources``)."""
    owner: dict[str, str] = {}
    for result in results:
        for key, *_ in result.listings:
            owner[key] = result.source
        for child in result.parents:
            owner[child] = result.source
    failures: dict[str, list[Outcome]] = {}
    sources = {r.source for r in results}
    for outcome in report.failed:
        source = outcome.url if outcome.url in sources else owner.get(outcome.listing, "")
        if source:
            failures.setdefault(source, []).append(outcome)
    for result in results:
        kinds = [kind for _, kind, _, _ in result.listings]
        keys = [key for key, *_ in result.listings]
        failed = failures.get(result.source, [])
        if result.article is not None:
            kinds, keys = ["page"], [canonical_url(result.source) or result.source]
        read = not any(o.url == result.source for o in failed)
        first = failed[0] if failed else None
        error = f"{first.url}: {first.reason}" + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "") if first else ""
        store.remember_sync(result.source, kinds[0] if kinds else "", keys, read, error)


def _fetch_pages(
    fetcher: Fetcher,
    store: WebStore,
    pool: ThreadPoolExecutor,
    tasks: list[_Task],
    report: HarvestReport,
    progress: bool,
    cancel: threading.Event,
    on_progress: Callable[[int, int], None] | None,
) -> list[_Task]:
    """Download, extract and store ``tasks``; returns those not started because of ``cancel``."""

    shown = bar(total=len(tasks), enabled=progress and bool(tasks), desc="fetching", unit="page")
    pending: dict[Future, _Task] = {}
    queue = list(reversed(tasks))
    not_started: list[_Task] = []
    done_count = 0
    try:
        while queue or pending:
            stopped = cancel.is_set() or fetcher.out_of_time()
            while queue and len(pending) < fetcher.config.workers * 2 and not stopped:
                task = queue.pop()
                known = store.lookup(task.url)
                pending[pool.submit(_download, fetcher, task, known)] = task
            if stopped and queue:
                not_started += queue
                queue.clear()
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                result = future.result()
                if result is None:  # cut off by the time budget: left for the next run
                    not_started.append(task)
                    continue
                report.outcomes.append(_finish(store, task, result))
                done_count += 1
                shown.update(1)
                if on_progress is not None:
                    on_progress(done_count, len(tasks))
    finally:
        shown.close()
    return not_started


def _download(fetcher: Fetcher, task: _Task, known: StoredPage | None) -> Outcome | tuple[WebArticle, Fetched] | None:
    """Fetch and extract one page (worker thread). A known page is asked for with its ETag. None: the run's
    time budget ran out first."""
    try:
        fetched = fetcher.get(task.url, etag=known.etag if known else "", last_modified=known.last_modified if known else "")
    except OutOfTime:
        return None
    except FetchError as exc:
        return Outcome(task.url, FAILED, reason=exc.reason, listing=task.listing)
    if fetched.not_modified:
        return Outcome(task.url, UNCHANGED, known.title if known else "", listing=task.listing)
    try:
        kind = sniff(fetched.content, fetched.content_type)
    except NotAListing as exc:
        return Outcome(task.url, FAILED, reason=str(exc), listing=task.listing)
    if kind != HTML:
        what = kind.split(": ", 1)[1] if kind.startswith("other") else f"a {kind}"
        return Outcome(task.url, FAILED, reason=f"not an article page ({what})", listing=task.listing)
    try:
        return extract_article(fetched.content, fetched.url, fetched.charset, task.hint), fetched
    except NotAnArticle as exc:
        return Outcome(task.url, FAILED, reason=str(exc), listing=task.listing)
    except Exception as exc:  # an extractor bug on one page must not stop the run
        log.exception("extracting %s failed", task.url)
        return Outcome(task.url, FAILED, reason=f"extraction failed ({type(exc).__name__}: {exc})", listing=task.listing)


def _finish(store: WebStore, task: _Task, result: Outcome | tuple[WebArticle, Fetched]) -> Outcome:
    if isinstance(result, Outcome):
        return result
    article, fetched = result
    return _store(store, article, fetched, task)


def fallback_date(headers: dict[str, str], today: str = "") -> tuple[str, str]:
    """A date for a page that states none: its Last-Modified header, else the day it was fetched.
    Returns (YYYY-MM-DD, where it came from) so the record says it is not the publisher's date."""
    import email.utils
    from datetime import UTC, datetime

    try:
        modified = email.utils.parsedate_to_datetime(headers.get("last-modified", ""))
        return modified.date().isoformat(), "last-modified"
    except (TypeError, ValueError, IndexError):
        return today or datetime.now(UTC).date().isoformat(), "fetched"


def _store(store: WebStore, article: WebArticle, fetched: Fetched, task: _Task) -> Outcome:
    date, date_from = article.date, ""
    if not date:  # ranking by recency needs a date on every article; the record says where this one came from
        date, date_from = fallback_date(fetched.headers)
    fields = {
        "title": article.title,
        "text": article.text,
        "url": article.url,
        "date": date,
        "source": article.source,
        "author": article.author,
    }
    extra = {
        "etag": fetched.headers.get("etag", ""),
        "last_modified": fetched.headers.get("last-modified", ""),
        "encoding": article.encoding,
    }
    if task.listing:
        extra["listing"] = task.listing
    if date_from:
        extra["date_from"] = date_from
    links = [task.url, fetched.requested, fetched.url]
    try:
        status, record = store.save(fields, links, extra)
    except ArticleError as exc:
        return Outcome(task.url, FAILED, reason=str(exc), listing=task.listing)
    except OSError as exc:
        return Outcome(task.url, FAILED, reason=f"cannot write the article: {exc.strerror or exc}", listing=task.listing)
    return Outcome(task.url, status, record["title"], listing=task.listing)


def _remember_listings(
    store: WebStore, results: list[_SourceResult], report: HarvestReport, parents: dict[str, str], postponed: set[str]
) -> None:
    """Keep a listing's ETag only when every link it gave was handled: a failed or postponed link is tried again next run."""
    unfinished = {o.listing for o in report.outcomes if o.status == FAILED and o.listing} | postponed
    for child, parent in parents.items():
        if child in unfinished:
            unfinished.add(parent)
    failed_sources = {o.url for o in report.outcomes if o.status == FAILED}
    for result in results:
        for url, _kind, fetched, listing in result.listings:
            if fetched is None or fetched.not_modified:
                continue
            if url in unfinished or url in failed_sources or (listing is not None and listing.problem):
                store.forget_listing(url)
            else:
                store.remember_listing(url, fetched.headers.get("etag", ""), fetched.headers.get("last-modified", ""))


__all__ = ["Entry", "HarvestReport", "ListingOutcome", "Outcome", "harvest", "read_sources"]
