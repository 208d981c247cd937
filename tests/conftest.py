"""Shared fixtures: the test corpus as files and as a built index, the built-in model, a cache folder of the run's own.

The corpus, the fakes and the helpers live in ``tests/support``; tests import them from there, never from here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.corpus import CORPUS, CountingEmbedder, write_jsonl


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """The built-in encoder's prepared copy (index.use_prepared) goes to a directory of this test run, not ~/.cache."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A directory holding the test corpus as JSONL."""
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    return tmp_path / "articles"


@pytest.fixture(scope="session")
def embedder():
    """The built-in offline model, loaded once per test session."""
    from index.embedding.embedder import BUILTIN_MODEL, load_embedder

    return load_embedder(BUILTIN_MODEL)


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder) -> Path:
    """An index of the test corpus, built once and shared by read-only tests."""
    from index.build import run_build

    root = tmp_path_factory.mktemp("ix")
    articles = write_jsonl(root / "articles" / "news.jsonl", CORPUS)
    run_build([articles], root / "index", embedder=embedder, progress=False)
    return root / "index"


@pytest.fixture(scope="session")
def searcher(built_index, embedder):
    from index.search.searcher import Searcher

    return Searcher.open(built_index, embedder=embedder)
