"""Bot load benchmark: simulated readers asking questions through the fake Bot API server.

The bot runs as deployed (`python -m bot`, long polling) in its own process; the
fake Bot API server (tests/fake_telegram.py) and the simulated users run in this
one. Each user asks its questions one after another (the next question once the
previous answer arrived), as a person would. Measured: answered questions per
second, latency from the update being queued to the reply being received by the
server, lost and duplicated replies, and the bot process's RSS.

    python -m bench.bot_load [--users 50] [--questions 2000] [--max-rate 0] [--no-write]

With fault injection it is the soak test of docs/reliability.md:

    python -m bench.bot_load --questions 20000 --rate-5xx 0.05 --rate-429 0.01 --title "Soak"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import time
from pathlib import Path

import psutil

from bench.common import ARCD_QUESTIONS, ROOT, need, record, summary_ms, table
from bot.settings import Settings
from index.storage.loading import current_manifest
from index.tools.evaluate import load_questions
from tests.support.fake_telegram import FakeTelegram


async def user(
    fake: FakeTelegram,
    uid: int,
    questions: list[str],
    latencies: list[float],
    timeout: float,
    on_answer=lambda: None,
    think: float = 0.0,
) -> int:
    """Ask each question after the previous reply (and ``think`` seconds on average of reading); return how many got no reply."""
    lost = 0
    rng = random.Random(uid)
    for n, question in enumerate(questions, start=1):
        if think:
            await asyncio.sleep(rng.expovariate(1.0 / think))
        started = time.perf_counter()
        fake.message(question, user_id=uid)
        try:
            await fake.wait_for_messages(n - lost, chat_id=uid, timeout=timeout)
        except TimeoutError:
            lost += 1
            continue
        latencies.append(time.perf_counter() - started)
        on_answer()
    return lost


async def start_bot(fake: FakeTelegram, args: argparse.Namespace) -> asyncio.subprocess.Process:
    """``python -m bot`` as deployed, in its own process, talking to the fake server."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "INDEX_DIR": str(args.index),
        "RATE_LIMIT_PER_MINUTE": "0",
        "TELEGRAM_MAX_RATE": f"{args.max_rate:g}",
        "SEARCH_WORKERS": str(args.workers),
        "QUESTION_LOG": "",
        "LOG_LEVEL": "WARNING",
    }
    profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *profile, "-m", "bot", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    await fake.wait_for_call("getUpdates", timeout=300)
    return proc


async def run(args: argparse.Namespace) -> tuple[str, str]:
    questions = [q["question"] for q in load_questions(need(args.questions_file))]
    per_user = args.questions // args.users
    async with FakeTelegram() as fake:
        if args.rate_5xx or args.rate_429:
            fake.random_faults(
                rate_5xx=args.rate_5xx, rate_429=args.rate_429, retry_after=1, seed=1, methods=("sendMessage", "sendChatAction")
            )
        proc = await start_bot(fake, args)
        bot = psutil.Process(proc.pid)
        # warm-up, not timed: the first search in each worker thread opens its connections
        await asyncio.gather(*(user(fake, 90_000 + w, questions[-3:], [], args.timeout) for w in range(args.workers * 2)))
        rss_before = bot.memory_info().rss
        rss_per_thousand: list[float] = []
        answered_so_far = [0]

        def on_answer() -> None:
            answered_so_far[0] += 1
            if answered_so_far[0] % 1000 == 0:
                rss_per_thousand.append(bot.memory_info().rss / 2**20)

        try:
            latencies: list[float] = []
            started = time.perf_counter()
            lost = await asyncio.gather(
                *(
                    user(
                        fake,
                        10_000 + u,
                        [questions[(u * per_user + i) % len(questions)] for i in range(per_user)],
                        latencies,
                        args.timeout,
                        on_answer,
                        args.think,
                    )
                    for u in range(args.users)
                )
            )
            wall = time.perf_counter() - started
            await asyncio.sleep(1.0)  # let stray duplicates arrive before counting
            rss_after = bot.memory_info().rss
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        asked = per_user * args.users
        replies = sum(len(fake.messages_to(10_000 + u)) for u in range(args.users))
        errors = [line for line in err.decode(errors="replace").splitlines() if " ERROR " in line]
    answered = asked - sum(lost)
    s = summary_ms(latencies)
    rows = [
        ["users", args.users],
        ["questions asked", asked],
        ["answered", answered],
        ["lost (no reply)", sum(lost)],
        ["duplicated (replies beyond one per question)", max(0, replies - answered)],
        ["errors logged by the bot", len(errors)],
        ["bot exit code after SIGTERM", proc.returncode],
        ["wall time s", f"{wall:.1f}"],
        ["answered per second", f"{answered / wall:.1f}"],
        ["latency p50 ms", f"{s['p50']:.0f}"],
        ["latency p95 ms", f"{s['p95']:.0f}"],
        ["latency p99 ms", f"{s['p99']:.0f}"],
        ["bot RSS before / after MB", f"{rss_before / 2**20:.0f} / {rss_after / 2**20:.0f}"],
    ]
    if len(rss_per_thousand) >= 2:
        growth = (rss_per_thousand[-1] - rss_per_thousand[0]) / rss_per_thousand[0]
        rows.append(
            [
                "bot RSS at 1st / last thousand answered MB",
                f"{rss_per_thousand[0]:.0f} / {rss_per_thousand[-1]:.0f} ({growth:+.1%})",
            ]
        )
    if args.rate_5xx or args.rate_429:
        statuses = [status for _, status, _ in fake.errors_returned]
        rows.append(["faults injected (5xx / 429)", f"{sum(s >= 500 for s in statuses)} / {statuses.count(429)}"])
    manifest = current_manifest(args.index)
    figure = f"{answered / wall:.1f}/s, {s['p95']:.0f} ms, {sum(lost)}"
    return figure, (
        f"`python -m bot` in its own process (long polling) against the fake Bot API server in the benchmark process; "
        f"{args.users} simulated users, each asking its next question when the previous answer arrived"
        + (f" and it spent on average {args.think:g} s reading it" if args.think else " (no reading time: saturation)")
        + ". Questions from "
        f"`{args.questions_file.name}`, index {manifest.articles} articles / {manifest.chunks} chunks; "
        f"TELEGRAM_MAX_RATE={args.max_rate:g} (0 = no outgoing limit), SEARCH_WORKERS={args.workers}, per-user limit off; "
        f"injected faults: {args.rate_5xx:.0%} 5xx, {args.rate_429:.0%} 429 (retry_after 1 s) on sendMessage and sendChatAction. "
        "Latency: update queued at the server -> reply received by the server.\n\n" + table(["measure", "value"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--questions-file", type=Path, default=ARCD_QUESTIONS)
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench-arcd-index")
    parser.add_argument("--max-rate", type=float, default=0, help="TELEGRAM_MAX_RATE for the run (default 0: no outgoing limit)")
    default_workers = Settings.model_fields["search_workers"].default
    parser.add_argument("--workers", type=int, default=default_workers, help=f"SEARCH_WORKERS (default {default_workers})")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user reads an answer before the next question")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a user waits for a reply before counting it lost")
    parser.add_argument("--rate-5xx", type=float, default=0.0, help="share of sendMessage/sendChatAction calls answered 5xx")
    parser.add_argument("--rate-429", type=float, default=0.0, help="share answered 429 with retry_after 1")
    parser.add_argument("--title", default="Bot under load", help="section title in the results file")
    parser.add_argument("--doc", type=Path, help="append to this file instead of docs/benchmarks.md")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile and write its stats here (bench/hotspots.py)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if current_manifest(args.index) is None:
        sys.exit(f"no index in {args.index}; run `python -m bench.query` first (it builds it)")
    figure, body = asyncio.run(run(args))
    # the standard run (50 users, 2,000 questions, readers pausing) gives the table's figure
    standard = args.users == 50 and args.questions == 2000 and args.think > 0 and not (args.rate_5xx or args.rate_429)
    figures = {"bot end to end, 50 users, 2,000 questions: answered/s, p95, lost": figure} if standard else None
    record(args.title, body, write=not args.no_write, doc=args.doc, figures=figures)


if __name__ == "__main__":
    main()
