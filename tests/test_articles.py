import json
from pathlib import Path

from index.corpus.articles import load_articles
from index.corpus.records import clean_text, make_id
from tests.support.corpus import CORPUS, need_shared, write_jsonl


def test_jsonl_fields_ids_and_metadata(tmp_path: Path):
    rec = {**CORPUS[0], "tags": ["صحة"], "author": "مراسل"}
    write_jsonl(tmp_path / "a.jsonl", [rec])
    result = load_articles([tmp_path])
    (a,) = result.articles
    assert (a.id, a.title, a.url, a.date, a.author) == (rec["id"], rec["title"], rec["url"], rec["date"], "مراسل")
    assert a.metadata == {"tags": ["صحة"]}
    assert a.text.startswith("افتتح أمير المنطقة الشرقية")
    assert result.problems == []


def test_jsonl_bad_lines_reported_and_rest_loaded(tmp_path: Path):
    good = json.dumps(CORPUS[1], ensure_ascii=False).encode()
    data = b"\n".join(
        [
            good,
            b"{not json",
            b'{"title": "x"}',
            b'"a string"',
            b"\xff\xfe bad bytes",
            json.dumps(CORPUS[2], ensure_ascii=False).encode(),
        ]
    )
    (tmp_path / "mixed.jsonl").write_bytes(data)
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["t-camels", "t-flood"]
    by_line = {p.line: p.reason for p in result.problems}
    assert set(by_line) == {2, 3, 4, 5}
    assert "bad JSON" in by_line[2]
    assert "no text" in by_line[3]
    assert "JSON object" in by_line[4]
    assert "UTF-8" in by_line[5]


def test_json_object_and_array(tmp_path: Path):
    (tmp_path / "one.json").write_text(json.dumps(CORPUS[0], ensure_ascii=False), encoding="utf-8")
    (tmp_path / "many.json").write_text(json.dumps(CORPUS[1:3], ensure_ascii=False), encoding="utf-8")
    result = load_articles([tmp_path])
    assert sorted(a.id for a in result.articles) == ["t-camels", "t-flood", "t-hospital"]


def test_truncated_json_reported_with_line(tmp_path: Path):
    (tmp_path / "cut.json").write_text('[\n{"title": "a",\n "text": "نص', encoding="utf-8")
    write_jsonl(tmp_path / "ok.jsonl", [CORPUS[0]])
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["t-hospital"]
    (problem,) = result.problems
    assert problem.path.endswith("cut.json") and problem.line == 3 and "bad JSON" in problem.reason


def test_text_file_with_front_matter(tmp_path: Path):
    (tmp_path / "story.txt").write_text(
        "---\nurl: https://example.org/x\ndate: 2026-01-02\nsource: okaz\n---\n\nالعنوان هنا\n\nالفقرة الأولى.\nالفقرة الثانية.\n",
        encoding="utf-8",
    )
    (a,) = load_articles([tmp_path]).articles
    assert a.title == "العنوان هنا"
    assert a.text == "الفقرة الأولى.\nالفقرة الثانية."
    assert a.url == "https://example.org/x" and a.date == "2026-01-02"
    assert a.source == "عكاظ"  # known outlet slug shown by its Arabic name
    assert a.id == make_id("", "https://example.org/x")


def test_markdown_heading_title(tmp_path: Path):
    (tmp_path / "m.md").write_text("# عنوان الخبر\n\nنص الخبر هنا.", encoding="utf-8")
    (a,) = load_articles([tmp_path]).articles
    assert a.title == "عنوان الخبر" and a.text == "نص الخبر هنا."
    assert a.id.startswith("h-")


def test_html_main_text_and_title(tmp_path: Path):
    paragraphs = "".join(f"<p>{CORPUS[3]['text']} جملة إضافية رقم {i}.</p>" for i in range(3))
    html = (
        "<html><head><title>لاعبة مصرية تفوز | موقع</title>"
        '<meta property="og:title" content="لاعبة مصرية تفوز ببطولة أفريقيا للشطرنج">'
        '<link rel="canonical" href="https://example.org/chess"></head>'
        f"<body><nav>الرئيسية | رياضة | اقتصاد</nav><article><h1>لاعبة مصرية تفوز ببطولة أفريقيا للشطرنج</h1>{paragraphs}</article>"
        "<footer>جميع الحقوق محفوظة</footer></body></html>"
    )
    (tmp_path / "p.html").write_text(html, encoding="utf-8")
    (a,) = load_articles([tmp_path]).articles
    assert a.title == "لاعبة مصرية تفوز ببطولة أفريقيا للشطرنج"
    assert "سلمى عبد الرحمن" in a.text
    assert "الرئيسية" not in a.text and "جميع الحقوق" not in a.text
    assert not a.text.startswith(a.title), "the repeated headline is not part of the body"
    assert a.url == "https://example.org/chess"


def test_bad_files_reported_and_skipped(tmp_path: Path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("عنوان\n".encode() + b"caf\xe9\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    write_jsonl(tmp_path / "good.jsonl", [CORPUS[4]])
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["t-train"]
    reasons = {Path(p.path).name: (p.line, p.reason) for p in result.problems}
    assert reasons["empty.txt"][1] == "empty file"
    assert "no articles" in reasons["blank.jsonl"][1]
    assert "binary" in reasons["binary.json"][1]
    assert reasons["latin1.txt"][0] == 2 and "UTF-8" in reasons["latin1.txt"][1]
    assert "unsupported" in reasons["photo.jpg"][1]


def test_missing_path_reported(tmp_path: Path):
    result = load_articles([tmp_path / "nope"])
    assert result.articles == [] and "no such file" in result.problems[0].reason


def test_identical_bodies_indexed_once(tmp_path: Path):
    twin = {**CORPUS[0], "id": "copy", "title": "عنوان آخر", "text": CORPUS[0]["text"].replace("السرطان", "السَّرطان")}
    write_jsonl(tmp_path / "a.jsonl", [CORPUS[0], twin])
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["t-hospital"] and result.duplicates == 1


def test_repeated_id_in_one_file_keeps_the_first(tmp_path: Path):
    write_jsonl(tmp_path / "a.jsonl", [CORPUS[0], {**CORPUS[1], "id": "t-hospital"}])
    result = load_articles([tmp_path])
    assert [a.title for a in result.articles] == [CORPUS[0]["title"]]
    assert "used twice in this file" in result.problems[0].reason


def test_a_later_file_replaces_an_earlier_copy_of_an_article(tmp_path: Path):
    """Files are read in path order and the later copy wins, even when only the title changed (same body)."""
    corrected = {**CORPUS[0], "title": "عنوان مصحح"}
    write_jsonl(tmp_path / "2026-01-01-news.jsonl", [CORPUS[0], CORPUS[1]])
    write_jsonl(tmp_path / "2026-02-01-news.jsonl", [corrected])
    result = load_articles([tmp_path])
    assert [(a.id, a.title) for a in result.articles] == [("t-hospital", "عنوان مصحح"), ("t-camels", CORPUS[1]["title"])]
    assert result.superseded == [("t-hospital", str(tmp_path / "2026-01-01-news.jsonl"), str(tmp_path / "2026-02-01-news.jsonl"))]
    assert result.problems == [] and result.duplicates == 0


def test_ids_are_stable():
    assert make_id("given") == "given"
    assert make_id("", "https://x.org/a") == make_id("", "https://x.org/a")
    assert make_id("", "", "نص") == make_id("", "", "نَص")


def test_clean_text_tidies_whitespace_only():
    assert clean_text("  سطر أول  \r\n\r\n\r\n\r\nسطر\x07 ثانٍ ") == "سطر أول\n\nسطر ثانٍ"


def test_sample_articles_all_load():
    from tests.support.corpus import SAMPLES

    result = load_articles([SAMPLES])
    assert result.problems == []
    assert len(result.articles) >= 5
    assert all(a.title and a.text and a.source for a in result.articles)


def test_seed_page_dump_gives_two_clean_articles():
    path = need_shared("seed", "asharq-alawsat-two-articles.txt")
    result = load_articles([path])
    assert result.problems == []
    first, second = result.articles
    assert first.title == "مصادر عراقية: الفصائل الموالية لإيران شكّلت غرفة عمليات مع «حماس»"
    assert second.title == "«نتنياهو المطلوب» يقلق إسرائيل على ضباطها"
    for article in (first, second):
        lines = [line for line in article.text.split("\n") if line]
        assert article.source == "الشرق الأوسط"
        assert "TT" not in lines
        assert article.title not in lines
        assert len(lines) == len(set(lines)), "no repeated lines (captions, title)"
        assert not any(c in lines for c in article.metadata.get("captions", []))
        assert "مقالات ذات صلة" not in article.text
    # nothing from the related-articles teasers is attributed to the first article
    for teaser in ("مجلس الأمن", "دقدوق", "فؤاد حسين", "تشاتام هاوس", "علي السراي"):
        assert teaser not in first.text and teaser not in second.text
    assert "أكرم الكعبي، أمين حركة النجباء في العراق" in first.text
    assert first.text.rstrip().endswith("وأن الأوامر سترد من إيران حصراً.")
    assert second.text.startswith("في ظلّ معلومات عن اتجاه دول أجنبية")


def test_page_dump_detection_is_linear_in_marker_lines():
    """An upload full of marker lines must not hold the build lock for minutes (ratio, not wall clock)."""
    import time

    from index.corpus.pagedump import looks_like_page_dump, parse_page_dump

    def best_of_three(n: int) -> float:
        text = "".join(f"خبر رقم {i}\nTT\n" for i in range(n))  # no headline is ever repeated
        times = []
        for _ in range(3):  # CPU time of this thread: other work on the machine does not count
            started = time.thread_time()
            assert not looks_like_page_dump(text)
            times.append(time.thread_time() - started)
        return min(times)

    # linear: x10 lines -> ~x10 time; the old backward scan was ~x100
    assert best_of_three(20_000) / best_of_three(2_000) < 35
    dump = "عنوان الخبر\nTT\nعنوان الخبر\nنص الخبر الأول هنا.\n"
    assert [a.title for a in parse_page_dump(dump)] == ["عنوان الخبر"]


class _DictMemo:
    """A FileMemo in a dict, counting what it was asked."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, str]] = {}
        self.hits = 0

    def recall(self, name: str, digest: str) -> str | None:
        entry = self.entries.get(name)
        if entry and entry[0] == digest:
            self.hits += 1
            return entry[1]
        return None

    def remember(self, name: str, digest: str, payload: str) -> None:
        self.entries[name] = (digest, payload)


def _mixed_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps({**CORPUS[0], "tags": ["صحة"]}, ensure_ascii=False),
        "{not json",
        json.dumps(CORPUS[1], ensure_ascii=False),
    ]
    path = tmp_path / "in" / "mixed.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _summary(result) -> list:
    articles = [(a.id, a.title, a.text, a.url, a.date, a.source, a.author, a.metadata, a.path) for a in result.articles]
    keys = [(a.content_hash, a.body_key) for a in result.articles]
    return [articles, keys, result.problems, result.duplicates]


def test_remembered_file_is_not_parsed_again_and_loads_the_same(tmp_path: Path, monkeypatch):
    path = _mixed_file(tmp_path)
    memo = _DictMemo()
    plain = load_articles([path.parent])
    first = load_articles([path.parent], memo=memo)
    monkeypatch.setattr(
        "index.corpus.formats.article_from_record", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed"))
    )
    second = load_articles([path.parent], memo=memo)
    assert memo.hits == 1
    assert _summary(plain) == _summary(first) == _summary(second)
    assert [p.line for p in second.problems] == [2]  # the bad line is still reported, with its number


def test_changed_or_damaged_entry_is_read_again(tmp_path: Path):
    path = _mixed_file(tmp_path)
    memo = _DictMemo()
    load_articles([path.parent], memo=memo)
    path.write_text(json.dumps(CORPUS[2], ensure_ascii=False) + "\n", encoding="utf-8")
    assert [a.id for a in load_articles([path.parent], memo=memo).articles] == [CORPUS[2]["id"]]
    assert memo.hits == 0 and len(memo.entries) == 1  # one entry per file, replaced
    name, (digest, _) = next(iter(memo.entries.items()))
    memo.entries[name] = (digest, '{"articles": [{"id": 1}]}')  # damaged
    assert [a.id for a in load_articles([path.parent], memo=memo).articles] == [CORPUS[2]["id"]]


def test_build_cache_remembers_files(tmp_path: Path):
    from index.storage.cache import BuildCache

    path = _mixed_file(tmp_path)
    with BuildCache(tmp_path / "cache.sqlite") as cache:
        first = load_articles([path.parent], memo=cache)
    with BuildCache(tmp_path / "cache.sqlite") as cache:
        assert cache.recall(str(path), "0" * 32) is None
        second = load_articles([path.parent], memo=cache)
    assert _summary(first) == _summary(second)


def test_memo_keeps_odd_text_and_survives_damaged_entries(tmp_path: Path):
    """A lone surrogate (valid JSON) is stored escaped; an entry that is not a list of records is read again."""
    from index.storage.cache import BuildCache

    path = tmp_path / "in" / "odd.jsonl"
    path.parent.mkdir()
    record = {**CORPUS[0], "note": "\ud800 نص"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")  # ASCII escapes: valid UTF-8 on disk
    plain = load_articles([path.parent])
    with BuildCache(tmp_path / "cache.sqlite") as cache:
        first = load_articles([path.parent], memo=cache)
    with BuildCache(tmp_path / "cache.sqlite") as cache:
        second = load_articles([path.parent], memo=cache)
        assert _summary(plain) == _summary(first) == _summary(second) and len(second.articles) == 1
        name = str(path)
        digest = cache._db.execute("SELECT digest FROM files WHERE name = ?", (name,)).fetchone()[0]
        cache.remember(name, digest, '{"articles": ["not a record"], "problems": []}')
        assert _summary(load_articles([path.parent], memo=cache)) == _summary(plain)
        assert cache.forget_files_except(set()) == 1 and cache.recall(name, digest) is None


def test_lone_surrogates_are_dropped_and_lose_nothing(tmp_path: Path):
    """JSON may spell a lone surrogate; no UTF-8 text can hold one. The article loads without it, and so does the rest."""
    odd = {**CORPUS[0], "title": "عنوان \ud800غريب", "url": "https://example.sa/\udc80x", "tags": ["\ud83d"]}
    (tmp_path / "odd.jsonl").write_text("\n".join(json.dumps(r) for r in (odd, CORPUS[1])) + "\n", encoding="utf-8")
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == [CORPUS[0]["id"], CORPUS[1]["id"]] and result.problems == []
    first = result.articles[0]
    assert (first.title, first.url, first.metadata) == ("عنوان غريب", "https://example.sa/x", {"tags": [""]})
    assert first.content_hash and first.body_key  # hashable as UTF-8
