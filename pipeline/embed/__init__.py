"""Embed: the ``Embedder`` protocol, its backends, executors, and the stage that uses the cache.

``embedder`` defines what a model must offer (``Embedder``, ``EncodeResult``; a
``BatchedEmbedder`` also plans its batches) and the shared windowing and pooling;
``onnx_backend`` and ``torch_backend`` implement it; ``backends.embedder_from_config``
picks one from ``[embedding]``; ``executor`` runs the batches in this process or, with
``dask_executor``, on a Dask cluster; ``stage`` embeds a run's tickets, reusing the cache.
"""

from pipeline.embed.backends import BACKENDS, embedder_from_config
from pipeline.embed.embedder import (DEFAULT_MODEL, BatchedEmbedder, Embedder, EmbeddingError, EncodeResult,
                                     Plan, embedder_key, resolve_model_path, text_hash)
from pipeline.embed.executor import Executor, LocalExecutor, encoded, executor_from_config
from pipeline.embed.stage import Embeddings, VectorCache, problem_embeddings, ticket_embeddings

__all__ = ["BACKENDS", "DEFAULT_MODEL", "BatchedEmbedder", "Embedder", "EmbeddingError", "EncodeResult",
           "Embeddings", "Executor", "LocalExecutor", "Plan", "VectorCache", "embedder_from_config",
           "embedder_key", "encoded", "executor_from_config", "resolve_model_path", "text_hash",
           "problem_embeddings", "ticket_embeddings"]
