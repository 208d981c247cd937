"""Plain-text view of search results for the admin command line."""

from __future__ import annotations

import textwrap

from .search import SearchResult

_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _marked(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    """The passage with highlighted spans in bold (terminal) or between ⟦ ⟧ (pipes, files)."""
    open_, close = (_BOLD, _RESET) if color else ("⟦", "⟧")
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], open_, text[s:e], close]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def format_result(result: SearchResult, color: bool = False, width: int = 100) -> str:
    lines = [f"? {result.question}"]
    if result.no_answer:
        lines.append(f"  no answer found (confidence {result.confidence:.2f})")
        return "\n".join(lines) + "\n"
    if result.tentative:
        lines.append(f"  no sure answer (confidence {result.confidence:.2f}); the closest passages:")
    for hit in result.hits:
        meta = " · ".join(x for x in (hit.source, hit.date) if x)
        lines.append(f"{hit.rank}. {hit.title or hit.article_id}" + (f" — {meta}" if meta else "") + f"  [{hit.score:.3f}]")
        for passage in [hit.passage, *hit.more]:
            body = _marked(passage.text.replace("\n", " "), passage.highlights, color)
            lines += textwrap.wrap(body, width, initial_indent="   ", subsequent_indent="   ")
        if hit.url:
            lines.append(f"   {_DIM if color else ''}{hit.url}{_RESET if color else ''}")
        if hit.also_in:
            lines.append("   also in: " + ", ".join(d["source"] or d["title"] for d in hit.also_in))
    return "\n".join(lines) + "\n"
