"""The search stages in order: candidates (BM25 + FAISS, fused), re-ranking, grouping per article, time.

``Searcher`` (``searcher``) runs them and hands the hits to ``index.answer``; this package also
exports what the old ``index.search`` module did.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Searcher": ".searcher",
        "SearchParams": ".searcher",
        "AnswerModels": ".searcher",
        "ModelMismatch": ".searcher",
        "MODELS_DIR": ".searcher",
        "MODES": ".retrieval",
        "Hit": "index.results",
        "Passage": "index.results",
        "SearchResult": "index.results",
    },
)
