"""Retrieval quality over a questions file: article hits, MRR, answer hits, refusals, latency.

Questions file (JSONL): ``{"qid", "question", "answers": [...], "article_id",
"relevant_article_ids": [...]}``. An article counts as found when it, or a
duplicate collapsed into it, is among the relevant ids; an answer counts as
found when a gold answer, normalised, appears in a returned passage. A question
with no relevant article is unanswerable: it is left out of the article metrics and
counts only by whether it was refused ("no answer").
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from index.percentiles import percentile
from index.progress import bar
from index.search.searcher import SearchResult
from index.text.arabic import normalize


class _Searches(Protocol):
    def search(self, question: str, k: int = ..., mode: str = ...) -> SearchResult: ...


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """Read a questions file; each question needs "question" and relevant ids (or "article_id")."""
    questions = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: bad JSON ({exc.msg})") from None
            if not isinstance(item, dict) or not item.get("question"):
                raise ValueError(f"{path}:{number}: a question needs a non-empty 'question' field")
            relevant = item.get("relevant_article_ids") or ([item["article_id"]] if item.get("article_id") else [])
            item["relevant_article_ids"] = list(relevant)
            item.setdefault("answers", [])
            questions.append(item)
    return questions


def _squash(text: str) -> str:
    return "".join(ch for ch in normalize(text) if ch.isalnum())


def contains_answer(passage: str, answers: Iterable[str]) -> bool:
    """True if any gold answer appears in the passage, ignoring spelling variants, spaces and punctuation."""
    hay = _squash(passage)
    return any((needle := _squash(a)) and needle in hay for a in answers)


def article_rank(result: SearchResult, relevant: set[str]) -> int | None:
    """1-based rank of the first hit that is (or absorbed a duplicate that is) relevant."""
    for hit in result.hits:
        ids = {hit.article_id, *(d["article_id"] for d in hit.also_in)}
        if ids & relevant:
            return hit.rank
    return None


def answer_rank(result: SearchResult, answers: Sequence[str]) -> int | None:
    for hit in result.hits:
        if any(contains_answer(p.text, answers) for p in [hit.passage, *hit.more]):
            return hit.rank
    return None


def highlight_hit(result: SearchResult, answers: Sequence[str]) -> bool:
    """True if the top source's highlighted sentence (the bot's one-line answer) holds a gold answer."""
    if not result.hits:
        return False
    passage = result.hits[0].passage
    return any(contains_answer(passage.text[s:e], answers) for s, e in passage.highlights)


def score_results(questions: Sequence[dict[str, Any]], results: Sequence[SearchResult]) -> dict[str, Any]:
    """Metrics for results already computed (pure: the unit tests feed it hand-made results).

    Article metrics are over the answerable questions (those with relevant articles); a
    question with none is unanswerable and scores only by being refused ("no answer").
    """
    art_ranks, ans_ranks = [], []
    no_answer = highlighted = unanswerable = refused_unanswerable = 0
    for q, r in zip(questions, results, strict=True):
        no_answer += r.no_answer
        if q["relevant_article_ids"]:
            art_ranks.append(article_rank(r, set(q["relevant_article_ids"])))
        else:
            unanswerable += 1
            refused_unanswerable += r.no_answer
        if q.get("answers"):
            ans_ranks.append(answer_rank(r, q["answers"]))
            highlighted += highlight_hit(r, q["answers"])
    n, na = len(art_ranks), len(ans_ranks)

    def at(ranks: list[int | None], k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0

    return {
        "questions": len(results),
        "answerable": n,
        "article_hit@1": at(art_ranks, 1),
        "article_hit@5": at(art_ranks, 5),
        "mrr@10": sum(1.0 / r for r in art_ranks if r is not None and r <= 10) / n if n else 0.0,
        "answer_questions": na,
        "answer_hit@1": at(ans_ranks, 1),
        "answer_hit@5": at(ans_ranks, 5),
        "highlight_hit@1": highlighted / na if na else 0.0,
        "no_answer": no_answer,
        "answerable_refused": no_answer - refused_unanswerable,
        "unanswerable": unanswerable,
        "unanswerable_refused": refused_unanswerable,
    }


def evaluate(
    searcher: _Searches, questions: Sequence[dict[str, Any]], k: int = 10, mode: str = "hybrid", progress: bool = False
) -> dict[str, Any]:
    """Run every question through ``searcher`` one at a time (so latency is per question)."""

    results, latencies = [], []
    for q in bar(questions, enabled=progress, desc=f"eval {mode}", unit="q"):
        t = time.perf_counter()
        results.append(searcher.search(q["question"], k=k, mode=mode))
        latencies.append((time.perf_counter() - t) * 1000)
    metrics = score_results(questions, results)
    metrics.update(
        mode=mode,
        k=k,
        latency_ms_p50=percentile(latencies, 0.5),
        latency_ms_p95=percentile(latencies, 0.95),
        latency_ms_mean=statistics.fmean(latencies) if latencies else 0.0,
    )
    return metrics


_COLUMNS = (
    ("mode", "mode", "{}"),
    ("article_hit@1", "art@1", "{:.3f}"),
    ("article_hit@5", "art@5", "{:.3f}"),
    ("mrr@10", "MRR@10", "{:.3f}"),
    ("answer_hit@1", "ans@1", "{:.3f}"),
    ("answer_hit@5", "ans@5", "{:.3f}"),
    ("highlight_hit@1", "hl@1", "{:.3f}"),
    ("no_answer", "no-answer", "{}"),
    ("latency_ms_p50", "p50 ms", "{:.1f}"),
    ("latency_ms_p95", "p95 ms", "{:.1f}"),
)
_UNANSWERABLE_COLUMN = ("unanswerable_refused", "unanswerable refused", "{unanswerable_refused}/{unanswerable}")


def format_table(rows: Sequence[dict[str, Any]], title: str = "") -> str:
    """A Markdown table of metric rows (one per mode)."""
    columns = list(_COLUMNS)
    if rows and rows[0].get("unanswerable"):
        columns.insert(-2, _UNANSWERABLE_COLUMN)

    head = "| " + " | ".join(label for _, label, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt.format(row[key], **row) for key, _, fmt in columns) + " |" for row in rows]
    lines = ([title, ""] if title else []) + [head, sep, *body]
    notes = []
    if rows and rows[0].get("unanswerable"):
        first = rows[0]
        notes.append(
            f"article metrics over the {first['answerable']} answerable questions; the {first['unanswerable']} "
            "unanswerable ones (no relevant article) are scored apart, by how many were refused"
        )
    if rows and rows[0]["answer_questions"] < rows[0]["questions"]:
        notes.append(f"answer metrics over the {rows[0]['answer_questions']} questions that have gold answers")
    if notes:
        lines.append("\n" + "\n".join(notes))
    return "\n".join(lines)
