"""Takedowns: an article an editor removes leaves the index and stays out, whatever tries to bring it back."""

from __future__ import annotations

import json

import pytest

from index.__main__ import main as index_cli
from index.build import run_build
from index.build.takedown import find
from index.corpus.articles import load_articles
from index.corpus.removals import REMOVALS_FILE, Takedown, append, deny_list, read_log
from index.search.searcher import Searcher
from index.storage.loading import open_index
from tests.support.corpus import CORPUS, write_jsonl

CHESS = "من فازت ببطولة أفريقيا للشطرنج؟"


def cli(*args: str) -> int:
    return index_cli([*args, "-q"])


def ids(index) -> set[str]:
    return set(open_index(index).article_ids)


@pytest.fixture
def desk(tmp_path):
    """An articles folder and an index built from it."""
    articles, index = tmp_path / "articles", tmp_path / "ix"
    write_jsonl(articles / "news.jsonl", CORPUS)
    assert cli("build", "--articles", str(articles), "--index", str(index)) == 0
    return articles, index


def test_remove_by_id_takes_the_article_out_as_a_part_and_records_who_and_when(desk, capsys, embedder):
    articles, index = desk
    capsys.readouterr()
    assert cli("remove", "t-chess", "--articles", str(articles), "--index", str(index), "--by", "editor", "--yes") == 0
    out = capsys.readouterr().out
    assert "remove: " in out and "t-chess" in out and "removed 1" in out
    assert "t-chess" not in ids(index) and len(ids(index)) == 5
    assert open_index(index).manifest.parts, "written as a part over the build, not a rebuild"
    hits = Searcher.open(index, embedder=embedder).search(CHESS).hits
    assert all(h.article_id != "t-chess" for h in hits)
    [record] = read_log(articles)
    assert record.article_id == "t-chess" and record.by == "editor" and record.at and record.path.endswith("news.jsonl")
    assert (articles / REMOVALS_FILE).exists() and not (articles / REMOVALS_FILE).name.endswith(".json")


def test_a_removed_article_stays_out_after_a_reupload_an_edit_and_a_build_from_scratch(desk):
    articles, index = desk
    train = next(a for a in CORPUS if a["id"] == "t-train")
    assert cli("remove", train["url"] + "?utm_source=x", "--articles", str(articles), "--index", str(index), "--yes") == 0
    assert "t-train" not in ids(index), "found by its link in another spelling"
    # a re-upload under a new id, an edit of the stored copy, and a build from scratch all try to bring it back
    write_jsonl(articles / "upload.jsonl", [dict(train, id="upload-1", text=train["text"] + " تحديث.")])
    write_jsonl(articles / "news.jsonl", [dict(a, text=a["text"] + " (معدل)") if a is train else a for a in CORPUS])
    assert cli("update", "--articles", str(articles), "--index", str(index)) == 0
    assert "t-train" not in ids(index) and "upload-1" not in ids(index)
    assert cli("build", "--articles", str(articles), "--index", str(index)) == 0
    assert "t-train" not in ids(index) and "upload-1" not in ids(index) and len(ids(index)) == 5


def test_restore_brings_it_back_and_lists_what_is_down(desk, capsys):
    articles, index = desk
    assert cli("remove", "t-chess", "t-flood", "--articles", str(articles), "--index", str(index), "--yes") == 0
    capsys.readouterr()
    assert cli("restore", "--articles", str(articles), "--index", str(index)) == 0
    listed = capsys.readouterr().out
    assert "t-chess" in listed and "t-flood" in listed
    assert cli("restore", "t-chess", "--articles", str(articles), "--index", str(index), "--by", "editor") == 0
    assert "t-chess" in ids(index) and "t-flood" not in ids(index)
    assert [r.restored for r in read_log(articles)] == [False, False, True]
    assert cli("restore", "t-chess", "--articles", str(articles), "--index", str(index)) == 1, "not down any more"


def test_without_a_terminal_it_asks_for_yes_and_changes_nothing(desk, capsys, monkeypatch):
    articles, index = desk
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli("remove", "t-chess", "--articles", str(articles), "--index", str(index)) == 1
    assert "--yes" in capsys.readouterr().err
    assert "t-chess" in ids(index) and read_log(articles) == []


def test_a_confirmed_takedown_passes_the_removal_guard(desk):
    articles, index = desk
    many = ["t-hospital", "t-camels", "t-flood", "t-chess"]  # two thirds of the index: the guard would refuse
    assert cli("remove", *many, "--articles", str(articles), "--index", str(index), "--yes") == 0
    assert ids(index) == {"t-train", "t-coffee"}


def test_targets_name_articles_by_id_link_and_private_post_link(desk):
    articles, index = desk
    write_jsonl(articles / "posts.jsonl", [{"id": "tg-1234567-89", "title": "منشور", "text": "منشور في قناة خاصة عن الطقس."}])
    assert cli("update", "--articles", str(articles), "--index", str(index)) == 0
    found, unknown = find(open_index(index), ["https://t.me/c/1234567/89", "https://EXAMPLE.org/t/camels#top", "no-such-id"])
    assert [f.article_id for f in found] == ["tg-1234567-89", "t-camels"] and unknown == ["no-such-id"]


def test_the_log_is_read_line_by_line_and_the_latest_line_decides(tmp_path, caplog):
    folder = tmp_path / "a"
    write_jsonl(folder / "news.jsonl", CORPUS)
    removal = Takedown("t-chess", by="x", at="2026-12-06T00:00:00+00:00")
    append(folder, [removal, Takedown("t-flood", url="https://example.org/t/flood")])
    with open(folder / REMOVALS_FILE, "a", encoding="utf-8") as f:
        f.write("not json\n" + json.dumps({"title": "no id"}) + "\n")
    deny = deny_list([folder])
    assert set(deny.standing) == {"t-chess", "t-flood"} and "skipped" in caplog.text
    loaded = load_articles([folder], deny=deny)
    assert {a.id for a in loaded.articles} == {a["id"] for a in CORPUS} - {"t-chess", "t-flood"} and loaded.denied == 2
    append(folder, [removal.undone("y")])
    assert set(deny_list([folder]).standing) == {"t-flood"}
    assert load_articles([folder]).denied == 0, "without a deny list nothing is left out"


def test_a_takedown_recorded_while_the_bot_was_busy_applies_at_the_next_update(desk, embedder):
    articles, index = desk
    assert cli("remove", "t-camels", "--articles", str(articles), "--index", str(index), "--yes", "--no-index") == 0
    assert "t-camels" in ids(index), "recorded only"
    report = run_build([articles], index, embedder=embedder, progress=False, incremental=True)
    assert report.removed == ["t-camels"] and "t-camels" not in ids(index)
