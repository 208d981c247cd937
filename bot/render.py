"""Search results -> Telegram HTML messages (or plain text for the console).

Text is kept as runs of (text, style) until the very end, so escaping happens
in one place and a long reply can be split between runs or inside a run's
plain text — never inside a tag, and never inside a link. Each message is at most
4096 UTF-16 code units of visible text, which is what Telegram counts (the text
after its HTML is parsed: tags, escapes and link targets do not count).

Arabic replies start every line with a right-to-left mark, so a line that
begins with a Latin name or a number still reads right to left.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.corpus.urls import safe_link
from index.results import NOTHING, SNIPPET_CHARS, TENTATIVE, Hit, Passage, SearchResult
from index.text.arabic import normalize
from index.text.sentences import split_sentences
from index.tools.report import Report
from index.tools.sources import SourceLine

from .i18n import day
from .texts import AR, text

LIMIT = 4096
ANSWER_CHARS = 300  # the answer line is cut (at a word) beyond this
TITLE_CHARS = 300  # a title is cut (at a word) beyond this: it is a link, and a link is never split
RLM = "\u200f"
TENTATIVE_SOURCES = 2  # a "no sure answer" reply shows at most this many sources...
TENTATIVE_CHARS = 600  # ... in at most this many visible characters (title, outlet, date, snippets)
TENTATIVE_TITLE_CHARS = 90


@dataclass(frozen=True)
class Run:
    """A piece of text with one style: None, "b", "i", "code" or "a" (with ``href``)."""

    text: str
    style: str | None = None
    href: str = ""


Block = list[Run]


@dataclass(frozen=True)
class Format:
    """How runs become a string: Telegram HTML or plain text; RTL marks for Arabic."""

    html: bool = True
    rtl: bool = False

    def run(self, r: Run) -> str:
        body = html.escape(r.text, quote=False) if self.html else r.text
        if self.rtl:
            body = body.replace("\n", "\n" + RLM)
        if not r.style or not r.text.strip():
            return body
        if not self.html:  # console: *bold*, links spelled out
            return f"{body}: {r.href}" if r.style == "a" else f"*{body}*" if r.style == "b" else body
        if r.style == "a":
            return f'<a href="{html.escape(r.href, quote=True)}">{body}</a>'
        return f"<{r.style}>{body}</{r.style}>"

    def start(self) -> str:
        return RLM if self.rtl else ""


def utf16_len(s: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(s.encode("utf-16-le")) // 2


_TAG_RE = re.compile(r"<[^>]+>")


def plain(html_text: str) -> str:
    """A message written in Telegram's HTML subset, as the text a reader sees (terminal, length checks)."""
    return html.unescape(_TAG_RE.sub("", html_text))


def render(runs: list[Run], fmt: Format) -> str:
    return fmt.start() + "".join(fmt.run(r) for r in runs)


def visible_len(runs: list[Run], fmt: Format) -> int:
    """The length Telegram counts for these runs as one message: the text a reader sees, in UTF-16 code units."""
    if not fmt.html:
        return utf16_len(render(runs, fmt))
    text = "".join(r.text for r in runs)
    marks = 1 + text.count("\n") if fmt.rtl else 0  # an RLM opens the message and every line
    return utf16_len(text) + marks


# ------------------------------------------------------------------ splitting

_BREAKS = ("\n\n", "\n", ". ", "؟ ", "? ", "! ", "، ", ", ", " ")


def _cut(part: str, fits) -> int:
    """Length of the longest prefix of ``part`` that ``fits``, ending at the best natural break (0: none fits)."""
    lo, hi = 0, len(part)
    while lo < hi:  # binary search: fits() is monotonic in the prefix length
        mid = (lo + hi + 1) // 2
        if fits(part[:mid]):
            lo = mid
        else:
            hi = mid - 1
    if lo in (0, len(part)):
        return lo
    for brk in _BREAKS:
        pos = part.rfind(brk, 0, lo)
        if pos > lo // 3:
            return pos + len(brk)
    return lo


def pack(blocks: list[Block], fmt: Format, limit: int = LIMIT) -> list[str]:
    """Join blocks (separated by a blank line) into as few messages as fit in ``limit``.

    A block moves whole to the next message when it does not fit; only a block
    longer than a whole message is cut, between runs or at a break in a run's text.
    A link is never cut: it moves whole to the next message (its text is clipped only
    when it alone is longer than a message).
    """
    messages: list[str] = []
    current: list[Run] = []

    def fits(runs: list[Run]) -> bool:
        return visible_len(runs, fmt) <= limit

    def flush() -> None:
        while current and not current[-1].text.strip():
            current.pop()
        if current:
            messages.append(render(current, fmt))
        current.clear()

    for block in blocks:
        block = [r for r in block if r.text]
        if not block:
            continue
        sep = [Run("\n\n")] if current else []
        if fits(current + sep + block):
            current.extend(sep + block)
            continue
        if current and fits(block):
            flush()
            current.extend(block)
            continue
        current.extend(sep)
        queue = list(block)
        while queue:
            r = queue.pop(0)
            if fits([*current, r]):
                current.append(r)
                continue
            if r.style == "a":  # whole, on a message of its own if need be
                if any(x.text.strip() for x in current):
                    flush()
                if not fits([r]):
                    r = Run(clip(r.text, limit - 2), r.style, r.href)
                current.append(r)
                continue
            n = _cut(r.text, lambda part, r=r: fits([*current, Run(part, r.style, r.href)]))
            if n == 0 and any(x.text.strip() for x in current):
                flush()
                queue.insert(0, r)
                continue
            n = max(n, 1)
            current.append(Run(r.text[:n], r.style, r.href))
            flush()
            queue.insert(0, Run(r.text[n:].lstrip(), r.style, r.href))
    flush()
    return messages


# ------------------------------------------------------------------ pieces


def format_date(value: str, lang: str = AR) -> str:
    """'2026-11-03' or '2015-07-21 02:16:27' -> '3 نوفمبر 2026' / '3 Nov 2026' (Babel, Latin digits); else unchanged."""
    if not value:
        return ""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not match:
        return value.strip()
    try:
        when = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return value.strip()
    return day(when, lang)


def meta_line(source: str, date: str, lang: str) -> str:
    """A source's "outlet · date" line (either part left out when it is missing)."""
    return " · ".join(x for x in (source, format_date(date, lang)) if x)


def passage_runs(passage: Passage, start: int = 0, end: int | None = None) -> list[Run]:
    """Runs for ``passage.text[start:end]`` with its highlighted sentence(s) in bold."""
    return [Run(piece, "b" if marked else None) for piece, marked in passage.segments(start, end)]


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ،,؛;:") + "…"


def sentence_key(sentence: str) -> str:
    """What makes two shown sentences "the same": their normalised words (letter forms, digits, spacing)."""
    return " ".join(normalize(sentence).split())


def snippet_runs(passage: Passage, limit: int = SNIPPET_CHARS, shown: set[str] | None = None) -> list[Run]:
    """The passage's snippet (answer sentence and at most one neighbour), its answer sentence bold, cut to ``limit``.

    With ``shown`` (the sentences a reply already holds, added to as it goes), a sentence already
    shown is left out: a reply never says the same thing twice.
    """
    start, end = passage.snippet_span
    spans = [(start + s, start + e) for s, e in split_sentences(passage.text[start:end])] or [(start, end)]
    if shown is not None:
        fresh = []
        for s, e in spans:
            key = sentence_key(passage.text[s:e])
            if key and key not in shown:
                shown.add(key)
                fresh.append((s, e))
        spans = fresh
    runs: list[Run] = []
    room = limit
    for s, e in spans:
        if room <= 0:
            break
        if runs:
            runs.append(Run(" "))
        if e - s > room:  # too long for what is left: keep its start, cut at a word boundary
            cut = passage.text.rfind(" ", s, s + room)
            e = cut if cut > s + room // 2 else s + room
            runs += [*_single_line(passage_runs(passage, s, e)), Run(" …")]
            break
        runs += _single_line(passage_runs(passage, s, e))
        room -= e - s + 1
    return _merged(runs)


def _merged(runs: list[Run]) -> list[Run]:
    """Neighbouring runs of one style joined into one."""
    out: list[Run] = []
    for r in runs:
        if out and out[-1].style == r.style and out[-1].href == r.href:
            out[-1] = Run(out[-1].text + r.text, r.style, r.href)
        else:
            out.append(r)
    return out


def _single_line(runs: list[Run]) -> list[Run]:
    """Line breaks and runs of spaces inside a snippet become single spaces (a snippet is one paragraph)."""
    out = []
    for r in runs:
        body = " ".join(r.text.split())
        lead = " " if r.text[:1].isspace() and out else ""
        tail = " " if r.text[-1:].isspace() and body else ""
        if body or lead:
            out.append(Run(lead + body + tail, r.style, r.href))
    return out


def hit_block(
    hit: Hit,
    number: int,
    lang: str,
    excerpt: bool = True,
    shown: set[str] | None = None,
    snippet_chars: int = SNIPPET_CHARS,
    title_chars: int = TITLE_CHARS,
) -> Block:
    """One source: number, title (the link), outlet · date, the snippet (or, with ``excerpt`` off, the whole passage).

    ``shown``: the sentences the reply already holds (none is shown twice).
    """
    title = clip(hit.title, title_chars) or text("untitled", lang)
    link = safe_link(hit.url)
    meta = meta_line(hit.source, hit.date, lang)
    block: Block = [Run(f"{number}. "), Run(title, "a", link) if link else Run(title, "b"), Run("\n")]
    if meta:
        block += [Run(meta, "i"), Run("\n")]
    if excerpt:
        block += snippet_runs(hit.passage, snippet_chars, shown)
    else:
        block += passage_runs(hit.passage)
        if link:
            block += [Run("\n"), Run(f"🔗 {text('read_article', lang)}", "a", link)]
    if hit.also_in:
        others = ", ".join(dict.fromkeys(d["source"] or d["title"] for d in hit.also_in if d["source"] or d["title"]))
        if others:
            block += [Run("\n"), Run(f"{text('also_in', lang)}: {others}", "i")]
    return block


def answer_block(result: SearchResult, lang: str) -> Block:
    """The one-line answer: the top source's answer sentence (or, below SURE_CONFIDENCE, "no sure answer")."""
    if result.band == TENTATIVE:  # not sure enough to call a sentence "the answer"
        return [Run("🔎 "), Run(text("tentative", lang), "i")]
    if not result.answer_line:
        return []
    head = [Run("💡 "), Run(clip(result.answer_line, ANSWER_CHARS), "b")]
    return [*head, Run("\n"), Run(f"📌 {text('pinned_note', lang)}", "i")] if result.pinned else head


def understood_block(understood_as: str, lang: str) -> Block:
    """How a follow-up was understood: the reader's question with the words carried from the one before."""
    return [Run("↩️ "), Run(text("understood_as", lang, question=clip(understood_as, ANSWER_CHARS)), "i")]


def first_page(result: SearchResult, per_page: int) -> int:
    """How many sources the first reply shows: ``per_page``, or at most ``TENTATIVE_SOURCES`` under "no sure answer"."""
    return min(per_page, TENTATIVE_SOURCES) if result.band == TENTATIVE else per_page


def reply_messages(result: SearchResult, lang: str, start: int = 0, count: int = 3, fmt: Format | None = None) -> list[str]:
    """The reply to a question (``start`` > 0: a further page of sources).

    No sentence is shown twice (the 💡 line's sentence is not repeated in its source's snippet).
    A "no sure answer" reply is short: at most two sources, ``TENTATIVE_CHARS`` visible characters.
    """
    fmt = fmt or Format(html=True, rtl=lang == AR)
    understood: list[Block] = [understood_block(result.understood_as, lang)] if result.understood_as and start == 0 else []
    if result.band == NOTHING:
        return pack([*understood, [Run(text("no_answer", lang))]], fmt)
    if start == 0 and result.band == TENTATIVE:
        return pack(_tentative_blocks(result, lang, understood, first_page(result, count), fmt), fmt)
    hits = result.hits[start : start + count]
    blocks: list[Block] = list(understood)
    shown: set[str] = set()
    if start == 0:
        blocks.append(answer_block(result, lang))
        if result.answer_line:
            shown.add(sentence_key(result.answer_line))
        blocks.append([Run(f"{text('sources', lang)}:", "b")])
    else:
        blocks.append([Run(f"{text('more_sources', lang)}:", "b")])
    blocks += [hit_block(hit, start + n + 1, lang, shown=shown) for n, hit in enumerate(hits)]
    return pack(blocks, fmt)


def _tentative_blocks(result: SearchResult, lang: str, understood: list[Block], count: int, fmt: Format) -> list[Block]:
    """ "No sure answer": the notice and the first ``count`` sources, snippets shortened until all fit in
    ``TENTATIVE_CHARS`` visible characters (a phone screen)."""
    snippet_chars = SNIPPET_CHARS
    while True:
        shown: set[str] = set()
        blocks = [*understood, answer_block(result, lang)]
        blocks += [
            hit_block(hit, n + 1, lang, shown=shown, snippet_chars=snippet_chars, title_chars=TENTATIVE_TITLE_CHARS)
            for n, hit in enumerate(result.hits[:count])
        ]
        joined = [r for i, block in enumerate(blocks) for r in ([Run("\n\n")] if i else []) + block]
        if visible_len(joined, fmt) <= TENTATIVE_CHARS or snippet_chars <= 40:
            return blocks
        snippet_chars -= 20


def full_passage_messages(hit: Hit, number: int, lang: str, fmt: Format | None = None) -> list[str]:
    """The whole passage of source ``number`` (split over several messages if needed)."""
    fmt = fmt or Format(html=True, rtl=lang == AR)
    return pack([[Run(f"📄 {text('full_passage', lang)}", "i")], hit_block(hit, number, lang, excerpt=False)], fmt)


# ------------------------------------------------------------------ the editor's report


def report_messages(report: Report, lang: str) -> list[str]:
    """The editor's report as messages (plain text in HTML-safe runs, split under the length limit)."""
    fmt = Format(html=True, rtl=lang == AR)
    if not report.questions:
        return pack([[Run(text("report_empty", lang))]], fmt)

    def pct(n: int) -> str:
        return f"{report.share(n):.0%}"

    head = text(
        "report_head",
        lang,
        questions=report.questions,
        days=len(report.days),
        answered=report.answered,
        answered_pct=pct(report.answered),
        tentative=report.tentative,
        tentative_pct=pct(report.tentative),
        nothing=report.nothing,
        nothing_pct=pct(report.nothing),
        p50=report.p50_ms,
        p95=report.p95_ms,
        up=report.votes_up,
        down=report.votes_down,
    )
    blocks: list[Block] = [[Run(text("report_title", lang), "b"), Run("\n" + head)]]
    days = [f"{d.day}: {d.questions} / {d.answered} / {d.tentative} / {d.nothing}" for d in report.days]
    blocks.append([Run(text("report_days", lang), "b"), Run("\n" + "\n".join(days))])
    for key, groups in (("report_gaps", report.gaps), ("report_unsure", report.unsure)):
        if groups:
            listed = [
                f"• {g.count}× {clip(g.question, 200)}" + (f" (+{len(g.variants) - 1})" if len(g.variants) > 1 else "")
                for g in groups
            ]
            blocks.append([Run(text(key, lang), "b"), Run("\n" + "\n".join(listed))])
    if report.reader is not None:
        r = report.reader
        reasons = "\n".join(f"• {n}× {clip(reason, 120)}" for reason, n in r.fallbacks)
        body = text(
            "report_reader",
            lang,
            shown=r.shown,
            answers=r.answers,
            tokens_in=r.prompt_tokens,
            tokens_out=r.completion_tokens,
            p50=r.p50_s,
            up=r.votes_up,
            down=r.votes_down,
        )
        blocks.append([Run(body + ("\n" + reasons if reasons else ""))])
    if report.disliked:
        disliked = [f"• 👎 {d.down} · 👍 {d.up} — {clip(d.question, 150)} → {clip(d.title or '—', 120)}" for d in report.disliked]
        blocks.append([Run(text("report_disliked", lang), "b"), Run("\n" + "\n".join(disliked))])
    return pack(blocks, fmt)


def sources_messages(lines: list[SourceLine], lang: str) -> list[str]:
    """/sources: one block per source (its kind in bold), split under the length limit; folders by name only."""
    fmt = Format(html=True, rtl=lang == AR)
    blocks: list[Block] = []
    for line in lines:
        name = line.name if "://" in line.name or line.name.startswith("@") else Path(line.name).name
        sync = line.last_sync[:16].replace("T", " ") if line.last_sync else text("sources_never", lang)
        body = text(
            "sources_line",
            lang,
            name=name,
            articles=line.articles,
            newest=line.newest or "—",
            no_link=line.no_link,
            no_date=line.no_date,
            sync=sync,
        )
        if line.last_error:
            body += text("sources_error", lang, error=clip(line.last_error, 200))
        blocks.append([Run(text(f"source_kind_{line.kind.replace(' ', '_')}", lang), "b"), Run(body)])
    return pack(blocks, fmt)
