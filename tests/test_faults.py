"""Faults during builds: a killed build process and a full disk leave the previous index serving."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

import pytest

from index import store
from index.build import run_build
from index.layout import IndexLayout
from index.search.searcher import Searcher
from index.storage.loading import open_index
from index.storage.store import StoreError, current_build_id
from tests.support.corpus import CORPUS, ROOT, write_jsonl


def many_articles(n: int) -> list[dict]:
    """n distinct articles (so the encoder has real work) made from the test corpus."""
    return [
        {**a, "id": f"{a['id']}-{i}", "text": f"{a['text']} (نسخة {i} بتفاصيل إضافية رقم {i * 7})"}
        for i in range(n // len(CORPUS) + 1)
        for a in CORPUS
    ][:n]


def test_build_killed_midway_leaves_the_old_index_then_next_build_cleans_up(tmp_path, embedder):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    first = run_build([articles], tmp_path / "ix", embedder=embedder, progress=False)
    write_jsonl(articles, many_articles(1500))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "index", "build", "--articles", str(articles), "--index", str(tmp_path / "ix"), "-q"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cache = IndexLayout(tmp_path / "ix").embeddings_cache
    deadline = time.monotonic() + 120
    start_size = cache.stat().st_size
    while time.monotonic() < deadline and proc.poll() is None:  # wait until it is embedding (the cache grows)
        if cache.stat().st_size > start_size or (
            (cache.with_name(cache.name + "-wal")).exists() and cache.with_name(cache.name + "-wal").stat().st_size > 0
        ):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed; make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert current_build_id(tmp_path / "ix") == first.build_id
    searcher = Searcher.open(tmp_path / "ix", embedder=embedder)
    assert searcher.manifest.articles == len(CORPUS)
    assert searcher.search("قطار الحرمين", k=1).hits[0].article_id == "t-train"

    write_jsonl(articles, CORPUS[:4])
    again = run_build([articles], tmp_path / "ix", embedder=embedder, progress=False)
    assert current_build_id(tmp_path / "ix") == again.build_id
    assert not IndexLayout(tmp_path / "ix").scratches()
    run_build([articles], tmp_path / "ix", embedder=embedder, progress=False)  # the killed process's lock died with it


def test_disk_full_while_writing_keeps_the_old_index(tmp_path, embedder, monkeypatch):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:3])
    first = run_build([articles], tmp_path / "ix", embedder=embedder, progress=False)
    write_jsonl(articles, CORPUS)

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "save_index", full)
    with pytest.raises(StoreError, match="disk is full"):
        run_build([articles], tmp_path / "ix", embedder=embedder, progress=False)
    assert current_build_id(tmp_path / "ix") == first.build_id
    assert open_index(tmp_path / "ix").manifest.articles == 3
    assert not IndexLayout(tmp_path / "ix").scratches(), "the partial build was removed"
    monkeypatch.undo()
    assert run_build([articles], tmp_path / "ix", embedder=embedder, progress=False).articles == len(CORPUS)


# ------------------------------------------------------------------ red-team findings of 2026-12 (docs/reliability.md)


def test_a_damaged_embeddings_cache_is_moved_aside_and_rebuilt(tmp_path, capsys, caplog):
    """It blocked every later build, update, upload and fetch with a sqlite3.DatabaseError traceback."""
    from index.__main__ import main

    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS)
    index = tmp_path / "ix"
    assert main(["build", "--articles", str(articles), "--index", str(index), "-q"]) == 0
    cache = IndexLayout(index).embeddings_cache
    for suffix in ("-wal", "-shm"):
        cache.with_name(cache.name + suffix).unlink(missing_ok=True)
    cache.write_bytes(b"this is not a database " * 400)
    write_jsonl(articles, [*CORPUS, {**CORPUS[0], "id": "t-more", "text": CORPUS[0]["text"] + " وتفاصيل جديدة."}])
    capsys.readouterr()
    assert main(["update", "--articles", str(articles), "--index", str(index), "-q"]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "added: 1" in out.out
    assert "damaged" in caplog.text and "started a new one" in caplog.text
    assert list(cache.parent.glob(cache.name + ".damaged-*")), "the damaged file is kept aside, not deleted"
    assert open_index(index).manifest.articles == 7


def test_a_full_disk_while_caching_is_one_line(tmp_path, capsys, monkeypatch):
    """SQLite's own "database or disk is full", forced by a page limit on the cache file."""
    import sqlite3

    import index.storage.cache
    from index.__main__ import main

    articles = write_jsonl(tmp_path / "a" / "n.jsonl", many_articles(60))
    real_connect = sqlite3.connect

    def small_disk(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 12")
        return db

    monkeypatch.setattr(index.storage.cache.sqlite3, "connect", small_disk)
    code = main(["build", "--articles", str(articles), "--index", str(tmp_path / "ix"), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error:") and "disk is full" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
