"""Taking articles down and putting them back: what the command line's ``remove`` / ``restore`` and the bot's
``/remove`` / ``/restore`` share.

A target is an article id, an article's link (any spelling of it: matched by canonical URL), or a
channel post's ``t.me`` link. Finding shows the editor what would go before anything is written;
recording appends to the folder's takedown log (``corpus.removals``); the caller then runs an
update, which leaves the articles out wherever they are, as a new part over the build.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.corpus.removals import Takedown, append, deny_list, now
from index.corpus.telegram import post_id
from index.corpus.urls import canonical_url, is_web_url
from index.storage.lookup import ARTICLE_COLUMNS, IndexStore

_PRIVATE_POST = re.compile(r"^https?://t\.me/c/(\d+)/(\d+)/?$", re.I)


@dataclass(frozen=True)
class Found:
    """An article a target names, as the index holds it (the preview an editor confirms)."""

    target: str
    article_id: str
    title: str
    source: str
    date: str
    url: str
    path: str


def _target(text: str) -> tuple[str, str]:
    """(article id, canonical URL) a target names; one of them is ""."""
    text = text.strip()
    private = _PRIVATE_POST.match(text)
    if private:
        return post_id(int(private.group(1)), int(private.group(2))), ""
    if is_web_url(text):
        return "", canonical_url(text)
    return text, ""


def find(stored: IndexStore, targets: Sequence[str]) -> tuple[list[Found], list[str]]:
    """The articles of a build that ``targets`` name, and the targets naming none."""
    found: dict[str, Found] = {}
    unknown: list[str] = []
    by_url: dict[str, list[dict]] | None = None
    for target in targets:
        article_id, url = _target(target)
        rows = stored.articles_where("id", article_id) if article_id else stored.articles_where("url", url)
        if not rows and not article_id:  # stored in another spelling: compare canonical forms, once for all targets
            if by_url is None:
                by_url = {}
                for row in stored.articles_where("url", None):
                    by_url.setdefault(canonical_url(row["url"]), []).append(row)
            rows = by_url.get(url, [])
        if not rows:
            unknown.append(target)
        for row in rows:
            found.setdefault(row["id"], Found(target, *(str(row[c] or "") for c in ARTICLE_COLUMNS)))
    return list(found.values()), unknown


def record_removals(articles_dir: Path, found: Sequence[Found], unknown: Sequence[str], by: str) -> list[Takedown]:
    """Write the takedowns of ``found`` (and of ``unknown`` targets, kept out should they come) to the log."""
    at = now()
    records = [Takedown(f.article_id, canonical_url(f.url), f.title, f.path, by, at) for f in found]
    for target in unknown:
        article_id, url = _target(target)
        records.append(Takedown(article_id or f"url:{url}", url, "", "", by, at))
    append(articles_dir, records)
    return records


def standing(articles_dir: Path) -> list[Takedown]:
    """The removals in force, newest first."""
    return sorted(deny_list([articles_dir]).standing.values(), key=lambda t: t.at, reverse=True)


def record_restores(articles_dir: Path, targets: Sequence[str], by: str) -> tuple[list[Takedown], list[str]]:
    """Undo the standing removals ``targets`` name; returns the restores written and the targets that named none."""
    current = deny_list([articles_dir])
    undone: dict[str, Takedown] = {}
    unknown = []
    for target in targets:
        article_id, url = _target(target)
        hit = current.standing.get(article_id) if article_id else current.by_url.get(url)
        if hit is None:
            unknown.append(target)
        else:
            undone[hit.article_id] = hit.undone(by)
    append(articles_dir, list(undone.values()))
    return list(undone.values()), unknown
