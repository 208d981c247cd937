"""The editor's report over the question log: what readers asked, what went unanswered, what they disliked.

Pure functions over log records (``index.questionlog``; reading it is the only I/O; ``daily_chart_png``
draws with matplotlib's Agg backend). Unanswered questions are grouped by the
overlap of their BM25 terms (the project's Arabic normalisation and stemming), so
"متى يفتتح المتحف؟" and "موعد افتتاح المتحف" count as one coverage gap.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from index.percentiles import percentile
from index.questionlog import QuestionRecord, Record, VoteRecord, read_log
from index.results import ANSWER, NOTHING, TENTATIVE
from index.text.arabic import analyze_question, normalize

__all__ = ["Report", "build_report", "daily_chart_png", "format_text", "group_similar", "read_log"]

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
class Report:
    days: list[DayCount]
    questions: int
    answered: int
    tentative: int
    nothing: int
    gaps: list[Gap]
    disliked: list[Disliked]
    p50_ms: float
    p95_ms: float
    votes_up: int
    votes_down: int

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
    per_day: dict[str, DayCount] = {}
    unanswered: list[str] = []
    for record in questions:
        day = per_day.setdefault(record.day, DayCount(record.day))
        day.questions += 1
        day.answered += record.band == ANSWER
        day.tentative += record.band == TENTATIVE
        day.nothing += record.band == NOTHING
        if record.band != ANSWER:
            unanswered.append(record.question)
    latencies = [r.latency_ms for r in questions if r.latency_ms is not None]
    last = last_votes(votes)
    days_list = [per_day[d] for d in sorted(per_day)]
    return Report(
        days=days_list,
        questions=len(questions),
        answered=sum(d.answered for d in days_list),
        tentative=sum(d.tentative for d in days_list),
        nothing=sum(d.nothing for d in days_list),
        gaps=group_similar(unanswered)[:top],
        disliked=disliked_answers(last)[:top],
        p50_ms=percentile(latencies, 0.5),
        p95_ms=percentile(latencies, 0.95),
        votes_up=sum(v.up for v in last.values()),
        votes_down=sum(not v.up for v in last.values()),
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
    if report.gaps:
        lines += ["", "Most asked without an answer (coverage gaps):"]
        lines += [
            f"  {g.count}× {g.question}" + (f"  (+{len(g.variants) - 1} similar)" if len(g.variants) > 1 else "")
            for g in report.gaps
        ]
    if report.disliked:
        lines += ["", "Most 👎'd answers:"]
        lines += [f"  👎 {d.down} · 👍 {d.up}  {d.question} → {d.title or '—'}" for d in report.disliked]
    return "\n".join(lines)


MAX_CHART_INCHES = 16
MAX_CHART_LABELS = 31


def daily_chart_png(report: Report) -> bytes:
    """A PNG bar chart of questions per day, split by reply (matplotlib, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    days = [d.day[5:] for d in report.days]
    answered = [d.answered for d in report.days]
    tentative = [d.tentative for d in report.days]
    nothing = [d.nothing for d in report.days]
    # Telegram refuses photos wider than 20 times their height: the width stops at 16 inches (1,600 px)
    figure = Figure(figsize=(min(MAX_CHART_INCHES, max(6, 0.45 * len(days) + 2)), 4), dpi=100)
    ax = figure.subplots()
    ax.bar(days, answered, label="answered", color="#2e7d32")
    ax.bar(days, tentative, bottom=answered, label="no sure answer", color="#f9a825")
    ax.bar(
        days, nothing, bottom=[a + t for a, t in zip(answered, tentative, strict=True)], label="nothing found", color="#c62828"
    )
    ax.set_ylabel("questions")
    ax.set_title("Questions per day")
    ax.legend(loc="upper left", fontsize="small")
    step = max(1, -(-len(days) // MAX_CHART_LABELS))  # a label on every step-th day
    ax.set_xticks(range(0, len(days), step), days[::step])
    ax.tick_params(axis="x", labelrotation=45, labelsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
