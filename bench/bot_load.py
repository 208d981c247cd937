"""Bot load benchmark: simulated readers asking questions through the fake Bot API server.

The real python-telegram-bot Application runs against tests/fake_telegram.py on
127.0.0.1. Each simulated user asks its questions one after another (the next
question once the previous answer arrived), as a person would. Measured: answered
questions per second, latency from the update being queued to the reply being
received by the server, lost and duplicated replies, and the process's RSS
(bot, fake server and clients share the process).

    python bench/bot_load.py [--users 50] [--questions 2000] [--max-rate 0] [--no-write]
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


async def user(fake: FakeTelegram, uid: int, questions: list[str], latencies: list[float], timeout: float) -> int:
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
        rss_before = process.memory_info().rss
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
    m = service.searcher.manifest
    return (
        f"Fake Bot API server on 127.0.0.1, questions from `{args.questions_file.name}`, index {m['articles']} articles / "
        f"{m['chunks']} chunks; TELEGRAM_MAX_RATE={args.max_rate:g} (0 = no outgoing limit), SEARCH_WORKERS={args.workers}, "
        "per-user limit off.\n\n" + table(["measure", "value"], rows)
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
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index in {args.index}; run bench/query.py first (it builds it)")
    body = asyncio.run(run(args))
    record("Bot under load", body, write=not args.no_write)


if __name__ == "__main__":
    main()
