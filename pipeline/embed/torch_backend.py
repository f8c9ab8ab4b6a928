"""The ``torch`` embedding backend: sentence-transformers itself (exact; CPU or GPU)."""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from pipeline.config import EmbeddingConfig
from pipeline.embed.embedder import (EmbeddingError, EncodeResult, Plan, default_threads, embedder_key,
                                     resolve_model_path, token_windows)
from pipeline.embed.executor import LocalExecutor, encoded


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (the import alone costs seconds),
    once per process; it pickles as its settings, so Dask workers load their own."""

    def __init__(self, config: EmbeddingConfig):
        self.config = config

    def __getstate__(self) -> dict:
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    @property
    def key(self) -> str:
        return embedder_key(self.config, "torch")

    @property
    def dim(self) -> int:
        return self._loaded().get_embedding_dimension()

    def _loaded(self):
        return _model(self.config.model, self.config.device, default_threads(self.config.threads))

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> EncodeResult:
        return encoded(self, texts, LocalExecutor(), progress=progress)

    def planned(self, texts: Sequence[str]) -> Plan:
        """Windows as text (only long tickets' windows are decoded), longest first in batches
        of ``batch_size``, as ``SentenceTransformer.encode`` would batch them."""
        model = self._loaded()
        tokenizer = model.tokenizer
        token_ids = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        windows = token_windows(token_ids, min(model.max_seq_length, self.config.window_tokens) - 2,
                                self.config.long_text, self.config.max_chunks)
        window_texts = [texts[o] if len(ids) == len(token_ids[o]) else tokenizer.decode(ids)
                        for ids, o in zip(windows.ids, windows.owners)]
        order = np.argsort([-len(t) for t in window_texts])
        size = self.config.batch_size
        rows = [order[i:i + size] for i in range(0, len(order), size)]
        return Plan(windows, [[window_texts[i] for i in r] for r in rows], rows)

    def batch_vectors(self, batch: list[str]) -> np.ndarray:
        return self._loaded().encode(batch, batch_size=len(batch), show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)


_models: dict[tuple[str, str], object] = {}
_models_lock = threading.Lock()


def _model(name: str, device: str, threads: int):
    """One SentenceTransformer per (model, device) in this process."""
    with _models_lock:
        if (name, device) not in _models:
            import torch
            from sentence_transformers import SentenceTransformer

            if device == "cpu":
                torch.set_num_threads(threads)
            try:
                _models[name, device] = SentenceTransformer(resolve_model_path(name), device=device)
            except (OSError, ValueError, RuntimeError) as exc:
                raise EmbeddingError(
                    f"cannot load embedding model {name!r}: {exc}. Set "
                    "embedding.model to a sentence-transformers folder on disk") from exc
        return _models[name, device]
