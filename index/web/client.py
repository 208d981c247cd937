"""A polite and careful HTTP client for fetching news pages, feeds and sitemaps.

Every request made for the corpus goes through ``Fetcher.get``, which:

- speaks only http and https, follows at most ``max_redirects`` redirects and
  checks every hop again (scheme, robots.txt, address);
- refuses hosts that resolve to loopback, private, link-local or other non-public
  addresses (server-side request forgery) unless ``allow_private`` — the check is
  made on the address actually connected to, so DNS tricks cannot slip past it;
- honours robots.txt (cached for a day; its Crawl-delay too) and sends a
  User-Agent naming the bot and its contact;
- sends at most ``per_host`` requests at once to a host, each slot resting
  ``delay`` seconds between requests;
- streams the body and stops at ``max_bytes`` (a 30 MB page is cut off, never
  loaded), with connect/read timeouts and an overall deadline;
- retries 5xx answers, 429 (after its Retry-After), timeouts and dropped
  connections with exponential backoff.

Failures raise ``FetchError`` with a reason a person can read; callers report
them per URL and carry on. Built on httpx (already installed with
python-telegram-bot) because it streams, has separate connect/read timeouts and
lets the connection step be replaced (for the address check).
"""

from __future__ import annotations

import email.utils
import logging
import queue
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from index.corpus.urls import WEB_SCHEMES, is_web_url

from .addresses import Refused, guarded_transport
from .robots import ROBOTS_MAX_BYTES, RobotsCache

log = logging.getLogger(__name__)

BOT_NAME = "NewsQABot"
BOT_VERSION = "0.1"
_RETRY_STATUSES = {500, 502, 503, 504, 507, 520, 521, 522, 523, 524, 525, 526, 527, 529}
_REDIRECTS = {301, 302, 303, 307, 308}


def user_agent(contact: str = "") -> str:
    """The User-Agent header: the bot's name and version, and how to reach its operator."""
    return (
        f"{BOT_NAME}/{BOT_VERSION} (Arabic news Q&A bot; +{contact})"
        if contact
        else f"{BOT_NAME}/{BOT_VERSION} (Arabic news Q&A bot)"
    )


@dataclass(frozen=True)
class FetchConfig:
    """How politely and carefully to fetch; built from the settings (``Settings.fetch_config``)."""

    user_agent: str = user_agent()
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    per_host: int = 2
    delay: float = 0.25
    retries: int = 3
    backoff: float = 1.0  # first retry after about this many seconds, doubling each time
    max_retry_after: float = 120.0  # a longer Retry-After gives up on the URL instead of waiting
    max_redirects: int = 5
    allow_private: bool = False
    robots: bool = True
    workers: int = 8  # pages fetched in parallel (across hosts; per_host still applies)

    @property
    def deadline(self) -> float:
        """Most seconds one response may take in all (a server dripping bytes cannot hold a slot forever)."""
        return self.connect_timeout + 4 * self.read_timeout


class FetchError(Exception):
    """A URL that could not be fetched; ``reason`` says why in plain words."""

    def __init__(self, url: str, reason: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class OutOfTime(FetchError):
    """A request not made, or cut off, because the run's time budget was used up (``Fetcher.stop_at``)."""


@dataclass
class Fetched:
    """A successful response (or a 304 when ``not_modified``)."""

    url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes = b""
    requested: str = ""
    redirects: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str:
        """The charset named in the Content-Type header, or ``""``."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'").lower()
        return ""


# ------------------------------------------------------------------ politeness


class _HostGate:
    """At most ``per_host`` requests at once per host; each slot rests ``delay`` seconds between requests."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, queue.Queue[float]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, host: str, delay: float) -> Iterator[None]:
        with self._lock:
            slots = self._slots.get(host)
            if slots is None:
                slots = self._slots[host] = queue.Queue()
                for _ in range(self.per_host):
                    slots.put(0.0)
        free_at = slots.get()
        try:
            wait = free_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            yield
        finally:
            slots.put(time.monotonic() + delay)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Fetcher:
    """Thread-safe polite HTTP GETs (see the module docstring). Use as a context manager."""

    def __init__(self, config: FetchConfig | None = None, robots: RobotsCache | None = None) -> None:
        self.config = config or FetchConfig()
        self.robots = robots if robots is not None else RobotsCache()
        self.requests = 0  # HTTP requests sent, robots.txt and retries included
        self.stop_at: float | None = None  # time.monotonic() after which no request starts or goes on (a run's budget)
        self._gate = _HostGate(self.config.per_host)
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        c = self.config
        self._client = httpx.Client(
            transport=guarded_transport(c.allow_private, c.workers),
            timeout=httpx.Timeout(connect=c.connect_timeout, read=c.read_timeout, write=c.read_timeout, pool=None),
            headers={"User-Agent": c.user_agent, "Accept-Language": "ar,en;q=0.5"},
            follow_redirects=False,
            trust_env=False,  # a proxy would resolve hosts itself and defeat the address check
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -------------------------------------------------------------- public

    def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        max_bytes: int | None = None,
        accept: str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ) -> Fetched:
        """GET ``url`` following redirects; a 304 comes back as ``Fetched(not_modified=True)``."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, seen = url, [url]
        for hop in range(self.config.max_redirects + 1):
            self._check_url(current, url if hop else "")
            if self.config.robots:
                self._check_robots(current)
            status, response_headers, content = self._with_retries(current, headers, max_bytes or self.config.max_bytes)
            if status in _REDIRECTS and "location" in response_headers:
                target = urljoin(current, response_headers["location"].strip())
                if target in seen:
                    raise FetchError(url, f"redirect loop ({' -> '.join([*seen, target])})")
                seen.append(target)
                current = target
                continue
            if status == 304:
                return Fetched(current, status, response_headers, b"", url, hop)
            if status >= 400 or status in _REDIRECTS:
                raise FetchError(url, _status_reason(status))
            return Fetched(current, status, response_headers, content, url, hop)
        raise FetchError(url, f"more than {self.config.max_redirects} redirects")

    # -------------------------------------------------------------- checks

    @staticmethod
    def _check_url(url: str, first: str) -> None:
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in WEB_SCHEMES or not is_web_url(url):
            what = f"a {scheme}: URL" if scheme else "not an absolute http(s) URL"
            raise FetchError(first or url, f"{'redirected to ' if first else ''}{what}; only http and https are fetched")

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt download per origin, however many pages wait for it
            if self.robots.fresh(origin, time.time()) is None:
                self._load_robots(origin)
        entry = self.robots.entries[origin]
        if entry["status"] >= 500 or entry["status"] == 0:
            raise FetchError(
                url, f"robots.txt of {parts.netloc} could not be read ({entry['text'] or entry['status']}); not fetched"
            )
        parser = self.robots.parser(origin)
        if parser is not None and not parser.can_fetch(BOT_NAME, url):
            raise FetchError(url, "disallowed by robots.txt")

    def _load_robots(self, origin: str) -> None:
        robots_url = origin + "/robots.txt"
        try:
            current = robots_url
            for _ in range(self.config.max_redirects + 1):
                status, headers, content = self._with_retries(current, {"Accept": "text/plain"}, ROBOTS_MAX_BYTES, cut=True)
                if status in _REDIRECTS and "location" in headers:
                    current = urljoin(current, headers["location"])
                    self._check_url(current, robots_url)
                    continue
                break
            text = content.decode("utf-8", errors="replace") if 200 <= status < 300 else ""
            self.robots.store(origin, status, text, time.time())
        except FetchError as exc:
            if not exc.retryable and exc.reason.startswith(("refused", "cannot resolve", "redirected to")):
                raise  # the page would fail for the same reason: say that, not "robots.txt"
            self.robots.store(origin, 0, exc.reason, time.time())

    def _delay(self, url: str) -> float:
        delay = self.config.delay
        if self.config.robots:
            parts = urlsplit(url)
            entry = self.robots.entries.get(f"{parts.scheme}://{parts.netloc}".lower())
            parser = self.robots.parser(f"{parts.scheme}://{parts.netloc}".lower()) if entry else None
            crawl_delay = parser.crawl_delay(BOT_NAME) if parser is not None else None
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), 60.0))
        return delay

    # -------------------------------------------------------------- requests

    def _with_retries(
        self, url: str, headers: dict[str, str], max_bytes: int, cut: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        c = self.config
        for attempt in range(c.retries + 1):
            try:
                status, response_headers, content = self._once(url, headers, max_bytes, cut)
            except FetchError as exc:
                if not exc.retryable or attempt == c.retries:
                    if exc.retryable:
                        raise FetchError(url, f"{exc.reason} (after {attempt + 1} attempts)") from None
                    raise
                wait = c.backoff * 2**attempt * (0.75 + random.random() / 2)
                log.info("%s: %s; retrying in %.1f s", url, exc.reason, wait)
                self._sleep(wait)
                continue
            if status == 429 or status in _RETRY_STATUSES:
                if attempt == c.retries:
                    raise FetchError(url, f"{_status_reason(status)} (after {attempt + 1} attempts)")
                after = _retry_after(response_headers.get("retry-after"))
                if after is not None and after > c.max_retry_after:
                    raise FetchError(url, f"{_status_reason(status)}; the server asks to wait {after:.0f} s")
                wait = after if after is not None else c.backoff * 2**attempt * (0.75 + random.random() / 2)
                log.info("%s: HTTP %s; retrying in %.1f s", url, status, wait)
                self._sleep(wait)
                continue
            return status, response_headers, content
        raise AssertionError("unreachable")

    def out_of_time(self) -> bool:
        """Whether the run's time budget (``stop_at``) is used up."""
        return self.stop_at is not None and time.monotonic() >= self.stop_at

    def _check_budget(self, url: str) -> None:
        if self.out_of_time():
            raise OutOfTime(url, "not fetched: the run's time budget was used up; tried again next run")

    def _sleep(self, seconds: float) -> None:
        """Wait before a retry, never past the run's budget (the retry then stops at ``_check_budget``)."""
        if self.stop_at is not None:
            seconds = min(seconds, max(0.0, self.stop_at - time.monotonic()))
        time.sleep(seconds)

    def _once(self, url: str, headers: dict[str, str], max_bytes: int, cut: bool) -> tuple[int, dict[str, str], bytes]:
        """One request through the host's gate; the body is streamed up to ``max_bytes``."""
        host = (urlsplit(url).hostname or "").lower()
        self._check_budget(url)
        with self._gate.slot(host, self._delay(url)):
            self._check_budget(url)
            with self._lock:
                self.requests += 1
            started = time.monotonic()
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    response_headers = {k.lower(): v for k, v in response.headers.items()}
                    if not 200 <= response.status_code < 300:
                        return response.status_code, response_headers, b""
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes and not cut:
                        raise FetchError(
                            url, f"too large ({int(declared) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB); not downloaded"
                        )
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body += piece
                        if len(body) > max_bytes:
                            if cut:
                                return response.status_code, response_headers, bytes(body[:max_bytes])
                            raise FetchError(url, f"larger than {max_bytes / 1e6:.1f} MB; cut off and skipped")
                        if time.monotonic() - started > self.config.deadline:
                            # not retried: a server that drips bytes would hold the run for every attempt
                            raise FetchError(url, f"too slow: not complete after {self.config.deadline:.0f} s")
                        if self.out_of_time():
                            raise OutOfTime(url, "cut off: the run's time budget was used up; tried again next run")
                    return response.status_code, response_headers, bytes(body)
            except Refused as exc:
                raise FetchError(url, exc.reason) from None
            except httpx.ConnectTimeout:
                raise FetchError(url, f"connection timed out ({self.config.connect_timeout:g} s)", retryable=True) from None
            except httpx.TimeoutException:
                raise FetchError(
                    url, f"timed out waiting for the server ({self.config.read_timeout:g} s)", retryable=True
                ) from None
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                raise FetchError(url, f"connection failed ({exc or type(exc).__name__})", retryable=True) from None
            except httpx.DecodingError as exc:
                raise FetchError(url, f"bad compressed body ({exc})") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError, ValueError) as exc:
                # httpx also reads a redirect's Location here; "javascript:..." ends up in this branch
                raise FetchError(url, f"invalid URL or redirect target ({exc})") from None


def _status_reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"
