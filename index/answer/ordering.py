"""The hits put in a new order: by the likeliest answer sentence among the top few, or any order a stage chose."""

from __future__ import annotations

from collections.abc import Sequence

from index.results import Hit


def rerank_hits(hits: list[Hit], order: Sequence[int]) -> list[Hit]:
    """``hits`` in a new order, ranks renumbered."""
    out = [hits[i] for i in order]
    for rank, hit in enumerate(out, start=1):
        hit.rank = rank
    return out


def lead_with_best_answer(hits: list[Hit], depth: int) -> list[Hit]:
    """Put first the hit, among the top ``depth``, whose answer sentence is likeliest (ties keep retrieval order)."""
    if not hits:
        return hits
    depth = min(depth, len(hits))
    best = max(range(depth), key=lambda i: (hits[i].answer_score, -i)) if depth > 1 else 0
    return rerank_hits(hits, [best, *(i for i in range(len(hits)) if i != best)])
