"""Soak test (slow; run with `pytest -m slow`): 20,000 questions with injected Telegram faults."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT, need_shared


@pytest.mark.slow
def test_soak_every_question_answered_once_and_memory_flat(tmp_path):
    """5% 5xx and 1% 429 on sends: every question answered exactly once, RSS growth under 10%."""
    need_shared("arcd", "questions.jsonl")
    index = ROOT / "var" / "quality-arcd"
    if not (index / "CURRENT").exists():
        pytest.skip("run bench/quality.py first: the soak uses its ARCD index")
    done = subprocess.run(
        [
            sys.executable,
            "bench/bot_load.py",
            "--questions",
            "20000",
            "--rate-5xx",
            "0.05",
            "--rate-429",
            "0.01",
            "--index",
            str(index),
            "--title",
            "Soak",
            "--doc",
            str(ROOT / "docs" / "reliability.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"\| lost \(no reply\) \| 0 \|", out), out
    assert re.search(r"\| duplicated \(replies beyond one per question\) \| 0 \|", out), out
    growth = float(re.search(r"RSS at 1st / last thousand answered MB \| \d+ / \d+ \(([-+\d.]+)%\)", out).group(1))
    assert growth < 10.0, out
