"""Deep links that ask a question: ``https://t.me/<bot>?start=<payload>``, the payload being the question's UTF-8 in
unpadded base64url (Telegram allows 64 characters: about 45 Latin or 23 Arabic letters)."""

from __future__ import annotations

import base64
import re

from .context import clean_question

MAX_PAYLOAD = 64  # Telegram's limit for a /start parameter: A-Z, a-z, 0-9, _ and -
_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def start_payload(question: str) -> str | None:
    """The /start parameter asking ``question`` (base64url of its UTF-8, unpadded); None when it is too long."""
    payload = base64.urlsafe_b64encode(" ".join(question.split()).encode()).decode().rstrip("=")
    return payload if 0 < len(payload) <= MAX_PAYLOAD else None


def deep_link(bot_username: str, question: str) -> str | None:
    """``https://t.me/<bot>?start=<payload>``: opening it asks ``question``; None when the question is too long."""
    payload = start_payload(question)
    return f"https://t.me/{bot_username}?start={payload}" if payload else None


def question_from_payload(payload: str) -> str | None:
    """The question in a /start parameter, or None when it is not base64url of printable UTF-8 text."""
    if not _PAYLOAD_RE.match(payload):
        return None
    try:
        question = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    question = clean_question(question)
    return question if question and question.isprintable() else None
