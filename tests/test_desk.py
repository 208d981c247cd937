"""The desk's pins and blocks (index.corpus.desk, index.search.desk): what a pin matches, how it finds its passage
again and drops itself, what a block keeps out of answers and of fetching, and the command line."""

from __future__ import annotations

import json

import pytest

from index.__main__ import main
from index.build import run_build
from index.corpus.desk import Block, Pin, block_target, desk_file, question_key, read_desk, record, source_targets
from index.search.desk import apply_desk
from index.search.searcher import Searcher
from index.web.harvest import harvest
from tests.support.corpus import CORPUS, write_jsonl
from tests.support.website import NewsSite, SiteServer
from tests.test_fetch import FAST

TRAIN = "كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟"


def test_a_pin_matches_the_same_question_and_nothing_looser():
    assert question_key("من فاز بالمركز الأول؟") != question_key("من فاز بالمركز الثاني؟")
    assert question_key("من فاز بالمركز الأول؟") == question_key("مَن فاز بالمركزِ الاول ؟")  # diacritics, hamza
    assert question_key("من فاز بالمركز الأول؟") != question_key("من فاز بالمركز الأول في السباق؟")  # one term more
    assert question_key(TRAIN) == question_key("كم تستغرق الرحلة بالقطار السريع بين مكة و المدينة")


def test_what_a_block_names():
    assert source_targets("https://www.News.example.com/a/b") == ["news.example.com", "example.com"]
    assert source_targets("https://t.me/SomeChannel/12") == ["@somechannel"]
    assert source_targets("http://127.0.0.1:8080/x") == ["127.0.0.1"] and source_targets("") == []
    assert block_target("https://www.example.com/path") == "example.com" and block_target("@Chan") == "@chan"
    assert block_target("t.me/chan/3") == "@chan"
    with pytest.raises(ValueError):
        block_target("https:///nothing")


def test_the_latest_line_decides_and_a_damaged_line_is_skipped(tmp_path, caplog):
    record(tmp_path, [Pin("k", "q", "a1", "p", by="x"), Block("example.com", "x")])
    with open(desk_file(tmp_path), "a", encoding="utf-8") as f:
        f.write("{not json\n")
    record(tmp_path, [Block("example.com", "y", undone=True), Pin("k", "q", "a2", "p2", by="y")])
    desk = read_desk(tmp_path)
    assert desk.pins["k"].article_id == "a2" and not desk.blocks
    assert "not a desk record" in caplog.text
    lines = [
        json.loads(line)
        for line in desk_file(tmp_path).read_text(encoding="utf-8").splitlines()
        if line[0] == "{" and line[1] == '"'
    ]
    assert all(line["at"] for line in lines), "every decision says when"


@pytest.fixture
def built(tmp_path, embedder):
    write_jsonl(tmp_path / "articles" / "news.jsonl", CORPUS)
    run_build([tmp_path / "articles"], tmp_path / "index", embedder=embedder, progress=False)
    return Searcher.open(tmp_path / "index", embedder=embedder)


def _pin_on(searcher: Searcher, article_id: str, question: str = TRAIN) -> Pin:
    idx = searcher.stored.article_index([article_id])[0]
    chunk = searcher.stored.article_chunks(idx)[0]
    body_key = searcher.stored.articles([idx])[idx]["body_key"]
    return Pin(question_key(question), question, article_id, chunk["text"], body_key, "t")


def test_a_pin_puts_its_passage_first_in_the_sure_band(built, tmp_path):
    result = built.search(TRAIN, k=5)
    assert result.hits[0].article_id == "t-train"
    record(tmp_path / "articles", [_pin_on(built, "t-coffee")])
    applied = apply_desk(built, result, read_desk(tmp_path / "articles"), TRAIN)
    assert applied.result.hits[0].article_id == "t-coffee" and applied.result.pinned and applied.result.band == "answer"
    assert applied.result.hits[0].passage.answer, "the pinned passage gets its answer sentence"
    assert [h.rank for h in applied.result.hits] == list(range(1, len(applied.result.hits) + 1))
    other = built.search("كم تستغرق الرحلة بالقطار بين مكة والمدينة؟", k=5)  # one term fewer: another question
    assert not apply_desk(built, other, read_desk(tmp_path / "articles"), other.question).result.pinned


def test_a_pin_drops_itself_when_its_article_changed_or_left(built, tmp_path):
    pin = _pin_on(built, "t-coffee")
    for changed, why in (
        (Pin(pin.key, pin.question, pin.article_id, pin.passage, "other-body", "t"), "changed"),
        (Pin(pin.key, pin.question, "t-gone", pin.passage, "", "t"), "removed"),
    ):
        desk = read_desk(tmp_path / "nothing")
        desk.pins[changed.key] = changed
        applied = apply_desk(built, built.search(TRAIN, k=5), desk, TRAIN)
        assert not applied.result.pinned and [(d.reason, d.undone) for d in applied.dropped] == [(why, True)]


def test_a_block_keeps_a_domain_out_of_answers(built, tmp_path):
    record(tmp_path / "articles", [Block("example.org", "x")])
    applied = apply_desk(built, built.search(TRAIN, k=5), read_desk(tmp_path / "articles"), TRAIN)
    assert all("example.org" not in h.url for h in applied.result.hits)
    hits = applied.result.hits
    assert {h.article_id for h in hits} <= {"t-chess"}  # the one article without a link may stay
    low, high = built.bands()
    top = hits[0].confidence if hits else 0.0
    expected = "nothing" if not hits or top < low else "tentative" if top < high else "answer"
    assert applied.result.band == expected and applied.result.confidence == top, "its own band, not the blocked one's"


def test_a_blocked_site_is_not_fetched(tmp_path):
    site = NewsSite.generate(2)
    with SiteServer(site) as srv:
        record(tmp_path, [Block("127.0.0.1", "x")])
        report = harvest([srv.url("/feeds/rss.xml"), srv.url(site.pages[0].path)], tmp_path, FAST)
        assert srv.paths() == [] and all("blocked by the desk" in o.reason for o in report.outcomes)


def test_the_command_line_lists_blocks_and_unpins(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARTICLES_DIR", str(tmp_path))
    record(tmp_path, [Pin(question_key(TRAIN), TRAIN, "t-train", "p", "", "القطار", "tg:1")])
    assert main(["pins", "--block", "https://www.example.com/x"]) == 0
    assert main(["pins"]) == 0
    out = capsys.readouterr().out
    assert "1. " in out and TRAIN in out and "example.com" in out
    assert main(["pins", "--unpin", "1", "--unblock", "example.com", "--by", "editor"]) == 0
    assert not read_desk(tmp_path).pins and not read_desk(tmp_path).blocks
    assert main(["pins", "--unblock", "nothing.example"]) == 1


def test_a_blocked_top_source_does_not_lend_its_band_to_the_next(built):
    """Hits: a sure one from a.example, a weak one from b.example; blocking a.example leaves the weak one in its
    own band, not under a 💡 line it never earned."""
    from index.corpus.desk import Desk
    from index.results import Hit, Passage, SearchResult

    def hit(n, url, confidence):
        h = Hit(n, f"a{n}", "t", "s", url, "", 1.0, Passage(n, "نص.", 0, 4, 1.0))
        h.confidence = confidence
        return h

    low, high = built.bands()
    result = SearchResult(
        "سؤال", "hybrid", [hit(1, "https://a.example/1", 0.99), hit(2, "https://b.example/2", (low + high) / 2)], confidence=0.99
    )
    desk = Desk(blocks={"a.example": Block("a.example")})
    applied = apply_desk(built, result, desk, "سؤال").result
    assert [h.article_id for h in applied.hits] == ["a2"] and applied.band == "tentative"
    weak = SearchResult(
        "سؤال", "hybrid", [hit(1, "https://a.example/1", 0.99), hit(2, "https://b.example/2", low / 2)], confidence=0.99
    )
    assert apply_desk(built, weak, desk, "سؤال").result.band == "nothing"
