"""Work done over the engine's output: the editor's report, the evaluation of a questions file, plain-text views."""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "build_report": ".report",
        "read_log": ".report",
        "evaluate": ".evaluate",
        "format_result": ".render_text",
    },
)
