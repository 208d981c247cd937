"""URL rules shared by fetching and display: http(s) only, one canonical form, safe links.

Pure functions. An article's URL comes from a web page, a feed or a file, so it may
be anything (``javascript:...``, ``data:...``, a relative path); only absolute
http and https URLs are ever fetched or shown as links.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

WEB_SCHEMES = ("http", "https")
# Longer URLs are dropped when articles are loaded (the article is kept, without a link): browsers and
# servers commonly stop near 2,000 characters, and a planted 5,000-character link once turned one
# reply into dozens of messages.
MAX_URL_CHARS = 2048
# Query parameters that only track where a click came from; they never select content.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ocid|cmpid|at_medium|at_campaign)$", re.I
)
_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'«»()\[\]{}]+", re.I)


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and nothing that could break out of an attribute."""
    if not url or _UNSAFE.search(url.strip()):
        return False
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname) and parts.port != 0
    except ValueError:  # "http://[bad" or a port that is not a number
        return False


def safe_link(url: str) -> str:
    """``url`` if it may be shown as a link (absolute http/https, at most ``MAX_URL_CHARS``), else ``""`` (show no link)."""
    url = url.strip()
    return url if len(url) <= MAX_URL_CHARS and is_web_url(url) else ""


def canonical_url(url: str, base: str = "") -> str:
    """One spelling per page: absolute, lower-case scheme and host, no default port, no fragment,
    no tracking parameters. Returns ``""`` for anything that is not an http(s) URL."""
    url = url.strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return ""
    if not is_web_url(url):
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def url_hostname(url: str) -> str:
    """The lower-case host name of ``url`` (no port, no brackets), or ``""``."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def urls_in_text(text: str) -> list[str]:
    """The http(s) URLs written in a message, in order, each once (trailing punctuation dropped)."""
    found: list[str] = []
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group().rstrip(".,;:!?،؛؟…")
        if is_web_url(url) and url not in found:
            found.append(url)
    return found
