"""Broken article input, generated here (never committed): each file is reported, good articles still indexed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from index.build import run_build
from index.corpus.articles import load_articles
from index.search.searcher import Searcher
from tests.support.corpus import CORPUS, write_jsonl


def make_bad_corpus(root: Path) -> dict[str, str]:
    """Write good and broken inputs under ``root``; return {file name fragment: expected reason fragment}."""
    root.mkdir(parents=True, exist_ok=True)
    write_jsonl(root / "good.jsonl", CORPUS[:3])
    expected: dict[str, str] = {}

    (root / "random.bin.json").write_bytes(bytes(range(256)) * 64)
    expected["random.bin.json"] = "binary"
    (root / "latin1.txt").write_bytes("عنوان\n".encode() + "caf\xe9 na\xefve".encode("latin-1"))
    expected["latin1.txt"] = "UTF-8"
    (root / "truncated.json").write_text(json.dumps(CORPUS[3], ensure_ascii=False)[:-40], encoding="utf-8")
    expected["truncated.json"] = "bad JSON"
    lines = [
        json.dumps(CORPUS[4], ensure_ascii=False),
        '{"title": "بلا نص"}',
        "{oops",
        "[1, 2]",
        json.dumps(CORPUS[5], ensure_ascii=False),
    ]
    (root / "some-bad-lines.jsonl").write_text("\n".join(lines), encoding="utf-8")
    expected["some-bad-lines.jsonl"] = "no text"
    (root / "zero.md").write_bytes(b"")
    expected["zero.md"] = "empty file"
    (root / "blank.txt").write_text("\n \n\t\n", encoding="utf-8")
    expected["blank.txt"] = "no title or text"
    (root / "nested.html").write_text(
        "<html><body>" + "<div>" * 20000 + "نص" + "</div>" * 20000 + "</body></html>", encoding="utf-8"
    )
    expected["nested.html"] = "HTML"
    (root / "deep.json").write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    expected["deep.json"] = "nested"
    big = {"id": "huge", "title": "مقال ضخم", "text": ("جملة عربية طويلة في مقال ضخم جداً. " * 600_000)[: 20 * 1024 * 1024 // 2]}
    (root / "huge.jsonl").write_text(json.dumps(big, ensure_ascii=False), encoding="utf-8")
    expected["huge.jsonl"] = "MAX_ARTICLE_CHARS"
    (root / "evil..\\..\\ name.txt").write_text("عنوان غريب\nنص عادي في ملف باسم غريب.", encoding="utf-8")
    (root / ".hidden.jsonl").write_text("{broken", encoding="utf-8")  # hidden files are skipped, like .DS_Store
    (root / "with spaces and ٣ digits.md").write_text("# عنوان\n\nنص عن مسابقة الشعر النبطي.", encoding="utf-8")
    os.makedirs(root / "sub", exist_ok=True)
    with open(os.path.join(os.fsencode(root / "sub"), b"caf\xe9-\xff.txt"), "w", encoding="utf-8") as f:
        f.write("خبر في ملف باسمه بايتات غير صالحة\nنص الخبر عن افتتاح مكتبة عامة جديدة.")
    os.symlink(root, root / "sub" / "loop")  # a directory symlink back to the root
    os.symlink(root / "a-link.txt", root / "a-link.txt")  # a file symlink to itself
    expected["a-link.txt"] = "cannot read"
    expected["loop"] = "symlink loop"
    odd = [
        {"id": "bad-url", "title": "رابط معطوب", "text": "خبر سليم رابطه معطوب.", "url": "http://[bad"},
        '{"id": "long-int", "title": "رقم", "text": "نص", "views": ' + "9" * 5000 + "}",
        {"id": "after-odd", "title": "خبر بعد السطر الغريب", "text": "هذا الخبر يأتي بعد سطر فيه عدد طويل جداً."},
    ]
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in odd]
    (root / "odd-values.jsonl").write_text("\n".join(lines), encoding="utf-8")
    expected["odd-values.jsonl"] = "bad record"
    return expected


def test_every_bad_file_is_reported_and_good_articles_load(tmp_path):
    expected = make_bad_corpus(tmp_path / "in")
    result = load_articles([tmp_path / "in"])
    ids = {a.id for a in result.articles}
    assert {"t-hospital", "t-camels", "t-flood", "t-coffee", "huge", "bad-url", "after-odd"} <= ids
    assert any(a.title == "عنوان غريب" for a in result.articles)
    assert any("مكتبة عامة" in a.text for a in result.articles)
    reasons = "\n".join(str(p) for p in result.problems)
    for fragment, reason in expected.items():
        assert any(fragment in p.path and reason in p.reason for p in result.problems), f"{fragment}: {reason}\n{reasons}"
    huge = next(a for a in result.articles if a.id == "huge")
    assert len(huge.text) == 1_000_000 and huge.metadata["truncated_from_chars"] > 1_000_000
    for problem in result.problems:
        str(problem).encode("utf-8")  # every report is printable


def test_bad_corpus_builds_an_index(tmp_path, embedder):
    make_bad_corpus(tmp_path / "in")
    report = run_build([tmp_path / "in"], tmp_path / "ix", embedder=embedder, progress=False)
    assert report.articles >= 9 and report.problems
    searcher = Searcher.open(tmp_path / "ix", embedder=embedder)
    assert searcher.search("مستشفى السرطان في الدمام", k=1).hits[0].article_id == "t-hospital"


def test_cli_reports_and_succeeds(tmp_path):
    import subprocess
    import sys

    from tests.support.corpus import ROOT

    make_bad_corpus(tmp_path / "in")
    (tmp_path / "in" / "huge.jsonl").unlink()  # keep this subprocess quick
    done = subprocess.run(
        [sys.executable, "-m", "index", "build", "--articles", str(tmp_path / "in"), "--index", str(tmp_path / "ix"), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "warning:" in done.stderr and "truncated.json" in done.stderr
    strict = subprocess.run(
        [
            sys.executable,
            "-m",
            "index",
            "build",
            "--strict",
            "--articles",
            str(tmp_path / "in"),
            "--index",
            str(tmp_path / "ix2"),
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert strict.returncode == 1 and "--strict" in strict.stderr


def test_a_byte_order_mark_is_read_past(tmp_path):
    (tmp_path / "x.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(CORPUS[0], ensure_ascii=False).encode())
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == [CORPUS[0]["id"]] and result.problems == []


def test_a_file_of_line_breaks_only_is_reported(tmp_path):
    (tmp_path / "x.jsonl").write_bytes(b"\r\n\r\n")
    result = load_articles([tmp_path])
    assert result.articles == [] and [p.reason for p in result.problems] == ["no articles found"]
