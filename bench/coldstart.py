"""Cold start: what a fresh process pays before its first answer, process start included.

Every step runs as an admin or a service manager would run it, in a new process
on a 2,000-article index (SaudiNewsNet), and is repeated; the table gives the
median wall time and the median peak RSS (``ru_maxrss`` of that process).

- ``python -m index search --index DIR "question"``: one question.
- ``python -m index update``: one new article added to the corpus.
- ``python -m bot``: from the process start to the first answer received by a fake
  Bot API server (the question is waiting when the bot starts), then its RSS after
  200 more questions (steady state).

    python -m bench.coldstart [--runs 5] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.common import ARCD_QUESTIONS, ROOT, SNN_ARTICLES, build_index_cli, need, record, table
from index.tools.evaluate import load_questions
from tests.support.fake_telegram import FakeTelegram

QUESTION = "من هو أمين حركة النجباء في العراق؟"


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one process, started to finished."""
    with tempfile.TemporaryFile() as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=sink, stderr=sink, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            sink.seek(0)
            sys.exit(f"failed: {' '.join(argv)}\n{sink.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def median_row(label: str, runs: list[tuple[float, float]]) -> list[object]:
    walls, rss = zip(*runs, strict=True)
    return [label, len(runs), f"{statistics.median(walls):.2f}", f"{min(walls):.2f}", f"{statistics.median(rss):.0f}"]


async def bot_first_answer(index: Path, questions: list[str], more: int = 200) -> tuple[float, float, float, float, float]:
    """Seconds from process start to the first answer, RSS MB then, then RSS and PSS MB after ``more`` questions
    and the peak RSS MB of the whole run."""
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "INDEX_DIR": str(index),
            "RATE_LIMIT_PER_MINUTE": "0",
            "TELEGRAM_MAX_RATE": "0",
            "QUESTION_LOG": "",
            "LOG_LEVEL": "WARNING",
            "FEED_REFRESH_MINUTES": "0",
        }
        fake.message(QUESTION, user_id=1)  # waiting in getUpdates when the bot starts
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            await fake.wait_for_messages(1, chat_id=1, timeout=120)
            first = time.perf_counter() - started
            bot = psutil.Process(proc.pid)
            rss_first = bot.memory_info().rss / 2**20
            for n, question in enumerate((questions * (1 + more // max(1, len(questions))))[:more], start=2):
                fake.message(question, user_id=1)
                await fake.wait_for_messages(n, chat_id=1, timeout=60)
            memory = bot.memory_full_info()
            rss_steady, pss_steady = memory.rss / 2**20, memory.pss / 2**20
            peak = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.communicate(), timeout=60)
    return first, rss_first, rss_steady, pss_steady, peak


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a running process's RSS (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    try:
        articles = work / "articles"
        articles.mkdir()
        shutil.copy(need(SNN_ARTICLES), articles / "corpus.jsonl")
        index = work / "index"
        build_index_cli(index, [articles])
        py = sys.executable
        rows = []
        timed([py, "-m", "index", "search", "--index", str(index), QUESTION])  # page cache warm, as on a running server
        rows.append(
            median_row(
                "`index search` one question",
                [timed([py, "-m", "index", "search", "--index", str(index), QUESTION]) for _ in range(args.runs)],
            )
        )
        template = json.loads((articles / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[0])
        updates = []
        for n in range(args.runs):
            extra = dict(template, id=f"cold-new-{n}", title=f"خبر جديد رقم {n}", text=template["text"] + f" تحديث رقم {n}.")
            (articles / f"new-{n}.jsonl").write_text(json.dumps(extra, ensure_ascii=False) + "\n", encoding="utf-8")
            updates.append(timed([py, "-m", "index", "update", "--quiet", "--articles", str(articles), "--index", str(index)]))
        rows.append(median_row("`index update` one new article", updates))
        questions = [q["question"] for q in load_questions(need(ARCD_QUESTIONS))]
        bots = [asyncio.run(bot_first_answer(index, questions)) for _ in range(max(1, args.runs // 2))]
        firsts = [b[0] for b in bots]
        bot_rows = [
            [
                "`python -m bot`: start to first answer",
                len(bots),
                f"{statistics.median(firsts):.2f}",
                f"{min(firsts):.2f}",
                f"{statistics.median(b[1] for b in bots):.0f}",
            ],
        ]
        steady = statistics.median(b[2] for b in bots)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = (
        "Each step a new process on a 2,000-article index (SaudiNewsNet, default model and settings); the files in the "
        "page cache (a first untimed search), as on a running server.\n\n"
        + table(["step", "runs", "median wall s", "fastest s", "median peak RSS MB"], rows + bot_rows)
        + f"\n\nThe bot's RSS after 200 more questions (steady state): {steady:.0f} MB."
    )
    search, update = rows
    figures = {
        "cold `index search`: wall / peak RSS": f"{search[2]} s / {search[4]} MB",
        "update, one new article (process start included)": f"{update[2]} s median, {update[3]} s fastest ({update[4]} MB)",
        "bot: start to first answer / steady RSS after 200 questions": f"{bot_rows[0][2]} s / {steady:.0f} MB",
    }
    record("Cold start (process start included)", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
