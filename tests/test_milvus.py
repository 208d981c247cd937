"""The index on both engines: search, update, swap and failures, on the embedded store and on a real Milvus
(``milvus-lite server`` on loopback, ``tests.support.milvus``).

The same tests run on each engine; the Milvus ones keep no local build (the ``--index`` directory
holds only the embeddings cache) and also check what only a server can do: be unreachable, or be
lost and come back.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.build import run_build
from index.layout import IndexLayout
from index.search.searcher import Searcher
from index.storage.milvus.target import BadStoreAddress, MilvusTarget
from index.storage.store import IndexBusy, IndexUnavailable, build_lock
from index.storage.stores import open_store, store_build_id
from tests.support.corpus import CORPUS, ROOT, write_jsonl
from tests.support.milvus import LiteServer, lite_server, need_milvus

_names = itertools.count()

QUESTIONS = {
    "كم سريرا في مستشفى السرطان في الدمام؟": "t-hospital",
    "كم رحلة يوميا لقطار الحرمين في رمضان؟": "t-train",
    "لماذا ارتفعت أسعار البن؟": "t-coffee",
}


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    with lite_server(tmp_path_factory.mktemp("milvus-data")) as server:
        yield server


@dataclass
class Engine:
    """Where one test's index lives: ``index_dir`` (with Milvus, only the embeddings cache) and ``target``."""

    name: str
    index_dir: Path
    target: MilvusTarget | None

    def build(self, articles: Path, embedder, incremental: bool = False, **kwargs):
        return run_build(
            [articles], self.index_dir, incremental=incremental, embedder=embedder, progress=False, target=self.target, **kwargs
        )

    def searcher(self, embedder) -> Searcher:
        return Searcher.open(self.index_dir, embedder=embedder, store=self.target)


@pytest.fixture(params=["embedded", "milvus"])
def engine(request, tmp_path) -> Engine:
    if request.param == "embedded":
        return Engine("embedded", tmp_path / "index", None)
    need_milvus()
    server = request.getfixturevalue("milvus")
    return Engine("milvus", tmp_path / "cache", MilvusTarget.parse(server.uri(f"t{next(_names)}")))


def articles(folder: Path, records: list[dict]) -> Path:
    write_jsonl(folder / "news.jsonl", records)
    return folder


def top(searcher: Searcher, question: str) -> str:
    hits = searcher.search(question, k=3).hits
    return hits[0].article_id if hits else ""


def test_search_finds_the_answering_article(engine, tmp_path, embedder):
    engine.build(articles(tmp_path / "a", CORPUS), embedder)
    searcher = engine.searcher(embedder)
    assert searcher.stored.engine == engine.name
    for question, article_id in QUESTIONS.items():
        assert top(searcher, question) == article_id
    result = searcher.search("كم سريرا في مستشفى السرطان في الدمام؟")
    assert "300" in result.hits[0].passage.text
    if engine.target is not None:  # nothing of the index is local: the directory holds the embeddings cache only
        assert not IndexLayout(engine.index_dir).builds.exists()


def test_both_engines_give_the_same_result(milvus, tmp_path, embedder):
    """The same corpus on both: the same hits, passages, answer sentences, probabilities and bands."""
    folder = articles(tmp_path / "a", CORPUS)
    local = Engine("embedded", tmp_path / "index", None)
    remote = Engine("milvus", tmp_path / "cache", MilvusTarget.parse(milvus.uri(f"t{next(_names)}")))
    for e in (local, remote):
        e.build(folder, embedder)
    a, b = local.searcher(embedder), remote.searcher(embedder)
    for question in [*QUESTIONS, "ما عاصمة أستراليا؟", "How many beds does the Dammam hospital have?"]:
        ra, rb = a.search(question), b.search(question)
        assert [h.article_id for h in ra.hits] == [h.article_id for h in rb.hits]
        assert [h.passage.text for h in ra.hits] == [h.passage.text for h in rb.hits]
        assert [h.passage.answer for h in ra.hits] == [h.passage.answer for h in rb.hits]
        assert ra.confidence == pytest.approx(rb.confidence, abs=1e-4)
        assert (ra.no_answer, ra.tentative) == (rb.no_answer, rb.tentative)


def test_update_adds_changes_and_removes_in_place(engine, tmp_path, embedder, monkeypatch):
    folder = articles(tmp_path / "a", CORPUS)
    engine.build(folder, embedder)
    searcher = engine.searcher(embedder)
    first = searcher.manifest.build_id
    records = [r for r in CORPUS if r["id"] != "t-coffee"]
    records = [{**r, "text": r["text"].replace("300 سرير", "450 سرير")} if r["id"] == "t-hospital" else r for r in records]
    records.append(
        {
            "id": "t-bridge",
            "title": "افتتاح جسر جديد فوق نهر دجلة في بغداد",
            "date": "2026-10-01",
            "source": "وكالة الاختبار",
            "text": "افتتحت أمانة بغداد جسراً جديداً فوق نهر دجلة بطول 750 متراً يربط الكرادة بالجادرية.",
        }
    )
    report = engine.build(articles(folder, records), embedder, incremental=True)
    assert (report.added, report.changed, report.removed) == (["t-bridge"], ["t-hospital"], ["t-coffee"])
    if engine.target is not None:
        import index.storage.milvus.reading as reading

        monkeypatch.setattr(reading, "REFRESH_SECONDS", 0.0)
        searcher.search("جسر")  # the open searcher picks up the new statistics
        assert searcher.stored.num_chunks == report.chunks
        # in place: the same collection, its record a new version under a new build id (the bot's caches follow it)
        assert report.build_id != first and store_build_id(engine.index_dir, engine.target, searcher.stored) == report.build_id
        assert engine.searcher(embedder).stored.collection == searcher.stored.collection
    fresh = engine.searcher(embedder)
    assert top(fresh, "كم طول الجسر الجديد فوق نهر دجلة؟") == "t-bridge"
    hospital = fresh.search("كم سريرا في مستشفى السرطان في الدمام؟").hits[0]
    assert hospital.article_id == "t-hospital" and "450" in hospital.passage.text and "300" not in hospital.passage.text
    assert "t-coffee" not in [h.article_id for h in fresh.search("لماذا ارتفعت أسعار البن؟", k=10).hits]
    if engine.target is not None:  # the open searcher sees the same: no article twice, none missing
        assert "450" in searcher.search("كم سريرا في مستشفى السرطان في الدمام؟").hits[0].passage.text


def test_a_new_build_swaps_in_and_the_old_one_keeps_answering(engine, tmp_path, embedder):
    folder = articles(tmp_path / "a", CORPUS)
    engine.build(folder, embedder)
    old = engine.searcher(embedder)
    report = engine.build(articles(folder, CORPUS[:4]), embedder)
    assert store_build_id(engine.index_dir, engine.target) == report.build_id != old.manifest.build_id
    assert store_build_id(engine.index_dir, engine.target, old.stored) == report.build_id  # over the served connection
    new = engine.searcher(embedder)
    assert new.manifest.articles == 4
    assert top(old, "كم رحلة يوميا لقطار الحرمين في رمضان؟") == "t-train"  # the build it opened is kept
    assert top(new, "كم رحلة يوميا لقطار الحرمين في رمضان؟") != "t-train"


def test_an_interrupted_build_leaves_the_current_one(engine, tmp_path, embedder, monkeypatch):
    folder = articles(tmp_path / "a", CORPUS)
    first = engine.build(folder, embedder).build_id

    def broken(*args, **kwargs):
        raise RuntimeError("the machine went down mid-write")

    if engine.target is None:
        monkeypatch.setattr("index.build.run.write_build", broken)
    else:
        monkeypatch.setattr("index.storage.milvus.writing.switch_alias", broken)  # every row written, the alias not moved
    with pytest.raises(RuntimeError, match="mid-write"):
        engine.build(articles(folder, CORPUS[:2]), embedder)
    monkeypatch.undo()
    assert store_build_id(engine.index_dir, engine.target) == first
    assert top(engine.searcher(embedder), "لماذا ارتفعت أسعار البن؟") == "t-coffee"
    engine.build(folder, embedder)  # and the lock was given back


def test_a_second_writer_is_refused_while_one_builds(engine, tmp_path, embedder):
    folder = articles(tmp_path / "a", CORPUS)
    if engine.target is None:
        with build_lock(engine.index_dir), pytest.raises(IndexBusy):
            engine.build(folder, embedder)
        return
    from index.storage.milvus.client import Records, connect, milvus_lock

    records = Records(connect(engine.target), engine.target.name)
    with milvus_lock(records, engine.target), pytest.raises(IndexBusy, match="another build"):
        engine.build(folder, embedder)


def test_the_store_address_is_checked():
    assert MilvusTarget.parse("milvus://10.0.0.5:19530/news").uri == "http://10.0.0.5:19530"
    assert MilvusTarget.parse("milvus://db:443/news", tls=True).uri == "https://db:443"
    for wrong in ("http://x:1/news", "milvus://host/news", "milvus://host:0/news", "milvus://host:19530/", "milvus://h:1/9x"):
        with pytest.raises(BadStoreAddress):
            MilvusTarget.parse(wrong)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "index", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_milvus_unreachable_at_start_is_one_sentence_and_a_failure(tmp_path):
    need_milvus()
    from tests.support.milvus import free_port

    done = _cli("search", "--store", f"milvus://127.0.0.1:{free_port()}/news", "--index", str(tmp_path), "سؤال")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Milvus at milvus://127.0.0.1:") and "unavailable" in lines[0]


def test_a_bad_store_address_is_one_sentence(tmp_path):
    done = _cli("stats", "--index", str(tmp_path), env={"INDEX_STORE": "milvus://nowhere/news"})
    assert done.returncode == 1 and "milvus://HOST:PORT/NAME" in done.stderr and "Traceback" not in done.stderr


def test_milvus_lost_while_serving_recovers_by_itself(tmp_path, embedder):
    need_milvus()
    server = LiteServer(tmp_path / "data")
    server.start()
    try:
        e = Engine("milvus", tmp_path / "cache", MilvusTarget.parse(server.uri("lost")))
        e.build(articles(tmp_path / "a", CORPUS), embedder)
        searcher = e.searcher(embedder)
        assert top(searcher, "لماذا ارتفعت أسعار البن؟") == "t-coffee"
        server.stop()
        with pytest.raises(IndexUnavailable, match="unavailable"):
            searcher.search("لماذا ارتفعت أسعار البن؟")
        server.start()  # the same port and data: the server is back, and answers once it is ready
        deadline = time.monotonic() + 60
        while True:
            try:
                assert top(searcher, "لماذا ارتفعت أسعار البن؟") == "t-coffee"
                break
            except IndexUnavailable:  # readers are told to try again shortly, and the searcher does
                assert time.monotonic() < deadline, "the searcher did not find the server again"
                time.sleep(0.5)
    finally:
        server.stop()


def test_every_index_command_takes_store():
    from index.__main__ import make_parser

    parser = make_parser()
    for command in ("build", "update", "search", "fetch", "remove", "sources", "stats", "eval"):
        extra = {"search": ["q"], "eval": ["q.jsonl"], "remove": ["x"]}.get(command, [])
        args = parser.parse_args([command, "--store", "milvus://h:1/n", *extra])
        assert args.store == "milvus://h:1/n"


def test_stats_names_the_engine_and_checks_the_articles_folder(engine, tmp_path, embedder):
    folder = articles(tmp_path / "a", CORPUS)
    engine.build(folder, embedder)
    write_jsonl(folder / "more.jsonl", [{"id": "t-new", "title": "خبر", "text": "نص خبر جديد عن افتتاح مكتبة عامة في الطائف."}])
    env = {"ARTICLES_DIR": str(folder), "INDEX_DIR": str(engine.index_dir), "INDEX_STORE": str(engine.target or "")}
    done = _cli("stats", "--json", env=env)
    assert done.returncode == 0, done.stderr
    import json

    info = json.loads(done.stdout)
    assert info["engine"] == engine.name
    assert info["against_articles"] == {"missing": 1, "changed": 0, "extra": 0}
    assert open_store(engine.index_dir, engine.target).manifest.articles == len(CORPUS)


def test_the_default_install_never_imports_pymilvus(built_index):
    code = (
        "import sys; from index.search.searcher import Searcher; import bot.app; "
        f"Searcher.open({str(built_index)!r}).search('مستشفى'); print('pymilvus' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.stdout.strip() == "False", done.stderr


async def test_the_bot_says_the_index_is_unavailable_and_recovers(tmp_path, embedder):
    """Through the fake Bot API: Milvus goes away, a reader is told to try again shortly; it comes back, answers resume."""
    need_milvus()
    from tests.support.botkit import READER, running_bot

    server = LiteServer(tmp_path / "data")
    server.start()
    try:
        async with running_bot(tmp_path, embedder, index_store=server.uri("bot")) as (fake, app):
            fake.message("لماذا ارتفعت أسعار البن؟", user_id=READER)
            first = (await fake.wait_for_messages(1, chat_id=READER, timeout=60))[-1]
            assert "البن" in first["text"]
            server.stop()
            fake.message("لماذا ارتفعت أسعار البن؟", user_id=READER)
            lost = (await fake.wait_for_messages(2, chat_id=READER, timeout=60))[-1]
            assert lost["text"] == "الفهرس غير متاح الآن، حاول مرة أخرى بعد قليل."
            assert all(isinstance(e, IndexUnavailable) for e in app.bot_data.errors)
            app.bot_data.errors.clear()  # expected here
            server.start()
            for attempt in range(3, 60):  # the reader asks again until the server is ready
                fake.message("لماذا ارتفعت أسعار البن؟", user_id=READER)
                reply = (await fake.wait_for_messages(attempt, chat_id=READER, timeout=60))[-1]
                if "البن" in reply["text"]:
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the bot did not answer again after Milvus came back")
            app.bot_data.errors.clear()
    finally:
        server.stop()


def test_moving_between_the_engines_is_one_build_that_embeds_nothing_again(milvus, tmp_path, embedder):
    folder = articles(tmp_path / "a", CORPUS)
    here = tmp_path / "index"  # one INDEX_DIR: the embedded builds and the embeddings cache Milvus builds use too
    target = MilvusTarget.parse(milvus.uri(f"t{next(_names)}"))
    first = run_build([folder], here, embedder=embedder, progress=False)
    to_milvus = run_build([folder], here, embedder=embedder, progress=False, target=target)
    back = run_build([folder], here, embedder=embedder, progress=False)
    assert first.encoded > 0 and to_milvus.encoded == 0 and back.encoded == 0
    for store in (None, target):
        searcher = Searcher.open(here, embedder=embedder, store=store)
        assert top(searcher, "كم رحلة يوميا لقطار الحرمين في رمضان؟") == "t-train"


def _rows_per_article(target: MilvusTarget) -> dict[int, int]:
    from collections import Counter

    from index.storage.milvus.client import connect, query_all
    from index.storage.milvus.writing import current_collection

    client = connect(target)
    return Counter(r["article"] for r in query_all(client, current_collection(client, target.name), "row >= 0", ["article"]))


def test_an_update_stopped_midway_is_mended_by_the_next(milvus, tmp_path, embedder, monkeypatch):
    """The update dies after writing rows and deleting the old ones, before its record: the next update leaves every
    article with its passages once, the changed one as it is now."""
    folder = articles(tmp_path / "a", CORPUS)
    e = Engine("milvus", tmp_path / "cache", MilvusTarget.parse(milvus.uri(f"t{next(_names)}")))
    e.build(folder, embedder)
    changed = [{**r, "text": r["text"].replace("300 سرير", "450 سرير")} if r["id"] == "t-hospital" else r for r in CORPUS]
    articles(folder, [*changed, {"id": "t-new", "title": "خبر جديد", "text": "افتتاح مكتبة عامة كبيرة في مدينة الطائف اليوم."}])

    def dies(*args, **kwargs):
        raise RuntimeError("lost mid-update")

    monkeypatch.setattr("index.build.milvus.statistics", dies)
    with pytest.raises(RuntimeError, match="mid-update"):
        e.build(folder, embedder, incremental=True)
    monkeypatch.undo()
    report = e.build(folder, embedder, incremental=True)
    assert "t-hospital" in report.changed
    counts = _rows_per_article(e.target)
    assert sum(counts.values()) == report.chunks and len(counts) == len(CORPUS) + 1
    hospital = e.searcher(embedder).search("كم سريرا في مستشفى السرطان في الدمام؟").hits[0]
    assert hospital.article_id == "t-hospital" and "450" in hospital.passage.text


def test_a_lock_left_by_a_writer_that_stopped_is_taken_over(milvus, tmp_path, embedder):
    import os
    import socket

    from index.storage.milvus.client import LEASE_SECONDS, Records, connect

    folder = articles(tmp_path / "a", CORPUS)
    e = Engine("milvus", tmp_path / "cache", MilvusTarget.parse(milvus.uri(f"t{next(_names)}")))
    records = Records(connect(e.target), e.target.name)
    records.ensure()
    long_ago = time.time() - 2 * LEASE_SECONDS
    records.put("lock", {"owner": "x", "host": "elsewhere", "pid": 1, "since": long_ago, "beat": long_ago})
    e.build(folder, embedder)  # not renewed for longer than the lease: taken over
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    now = time.time()
    records.put("lock", {"owner": "y", "host": socket.gethostname(), "pid": int(dead), "since": now, "beat": now})
    e.build(folder, embedder)  # its holder on this machine is gone: taken over
    records.put("lock", {"owner": "z", "host": socket.gethostname(), "pid": os.getpid(), "since": now, "beat": now})
    with pytest.raises(IndexBusy):
        e.build(folder, embedder)  # a live holder keeps it
    assert records.get("lock")["owner"] == "z"
