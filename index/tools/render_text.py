"""Plain-text view of search results for the admin command line: compact, like the bot's replies."""

from __future__ import annotations

import textwrap

from index.results import NOTHING, TENTATIVE, Passage, SearchResult

_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _marked(passage: Passage, color: bool, start: int = 0, end: int | None = None) -> str:
    """``passage.text[start:end]`` with its highlights in bold (terminal) or between ⟦ ⟧ (pipes, files)."""
    open_, close = (_BOLD, _RESET) if color else ("⟦", "⟧")
    return "".join(f"{open_}{piece}{close}" if marked else piece for piece, marked in passage.segments(start, end))


def format_result(result: SearchResult, color: bool = False, width: int = 100, full: bool = False) -> str:
    """The answer line, then per hit: title — outlet · date, the snippet (``full``: the whole passages), the link."""
    lines = [f"? {result.question}"]
    if result.understood_as:
        lines = [f"? {result.understood_as}  (a follow-up: understood with the previous question's words)"]
    if result.band == NOTHING:
        lines.append(f"  no answer found (answer probability {result.confidence:.2f})")
        return "\n".join(lines) + "\n"
    if result.band == TENTATIVE:
        lines.append(f"  no sure answer (answer probability {result.confidence:.2f}); the closest passages:")
    elif result.answer_line:
        answer = " ".join(result.answer_line.split())
        lines += [
            *textwrap.wrap(f"💡 {answer}", width, subsequent_indent="   "),
            f"   (answer probability {result.confidence:.2f})",
        ]
    for hit in result.hits:
        meta = " · ".join(x for x in (hit.source, hit.date) if x)
        lines.append(f"{hit.rank}. {hit.title or hit.article_id}" + (f" — {meta}" if meta else "") + f"  [{hit.confidence:.2f}]")
        passages = [hit.passage, *hit.more] if full else [hit.passage]
        for passage in passages:
            start, end = (0, len(passage.text)) if full else passage.snippet_span
            body = _marked(passage, color, start, end).replace("\n", " ")
            lines += textwrap.wrap(body, width, initial_indent="   ", subsequent_indent="   ")
        if hit.url:
            lines.append(f"   {_DIM if color else ''}{hit.url}{_RESET if color else ''}")
        if hit.also_in:
            lines.append("   also in: " + ", ".join(d["source"] or d["title"] for d in hit.also_in))
    return "\n".join(lines) + "\n"
