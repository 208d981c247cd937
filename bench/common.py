"""Shared helpers for the benchmark scripts: machine facts, timing, writing docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
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


def record(title: str, body: str, write: bool = True, doc: Path | None = None) -> None:
    """Print a result section and append it to docs/benchmarks.md (or ``doc``) with date, machine and command."""
    target = doc or DOC
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n### {title}\n\n"
        f"- date: {stamp}; commit {git_revision()}\n"
        f"- machine: {machine()}\n"
        f"- command: `{command_line()}`\n\n"
        f"{body.strip()}\n"
    )
    print(section)
    if write:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text(
                f"# {target.stem.title()}\n\nEach section is appended by a script in `bench/`; newest last.\n", encoding="utf-8"
            )
        with open(target, "a", encoding="utf-8") as f:
            f.write(section)


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


def need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"missing {path}: the benchmarks read ../shared/data (set SHARED_DATA to point elsewhere)")
    return path
