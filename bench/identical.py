"""Do two commits give the same answers? Every dev question through `search --json` on fresh builds of each.

For a change that must not change behaviour (the restructuring of issues 22 and 23), this builds
the dev indexes from scratch with each commit's own code (a git worktree per commit, run with only
its own code importable), asks every dev question with `python -m index search --json`, and
compares the output line by line, byte for byte:

- ARCD's 1,395 questions over ARCD + the 2,000 SaudiNewsNet articles;
- the 200 English questions and both own unanswerable sets (70 Arabic, 60 English) over that index;
- ARCD's questions over the SaudiNewsNet articles alone (out of corpus: every one unanswerable).

Questions that name a year between 1000 and 1799 are listed apart: the year pattern of question
analysis was widened from 1800–2099 to 1000–2099 (the build's own pattern; Hijri years such as
1436 are in it), so their answers may differ, and only theirs.

    .venv/bin/python -m bench.identical [--before 0f5f22d] [--after HEAD] [--no-write]

Outputs are kept under var/identical/<commit>/ so a commit is built and asked once.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from bench.common import ARCD_ARTICLES, ARCD_QUESTIONS, ROOT, SNN_ARTICLES, need, record, table
from bench.worktrees import short, tree_env, worktree

BEFORE = "0f5f22d"  # the last commit before the engine's regrouping (issue 22)
DATA = ROOT / "bench" / "data"
# set name -> (questions file, index name)
SETS = {
    "arcd": (ARCD_QUESTIONS, "arcd"),
    "english": (DATA / "english_questions.jsonl", "arcd"),
    "unanswerable_ar": (DATA / "unanswerable_ar.jsonl", "arcd"),
    "unanswerable_en": (DATA / "unanswerable_en.jsonl", "arcd"),
    "out_of_corpus": (ARCD_QUESTIONS, "snn"),
}
INDEXES = {"arcd": [ARCD_ARTICLES, SNN_ARTICLES], "snn": [SNN_ARTICLES]}
WIDENED_YEARS = re.compile(r"(?<!\d)1[0-7]\d\d(?!\d)")  # named by a question: the only allowed difference


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in need(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def answers(commit: str) -> dict[str, list[str]]:
    """``search --json`` lines per set for ``commit``, computed once and kept under var/identical/."""
    folder = ROOT / "var" / "identical" / short(commit)
    if all((folder / f"{name}.jsonl").exists() for name in SETS):
        return {name: (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() for name in SETS}
    folder.mkdir(parents=True, exist_ok=True)
    with worktree(commit) as tree:
        env = tree_env(tree)
        for name, articles in INDEXES.items():
            print(f"{short(commit)}: building the {name} index", file=sys.stderr, flush=True)
            index = folder / f"index-{name}"
            subprocess.run(
                [sys.executable, "-m", "index", "build", "--quiet", "--index", str(index), "--articles", *map(str, articles)],
                cwd=tree,
                env=env,
                check=True,
            )
        for name, (path, index_name) in SETS.items():
            print(f"{short(commit)}: asking {name}", file=sys.stderr, flush=True)
            asked = "\n".join(questions(path)) + "\n"
            done = subprocess.run(
                [sys.executable, "-m", "index", "search", "--json", "--index", str(folder / f"index-{index_name}")],
                cwd=tree,
                env=env,
                input=asked,
                capture_output=True,
                text=True,
                check=True,
            )
            (folder / f"{name}.jsonl").write_text(done.stdout, encoding="utf-8")
    return answers(commit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    before, after = answers(args.before), answers(args.after)
    rows, listed = [], []
    for name, (path, _) in SETS.items():
        asked = questions(path)
        old, new = before[name], after[name]
        if len(old) != len(asked) or len(new) != len(asked):
            sys.exit(f"{name}: {len(old)} / {len(new)} answers for {len(asked)} questions")
        differ = [q for q, a, b in zip(asked, old, new, strict=True) if a != b]
        allowed = [q for q in differ if WIDENED_YEARS.search(q)]
        rows.append([name, len(asked), len(differ) - len(allowed), len(allowed)])
        listed += [f"- {name}: {q}" for q in allowed]
        listed += [f"- {name} (NOT allowed): {q}" for q in differ if q not in allowed]
    body = (
        f"`python -m index search --json` on fresh builds by {short(args.before)} and {short(args.after)}, every dev "
        "question, compared byte for byte.\n\n"
        + table(["set", "questions", "different answers", "different, naming a year 1000-1799 (allowed)"], rows)
        + ("\n\nThe questions whose answers differ:\n\n" + "\n".join(listed) if listed else "\n\nNo answer differs.")
    )
    allowed_n = sum(row[3] for row in rows)
    figures = {
        "identical answers across the restructuring (3,120 dev questions)": (
            f"{sum(row[2] for row in rows)} ({allowed_n} listed)" if allowed_n else str(sum(row[2] for row in rows))
        )
    }
    record("Identical answers across a restructuring", body, write=not args.no_write, figures=figures)
    if any(row[2] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
