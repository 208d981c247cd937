"""Another commit of this repository checked out beside this one, and run with its own code only.

Used by the scripts that compare two commits (``findings.py``, ``identical.py``). The project is
installed in ``.venv`` in editable mode, and setuptools' finder would serve a module the other tree
lacks from this checkout; a ``sitecustomize`` on the path removes that finder in every process the
tree's commands start.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ONLY_THIS_TREE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in type(f).__module__ + getattr(f, "__module__", "")]
"""


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def short(commit: str) -> str:
    return git("rev-parse", "--short", commit)


@contextlib.contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A temporary checkout of ``commit`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="worktree-") as scratch:
        tree = Path(scratch) / short(commit)
        git("worktree", "add", "--detach", str(tree), commit)
        try:
            yield tree
        finally:
            git("worktree", "remove", "--force", str(tree))


def tree_env(tree: Path, **extra: str) -> dict[str, str]:
    """The environment for running ``tree``'s code, and only its code, with this project's Python."""
    isolate = tree.parent / f"site-{tree.name}"
    isolate.mkdir(exist_ok=True)
    (isolate / "sitecustomize.py").write_text(_ONLY_THIS_TREE, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": f"{isolate}{os.pathsep}{tree}", "PYTHONDONTWRITEBYTECODE": "1", **extra}
