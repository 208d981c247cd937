"""The question log and readers' votes, written by one thread of their own (a slow disk delays lines, never answers).

Each answered question and each 👍/👎 becomes one line (``index.questionlog``'s records, the
report reads them). User ids are keyed hashes (HMAC with the bot token): a reader's lines can be
told apart, never traced back. One vote per reader per answer: a second, different click
replaces the first (the log keeps both lines; the report counts the last).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from index.answer.reader import ReaderAnswer
from index.questionlog import QuestionRecord, ReaderRecord, Record, VoteRecord, append
from index.results import SearchResult

from .results import CachedResult

log = logging.getLogger(__name__)

REMEMBERED_VOTES = 8000


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class QuestionLog:
    """Appends questions and votes to QUESTION_LOG (nothing when it is off: then there are no vote buttons)."""

    def __init__(self, path: Path | None, key: str) -> None:
        self.path = path
        self._key = key.encode()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="question-log")
        self._votes: collections.OrderedDict[tuple[str, int], bool] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def on(self) -> bool:
        return self.path is not None

    def user_key(self, user_id: int | None) -> str | None:
        """A keyed hash of the user id: votes and questions of one reader can be told apart, never traced back."""
        if user_id is None:
            return None
        return hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]

    def question(
        self,
        rid: str,
        build: str,
        question: str,
        lang: str,
        user_id: int | None,
        chat_type: str,
        result: SearchResult,
        elapsed: float,
    ) -> None:
        """Log one answered question."""
        self._write(
            lambda: QuestionRecord(
                time=now_iso(),
                question=question,
                band=result.band,
                user=self.user_key(user_id),
                chat_type=chat_type,
                lang=lang,
                answer_id=rid,
                build=build,
                top_article=result.hits[0].article_id if result.hits else None,
                top_title=result.hits[0].title if result.hits else None,
                articles=[hit.article_id for hit in result.hits],
                latency_ms=round(elapsed * 1000, 1),
            )
        )

    def vote(self, rid: str, item: CachedResult | None, user_id: int, up: bool) -> str:
        """Record a reader's 👍/👎 on answer ``rid``: "recorded", "changed", "same", or "expired" (unknown answer)."""
        if item is None or not self.on:
            return "expired"
        with self._lock:
            key = (rid, user_id)
            before = self._votes.get(key)
            if before == up:
                return "same"
            self._votes[key] = up
            while len(self._votes) > REMEMBERED_VOTES:
                self._votes.popitem(last=False)
        hits = item.result.hits
        self._write(
            lambda: VoteRecord(
                time=now_iso(),
                answer_id=rid,
                up=up,
                user=self.user_key(user_id),
                question=item.result.question,
                build=item.build_id,
                top_title=hits[0].title if hits else None,
                articles=[hit.article_id for hit in hits],
            )
        )
        return "recorded" if before is None else "changed"

    def reader(self, rid: str, answer: ReaderAnswer) -> None:
        """Log what the language-model reader did for answer ``rid``: shown or why not, tokens, time."""
        self._write(
            lambda: ReaderRecord(
                now_iso(),
                rid,
                answer.model,
                answer.shown,
                answer.fallback,
                answer.prompt_tokens,
                answer.completion_tokens,
                round(answer.seconds, 3),
            )
        )

    def _write(self, make: Callable[[], Record]) -> None:
        """Append the record ``make`` gives, from the log's own thread (no-op when the log is off)."""
        if self.path is None:
            return
        try:
            self._pool.submit(self._append, make)
        except RuntimeError:  # shutting down: the line is lost, the answer is not
            log.debug("question log closed; not logged")

    def _append(self, make: Callable[[], Record]) -> None:
        assert self.path is not None
        try:
            append(self.path, make())
        except (OSError, TypeError, ValueError) as exc:
            log.warning("cannot write the question log %s: %s", self.path, exc)

    def close(self) -> None:
        self._pool.shutdown(wait=True)  # the few pending lines
