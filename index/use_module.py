"""Where models built with the built-in encoder find its module: the class path ``index.use_module.USEMultilingual``
is saved inside them (sentence-transformers' modules.json), so it stays importable here."""

from index.embedding.module import USEMultilingual

__all__ = ["USEMultilingual"]
