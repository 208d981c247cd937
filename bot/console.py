"""Console mode: the bot's question -> reply pipeline in a terminal, rendered as plain text.

For admins to try answers without Telegram: the same search, the same reply
composition and the same language choice as in a chat.
"""

from __future__ import annotations

import sys
from typing import TextIO

from index.search import Searcher

from .render import Format, reply_messages
from .texts import AR, language_for


def answer_text(searcher: Searcher, question: str, top_k: int = 3) -> str:
    """The plain-text reply the bot would send for ``question``."""
    lang = language_for(question)
    result = searcher.search(question, k=max(top_k, 3)).confident_only()
    return "\n\n".join(reply_messages(result, lang, 0, top_k, Format(html=False, rtl=False))) + "\n"


def run_console(searcher: Searcher, top_k: int = 3, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Read questions (one per line) until end of input; print each reply."""
    interactive = stdin.isatty()
    if interactive:
        print("اكتب سؤالك (Ctrl+D للخروج) / Type a question (Ctrl+D to quit)", file=stdout)
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        question = line.strip()
        if not question:
            continue
        if not interactive:
            print(f"{'س' if language_for(question) == AR else 'Q'}: {question}", file=stdout)
        print(answer_text(searcher, question, top_k), file=stdout, flush=True)
