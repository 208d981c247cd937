"""A learned head over the question's and the passage's vectors: does this passage answer this question?

The encoder's cosine says how alike two texts are; whether one *answers* the other is
a narrower question. A logistic regression over the element-wise product of the two
unit vectors (a re-weighted cosine: ``q · diag(w) · v``) learns which of the shared
space's directions matter for that, from question-passage pairs labelled by whether
the passage holds the answer (``bench/train_answers.py``; models/answer_head.json). The
built-in encoder puts Arabic and English into one space, so pairs in either language
teach it. Its score is one of the answerability features. It reads the passage vectors
the index already holds, so a question costs no new encoding.
"""

from __future__ import annotations

import numpy as np

from .learned import LearnedModel


def head_features(dimension: int) -> tuple[str, ...]:
    """The head's feature names for vectors of ``dimension``: one per element of the product."""
    return tuple(f"qv{i}" for i in range(dimension))


def head_rows(query_vector: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The head's input for each passage vector: its element-wise product with the question's vector."""
    return np.asarray(vectors, dtype=np.float64) * np.asarray(query_vector, dtype=np.float64)[None, :]


def head_scores(model: LearnedModel | None, query_vector: np.ndarray | None, vectors: np.ndarray | None) -> np.ndarray | None:
    """The head's raw score (log-odds) per passage; None when there is no head, no question vector or no
    passage vectors, or the head was trained for vectors of another size (another embedding model)."""
    if model is None or query_vector is None or vectors is None or not len(vectors):
        return None
    if len(model.features) != np.asarray(query_vector).shape[-1]:
        return None
    return model.raw(head_rows(query_vector, vectors))
