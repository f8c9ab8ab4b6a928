"""The ``torch`` embedding backend: sentence-transformers itself (exact; CPU or GPU)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.config import EmbeddingConfig
from pipeline.embed.embedder import (EmbeddingError, EncodeResult, default_threads, embedder_key, pooled,
                            resolve_model_path, token_windows)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (the import alone costs seconds)."""

    def __init__(self, config: EmbeddingConfig):
        self.config = config
        self._model = None

    @property
    def key(self) -> str:
        return embedder_key(self.config, "torch")

    @property
    def dim(self) -> int:
        return self._loaded().get_embedding_dimension()

    def _loaded(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self.config.device == "cpu":
                torch.set_num_threads(default_threads(self.config.threads))
            try:
                self._model = SentenceTransformer(resolve_model_path(self.config.model),
                                                  device=self.config.device)
            except (OSError, ValueError, RuntimeError) as exc:
                raise EmbeddingError(
                    f"cannot load embedding model {self.config.model!r}: {exc}. Set "
                    "embedding.model to a sentence-transformers folder on disk") from exc
        return self._model

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> EncodeResult:
        model = self._loaded()
        if not texts:
            return EncodeResult(np.zeros((0, model.get_embedding_dimension()), dtype=np.float32))
        tokenizer = model.tokenizer
        token_ids = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        windows = token_windows(token_ids, min(model.max_seq_length, self.config.window_tokens) - 2,
                                self.config.long_text,
                                self.config.max_chunks)
        # Texts that fit go in as they are; only the windows of long ones are decoded.
        window_texts = [texts[o] if len(ids) == len(token_ids[o]) else tokenizer.decode(ids)
                        for ids, o in zip(windows.ids, windows.owners)]
        vectors = model.encode(window_texts, batch_size=self.config.batch_size,
                               show_progress_bar=progress, convert_to_numpy=True,
                               normalize_embeddings=True)
        return pooled(vectors, windows, len(texts))
