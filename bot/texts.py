"""How the bot picks the reader's language, and its texts by key (the words live in ``bot/locale``, see ``bot.i18n``).

Arabic is the default. A reader gets English when the question is mostly in Latin
script, or, for messages with no text of their own (stickers, button presses),
when their Telegram app is set to a non-Arabic language.
"""

from __future__ import annotations

from index.text.arabic import is_mostly_latin

from .i18n import AR, EN, catalog, counted, translate

__all__ = [
    "ADMIN_COMMANDS",
    "AR",
    "COMMANDS",
    "EN",
    "commands",
    "counted",
    "examples",
    "language_for",
    "reason_text",
    "stage_text",
    "text",
]

# The command menus (setMyCommands) in this order; admins see ADMIN_COMMANDS too. Descriptions: "command.<name>".
COMMANDS = ("start", "help", "ask", "new", "lang")
ADMIN_COMMANDS = ("reindex", "stats", "add", "report", "uploads", "remove", "restore", "sources", "pins", "reader")
# Builder progress notes ("embedding 120 chunks") start with one of these; their words: "stage.<note>".
STAGES = ("reading articles", "chunking", "embedding", "indexing", "writing", "merging")
# Why a URL could not be fetched: the reasons come from index.web in English; in Arabic the gist ("reason.<prefix>")
# goes first. Tried in this order: the first prefix found decides.
REASONS = (
    "HTTP 404",
    "HTTP 4",
    "HTTP 5",
    "HTTP 429",
    "disallowed by robots.txt",
    "robots.txt",
    "refused:",
    "cannot resolve host",
    "timed out",
    "too slow",
    "connection failed",
    "too large",
    "larger than",
    "redirect loop",
    "more than 5 redirects",
    "only http and https",
    "invalid URL",
    "not an http(s) URL",
    "no article text",
    "not a web page, feed or sitemap",
    "not an article page",
    "malformed feed XML",
    "malformed sitemap XML",
    "blocked by the desk",
)


def text(key: str, lang: str = AR, **values: object) -> str:
    """The interface text ``key`` in ``lang`` (Arabic when missing), formatted with ``values`` (``bot.i18n``)."""
    return translate(key, lang, **values)


def commands(lang: str, admin: bool = False) -> list[tuple[str, str]]:
    """(command, description) pairs of the menu in ``lang``; with the admin commands for admins."""
    names = COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [(name, text(f"command.{name}", lang)) for name in names]


def examples(lang: str) -> tuple[str, str]:
    """Two example questions for /start and /help."""
    return text("example.1", lang), text("example.2", lang)


def reason_text(reason: str, lang: str) -> str:
    """A fetch failure's reason for the admin: Arabic gist first, the technical detail after it."""
    if lang != AR:
        return reason
    for key in REASONS:
        if reason.startswith(key) or (key in reason and not key.startswith("HTTP")):
            return f"{text('reason.' + key, AR)} ({reason})"
    return reason


def stage_text(stage: str, lang: str) -> str:
    """Translate a builder stage note ("embedding 120 chunks") for progress messages."""
    for key in STAGES:
        if stage.startswith(key):
            return text(f"stage.{key}", lang) + stage[len(key) :]
    return stage


def language_for(question: str | None, language_code: str | None = None) -> str:
    """English for Latin-script questions; otherwise Arabic, unless there is no text and the app is not Arabic."""
    if question and question.strip():
        return EN if is_mostly_latin(question) else AR
    if language_code and not language_code.lower().startswith("ar"):
        return EN
    return AR


def keys(lang: str) -> set[str]:
    """Every text key the catalog of ``lang`` holds (plural entries included)."""
    books = catalog(lang)
    return set(books.messages) | set(books.plurals)
