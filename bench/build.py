"""Build benchmark: full build, then `update` after adding 1 article and after changing 10.

Each step runs `python -m index ...` as a separate process, as an admin would, so
wall times include process start and model loading. Peak RSS is the largest of
the child processes.

    python -m bench.build [--corpus FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, SNN_ARTICLES, need, record, table


def run(args: list[str]) -> tuple[float, str, int]:
    """Run one CLI command; return (wall seconds, stdout, peak RSS in MB of that process)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "index", *args, "--quiet"], cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(args)}\n{err.read()}")
        return wall, out.read(), usage.ru_maxrss // 1024


def chunks_in(stdout: str) -> int:
    return int(re.search(r"(\d+) chunks", stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SNN_ARTICLES)
    parser.add_argument("--chunk-words", type=int, help="build with this target chunk size instead of the default")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs/benchmarks.md")
    args = parser.parse_args()
    corpus = need(args.corpus)

    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        articles = work / "articles"
        articles.mkdir()
        shutil.copy(corpus, articles / "corpus.jsonl")
        index = str(work / "index")
        rows = []

        size = ["--chunk-words", str(args.chunk_words)] if args.chunk_words else []
        wall, out, rss = run(["build", "--articles", str(articles), "--index", index, *size])
        n = chunks_in(out)
        rows.append(["build (empty cache)", f"{wall:.1f}", n, f"{n / wall:.0f}", rss])

        records = [
            json.loads(line) for line in (articles / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        new = dict(records[0], id="bench-new-article", title="خبر جديد للاختبار", text=records[0]["text"] + " تحديث جديد.")
        (articles / "new.jsonl").write_text(json.dumps(new, ensure_ascii=False) + "\n", encoding="utf-8")
        wall, out, rss = run(["update", "--articles", str(articles), "--index", index])
        rows.append(["update: 1 article added", f"{wall:.1f}", chunks_in(out), "-", rss])

        for r in records[1:11]:
            r["text"] = r["text"] + " وأضاف المصدر تفاصيل جديدة."
        (articles / "corpus.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
        )
        wall, out, rss = run(["update", "--articles", str(articles), "--index", index])
        rows.append(["update: 10 articles changed", f"{wall:.1f}", chunks_in(out), "-", rss])

        wall, out, rss = run(["update", "--articles", str(articles), "--index", index])
        rows.append(["update: nothing changed", f"{wall:.1f}", chunks_in(out), "-", rss])

        chunking = f"{args.chunk_words}-word chunks" if args.chunk_words else "default chunking"
        body = f"Corpus: `{corpus.name}` ({len(records)} articles), default model, {chunking}, FAISS flat.\n\n" + table(
            ["step", "wall s (process start included)", "chunks in index", "chunks/s", "peak RSS MB"], rows
        )
        built = rows[0]
        figures = {"build, 2,000 articles: chunks/s (peak RSS)": f"{built[3]} ({built[4]} MB)"} if len(records) >= 1000 else {}
        record("Build and update", body, write=not args.no_write, figures=figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
