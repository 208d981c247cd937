"""The engine's shape holds: folders on floors, imports only downward, build-file names in one place, small modules.

Read from the source with ``ast`` (no import runs): every ``import`` and ``from … import``,
including those inside functions, and every string constant that is not a docstring.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.corpus import ROOT

INDEX = ROOT / "index"

# Lowest first. A module may import from its own floor and the floors below it.
FLOORS: list[tuple[str, ...]] = [
    ("index", "index.progress", "index.files", "index.percentiles", "index.layout", "index.results", "index.questionlog"),
    ("index.text",),
    ("index.corpus",),
    ("index.embedding", "index.use_module"),
    ("index.storage", "index.manifest"),
    ("index.web",),
    ("index.question",),
    ("index.answer",),
    ("index.search",),
    ("index.build",),
    ("index.settings",),  # makes the engine's parameter records (BuildConfig, SearchParams…) on demand
    ("index.tools",),
    ("index.__main__",),
]
# Imports that climb a floor, each with the reason it is allowed. None today.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def floor_of(module: str) -> int:
    best, depth = -1, -1
    for n, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = n, len(prefix)
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """The project modules ``path`` imports (``from x import y`` counts as x, or x.y when y is a module of x)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    ROOT / Path(*candidate.split("."))
                ).is_dir()
                found.add(candidate if is_module else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m.split(".")[0] in ("index", "bot")}


ENGINE = sorted(p for p in INDEX.rglob("*.py") if "__pycache__" not in p.parts)
GRAPH = {module_name(p): imports(p) for p in ENGINE}


def test_the_engine_never_imports_the_bot():
    assert [(m, t) for m, ts in GRAPH.items() for t in ts if t.split(".")[0] == "bot"] == []


def test_storage_imports_nothing_from_search_answer_or_web():
    above = ("index.search", "index.answer", "index.web", "index.build", "index.tools")
    assert [(m, t) for m, ts in GRAPH.items() if m.startswith("index.storage") for t in ts if t.startswith(above)] == []


def test_text_imports_nothing_above_it():
    allowed = ("index.text",)
    bad = [
        (m, t) for m, ts in GRAPH.items() if m.startswith("index.text") for t in ts if t != "index" and not t.startswith(allowed)
    ]
    assert bad == []


def test_no_import_climbs_a_floor_but_the_named_exceptions():
    unplaced = [m for m in GRAPH if floor_of(m) < 0]
    assert unplaced == [], "every module of the engine has a floor"
    climbing = {
        (m, t): f"{floor_of(m)} -> {floor_of(t)}"
        for m, ts in GRAPH.items()
        for t in ts
        if floor_of(t) > floor_of(m) and (m, t) not in EXCEPTIONS
    }
    assert climbing == {}
    stale = [pair for pair in EXCEPTIONS if pair[1] not in GRAPH.get(pair[0], set())]
    assert stale == [], "an exception that no longer happens is removed from the list"


# ------------------------------------------------------------------ the names of the files inside INDEX_DIR

BUILD_FILES = re.compile(r"manifest\.json|meta\.sqlite|vectors\.faiss|embeddings\.sqlite|(^|/)builds(/|$)|(^|/)CURRENT($|[./])")
MAY_NAME_THEM = ("index/storage/", "index/layout.py", "tests/test_layers.py")


def string_constants(path: Path) -> list[str]:
    """The string constants of a module that are not docstrings (what the code uses, not what it explains)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and (body := node.body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_build_file_names_appear_only_in_storage_and_the_layout():
    """bench/ and tests/ included: they ask IndexLayout for a path like everyone else."""
    files = [
        p for folder in ("index", "bot", "bench", "tests") for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts
    ]
    offenders = [
        f"{path.relative_to(ROOT)}: {text[:60]!r}"
        for path in files
        if not str(path.relative_to(ROOT)).startswith(MAY_NAME_THEM)
        for text in string_constants(path)
        if BUILD_FILES.search(text)
    ]
    assert offenders == []


# ------------------------------------------------------------------ a house a newcomer can read


def test_each_folder_says_what_it_holds():
    for init in INDEX.glob("*/__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init.relative_to(ROOT)} has no docstring"


@pytest.mark.parametrize("package", ["index", "bot"])
def test_no_module_is_over_500_lines(package):
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def test_the_top_of_the_engine_stays_small():
    entries = [p.name for p in INDEX.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 22, sorted(entries)


def test_tests_import_their_support_and_bench_never_edits_the_path():
    tests = [p for p in (ROOT / "tests").rglob("*.py") if "__pycache__" not in p.parts and p.name != "conftest.py"]
    assert [str(p) for p in tests if "conftest" in imports_of_any(p)] == []
    bench = [p for p in (ROOT / "bench").glob("*.py")]
    assert [str(p) for p in bench if "sys.path" in p.read_text(encoding="utf-8")] == []


def imports_of_any(path: Path) -> set[str]:
    """Every module name ``path`` imports (not only the project's)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_bot_reads_bot_data_by_attribute_only():
    """The typed context (bot/context.py): no ``bot_data["…"]``, ``.get``, ``.setdefault`` or ``.update`` left."""
    pattern = re.compile(r"bot_data(\[|\.get\(|\.setdefault\(|\.update\(|\.pop\()")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("bot", "tests", "bench")
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts and p.name != "test_layers.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []
