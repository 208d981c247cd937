"""The editor's report over the question log: what readers asked, what went unanswered, what they disliked.

Pure functions over log records (``index.questionlog``; reading it is the only I/O; ``daily_chart_png``
draws with matplotlib's Agg backend). Unanswered questions are grouped by the
overlap of their BM25 terms (the project's Arabic normalisation and stemming), so
"متى يفتتح المتحف؟" and "موعد افتتاح المتحف" count as one. Two lists, because an editor
acts on them differently: *not covered* ("nothing found": the archive holds no matching
passage; topics worth a story) and *answerable but unsure* ("no sure answer": it holds a
matching passage the bot was not sure of; worth a look, a pin or a better passage, not a
commission).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from index.percentiles import percentile
from index.questionlog import QuestionRecord, ReaderRecord, Record, VoteRecord, read_log
from index.results import ANSWER, NOTHING, TENTATIVE
from index.text.arabic import analyze_question, normalize

__all__ = ["ChartLabels", "Report", "build_report", "daily_chart_png", "format_text", "group_similar", "read_log"]

SIMILAR = 0.5  # share of terms two unanswered questions must have in common to be one gap
MIN_CHART_DAYS = 3


@dataclass
class DayCount:
    day: str
    questions: int = 0
    answered: int = 0
    tentative: int = 0
    nothing: int = 0


@dataclass
class Gap:
    """Unanswered questions that ask about the same thing: the most frequent wording and how many asked."""

    question: str
    count: int
    variants: list[str] = field(default_factory=list)


@dataclass
class Disliked:
    """An answer readers voted down: its question, its top source, and the last vote of each reader."""

    question: str
    title: str
    down: int
    up: int


@dataclass
class ReaderSummary:
    """The language-model reader over the period: answers shown, why the others fell back, cost, and its own votes."""

    answers: int
    shown: int
    fallbacks: list[tuple[str, int]]  # reason, count; most frequent first
    prompt_tokens: int
    completion_tokens: int
    p50_s: float
    votes_up: int  # votes on answers the model wrote, counted apart from the rest
    votes_down: int


def reader_summary(records: Sequence[ReaderRecord], last: dict[tuple[str, str], VoteRecord]) -> ReaderSummary | None:
    if not records:
        return None
    shown_ids = {r.answer_id for r in records if r.shown}
    reasons = Counter(r.fallback.split(" (")[0] for r in records if not r.shown and r.fallback)
    on_model = [v for (answer, _), v in last.items() if answer in shown_ids]
    return ReaderSummary(
        answers=len(records),
        shown=sum(r.shown for r in records),
        fallbacks=reasons.most_common(5),
        prompt_tokens=sum(r.prompt_tokens for r in records),
        completion_tokens=sum(r.completion_tokens for r in records),
        p50_s=percentile([r.seconds for r in records], 0.5),
        votes_up=sum(v.up for v in on_model),
        votes_down=sum(not v.up for v in on_model),
    )


@dataclass
class Report:
    days: list[DayCount]
    questions: int
    answered: int
    tentative: int
    nothing: int
    gaps: list[Gap]  # not covered: "nothing found"
    disliked: list[Disliked]
    p50_ms: float
    p95_ms: float
    votes_up: int
    votes_down: int
    unsure: list[Gap] = field(default_factory=list)  # answerable but unsure: "no sure answer"
    reader: ReaderSummary | None = None  # the language-model reader, when it ran

    def share(self, count: int) -> float:
        return count / self.questions if self.questions else 0.0

    @property
    def chart_worthy(self) -> bool:
        return len(self.days) >= MIN_CHART_DAYS


def since(records: Sequence[Record], days: int | None, now: datetime | None = None) -> list[Record]:
    """The records of the last ``days`` days (today included); all of them when ``days`` is None."""
    if not days:
        return list(records)
    first = ((now or datetime.now(UTC)) - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    return [r for r in records if r.day >= first]


def _terms(question: str) -> frozenset[str]:
    return frozenset(analyze_question(question)) or frozenset(normalize(question).split())


def group_similar(questions: list[str], threshold: float = SIMILAR) -> list[Gap]:
    """Group questions whose terms overlap (Jaccard ≥ ``threshold``); biggest groups first."""
    counts = Counter(" ".join(q.split()) for q in questions if q.strip())
    groups: list[tuple[frozenset[str], Counter[str]]] = []
    by_term: dict[str, list[int]] = defaultdict(list)  # term -> groups holding it: only those can overlap
    for question, n in counts.most_common():
        terms = _terms(question)
        sharing = sorted({g for t in terms for g in by_term.get(t, ())})  # the first-made matching group wins, as before
        for g in sharing:
            group_terms, members = groups[g]
            if len(terms & group_terms) / len(terms | group_terms) >= threshold:
                members[question] += n
                break
        else:
            for t in terms:
                by_term[t].append(len(groups))
            groups.append((terms, Counter({question: n})))
    gaps = [
        Gap(members.most_common(1)[0][0], sum(members.values()), [q for q, _ in members.most_common()]) for _, members in groups
    ]
    return sorted(gaps, key=lambda g: -g.count)


def last_votes(votes: Sequence[VoteRecord]) -> dict[tuple[str, str], VoteRecord]:
    """Each reader's last vote on each answer (a second click replaces the first), by (answer id, user)."""
    return {(v.answer_id, str(v.user)): v for v in votes}


def disliked_answers(last: dict[tuple[str, str], VoteRecord]) -> list[Disliked]:
    """Answers with at least one 👎 among readers' last votes (``last_votes``); most 👎 first."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    about: dict[str, VoteRecord] = {}
    for (answer, _), vote in last.items():
        tally[answer][1 if vote.up else 0] += 1
        about[answer] = vote
    out = [Disliked(about[a].question, about[a].top_title or "", down, up) for a, (down, up) in tally.items() if down]
    return sorted(out, key=lambda d: (-d.down, d.up))


def build_report(records: Sequence[Record], days: int | None = None, now: datetime | None = None, top: int = 10) -> Report:
    """Questions per day and per reply, coverage gaps, disliked answers and latency, from question-log records."""
    records = since(records, days, now)
    questions = [r for r in records if isinstance(r, QuestionRecord)]
    votes = [r for r in records if isinstance(r, VoteRecord)]
    read = [r for r in records if isinstance(r, ReaderRecord)]
    per_day: dict[str, DayCount] = {}
    not_covered: list[str] = []
    unsure: list[str] = []
    for record in questions:
        day = per_day.setdefault(record.day, DayCount(record.day))
        day.questions += 1
        day.answered += record.band == ANSWER
        day.tentative += record.band == TENTATIVE
        day.nothing += record.band == NOTHING
        if record.band == NOTHING:
            not_covered.append(record.question)
        elif record.band == TENTATIVE:
            unsure.append(record.question)
    latencies = [r.latency_ms for r in questions if r.latency_ms is not None]
    last = last_votes(votes)
    days_list = [per_day[d] for d in sorted(per_day)]
    return Report(
        days=days_list,
        questions=len(questions),
        answered=sum(d.answered for d in days_list),
        tentative=sum(d.tentative for d in days_list),
        nothing=sum(d.nothing for d in days_list),
        gaps=group_similar(not_covered)[:top],
        unsure=group_similar(unsure)[:top],
        disliked=disliked_answers(last)[:top],
        p50_ms=percentile(latencies, 0.5),
        p95_ms=percentile(latencies, 0.95),
        votes_up=sum(v.up for v in last.values()),
        votes_down=sum(not v.up for v in last.values()),
        reader=reader_summary(read, last),
    )


def format_text(report: Report) -> str:
    """The report as plain text (the command line's; the bot words its own in Arabic or English)."""
    if not report.questions:
        return "No questions in the log for this period."
    lines = [
        f"Questions: {report.questions} over {len(report.days)} day(s)",
        f"  answered {report.answered} ({report.share(report.answered):.0%}) · no sure answer {report.tentative} "
        f"({report.share(report.tentative):.0%}) · nothing found {report.nothing} ({report.share(report.nothing):.0%})",
        f"Latency: p50 {report.p50_ms:.0f} ms · p95 {report.p95_ms:.0f} ms",
        f"Votes: 👍 {report.votes_up} · 👎 {report.votes_down}",
        "",
        "Per day (questions / answered / no sure answer / nothing found):",
        *(f"  {d.day}: {d.questions} / {d.answered} / {d.tentative} / {d.nothing}" for d in report.days),
    ]
    for heading, groups in (
        ("Not covered: nothing found in the archive (topics worth a story):", report.gaps),
        ("Answerable but unsure: the archive holds a matching passage (worth a look, not a story):", report.unsure),
    ):
        if groups:
            lines += ["", heading]
            lines += [
                f"  {g.count}× {g.question}" + (f"  (+{len(g.variants) - 1} similar)" if len(g.variants) > 1 else "")
                for g in groups
            ]
    if report.reader is not None:
        r = report.reader
        lines += [
            "",
            f"Language-model reader: {r.shown} of {r.answers} answers shown; tokens {r.prompt_tokens} in, "
            f"{r.completion_tokens} out; p50 {r.p50_s:.1f} s; votes on its answers 👍 {r.votes_up} · 👎 {r.votes_down}",
            *(f"  fell back {n}×: {reason}" for reason, n in r.fallbacks),
        ]
    if report.disliked:
        lines += ["", "Most 👎'd answers:"]
        lines += [f"  👎 {d.down} · 👍 {d.up}  {d.question} → {d.title or '—'}" for d in report.disliked]
    return "\n".join(lines)


MAX_CHART_INCHES = 16
MAX_CHART_LABELS = 31


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words in the report's language (English by default)."""

    title: str = "Questions per day"
    axis: str = "questions"
    answered: str = "answered"
    tentative: str = "no sure answer"
    nothing: str = "nothing found"


def daily_chart_png(report: Report, labels: ChartLabels | None = None) -> bytes:
    """A PNG bar chart of questions per day, split by reply (matplotlib, Agg backend: no display needed).

    ``labels`` in the report's language. Arabic needs its letters joined and set right to left: matplotlib
    3.11 lays text out with libraqm, which does both, and its DejaVu Sans has the Arabic letters (see
    tests/test_report.py, which renders the Arabic labels and compares them with their shaped forms).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = labels or ChartLabels()
    days = [d.day[5:] for d in report.days]
    answered = [d.answered for d in report.days]
    tentative = [d.tentative for d in report.days]
    nothing = [d.nothing for d in report.days]
    # Telegram refuses photos wider than 20 times their height: the width stops at 16 inches (1,600 px)
    figure = Figure(figsize=(min(MAX_CHART_INCHES, max(6, 0.45 * len(days) + 2)), 4), dpi=100)
    ax = figure.subplots()
    ax.bar(days, answered, label=labels.answered, color="#2e7d32")
    ax.bar(days, tentative, bottom=answered, label=labels.tentative, color="#f9a825")
    ax.bar(
        days,
        nothing,
        bottom=[a + t for a, t in zip(answered, tentative, strict=True)],
        label=labels.nothing,
        color="#c62828",
    )
    ax.set_ylabel(labels.axis)
    ax.set_title(labels.title)
    ax.legend(loc="upper left", fontsize="small")
    step = max(1, -(-len(days) // MAX_CHART_LABELS))  # a label on every step-th day
    ax.set_xticks(range(0, len(days), step), days[::step])
    ax.tick_params(axis="x", labelrotation=45, labelsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
