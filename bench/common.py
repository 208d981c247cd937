"""Shared helpers for the benchmark scripts: machine facts, timing, writing docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.percentiles import percentile

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))
DOC = ROOT / "docs" / "benchmarks.md"

# The development data in ../shared/data that the benchmarks read.
ARCD_QUESTIONS = SHARED / "arcd" / "questions.jsonl"
ARCD_ARTICLES = SHARED / "arcd" / "articles.jsonl"
SNN_ARTICLES = SHARED / "saudinewsnet" / "saudinewsnet_2000.jsonl"
HEADLINE_QUESTIONS = SHARED / "saudinewsnet" / "saudinewsnet_title2article_eval.jsonl"


@dataclass(frozen=True)
class DevSet:
    """A dev question set and the corpus its index is built from."""

    questions: Path
    articles: list[Path]
    titles: bool  # index article titles? Not for the headline -> article set, where they are the questions.
    targets: str


DEV_SETS = {
    "arcd": DevSet(
        ARCD_QUESTIONS, [ARCD_ARTICLES, SNN_ARTICLES], True, "answer-hit@1 ≥ 0.66, answer-hit@5 ≥ 0.86, article-hit@1 ≥ 0.72"
    ),
    "title2article": DevSet(HEADLINE_QUESTIONS, [SNN_ARTICLES], False, "article-hit@1 ≥ 0.85"),
}


def machine() -> str:
    """One line describing this machine: CPU model, cores, RAM, OS, Python."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(
            next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1]
        )
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "unknown RAM"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} cores, {mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50": percentile(ms, 0.5),
        "p95": percentile(ms, 0.95),
        "p99": percentile(ms, 0.99),
        "mean": statistics.fmean(ms) if ms else 0.0,
    }


def command_line() -> str:
    """How this run was started, as a reader would type it again (``python -m bench.<name> ...``)."""
    script = Path(sys.argv[0]).resolve()
    start = ["-m", f"bench.{script.stem}"] if script.parent == ROOT / "bench" else [sys.argv[0]]
    return " ".join(shlex.quote(a) for a in ["python", *start, *sys.argv[1:]])


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


# The rows of the "Current figures" table: measure -> target (a script writes the value of the measures it measures).
TARGETS: dict[str, str] = {
    "ARCD article-hit@1 / answer-hit@1 / answer-hit@5 (refusals off)": "≥ 0.82 / 0.66 / 0.90",
    "headline → article, article-hit@1 (titles not indexed)": "≥ 0.85",
    "answerable ARCD: sure / 💡 right when sure / nothing found (out of fold)": "≥ 60% / ≥ 0.85 / ≤ 3%",
    "Arabic news (dev): sure / 💡 right when sure / nothing found (out of fold)": "≥ 60% / ≥ 0.85 / ≤ 3%",
    "out of corpus: sure / nothing found (out of fold)": "≤ 1% / ≥ 55%",
    "answerable vs out of corpus, AUC (out of fold)": "a curve",
    "answerable ARCD: sure / no sure answer / nothing found (shipped models)": "≥ 60% sure, ≤ 3% nothing",
    "💡 line holds a gold answer, sure answers (shipped models)": "≥ 0.85",
    "English about Arabic: answer-hit@5 / nothing found (shipped models)": "≥ 0.65 / ≤ 15%",
    "held-out Arabic news: sure / 💡 right when sure / nothing found": "≥ 60% / ≥ 0.85 / ≤ 3%",
    "held-out Arabic news, out of corpus: sure / nothing found": "≤ 1% / ≥ 55%",
    "English held-out (320 questions): answer-hit@5 / nothing found": "≥ 0.65 / ≤ 15%",
    "follow-ups: answer in the reply to the second turn, with / without context": "≥ 0.80 / low",
    "fully specified after a follow-up vs asked alone: answer in the reply": "no worse",
    "reply length, three sources, p50 / p95 characters": "typical ≤ 1,200",
    "time in answers: ARCD / headlines article-hit@1 with and without": "no cost",
    "news about now: recent first / old first when only it answers (dev; held-out)": "≥ 0.90 / ≥ 0.90",
    "news about now: dev art@1 / ans@5 change": "within ±0.005",
    "replies: sentences shown twice / no-sure replies over 600 characters / inline passage cards outside the sure band": "0 / 0 / 0",
    "report: answerable-but-unsure questions listed as coverage gaps": "0",
    "build, 2,000 articles: chunks/s (peak RSS)": "≥ 150 chunks/s",
    "update, one new article (process start included)": "≤ 2 s",
    "cold `index search`: wall / peak RSS": "≤ 2.0 s / 300 MB",
    "bot: start to first answer / steady RSS after 200 questions": "≤ 3 s / 350 MB",
    "query p50 / p99 (ARCD questions, 2,151 articles)": "≤ 10 ms",
    "query p50 ÷ bare encoder p50": "≤ 2×",
    "bot end to end, 50 users, 2,000 questions: answered/s, p95, lost": "≥ 40/s, ≤ 250 ms, 0",
    "inline query p95 through the fake Bot API server": "≤ 300 ms",
    "fetch of a 200-page local site: right title/date/URL, furniture indexed, time": "100%, 0, ≤ 60 s",
    "1M vectors: p50, recall@10, memory (best type)": "≤ 10 ms, ≥ 0.95, ≤ 1.2 GB",
    "1M passages: query p50 / p99, steady bot RSS": "≤ 25 / 100 ms, ≤ 3 GB",
    "1M passages: add one article (÷ at 100k), cold search, build": "≤ 10 s (≤ 2×), ≤ 3 s, ≤ 1 h",
    "identical answers across the restructuring (3,120 dev questions)": "0 but the listed",
    "Milvus vs embedded, ARCD: art@1 / ans@5 (both engines); query p50 through Milvus Lite": "within 0.01; ≤ 50 ms",
}
DETAILS = ROOT / "docs" / "benchmarks"
_FIGURES = re.compile(r"(<!-- figures -->\n)(.*?)(\n<!-- /figures -->)", re.S)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def record(title: str, body: str, write: bool = True, doc: Path | None = None, figures: dict[str, str] | None = None) -> None:
    """Print a result section (date, machine, commit, command) and, unless ``write`` is off, keep it.

    By default the section replaces ``docs/benchmarks/<title>.md`` (git keeps the earlier runs) and each of
    ``figures`` (measure -> value, measures from ``TARGETS``) replaces its row of the "Current figures"
    table in docs/benchmarks.md. With ``doc`` the section is appended to that file instead.
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n### {title}\n\n"
        f"- date: {stamp}; commit {git_revision()}\n"
        f"- machine: {machine()}\n"
        f"- command: `{command_line()}`\n\n"
        f"{body.strip()}\n"
    )
    print(section)
    if not write:
        return
    if doc is not None:
        doc.parent.mkdir(parents=True, exist_ok=True)
        with open(doc, "a", encoding="utf-8") as f:
            f.write(section)
        return
    DETAILS.mkdir(parents=True, exist_ok=True)
    details = DETAILS / f"{_slug(title)}.md"
    details.write_text(
        f"# {title}\n\nWritten by its script on each run (git keeps the earlier ones).\n{section}", encoding="utf-8"
    )
    if figures:
        update_figures(figures, stamp[:10], f"benchmarks/{details.name}")


def update_figures(figures: dict[str, str], day: str, details: str) -> None:
    """Replace the rows of ``figures`` in docs/benchmarks.md's table (rows kept in ``TARGETS`` order)."""
    text = DOC.read_text(encoding="utf-8")
    match = _FIGURES.search(text)
    if match is None:
        raise SystemExit(f"{DOC} has no <!-- figures --> table to write into")
    rows: dict[str, str] = {}
    for line in match.group(2).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in TARGETS:
            rows[cells[0]] = line
    cpu = machine().split(",")[0]
    for measure, value in figures.items():
        if measure not in TARGETS:
            raise KeyError(f"unknown measure {measure!r}: add it to TARGETS in bench/common.py")
        rows[measure] = f"| {measure} | {TARGETS[measure]} | {value} | {day}, {cpu} | [details]({details}) |"
    header = "| measure | target | measured | when, where | details |\n|---|---|---|---|---|"
    table_text = "\n".join([header, *(rows[m] for m in TARGETS if m in rows)])
    DOC.write_text(text[: match.start(2)] + table_text + text[match.end(2) :], encoding="utf-8")


def table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else (f"{v:.1f}" if isinstance(v, float) else str(v))

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def build_index_cli(index: Path, articles: list[Path], extra: list[str] | None = None) -> None:
    """Build an index with the admin CLI, as an admin would (quietly); ``extra``: more build flags."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "index",
            "build",
            "--quiet",
            "--index",
            str(index),
            *(extra or []),
            "--articles",
            *map(str, map(need, articles)),
        ],
        cwd=ROOT,
        check=True,
    )


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"missing {path}: the benchmarks read ../shared/data (set SHARED_DATA to point elsewhere)")
    return path
