"""Quiet runs stay light: disabled progress bars, and what a search or a quiet update imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from index.progress import bar

# Imported by neither a search with the built-in model nor a quiet update (each costs start-up time).
HEAVY = ("torch", "sentence_transformers", "tqdm", "scipy", "bm25s")

_REPORT = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('LOADED', *[m for m in {heavy!r} if m in sys.modules], file=sys.stderr))\n"
    "sys.argv = {argv!r}\n"
    "runpy.run_module('index', run_name='__main__')\n"
)


def _loaded(argv: list[str]) -> list[str]:
    code = _REPORT.format(heavy=HEAVY, argv=["index", *argv])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(line for line in done.stderr.splitlines() if line.startswith("LOADED"))
    return line.split()[1:]


def test_disabled_bar_passes_items_through_and_counts_nothing() -> None:
    assert list(bar([1, 2, 3], enabled=False, desc="x")) == [1, 2, 3]
    with bar(total=5, enabled=False) as shown:
        shown.update(2)
    assert list(bar(enabled=False)) == []


def test_enabled_bar_is_tqdm() -> None:
    shown = bar([1, 2], enabled=True, disable=True)
    assert type(shown).__module__.startswith("tqdm") and list(shown) == [1, 2]


def test_search_and_quiet_update_import_nothing_heavy(built_index: Path, corpus_dir: Path, tmp_path: Path) -> None:
    assert _loaded(["search", "--index", str(built_index), "ما سبب تعليق الدراسة؟"]) == []
    index = shutil.copytree(built_index, tmp_path / "index")  # the shared index stays as built
    (corpus_dir / "extra.jsonl").write_text(
        '{"id": "extra-1", "title": "خبر إضافي", "text": "افتتحت البلدية حديقة جديدة في وسط المدينة صباح اليوم."}\n',
        encoding="utf-8",
    )
    assert _loaded(["update", "--quiet", "--articles", str(corpus_dir), "--index", str(index)]) == []
