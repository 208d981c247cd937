"""Building and updating the index: the corpus read, chunked, analysed and embedded into a new build.

``run_build`` (``python -m index build`` / ``update``, the bot's /reindex) in ``run``; its steps,
each one job, in ``steps``; the removal guard of updates in ``guard``; what decides and reports
a build in ``config``.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "run_build": ".run",
        "index_is_stale": ".run",
        "BuildConfig": ".config",
        "BuildReport": ".config",
        "BuildError": ".config",
        "RemovalRefused": ".config",
        "MAX_REMOVED_SHARE": ".config",
        "check_removals": ".guard",
        "RemovalGuard": ".guard",
        "covers": ".guard",
        "resolved_sources": ".guard",
        "chunk_corpus": ".steps",
        "analysis_stamp": ".steps",
        "latin_share": ".steps",
    },
)
