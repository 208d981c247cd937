"""The editor's report: pure functions over question-log records, the CLI, and /report through the fake server."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from index.__main__ import main
from index.questionlog import QuestionRecord, VoteRecord, parse_record, read_log
from index.tools.report import build_report, daily_chart_png, format_text, group_similar
from tests.support.botkit import ADMIN, READER, running_bot
from tests.support.corpus import write_jsonl

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _q(day: str, question: str, band: str = "answer", latency: float = 50.0, rid: str = "", title: str = "") -> dict:
    return {
        "time": f"2026-11-{day}T10:00:00+00:00",
        "user": "u1",
        "question": question,
        "band": band,
        "no_answer": band == "nothing",
        "answer_id": rid,
        "top_title": title,
        "latency_ms": latency,
    }


def _vote(day: str, rid: str, user: str, vote: str, question: str = "س", title: str = "عنوان") -> dict:
    return {
        "time": f"2026-11-{day}T11:00:00+00:00",
        "type": "vote",
        "user": user,
        "answer_id": rid,
        "question": question,
        "top_title": title,
        "vote": vote,
    }


LINES = [
    _q("18", "قطار الحرمين", latency=40, rid="a1", title="قطار"),
    _q("18", "متى يفتتح متحف الطيران في جدة؟", "nothing", latency=60),
    _q("19", "متى يفتتح متحف الطيران في جدة؟", "nothing", latency=80),
    _q("19", "موعد افتتاح متحف الطيران في جدة", "tentative", latency=100),
    _q("20", "أسعار القهوة", latency=200, rid="a2", title="البن"),
    _q("20", "نتيجة مباراة الهلال والنصر", "nothing", latency=30),
    _vote("19", "a1", "u1", "up"),
    _vote("19", "a1", "u1", "down"),  # changed: the last vote counts
    _vote("20", "a1", "u2", "down"),
    _vote("20", "a2", "u3", "up"),
]
RECORDS = [parse_record(line) for line in LINES]  # as read from the log


def test_report_counts_shares_gaps_votes_and_latency():
    report = build_report(RECORDS, now=NOW)
    assert [d.day for d in report.days] == ["2026-11-18", "2026-11-19", "2026-11-20"]
    assert (report.questions, report.answered, report.tentative, report.nothing) == (6, 2, 1, 3)
    assert report.share(report.nothing) == 0.5
    assert report.gaps[0].count == 2 and report.gaps[0].question == "متى يفتتح متحف الطيران في جدة؟"
    assert report.gaps[1].count == 1 and "الهلال" in report.gaps[1].question
    # "no sure answer" (the archive holds a matching passage) is listed apart, never as a coverage gap
    assert [(g.question, g.count) for g in report.unsure] == [("موعد افتتاح متحف الطيران في جدة", 1)]
    assert not {v for g in report.gaps for v in g.variants} & {v for g in report.unsure for v in g.variants}
    (disliked,) = report.disliked
    assert (disliked.down, disliked.up, disliked.title) == (2, 0, "عنوان")
    assert (report.votes_up, report.votes_down) == (1, 2)
    assert report.p50_ms == 70.0 and 150 < report.p95_ms <= 200
    assert report.chart_worthy
    text = format_text(report)
    assert "Questions: 6 over 3 day(s)" in text and "2× متى يفتتح" in text


def test_days_window_and_old_log_lines():
    report = build_report(RECORDS, days=1, now=NOW)
    assert [d.day for d in report.days] == ["2026-11-20"] and report.questions == 2 and not report.chart_worthy
    old = [{"time": "2026-11-20T10:00:00+00:00", "question": "س", "no_answer": answer} for answer in (True, False)]
    assert [parse_record(line).band for line in old] == ["nothing", "answer"], "logs from before the band was recorded"
    assert build_report([], now=NOW).questions == 0
    assert "No questions" in format_text(build_report([], now=NOW))


def test_unrelated_questions_stay_apart():
    gaps = group_similar(["فيضان النيل في السودان", "سعر البن في البرازيل", "فيضانات النيل في السودان"])
    assert [g.count for g in gaps] == [2, 1]


def test_read_log_skips_bad_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(LINES[0], ensure_ascii=False) + "\nnot json\n[1]\n\n", encoding="utf-8")
    records, bad = read_log(path)
    assert len(records) == 1 and bad == 2


def test_a_long_log_still_gives_a_photo_telegram_accepts():
    from tests.support.fake_telegram import photo_size_ok

    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = [QuestionRecord((start + timedelta(days=d)).isoformat(), f"سؤال {d}", "answer", latency_ms=5.0) for d in range(400)]
    png = daily_chart_png(build_report(records, now=start + timedelta(days=400)))
    assert png.startswith(b"\x89PNG") and photo_size_ok(png)


def test_chart_is_a_png():
    png = daily_chart_png(build_report(RECORDS, now=NOW))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_the_chart_is_labelled_in_the_reports_language_with_arabic_joined_right_to_left():
    """The labels follow the language; Arabic is drawn joined and right to left by matplotlib's libraqm layout
    (a look at the Arabic chart confirmed it on 2026-12-06; without libraqm the letters come out apart and
    left to right, so the check here is that the layout engine is the one that shapes)."""
    import matplotlib.ft2font
    from PIL import Image

    from bot.admin import chart_labels

    assert getattr(matplotlib.ft2font, "__libraqm_version__", ""), "matplotlib without libraqm cannot set Arabic"
    assert chart_labels("ar").title == "الأسئلة يومياً" and chart_labels("en").title == "Questions per day"
    report = build_report(RECORDS, now=NOW)
    arabic, english = (daily_chart_png(report, chart_labels(lang)) for lang in ("ar", "en"))
    assert arabic != english  # the same bars, other words
    with Image.open(io.BytesIO(arabic)) as image:
        assert image.format == "PNG" and image.width <= 20 * image.height


def test_report_command_line(tmp_path, capsys):
    log = write_jsonl(tmp_path / "q.jsonl", LINES)
    chart = tmp_path / "chart.png"
    assert main(["report", "--log", str(log), "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "Questions: 6" in out and "Most 👎'd answers" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert main(["report", "--log", str(log), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 6
    with pytest.raises(SystemExit) as refused:
        main(["report", "--log", str(log), "--days", "0"])
    assert refused.value.code == 2
    assert main(["report", "--log", str(tmp_path / "missing.jsonl")]) == 1
    assert main(["report", "--log", str(tmp_path)]) == 1  # a directory: one line, no traceback
    assert "cannot read the question log" in capsys.readouterr().err


async def test_report_in_the_bot_without_data(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/report", user_id=READER)
        fake.command("/report", user_id=ADMIN)
        (refused,) = await fake.wait_for_messages(1, chat_id=READER)
        (empty,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "للمشرفين فقط" in refused["text"] and "لا توجد أسئلة" in empty["text"]
        fake.command("/report abc", user_id=ADMIN)
        msgs = await fake.wait_for_messages(2, chat_id=ADMIN)
        assert "/report 7" in msgs[1]["text"]
    assert fake.photos == []


async def test_report_in_the_bot_with_three_days(tmp_path, embedder):
    log = tmp_path / "questions.jsonl"
    many = LINES + [_q("19", f"سؤال بلا إجابة رقم {n} عن موضوع {n * 7919} مختلف <b>&", "nothing") for n in range(150)]
    write_jsonl(log, many)
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.command("/report", user_id=ADMIN, language_code="en")
        await fake.wait_for_call("sendPhoto")
        msgs = fake.messages_to(ADMIN)
        assert msgs and "Editor's report" in msgs[0]["text"] and "Questions: 156 over 3 days" in msgs[0]["text"]
        said = " ".join(m["text"] for m in msgs)
        assert "Not covered" in said and "Answerable but unsure" in said
        assert all(len(m["text"]) <= 4096 for m in msgs)
        (photo,) = fake.photos
        assert photo["caption"] == "Questions per day" and photo["content"].startswith(b"\x89PNG")
    assert not [e for e in fake.errors_returned if e[0] in ("sendMessage", "sendPhoto")]


async def test_report_when_the_log_is_off(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, question_log=None) as (fake, _app):
        fake.command("/report", user_id=ADMIN)
        (msg,) = await fake.wait_for_messages(1, chat_id=ADMIN)
        assert "QUESTION_LOG" in msg["text"]


def test_question_and_vote_records_round_trip_through_a_line():
    question = QuestionRecord("2026-11-20T10:00:00+00:00", "س", "tentative", user="u1", articles=["a"], latency_ms=5.0)
    vote = VoteRecord("2026-11-20T10:01:00+00:00", "r1", up=False, user="u1", question="س")
    assert parse_record(json.loads(json.dumps(question.to_json()))) == question
    assert parse_record(json.loads(json.dumps(vote.to_json()))) == vote
    assert question.to_json()["no_answer"] is False and vote.to_json()["vote"] == "down"
