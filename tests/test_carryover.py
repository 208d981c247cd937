"""An update copies unchanged chunks' analyses from the build it replaces: byte for byte what analysing all gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.build import run_build
from index.layout import BuildFiles, IndexLayout
from index.storage.store import current_build_id
from tests.support.corpus import CORPUS, write_jsonl


def _build_dir(index: Path) -> Path:
    return IndexLayout(index).build(current_build_id(index)).root


def _arrays(index: Path) -> dict[str, bytes]:
    build = _build_dir(index)
    files = [
        *sorted(BuildFiles(build).analysis.glob("*.npy")),
        *sorted(BuildFiles(build).bm25.glob("*.npy")),
        BuildFiles(build).bm25 / "vocab.index.json",
    ]
    return {str(f.relative_to(build)): f.read_bytes() for f in files}


def _edited_corpus() -> list[dict]:
    """The test corpus with one article changed, one removed and one added (with words no other article has)."""
    edited = [dict(a) for a in CORPUS[1:]]
    edited[0]["text"] = edited[0]["text"] + " وأعلنت الجهات المختصة زقزوقيات جديدة لم تُعرف من قبل."
    added = dict(CORPUS[0], id="t-new", title="مرصد فلكي جديد في تبوك", text="افتتح مرصد فلكي جديد في تبوك لرصد الشهب والمذنبات.")
    return [*edited, added]


def test_update_reusing_the_previous_build_equals_a_build_from_scratch(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    first = run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    assert first.reanalysed == first.chunks  # nothing to reuse yet
    write_jsonl(articles, _edited_corpus())
    update = run_build([articles], tmp_path / "ix", embedder=counting, incremental=True, progress=False)
    scratch = run_build([articles], tmp_path / "fresh", embedder=counting, progress=False)
    assert 0 < update.reanalysed < update.chunks == scratch.chunks  # only the changed and new article's chunks
    assert _arrays(tmp_path / "ix") == _arrays(tmp_path / "fresh")


@pytest.mark.parametrize("damage", ["other analysis", "arrays", "vocabulary"])
def test_a_previous_build_that_cannot_lend_is_not_used(tmp_path, counting, damage, caplog):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    build = _build_dir(tmp_path / "ix")
    if damage == "other analysis":  # e.g. built by a version whose stemmer or cue lists differ
        manifest = json.loads(BuildFiles(build).manifest.read_text(encoding="utf-8"))
        BuildFiles(build).manifest.write_text(json.dumps({**manifest, "analysis": "another"}), encoding="utf-8")
    elif damage == "arrays":
        np.save(BuildFiles(build).analysis / "chunk_ptr.npy", np.zeros(2, dtype=np.int64))
    else:
        (BuildFiles(build).bm25 / "vocab.index.json").write_text("{}", encoding="utf-8")
    write_jsonl(articles, _edited_corpus())
    update = run_build([articles], tmp_path / "ix", embedder=counting, incremental=True, progress=False)
    run_build([articles], tmp_path / "fresh", embedder=counting, progress=False)
    assert update.reanalysed == update.chunks
    assert _arrays(tmp_path / "ix") == _arrays(tmp_path / "fresh")
    if damage != "other analysis":
        assert "not reusing the previous build's analyses" in caplog.text
