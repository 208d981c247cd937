"""Reading the hits: which sentence answers (a learned selector), and how likely the top hit answers at all.

A question's trip through the answer stage stays in this folder: the question matched against
the stored sentences (``matching``), every sentence's features and the answer line (``selector``),
the hits reordered by their answers (``ordering``), the answer probability (``answerability``), and
the small learned models they read (``learned``, JSON files in ``index/models``).
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Matcher": ".matching",
        "choose_answers": ".selector",
        "SENTENCE_FEATURES": ".selector",
        "answer_probabilities": ".answerability",
        "ANSWERABILITY_FEATURES": ".answerability",
        "LearnedModel": ".learned",
        "ModelFileError": ".learned",
        "rerank_hits": ".ordering",
        "lead_with_best_answer": ".ordering",
        "topic_weights": ".ordering",
    },
)
