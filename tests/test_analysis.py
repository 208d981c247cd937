"""Per-chunk analyses stored as arrays (index.analysis) and the build format they belong to."""

import json
import shutil

import numpy as np
import pytest

from index.layout import BuildFiles
from index.storage.analyses import Analyses
from index.storage.loading import load_build, open_index
from index.storage.store import IndexCorrupt
from index.text.analysis import SentenceInfo, analyse_passage, dump_sentences, parse_sentences
from index.text.arabic import analyze


def test_passage_analysis_round_trips_through_the_cache_format():
    passage = "افتتح المعرض في الرياض يوم 3 أكتوبر. وقال الوزير إن 1800 دار نشر تشارك."
    sentences = analyse_passage(passage, analyze)
    assert len(sentences) == 2 and passage[slice(*sentences[0].span)].startswith("افتتح")
    assert sentences[0].cues and "معرض" in sentences[0].terms
    assert parse_sentences(dump_sentences(sentences)) == sentences


def test_arrays_round_trip_memory_mapped(tmp_path):
    chunks = [
        [SentenceInfo((0, 10), ("a", "b"), 1), SentenceInfo((11, 20), ("c",), 6)],
        [SentenceInfo((0, 5), (), 0)],
    ]
    vocab = {"a": 0, "b": 1, "c": 2, "t": 3}
    arrays = Analyses.from_sentences([0, 1], chunks, [["t"], ["unknown", "a"]], vocab)
    arrays.save(tmp_path)
    loaded = Analyses.load(tmp_path, mmap=True)
    assert isinstance(loaded.terms.base, np.memmap) or isinstance(loaded.terms, np.memmap)  # mapped, not read
    assert list(loaded.sentence_range(0)) == [0, 1] and list(loaded.sentence_range(1)) == [2]
    assert loaded.sentence_terms(0).tolist() == [0, 1] and loaded.sentence_terms(2).tolist() == []
    assert loaded.chunk_terms(0).tolist() == [0, 1, 2]
    assert loaded.title_ids(1).tolist() == [0]  # a title word no chunk has is left out
    assert loaded.cues.tolist() == [1, 6, 0] and loaded.spans.tolist() == [[0, 10], [11, 20], [0, 5]]
    assert loaded.check(chunks=2, articles=2) == ""
    assert "chunk_article" in loaded.check(chunks=3, articles=2)


def test_a_build_with_damaged_arrays_is_refused_and_the_previous_one_served(tmp_path, embedder):
    from index.build import run_build
    from tests.support.corpus import CORPUS, write_jsonl

    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:4])
    index = tmp_path / "ix"
    previous = run_build([articles], index, embedder=embedder, progress=False)
    write_jsonl(articles, CORPUS)
    run_build([articles], index, embedder=embedder, progress=False)
    current = open_index(index).path
    assert current.name != previous.build_id
    np.save(BuildFiles(current).analysis / "cues.npy", np.zeros(3, dtype=np.uint16))
    with pytest.raises(IndexCorrupt, match="analysis arrays are inconsistent"):
        load_build(current)
    assert open_index(index).build_id == previous.build_id, "the previous build is served"
    (BuildFiles(current).analysis / "terms.npy").write_bytes(b"not an array")
    with pytest.raises(IndexCorrupt, match="analysis arrays cannot be read"):
        load_build(current)
    served = open_index(index)
    assert served.build_id == previous.build_id and served.manifest.articles == 4


def test_an_older_build_format_asks_for_a_rebuild(tmp_path, built_index):
    index = tmp_path / "ix"
    shutil.copytree(built_index, index)
    build = open_index(index).path
    manifest = json.loads(BuildFiles(build).manifest.read_text())
    manifest["format_version"] = 3
    BuildFiles(build).manifest.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match=r"rebuild needed.*format 3.*python -m index build"):
        load_build(build)
