"""Executors: where an embedder's batches run — this process, or Dask workers.

An ``Executor`` maps a function over batches and returns the results in order; that is
all it knows. ``encoded`` is the one place that splits texts into batches and joins the
vectors back: an embedder that plans its own batches (``BatchedEmbedder``: the packaged
backends) is planned once, here, and its batches go to the executor as they are, so the
vectors do not depend on the executor (int8 activations are quantised per batch: what a
batch holds must not change with where it runs). Any other ``Embedder`` (a plain
``encode``) gets its texts in length-sorted batches of ``TEXTS_PER_BATCH``.

``LocalExecutor`` runs the batches in this process, with a progress bar;
``pipeline.embed.dask_executor.DaskExecutor`` on a Dask cluster (``embedding.executor``).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

import numpy as np

from pipeline.config import EXECUTORS, EmbeddingConfig
from pipeline.embed.embedder import BatchedEmbedder, Embedder, EmbeddingError, EncodeResult, pooled

TEXTS_PER_BATCH = 64


class Executor(Protocol):
    """Runs ``work`` on every item of ``items``; the results come back in the items' order."""

    @property
    def name(self) -> str:
        """Says where the work ran, for the manifest (e.g. ``local``, ``dask tcp://host:8786``)."""

    def map(self, work: Callable[[Any], Any], items: Sequence[Any], *, progress: bool = False) -> list[Any]: ...


class LocalExecutor:
    """Every batch in this process, one after the other (the model's own threads use the cores)."""

    name = "local"

    def map(self, work: Callable[[Any], Any], items: Sequence[Any], *, progress: bool = False) -> list[Any]:
        return [work(item) for item in _progress(items, progress)]


def _progress(items: Sequence[Any], enabled: bool):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="Embedding", unit="batch")


def executor_from_config(config: EmbeddingConfig) -> Executor:
    """The executor that ``embedding.executor`` (and ``embedding.scheduler``) describe."""
    if config.executor not in EXECUTORS:
        raise EmbeddingError(f"embedding.executor must be one of {', '.join(EXECUTORS)}, "
                             f"got {config.executor!r}")
    if config.executor == "dask":
        try:
            from pipeline.embed.dask_executor import DaskExecutor
        except ImportError as exc:
            raise EmbeddingError(
                f"embedding.executor = \"dask\" needs Dask distributed ({exc}): pip install "
                "'ticket-iceberg[dask]', or set embedding.executor = \"local\"") from None
        return DaskExecutor(config.scheduler)
    return LocalExecutor()


def encoded(embedder: Embedder, texts: Sequence[str], executor: Executor, *,
            progress: bool = False) -> EncodeResult:
    """``texts`` embedded by ``embedder``, its batches run by ``executor``; rows in ``texts``' order."""
    if len(texts) == 0:
        return EncodeResult(np.zeros((0, embedder.dim), dtype=np.float32))
    if isinstance(embedder, BatchedEmbedder):
        plan = embedder.planned(texts)
        parts = executor.map(embedder.batch_vectors, plan.batches, progress=progress)
        vectors = _joined(parts, plan.rows, len(plan.windows.owners))
        return pooled(vectors, plan.windows, len(texts))
    order = np.argsort([len(t) for t in texts], kind="stable")
    rows = [order[i:i + TEXTS_PER_BATCH] for i in range(0, len(order), TEXTS_PER_BATCH)]
    results = executor.map(embedder.encode, [[texts[i] for i in r] for r in rows], progress=progress)
    vectors = _joined([r.vectors for r in results], rows, len(texts))
    return EncodeResult(vectors, long_texts=sum(r.long_texts for r in results),
                        chunks=sum(r.chunks for r in results))


def _joined(parts: list[np.ndarray], rows: list[np.ndarray], n: int) -> np.ndarray:
    vectors = np.zeros((n, parts[0].shape[1]), dtype=np.float32)
    for part, where in zip(parts, rows):
        vectors[where] = part
    return vectors

