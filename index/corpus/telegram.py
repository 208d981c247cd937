"""Telegram channel posts as article records: live posts (the bot hands them over) and Telegram Desktop exports.

A post becomes an article: title = its first line, outlet = the channel's title,
date = the post date, link = ``https://t.me/<username>/<message_id>`` (none for a
private channel). The id ``tg-<channel id>-<message id>`` is the same whichever way
a post arrives, so an export and the bot's own copy of a post never count twice,
and an edited post replaces its article.

The Bot API cannot read a channel's past posts; a Telegram Desktop export
(``result.json``, "Export chat history" as JSON) fills that gap.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.files import write_atomically
from index.layout import ArticlesLayout

log = logging.getLogger(__name__)

TITLE_CHARS = 200
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def bare_channel_id(chat_id: int | str) -> int:
    """The channel id as Telegram Desktop exports it: the Bot API's ``-100…`` prefix removed."""
    value = int(chat_id)
    text = str(abs(value))
    return int(text[3:]) if value < 0 and text.startswith("100") and len(text) > 3 else abs(value)


def post_link(username: str | None, message_id: int) -> str:
    """The public link of a post, or "" for a channel without a username (private)."""
    if username and _USERNAME_RE.match(username):
        return f"https://t.me/{username}/{int(message_id)}"
    return ""


def first_line(text: str, limit: int = TITLE_CHARS) -> str:
    """The post's first non-empty line, cut at a word to ``limit`` characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit - 1)
    return line[: cut if cut > limit // 2 else limit - 1] + "…"


def channel_key(chat_id: int | str, username: str | None) -> str:
    """A channel's name in its posts' records and file name: its username, else its bare id."""
    return username or str(bare_channel_id(chat_id))


def post_record(
    *,
    chat_id: int | str,
    message_id: int,
    text: str,
    date: datetime | str,
    channel_title: str,
    username: str | None = None,
) -> dict[str, Any] | None:
    """An article record for one post (its text or media caption); None when the post has no text."""
    text = (text or "").strip()
    if not text:
        return None
    if isinstance(date, datetime):
        date = (date if date.tzinfo is None else date.astimezone(UTC)).strftime("%Y-%m-%d %H:%M:%S")
    bare = bare_channel_id(chat_id)
    return {
        "id": post_id(chat_id, message_id),
        "title": first_line(text),
        "text": text,
        "url": post_link(username, message_id),
        "date": str(date).replace("T", " "),
        "source": channel_title or (f"@{username}" if username else str(bare)),
        "channel": channel_key(chat_id, username),
        "message_id": int(message_id),
    }


def flatten_text(value: Any) -> str:
    """An export's ``text``: a string, or a list of strings and entity objects ({"type", "text", ...})."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", "")) for part in value if isinstance(part, str | dict)
        )
    return ""


def is_export(parsed: Any) -> bool:
    """True for a Telegram Desktop chat export: an object with a "messages" list and a chat "type"."""
    return isinstance(parsed, dict) and isinstance(parsed.get("messages"), list) and isinstance(parsed.get("type"), str)


def export_records(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """The article records of an export's posts (service messages and posts without text are skipped).

    Exports carry no username; add ``"username": "channel"`` at the top of the file to get
    public post links.
    """
    username = parsed.get("username") if isinstance(parsed.get("username"), str) else None
    title = str(parsed.get("name") or "")
    chat_id = parsed.get("id", 0)
    records = []
    for message in parsed["messages"]:
        if not isinstance(message, dict) or message.get("type", "message") != "message":
            continue
        try:
            record = post_record(
                chat_id=chat_id,
                message_id=int(message["id"]),
                text=flatten_text(message.get("text")),
                date=str(message.get("date") or ""),
                channel_title=title,
                username=username,
            )
        except (KeyError, TypeError, ValueError):
            continue  # a message without a usable id
        if record is not None:
            records.append(record)
    return records


def channel_file(articles_dir: Path, channel: str) -> Path:
    """Where a channel's posts are kept: ``ARTICLES_DIR/telegram/<username or id>.jsonl``."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", channel.lstrip("@")) or "channel"
    return ArticlesLayout(Path(articles_dir)).telegram / f"{safe}.jsonl"  # the posts the bot stores


def is_live_post(article_id: str, path: str | Path) -> bool:
    """A channel post as the bot stored it (in a ``channel_file``), so newer than any export of it."""
    return article_id.startswith("tg-") and Path(path).parent.name == ArticlesLayout(Path()).telegram.name


def post_id(chat_id: int | str, message_id: int) -> str:
    """The article id of a channel post (live or exported: the same post gets the same id)."""
    return f"tg-{bare_channel_id(chat_id)}-{int(message_id)}"


def store_posts(path: Path, records: list[dict[str, Any]], removed: tuple[str, ...] = ()) -> int:
    """Add or replace (by id) ``records`` in the JSONL file at ``path`` and drop the ``removed`` ids, written
    aside and swapped in; returns how many changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept: dict[str, dict[str, Any] | str] = {}
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict) and "id" in record:
                kept[str(record["id"])] = record
            elif line.strip():  # kept as it is (the loader reports it): a later post never erases it
                log.warning("%s:%d: not a post record; kept unchanged", path, number)
                kept[f"\x00line {number}"] = line
    changed = sum(kept.pop(i, None) is not None for i in removed)
    for record in records:
        if kept.get(record["id"]) != record:
            kept[record["id"]] = record
            changed += 1
    if not changed:
        return 0
    lines = ((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in kept.values())
    write_atomically(path, "".join(lines))
    return changed
