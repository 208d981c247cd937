"""The build directory: FAISS vectors, BM25 arrays, the sentence analyses, SQLite rows, the manifest, the cache.

The only code that opens files inside a build (with ``index.layout`` naming them). A build is written
aside and switched in by replacing ``CURRENT``; a reader never sees a half-written one.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "StoredIndex": ".loading",
        "StoreError": ".store",
        "IndexNotFound": ".store",
        "IndexCorrupt": ".store",
        "IndexBusy": ".store",
        "open_index": ".loading",
        "write_build": ".store",
        "build_lock": ".store",
        "current_build_id": ".store",
        "Analyses": ".analyses",
        "LexicalIndex": ".lexical",
        "LexicalParams": ".lexical",
        "BuildCache": ".cache",
        "INDEX_TYPES": ".vectors",
    },
)
