"""Where the time goes: cProfile of the query, update and bot paths.

Each path is run under cProfile and summarised twice: the functions with the most
time of their own (whatever library they live in), and the project's own
functions by cumulative time (which stage of our code the time is spent under).

    python -m bench.hotspots --path query   # in-process search over the ARCD questions
    python -m bench.hotspots --path update  # `python -m index update` after adding one article, process start included
    python -m bench.hotspots --path bot     # the bot's event-loop thread under bench/bot_load.py

The bot's searches run in worker threads, which cProfile does not see: the bot
profile shows what the event loop itself spends time on (Telegram I/O, rendering).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ARCD_QUESTIONS, ROOT, SNN_ARTICLES, build_index_cli, need, record, table
from index.storage.store import current_build_id
from index.tools.evaluate import load_questions


def short_location(filename: str, line: int, func: str) -> str:
    """``package/module.py:line func`` without site-packages or repository prefixes."""
    if filename.startswith("~") or filename.startswith("<"):
        return func
    path = re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", filename).removeprefix(str(ROOT) + "/")
    return f"{path}:{line} {func}"


def is_project_code(filename: str) -> bool:
    return any(filename.startswith(str(ROOT / package) + "/") for package in ("index", "bot"))


def summarise(stats: pstats.Stats, top: int = 12) -> str:
    """Two tables: own time over everything, cumulative time over the project's functions."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    own = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    own_rows = [
        [short_location(*key), f"{value[1]:,}", f"{value[2]:.2f}", f"{100 * value[2] / total:.1f}%"] for key, value in own
    ]
    ours = [(key, value) for key, value in entries.items() if is_project_code(key[0])]
    cumulative = sorted(ours, key=lambda kv: kv[1][3], reverse=True)[:top]
    cum_rows = [
        [short_location(*key), f"{value[1]:,}", f"{value[3]:.2f}", f"{100 * value[3] / total:.1f}%"] for key, value in cumulative
    ]
    return (
        f"Profiled time {total:.1f} s.\n\n"
        "Most time of their own:\n\n"
        + table(["function", "calls", "own s", "share"], own_rows)
        + "\n\nProject functions by cumulative time:\n\n"
        + table(["function", "calls", "cumulative s", "share"], cum_rows)
    )


def profile_query(index: Path, limit: int) -> tuple[str, pstats.Stats]:
    from index.search.searcher import Searcher

    questions = [q["question"] for q in load_questions(need(ARCD_QUESTIONS))][:limit]
    searcher = Searcher.open(index)
    searcher.search(questions[0])  # lazy imports and caches out of the way
    profiler = cProfile.Profile()
    profiler.enable()
    for q in questions:
        searcher.search(q, k=5)
    profiler.disable()
    return f"{len(questions)} ARCD questions, hybrid search, k=5, in one process (index `{index.name}`).", pstats.Stats(profiler)


def profile_update(work: Path) -> tuple[str, pstats.Stats]:
    index = work / "index"
    build_index_cli(index, [SNN_ARTICLES])
    extra = work / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "id": "profile-extra-1",
                "title": "افتتاح مكتبة عامة جديدة في المدينة",
                "text": "افتتحت البلدية اليوم مكتبة عامة جديدة تضم أكثر من عشرين ألف كتاب. "
                "وقال رئيس البلدية إن المكتبة ستفتح أبوابها للجمهور طوال أيام الأسبوع.",
                "source": "profile",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    out = work / "update.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "index", "update", "--quiet"]
    command += ["--index", str(index), "--articles", str(SNN_ARTICLES), str(extra)]
    subprocess.run(command, cwd=ROOT, check=True)
    return (
        "`python -m index update` on an index of `saudinewsnet_2000.jsonl` after adding one article; the whole process "
        "(imports included) under `python -m cProfile`.",
        pstats.Stats(str(out)),
    )


def profile_bot(index: Path, work: Path, questions: int) -> tuple[str, pstats.Stats]:
    out = work / "bot.prof"
    command = [sys.executable, "-m", "bench.bot_load", "--index", str(index), "--questions", str(questions)]
    command += ["--think", "0.8", "--profile", str(out), "--no-write"]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return (
        f"`python -m bot` under `python -m cProfile` while bench/bot_load.py sends {questions} questions from 50 users "
        "(0.8 s reading time); main thread only: the event loop, Telegram I/O and rendering (searches run in worker "
        "threads and are profiled by `--path query`). Start-up and shutdown included.",
        pstats.Stats(str(out)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", choices=("query", "update", "bot"), required=True)
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench-arcd-index", help="index for query and bot")
    parser.add_argument("--questions", type=int, default=1395, help="how many questions (query, bot)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.path != "update" and current_build_id(args.index) is None:
        sys.exit(f"no index in {args.index}; run `python -m bench.query` first (it builds it)")
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp:
        if args.path == "query":
            what, stats = profile_query(args.index, args.questions)
        elif args.path == "update":
            what, stats = profile_update(Path(tmp))
        else:
            what, stats = profile_bot(args.index, Path(tmp), args.questions)
        body = what + "\n\n" + summarise(stats)
    record(f"Profile: {args.path}", body, write=not args.no_write)


if __name__ == "__main__":
    main()
