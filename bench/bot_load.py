"""Bot load benchmark: simulated readers asking questions through the fake Bot API server.

The real python-telegram-bot Application runs against tests/fake_telegram.py on
127.0.0.1. Each simulated user asks its questions one after another (the next
question once the previous answer arrived), as a person would. Measured: answered
questions per second, latency from the update being queued to the reply being
received by the server, lost and duplicated replies, and the process's RSS
(bot, fake server and clients share the process).

    python bench/bot_load.py [--users 50] [--questions 2000] [--max-rate 0] [--no-write]

With fault injection it is the soak test of docs/reliability.md:

    python bench/bot_load.py --questions 20000 --rate-5xx 0.05 --rate-429 0.01 --title "Soak"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import psutil
from common import ROOT, SHARED, need, record, summary_ms, table

sys.path.insert(0, str(ROOT / "tests"))

from fake_telegram import FakeTelegram

from bot.app import build_application
from bot.service import QAService
from index.search import Searcher
from index.settings import Settings


async def user(
    fake: FakeTelegram, uid: int, questions: list[str], latencies: list[float], timeout: float, on_answer=lambda: None
) -> int:
    """Ask each question after the previous reply; return how many got no reply in time."""
    lost = 0
    for n, question in enumerate(questions, start=1):
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


async def run(args: argparse.Namespace) -> str:
    questions = [
        json.loads(line)["question"]
        for line in need(args.questions_file).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    per_user = args.questions // args.users
    process = psutil.Process()
    async with FakeTelegram() as fake:
        settings = Settings(
            _env_file=None,
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            telegram_api_file_url=fake.base_file_url,
            index_dir=args.index,
            rate_limit_per_minute=0,
            telegram_max_rate=args.max_rate,
            search_workers=args.workers,
        )
        service = QAService(settings, Searcher.open(args.index, params=settings.search_params()))
        app = build_application(settings, service)
        if args.rate_5xx or args.rate_429:
            fake.random_faults(
                rate_5xx=args.rate_5xx, rate_429=args.rate_429, retry_after=1, seed=1, methods=("sendMessage", "sendChatAction")
            )
        rss_before = process.memory_info().rss
        rss_per_thousand: list[float] = []
        answered_so_far = [0]

        def on_answer() -> None:
            answered_so_far[0] += 1
            if answered_so_far[0] % 1000 == 0:
                rss_per_thousand.append(process.memory_info().rss / 2**20)

        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
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
                    )
                    for u in range(args.users)
                )
            )
            wall = time.perf_counter() - started
            await asyncio.sleep(1.0)  # let stray duplicates arrive before counting
            rss_after = process.memory_info().rss
            await app.updater.stop()
            await app.stop()
        asked = per_user * args.users
        replies = sum(len(fake.messages_to(10_000 + u)) for u in range(args.users))
        errors = app.bot_data.get("errors", [])
    answered = asked - sum(lost)
    s = summary_ms(latencies)
    rows = [
        ["users", args.users],
        ["questions asked", asked],
        ["answered", answered],
        ["lost (no reply)", sum(lost)],
        ["duplicated (replies beyond one per question)", max(0, replies - answered)],
        ["handler errors", len(errors)],
        ["wall time s", f"{wall:.1f}"],
        ["answered per second", f"{answered / wall:.1f}"],
        ["latency p50 ms", f"{s['p50']:.0f}"],
        ["latency p95 ms", f"{s['p95']:.0f}"],
        ["latency p99 ms", f"{s['p99']:.0f}"],
        ["RSS before / after MB", f"{rss_before / 2**20:.0f} / {rss_after / 2**20:.0f}"],
    ]
    if len(rss_per_thousand) >= 2:
        growth = (rss_per_thousand[-1] - rss_per_thousand[0]) / rss_per_thousand[0]
        rows.append(
            ["RSS at 1st / last thousand answered MB", f"{rss_per_thousand[0]:.0f} / {rss_per_thousand[-1]:.0f} ({growth:+.1%})"]
        )
    if args.rate_5xx or args.rate_429:
        statuses = [status for _, status, _ in fake.errors_returned]
        rows.append(["faults injected (5xx / 429)", f"{sum(s >= 500 for s in statuses)} / {statuses.count(429)}"])
    m = service.searcher.manifest
    return (
        f"Fake Bot API server on 127.0.0.1, questions from `{args.questions_file.name}`, index {m['articles']} articles / "
        f"{m['chunks']} chunks; TELEGRAM_MAX_RATE={args.max_rate:g} (0 = no outgoing limit), SEARCH_WORKERS={args.workers}, "
        f"per-user limit off; injected faults: {args.rate_5xx:.0%} 5xx, {args.rate_429:.0%} 429 (retry_after 1 s) on sendMessage "
        "and sendChatAction.\n\n" + table(["measure", "value"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--questions-file", type=Path, default=SHARED / "arcd" / "questions.jsonl")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench-arcd-index")
    parser.add_argument("--max-rate", type=float, default=0, help="TELEGRAM_MAX_RATE for the run (default 0: no outgoing limit)")
    parser.add_argument("--workers", type=int, default=4, help="SEARCH_WORKERS")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a user waits for a reply before counting it lost")
    parser.add_argument("--rate-5xx", type=float, default=0.0, help="share of sendMessage/sendChatAction calls answered 5xx")
    parser.add_argument("--rate-429", type=float, default=0.0, help="share answered 429 with retry_after 1")
    parser.add_argument("--title", default="Bot under load", help="section title in the results file")
    parser.add_argument("--doc", type=Path, help="append to this file instead of docs/benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index in {args.index}; run bench/query.py first (it builds it)")
    body = asyncio.run(run(args))
    record(args.title, body, write=not args.no_write, doc=args.doc)


if __name__ == "__main__":
    main()
