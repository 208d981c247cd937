"""Soak: `python -m bot` in its own process answers every question exactly once despite injected Telegram faults.

A short run is part of every test run (CI included): 300 questions from 10 readers with 5% 5xx and 1% 429 answers.
The full soak of docs/reliability.md (20,000 questions, RSS growth under 10%) is marked slow:

    .venv/bin/python -m pytest -m slow tests/test_soak.py

Both build their own index of the test corpus, so neither needs ../shared or a bench script first.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.support.corpus import CORPUS, ROOT, write_jsonl

# Questions a reader of the test corpus might ask, in Arabic and English.
QUESTIONS = [
    "كم سريراً في مستشفى السرطان في الدمام؟",
    "ما قيمة جوائز مهرجان الإبل؟",
    "كم أسرة فقدت منازلها في فيضانات السودان؟",
    "من فازت ببطولة أفريقيا للشطرنج؟",
    "كم رحلة يومياً لقطار الحرمين في رمضان؟",
    "لماذا ارتفعت أسعار البن؟",
    "How long is the train ride between Makkah and Madinah?",
    "ما عاصمة أستراليا؟",
]


def soak(tmp_path, embedder, questions: int, users: int, extra: list[str] = ()) -> str:
    from index.build import run_build

    run_build([write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)], tmp_path / "ix", embedder=embedder, progress=False)
    asked = write_jsonl(tmp_path / "questions.jsonl", [{"question": q} for q in QUESTIONS])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bot_load",
            *("--questions", str(questions), "--users", str(users)),
            *("--rate-5xx", "0.05", "--rate-429", "0.01"),
            *("--index", str(tmp_path / "ix"), "--questions-file", str(asked), "--timeout", "120"),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"\| answered \| " + str(questions - questions % users) + r" \|", out), out
    assert re.search(r"\| lost \(no reply\) \| 0 \|", out), out
    assert re.search(r"\| duplicated \(replies beyond one per question\) \| 0 \|", out), out
    assert re.search(r"\| bot exit code after SIGTERM \| 0 \|", out), out
    faults = re.search(r"\| faults injected \(5xx / 429\) \| (\d+) / (\d+) \|", out)
    assert faults and int(faults.group(1)) > 0, "the run met faults"
    return out


def test_soak_short_every_question_answered_once_despite_faults(tmp_path, embedder):
    soak(tmp_path, embedder, questions=300, users=10, extra=["--no-write"])


@pytest.mark.slow
def test_soak_every_question_answered_once_and_memory_flat(tmp_path, embedder):
    out = soak(
        tmp_path, embedder, questions=20_000, users=50, extra=["--title", "Soak", "--doc", str(ROOT / "docs" / "reliability.md")]
    )
    growth = float(re.search(r"RSS at 1st / last thousand answered MB \| \d+ / \d+ \(([-+\d.]+)%\)", out).group(1))
    assert growth < 10.0, out


def test_the_questions_file_is_valid_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"question": q} for q in QUESTIONS])
    assert [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines()] == QUESTIONS
