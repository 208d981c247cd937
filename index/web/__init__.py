"""Fetching from the web: the polite, guarded HTTP client, feeds and sitemaps, page extraction, the web article store.

``harvest`` (``python -m index fetch``, the bot's /add and refresh) fetches sources into
``ARTICLES_DIR/web/`` as ordinary article files; the index is updated by the caller.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "harvest": ".harvest",
        "HarvestReport": ".harvest",
        "Outcome": ".harvest",
        "read_sources": ".harvest",
        "FetchConfig": ".client",
        "Fetcher": ".client",
        "FetchError": ".client",
        "extract_article": ".pages",
        "WebStore": ".store",
        "StoreBusy": ".store",
    },
)
