"""Encoders behind one ``Embedder``: the built-in offline model (USE multilingual v3, numpy, no download) or any
sentence-transformers model by name or local path.

``index.use_module.USEMultilingual`` (the built-in model as a sentence-transformers module) is saved by
that path inside models, so it stays importable there.
"""

from index import lazy_exports

BUILTIN_MODEL = "builtin:use-multilingual-v3"  # the default EMBEDDING_MODEL: works offline, no download

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Embedder": ".embedder",
        "ModelLoadError": ".embedder",
        "is_builtin": ".embedder",
        "load_embedder": ".embedder",
        "FastBuiltinModel": ".encoder",
        "USEMultilingual": ".module",
    },
)
