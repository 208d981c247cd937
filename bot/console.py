"""Console mode: the bot's question -> reply pipeline in a terminal, rendered as plain text.

For admins to try answers without Telegram: the same search, the same reply
composition, the same language choice and the same /start, /help and /stats
replies as in a chat (the console's user is an admin). The console is one
private chat: a question may follow up the one before (within
``FOLLOWUP_MINUTES``), and /new starts afresh. In a terminal, lines are read
with ``readline``: arrow keys edit the line and recall earlier questions.
"""

from __future__ import annotations

import contextlib
import getpass
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from index.answer.claims import name_like_in
from index.answer.reader import Reader
from index.corpus.desk import read_desk
from index.percentiles import percentile
from index.search.desk import apply_desk
from index.search.followup import Understood
from index.search.searcher import Searcher

from .render import Format, first_page, plain, reply_messages
from .replies import help_text, stats_text, welcome_text
from .texts import AR, language_for, text

COMMANDS = ("/start", "/help", "/stats", "/ask", "/new")


@dataclass
class ConsoleSession:
    """One private chat in a terminal: the last question (for follow-ups), the language of the last one (for the
    commands), and the questions answered (for /stats)."""

    searcher: Searcher
    top_k: int = 3
    followup_seconds: float = 600.0
    lang: str = AR
    refused: int = 0
    latencies: list[float] = field(default_factory=list)  # one per question answered
    previous: Understood | None = None  # the last question as understood, with the article its reply led with
    asked_at: float = 0.0
    clock: Callable[[], float] = time.monotonic
    reader: Reader | None = None  # the language-model reader (LLM_BASE_URL), as in the bot
    articles_dir: Path | None = None  # where the desk's pins and blocks are (ARTICLES_DIR), as in the bot

    def reply(self, line: str, lang: str | None = None) -> str:
        """What the bot would answer to ``line``: a command's reply, or the answer to a question (in ``lang`` when known)."""
        command, _, rest = line.partition(" ")
        command = command.lower().split("@", 1)[0]
        if command == "/start":
            return plain(welcome_text(self.searcher, self.lang, _user_name(), "@bot")) + "\n"
        if command == "/help":
            return plain(help_text(self.lang, admin=True, mention="@bot")) + "\n"
        if command == "/stats":
            answered = len(self.latencies)
            return plain(stats_text(self.lang, self.searcher.manifest, answered, self.refused, self._p50_p95(), False)) + "\n"
        if command == "/new":
            self.previous = None
            return plain(text("new_conversation", self.lang)) + "\n"
        if command == "/ask":
            line = rest.strip()
            if not line:
                return plain(help_text(self.lang, admin=True, mention="@bot")) + "\n"
        elif command.startswith("/") and len(command) > 1:
            return f"{command}: not in the console (here: {', '.join(COMMANDS)}); the index commands: python -m index --help\n"
        return self.ask(line, lang)

    def ask(self, question: str, lang: str | None = None) -> str:
        """The reply to ``question``, understood after the previous one when it follows it up."""
        self.lang = lang or language_for(question)
        now = self.clock()
        fresh = self.previous is None or now - self.asked_at > self.followup_seconds or self.followup_seconds <= 0
        started = time.perf_counter()
        understood = self.searcher.understand(question, None if fresh else self.previous)
        result = self.searcher.search(understood, k=max(self.top_k, 3)).confident_only()
        if self.articles_dir is not None:  # the desk's pins and blocks, as the bot applies them
            result = apply_desk(self.searcher, result, read_desk(self.articles_dir), result.question).result
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.refused += result.no_answer
        self.previous, self.asked_at = understood.answered(result), now
        reply = "\n\n".join(reply_messages(result, self.lang, 0, self.top_k, Format(html=False, rtl=False))) + "\n"
        if self.reader is not None and self.reader.usable and result.hits:
            try:
                read = self.reader.read(
                    result.question,
                    result,
                    self.lang,
                    name_like_in(self.searcher.stored.lexical),
                    n=first_page(result, self.top_k),
                )
            except Exception as exc:  # a reader failure never costs the reply
                return f"(reader failed: {type(exc).__name__})\n{reply}"
            if read.shown:
                return f"🤖 {read.answer}\n({text('reader_label', self.lang)})\n\n{reply}"
            return f"({read.model}: {read.fallback})\n{reply}"
        return reply

    def _p50_p95(self) -> tuple[float, float]:
        return percentile(self.latencies, 0.5), percentile(self.latencies, 0.95)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return ""


def _line_reader(stdin: TextIO, interactive: bool) -> Callable[[], str]:
    """A function returning the next line ("" at the end); in a terminal, ``input`` with readline editing."""
    if not interactive:
        return stdin.readline

    with contextlib.suppress(ImportError):  # not on every platform; input() still works without it
        import readline  # noqa: F401  (importing it gives input() line editing and history)

    def read() -> str:
        try:
            return input("> ") + "\n"
        except EOFError:
            return ""

    return read


def run_console(
    searcher: Searcher,
    top_k: int = 3,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    followup_minutes: float = 10.0,
    reader: Reader | None = None,
    articles_dir: Path | None = None,
) -> int:
    """Read questions (one per line) until end of input or Ctrl-C; print each reply."""
    interactive = stdin.isatty()
    if interactive:
        print("اكتب سؤالك (Ctrl+D للخروج) / Type a question (Ctrl+D to quit) — /help /start /stats /new", file=stdout)
    session = ConsoleSession(searcher, top_k, followup_minutes * 60, reader=reader, articles_dir=articles_dir)
    read = _line_reader(stdin, interactive)
    try:
        while True:
            line = read()
            if not line:
                if interactive:
                    print(file=stdout)
                return 0
            question = line.strip()
            if not question:
                continue
            lang = None if question.startswith("/") else language_for(question)  # a command keeps the language
            if not interactive:
                print(f"{'س' if (lang or session.lang) == AR else 'Q'}: {question}", file=stdout)
            print(session.reply(question, lang), file=stdout, flush=True)
    except KeyboardInterrupt:
        print(file=stdout, flush=True)  # end the half-typed line; no traceback
        return 130
