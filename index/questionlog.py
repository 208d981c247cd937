"""The question log: one JSON line per question answered, per reader's vote and per language-model answer, written by
the bot, read by the report.

Three record types, shared by the writer (``bot``) and the reader (``index.tools.report``) so they
cannot drift apart. User ids are keyed hashes, never raw (the bot makes them). Reading is
tolerant: logs written before a key existed still read (a question without ``band`` only
knows whether it got "no answer"), and unreadable lines are counted, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.results import ANSWER, NOTHING, TENTATIVE

QUESTION, VOTE, READER = "question", "vote", "reader"


@dataclass(frozen=True)
class QuestionRecord:
    """A question the bot answered: which reply it got, from which build, how fast."""

    time: str  # UTC, ISO 8601 to the second
    question: str
    band: str  # ANSWER | TENTATIVE | NOTHING
    user: str | None = None  # keyed hash of the Telegram user id
    chat_type: str = "private"
    lang: str = "ar"
    answer_id: str = ""  # the result id the buttons carry
    build: str = ""
    top_article: str | None = None
    top_title: str | None = None
    articles: list[str] = field(default_factory=list)
    latency_ms: float | None = None

    @property
    def day(self) -> str:
        return self.time[:10]

    def to_json(self) -> dict[str, Any]:
        """The line as written since the log began (``no_answer`` kept for older readers)."""
        data = asdict(self)
        return {
            "time": data.pop("time"),
            "user": data.pop("user"),
            "chat_type": data.pop("chat_type"),
            "lang": data.pop("lang"),
            "question": data.pop("question"),
            "no_answer": self.band == NOTHING,
            **data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuestionRecord | None:
        if not isinstance(data.get("question"), str) or not isinstance(data.get("time"), str):
            return None
        band = data.get("band")
        if band not in (ANSWER, TENTATIVE, NOTHING):  # logs from before the band was recorded
            band = NOTHING if data.get("no_answer") else ANSWER
        latency = data.get("latency_ms")
        return cls(
            time=data["time"],
            question=data["question"],
            band=band,
            user=_text_or_none(data.get("user")),
            chat_type=str(data.get("chat_type") or "private"),
            lang=str(data.get("lang") or "ar"),
            answer_id=str(data.get("answer_id") or ""),
            build=str(data.get("build") or ""),
            top_article=_text_or_none(data.get("top_article")),
            top_title=_text_or_none(data.get("top_title")),
            articles=[str(a) for a in data.get("articles") or [] if isinstance(a, str)],
            latency_ms=float(latency) if isinstance(latency, int | float) and not isinstance(latency, bool) else None,
        )


@dataclass(frozen=True)
class VoteRecord:
    """A reader's 👍/👎 on an answer (the report counts each reader's last vote per answer)."""

    time: str
    answer_id: str
    up: bool
    user: str | None = None
    question: str = ""
    build: str = ""
    top_title: str | None = None
    articles: list[str] = field(default_factory=list)

    @property
    def day(self) -> str:
        return self.time[:10]

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "type": VOTE,
            "user": self.user,
            "answer_id": self.answer_id,
            "question": self.question,
            "build": self.build,
            "top_title": self.top_title,
            "articles": list(self.articles),
            "vote": "up" if self.up else "down",
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoteRecord | None:
        if data.get("vote") not in ("up", "down") or not isinstance(data.get("time"), str):
            return None
        return cls(
            time=data["time"],
            answer_id=str(data.get("answer_id") or ""),
            up=data["vote"] == "up",
            user=_text_or_none(data.get("user")),
            question=str(data.get("question") or ""),
            build=str(data.get("build") or ""),
            top_title=_text_or_none(data.get("top_title")),
            articles=[str(a) for a in data.get("articles") or [] if isinstance(a, str)],
        )


@dataclass(frozen=True)
class ReaderRecord:
    """What the language-model reader did for an answer: shown or not (and why), its tokens and time."""

    time: str
    answer_id: str
    model: str
    shown: bool
    fallback: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def day(self) -> str:
        return self.time[:10]

    def to_json(self) -> dict[str, Any]:
        return {"type": READER, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReaderRecord | None:
        if not isinstance(data.get("time"), str) or not isinstance(data.get("model"), str):
            return None
        number = {k: data.get(k) for k in ("prompt_tokens", "completion_tokens", "seconds")}
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in number.values()):
            return None
        return cls(
            data["time"],
            str(data.get("answer_id") or ""),
            data["model"],
            bool(data.get("shown")),
            str(data.get("fallback") or ""),
            int(number["prompt_tokens"]),
            int(number["completion_tokens"]),
            float(number["seconds"]),
        )


Record = QuestionRecord | VoteRecord | ReaderRecord


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_record(data: Any) -> Record | None:
    """A log line's record, or None for a line that is neither a question nor a vote."""
    if not isinstance(data, dict):
        return None
    if data.get("type", QUESTION) == VOTE:
        return VoteRecord.from_json(data)
    if data.get("type") == READER:
        return ReaderRecord.from_json(data)
    if data.get("type", QUESTION) == QUESTION:
        return QuestionRecord.from_json(data)
    return None


def read_log(path: Path | str) -> tuple[list[Record], int]:
    """The log's records, and how many lines were unreadable (skipped, never fatal)."""
    records: list[Record] = []
    bad = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = parse_record(json.loads(line))
            except ValueError:
                record = None
            if record is None:
                bad += 1
            else:
                records.append(record)
    return records, bad


def append(path: Path, record: Record) -> None:
    """Add one line to the log (the caller keeps a single writer)."""
    line = json.dumps(record.to_json(), ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
