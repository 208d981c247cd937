"""Updates that write only what changed (a new part beside the build): exact, safe, merged in time."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index.build import delta as delta_module
from index.build import run_build
from index.build.config import RemovalRefused
from index.layout import IndexLayout
from index.search.searcher import Searcher
from index.storage import store as store_module
from index.storage.loading import load_build, open_index
from index.storage.parts import MAX_PARTS
from index.storage.store import StoreError, current_build_id, list_builds
from tests.support.corpus import CORPUS, write_jsonl

QUESTIONS = [
    "كم أسرة فقدت منازلها في فيضان النيل؟",
    "من فازت ببطولة أفريقيا للشطرنج؟",
    "كم رحلة يومياً يسيرها قطار الحرمين؟",
    "لماذا ارتفعت أسعار البن؟",
    "مهرجان الإبل في الصياهد",
    "Who won the African chess championship?",
    "مستشفى السرطان في الدمام",
]
EXTRA = [
    {
        "id": "x-museum",
        "title": "متحف الطيران في جدة",
        "text": "يضم متحف الطيران في جدة 45 طائرة من طرازات مختلفة، ويستقبل الزوار يومياً.",
    },
    {
        "id": "x-dates",
        "title": "مهرجان التمور في بريدة",
        "text": "انطلق مهرجان التمور في بريدة بمشاركة 300 مزارع، وبلغت مبيعاته 20 مليون ريال.",
    },
]


@pytest.fixture(autouse=True)
def parts_even_when_small(monkeypatch):
    """The test corpus is tiny: let parts grow past the share that would merge them at real sizes."""
    monkeypatch.setattr(delta_module, "MERGE_SHARE", 100.0)


def build(folder, index, embedder, incremental=False, **kw):
    return run_build([folder], index, embedder=embedder, progress=False, incremental=incremental, **kw)


def ranked(index, embedder, question, mode="hybrid"):
    result = Searcher.open(index, embedder=embedder).search(question, k=6, mode=mode)
    return [
        (
            h.article_id,
            round(h.score, 5),
            round(h.confidence, 4),
            h.passage.text[slice(*h.passage.highlights[0])] if h.passage.highlights else "",
        )
        for h in result.hits
    ], result.band


def same_answers(a, b, embedder):
    for question in QUESTIONS:
        for mode in ("hybrid", "lexical", "dense"):
            assert ranked(a, embedder, question, mode) == ranked(b, embedder, question, mode), (question, mode)


def bm25_by_chunk(index):
    """Every live chunk's BM25 score for each question, keyed by (article, ordinal): independent of row numbers."""
    stored = open_index(index)
    out = {}
    rows = {
        r["row"]: (r["article_idx"], r["ordinal"]) for r in stored.db().execute("SELECT row, article_idx, ordinal FROM chunks")
    }
    ids = {r["idx"]: r["id"] for r in stored.db().execute("SELECT idx, id FROM articles")}
    for question in QUESTIONS:
        scores = stored.lexical.scores(stored.lexical.query_terms(question))
        for row, (article, ordinal) in rows.items():
            out[(question, ids[article], ordinal)] = float(scores[row])
    return out


def test_an_added_file_becomes_a_part_that_ranks_as_one_build(tmp_path, embedder):
    base = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS)
    build(base.parent, tmp_path / "ix", embedder)
    write_jsonl(tmp_path / "a" / "new.jsonl", EXTRA)
    report = build(base.parent, tmp_path / "ix", embedder, incremental=True)
    assert report.parts == 2 and report.added == ["x-dates", "x-museum"] and report.reanalysed == 2
    write_jsonl(tmp_path / "b" / "base.jsonl", CORPUS)
    write_jsonl(tmp_path / "b" / "new.jsonl", EXTRA)
    build(tmp_path / "b", tmp_path / "one", embedder)
    assert bm25_by_chunk(tmp_path / "ix") == bm25_by_chunk(tmp_path / "one")  # to the bit
    same_answers(tmp_path / "ix", tmp_path / "one", embedder)


def test_changed_and_removed_articles_are_deleted_rows_and_still_rank_as_one_build(tmp_path, embedder):
    folder = tmp_path / "a"
    write_jsonl(folder / "base.jsonl", CORPUS[:4])
    write_jsonl(folder / "more.jsonl", CORPUS[4:])
    build(folder, tmp_path / "ix", embedder)
    changed = [dict(CORPUS[4], text=CORPUS[4]["text"].replace("120 رحلة", "150 رحلة")), *EXTRA]
    write_jsonl(folder / "more.jsonl", changed)  # t-train changed, t-coffee gone, two added
    report = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert report.parts == 2 and report.changed == ["t-train"] and report.removed == ["t-coffee"]
    stored = open_index(tmp_path / "ix")
    assert stored.manifest.articles == 7 and stored.deleted is not None and stored.deleted.sum() == 2
    assert "t-coffee" not in {a["id"] for a in stored.latest_articles(20)}
    write_jsonl(tmp_path / "b" / "base.jsonl", CORPUS[:4])
    write_jsonl(tmp_path / "b" / "more.jsonl", changed)
    build(tmp_path / "b", tmp_path / "one", embedder)
    assert bm25_by_chunk(tmp_path / "ix") == bm25_by_chunk(tmp_path / "one")
    same_answers(tmp_path / "ix", tmp_path / "one", embedder)
    assert (
        "150 رحلة"
        in Searcher.open(tmp_path / "ix", embedder=embedder).search("كم رحلة يسيرها قطار الحرمين؟").hits[0].passage.text
    )
    # a term only the deleted coffee article held is unknown, as in the one build
    assert stored.lexical.term_ids(["بن"]).tolist() == open_index(tmp_path / "one").lexical.term_ids(["بن"]).tolist()


def test_an_unchanged_folder_writes_nothing(tmp_path, embedder):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    first = build(folder, tmp_path / "ix", embedder)
    again = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert again.unchanged and again.build_id == first.build_id and list_builds(tmp_path / "ix") == [first.build_id]


def test_parts_stay_while_a_build_stands_on_them_and_too_many_are_merged_into_one(tmp_path, embedder):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    base = build(folder, tmp_path / "ix", embedder).build_id
    reports = []
    for n in range(MAX_PARTS):
        text = f"{EXTRA[0]['text']} {'وفي المتحف قاعات ' * (n + 1)}"  # lengths differ: no ties in row order
        write_jsonl(folder / f"new-{n}.jsonl", [dict(EXTRA[0], id=f"x-{n}", text=text)])
        if n == MAX_PARTS - 1:  # the last update also changes and removes articles of earlier parts and of the base
            write_jsonl(folder / "new-0.jsonl", [dict(EXTRA[1], id="x-0")])
            (folder / "new-1.jsonl").unlink()
            write_jsonl(folder / "base.jsonl", CORPUS[1:])
        reports.append(build(folder, tmp_path / "ix", embedder, incremental=True))
        if n < MAX_PARTS - 1:
            assert reports[-1].parts == n + 2
            assert base in list_builds(tmp_path / "ix"), "the base stays while a build stands on it"
            load_build(IndexLayout(tmp_path / "ix").build(reports[-1].build_id).root)
    last = reports[-1]
    assert last.parts == 2, "one part too many: every change since the base becomes one part over it"
    assert open_index(tmp_path / "ix").manifest.parts[0] == base
    # what the admin is told is the change from the build before, not from the base
    assert last.added == [f"x-{MAX_PARTS - 1}"] and last.changed == ["x-0"] and last.removed == sorted([CORPUS[0]["id"], "x-1"])
    assert open_index(tmp_path / "ix").manifest.articles == 6 + MAX_PARTS - 2
    one = tmp_path / "one"
    shutil.copytree(folder, tmp_path / "b")
    build(tmp_path / "b", one, embedder)
    assert bm25_by_chunk(tmp_path / "ix") == bm25_by_chunk(one)
    same_answers(tmp_path / "ix", one, embedder)
    full = build(folder, tmp_path / "ix", embedder).build_id
    assert set(list_builds(tmp_path / "ix")) == {full, last.build_id, base}, "the build before, and the base it stands on"
    build(folder, tmp_path / "ix", embedder)
    assert len(list_builds(tmp_path / "ix")) == 2 and base not in list_builds(tmp_path / "ix")


def test_a_killed_update_leaves_the_previous_build_serving(tmp_path, embedder, monkeypatch):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    first = build(folder, tmp_path / "ix", embedder).build_id
    write_jsonl(folder / "new.jsonl", EXTRA)

    def dies(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "save_index", dies)
    with pytest.raises(StoreError):
        build(folder, tmp_path / "ix", embedder, incremental=True)
    assert current_build_id(tmp_path / "ix") == first and open_index(tmp_path / "ix").manifest.articles == 6
    monkeypatch.undo()
    monkeypatch.setattr(delta_module, "MERGE_SHARE", 100.0)
    assert build(folder, tmp_path / "ix", embedder, incremental=True).parts == 2
    assert not IndexLayout(tmp_path / "ix").scratches()


def test_the_removal_guard_holds_for_parts(tmp_path, embedder):
    folder = tmp_path / "a"
    write_jsonl(folder / "base.jsonl", CORPUS[:2])
    write_jsonl(folder / "most.jsonl", CORPUS[2:])
    build(folder, tmp_path / "ix", embedder)
    (folder / "most.jsonl").unlink()
    with pytest.raises(RemovalRefused):
        build(folder, tmp_path / "ix", embedder, incremental=True)
    report = build(folder, tmp_path / "ix", embedder, incremental=True, allow_removals=True)
    assert sorted(report.removed) == sorted(a["id"] for a in CORPUS[2:]) and open_index(tmp_path / "ix").manifest.articles == 2


def test_a_merge_reuses_the_parts_analyses_and_other_limits_read_everything(tmp_path, embedder, monkeypatch):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    build(folder, tmp_path / "ix", embedder)
    write_jsonl(folder / "new.jsonl", EXTRA)
    build(folder, tmp_path / "ix", embedder, incremental=True)
    monkeypatch.setattr(delta_module, "MERGE_SHARE", 0.0)
    write_jsonl(folder / "more.jsonl", [dict(EXTRA[1], id="x-3", text=EXTRA[1]["text"] + " ثالث")])
    merged = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert merged.parts == 0 and merged.reanalysed == 1, "the merge carries the parts' analyses over"
    files = json.loads(IndexLayout(tmp_path / "ix").build(merged.build_id).files.read_text(encoding="utf-8"))
    assert len(files["files"]) == 3


def test_an_id_also_in_an_unchanged_file_takes_the_full_build(tmp_path, embedder):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    build(folder, tmp_path / "ix", embedder)
    write_jsonl(folder / "z-later.jsonl", [dict(CORPUS[0], text=CORPUS[0]["text"] + " تحديث")])
    report = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert report.parts == 0 and report.changed == [CORPUS[0]["id"]]
    assert np.isclose(open_index(tmp_path / "ix").manifest.articles, 6)


def test_a_copy_left_out_for_a_later_file_comes_back_when_that_file_goes(tmp_path, embedder):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    later = dict(CORPUS[0], text=CORPUS[0]["text"] + " تحديث")
    write_jsonl(folder / "z-later.jsonl", [later, EXTRA[0]])
    build(folder, tmp_path / "ix", embedder)
    write_jsonl(folder / "z-later.jsonl", [EXTRA[0]])  # the later copy goes: base.jsonl's copy is the one again
    report = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert report.parts == 0, "a full build decides which copy stands"
    (text,) = (
        open_index(tmp_path / "ix")
        .db()
        .execute(
            "SELECT group_concat(c.text) FROM chunks c JOIN articles a ON a.idx = c.article_idx WHERE a.id = ?",
            (CORPUS[0]["id"],),
        )
        .fetchone()
    )
    assert text and "تحديث" not in text


def test_a_takedown_reaches_an_article_whose_file_was_renamed(tmp_path, embedder):
    from index.corpus.removals import Takedown, append

    folder = write_jsonl(tmp_path / "a" / "news.jsonl", CORPUS).parent
    build(folder, tmp_path / "ix", embedder)
    (folder / "news.jsonl").rename(folder / "renamed.jsonl")
    build(folder, tmp_path / "ix", embedder, incremental=True)
    append(folder, [Takedown("t-chess", path=str(folder / "news.jsonl"))])  # the path it had when first read
    report = build(folder, tmp_path / "ix", embedder, incremental=True)
    assert report.parts and report.removed == ["t-chess"] and "t-chess" not in open_index(tmp_path / "ix").article_ids


@pytest.mark.parametrize("method", ["bm25l", "bm25+"])
def test_parts_rank_as_one_build_with_every_bm25_variant(tmp_path, embedder, method):
    from dataclasses import replace

    from index.build import BuildConfig

    config = BuildConfig()
    config = replace(config, lexical=replace(config.lexical, method=method))
    base = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS)
    run_build([base.parent], tmp_path / "ix", config, embedder=embedder, progress=False)
    write_jsonl(tmp_path / "a" / "new.jsonl", EXTRA)
    assert build(base.parent, tmp_path / "ix", embedder, incremental=True).parts == 2
    write_jsonl(tmp_path / "b" / "base.jsonl", CORPUS)
    write_jsonl(tmp_path / "b" / "new.jsonl", EXTRA)
    run_build([tmp_path / "b"], tmp_path / "one", config, embedder=embedder, progress=False)
    assert bm25_by_chunk(tmp_path / "ix") == bm25_by_chunk(tmp_path / "one")


def test_a_new_loader_or_analysis_reads_everything_again(tmp_path, embedder, monkeypatch):
    folder = write_jsonl(tmp_path / "a" / "base.jsonl", CORPUS).parent
    build(folder, tmp_path / "ix", embedder)
    write_jsonl(folder / "new.jsonl", EXTRA)
    monkeypatch.setattr(delta_module, "loader_version", lambda: "an upgraded loader")
    assert build(folder, tmp_path / "ix", embedder, incremental=True).parts == 0


def test_an_approximate_base_and_exact_parts_are_searched_as_one_with_deleted_rows_skipped():
    """The path a million-passage index takes: HNSW over the base, flat parts beside it, deleted rows never returned,
    and a part that deleted most of its rows still returns its k best live ones."""
    from index.storage.parts import PartedVectors, infos
    from index.storage.vectors import build_index

    rng = np.random.default_rng(3)
    base = rng.normal(size=(1500, 64)).astype(np.float32)
    part = rng.normal(size=(40, 64)).astype(np.float32)
    for m in (base, part):
        m /= np.linalg.norm(m, axis=1, keepdims=True)
    deleted = np.zeros(1540, dtype=bool)
    deleted[rng.choice(1500, size=900, replace=False)] = True  # most of the base gone
    deleted[1500 + np.arange(0, 40, 3)] = True
    parted = PartedVectors([build_index(base, "hnsw-sq8"), build_index(part, "flat")], infos([1500, 40], [1500, 40]), deleted)
    everything = np.concatenate([base, part])
    queries = rng.normal(size=(20, 64)).astype(np.float32)
    scores, rows = parted.search(queries, 10)
    assert not deleted[rows[rows >= 0]].any() and (rows >= 0).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "best first"
    exact = np.argsort(-np.where(deleted[None, :], -np.inf, queries @ everything.T), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows.tolist(), exact.tolist(), strict=True)])
    assert recall >= 0.9
    assert np.allclose(parted.reconstruct_batch(np.array([1501, 2])), everything[[1501, 2]], atol=0.02)
