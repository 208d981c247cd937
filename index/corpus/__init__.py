"""Article files: JSONL/JSON/text/Markdown/HTML, page dumps, Telegram channel posts and exports, uploads, outlets, URLs.

Everything that turns a file under ARTICLES_DIR into ``Article`` records, and the rules for the
links those records carry. Reads files; never the index.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Article": ".records",
        "ArticleError": ".records",
        "LoadResult": ".records",
        "Problem": ".records",
        "SUPPORTED_SUFFIXES": ".articles",
        "load_articles": ".articles",
        "load_file": ".articles",
        "display_source": ".outlets",
        "canonical_url": ".urls",
        "is_web_url": ".urls",
        "safe_link": ".urls",
        "urls_in_text": ".urls",
        "post_record": ".telegram",
        "store_posts": ".telegram",
        "list_uploads": ".uploads",
        "save_upload": ".uploads",
    },
)
