"""Run one benchmark script at two commits, alternately, so that a noisy machine's drift falls on both.

Each round runs the script (with ``--no-write``) in a checkout of the first commit, then of the
second, each with its own code only (``bench.worktrees``), and prints the sections they print.
Used to check that a change makes nothing slower, e.g. at 2,000 articles:

    python -m bench.compare --rounds 2 dcae280 HEAD -- coldstart --runs 5
    python -m bench.compare dcae280 HEAD -- query
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from pathlib import Path

from bench.worktrees import ROOT, short, tree_env, worktree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- NAME [ARGS...]: a module of bench/ and its arguments")
    args = parser.parse_args()
    script = [a for a in args.script if a != "--"]
    if not script:
        parser.error("name the benchmark after --, e.g. -- coldstart --runs 5")
    with contextlib.ExitStack() as stack:
        trees: list[tuple[str, Path]] = [
            (short(commit), stack.enter_context(worktree(commit))) for commit in (args.before, args.after)
        ]
        for n in range(1, args.rounds + 1):
            for name, tree in trees:
                print(f"\n## round {n}: {name}\n", flush=True)
                done = subprocess.run(
                    [sys.executable, "-m", f"bench.{script[0]}", *script[1:], "--no-write"],
                    cwd=tree,
                    env=tree_env(tree, SHARED_DATA=str(ROOT.parent / "shared" / "data")),
                    check=False,
                )
                if done.returncode:
                    sys.exit(f"bench.{script[0]} failed at {name} (exit status {done.returncode})")


if __name__ == "__main__":
    main()
