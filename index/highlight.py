"""Pick the sentence(s) of a passage that best answer a question.

Pure lexical scoring so it costs microseconds: each sentence scores the summed
IDF of the question terms it contains, with a small bonus for containing them
close together. The best sentence becomes the bot's one-line answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .sentences import split_sentences


def sentence_scores(
    passage: str,
    query_terms: list[str],
    idf: Mapping[str, float],
    analyze: Callable[[str], list[str]],
) -> list[tuple[tuple[int, int], float]]:
    """Score every sentence span of ``passage`` against the question's (stemmed) terms."""
    wanted = set(query_terms)
    total = sum(idf.get(t, 0.0) for t in wanted) or 1.0
    scored: list[tuple[tuple[int, int], float]] = []
    for span in split_sentences(passage):
        terms = analyze(passage[span[0] : span[1]])
        present = wanted.intersection(terms)
        score = sum(idf.get(t, 0.0) for t in present) / total
        if present and len(terms) > 0:
            positions = [i for i, t in enumerate(terms) if t in present]
            spread = (positions[-1] - positions[0] + 1) / len(terms)
            score += 0.05 * (1.0 - spread) * len(present) / max(1, len(wanted))
        scored.append((span, score))
    return scored


def best_sentences(
    passage: str,
    query_terms: list[str],
    idf: Mapping[str, float],
    analyze: Callable[[str], list[str]],
    max_sentences: int = 1,
) -> list[tuple[int, int]]:
    """Spans (into ``passage``) of up to ``max_sentences`` best sentences, in text order.

    A second sentence is only added when it scores nearly as well as the best
    (an answer split over two sentences), never just to fill the quota.
    """
    scored = sentence_scores(passage, query_terms, idf, analyze)
    if not scored:
        return []
    ranked = sorted(scored, key=lambda item: item[1], reverse=True)
    best_score = ranked[0][1]
    if best_score <= 0:
        return [scored[0][0]]  # nothing matched: the passage's opening sentence
    chosen = [span for span, score in ranked[:max_sentences] if score >= 0.8 * best_score]
    return sorted(chosen)
