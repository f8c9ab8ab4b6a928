"""Embed: the ``Embedder`` protocol, its backends, and the stage that uses the cache.

``embedder`` defines what a model must offer (``Embedder``, ``EncodeResult``) and the
shared windowing and pooling; ``onnx_backend`` and ``torch_backend`` implement it;
``backends.embedder_from_config`` picks one from ``[embedding]``; ``stage`` embeds a
run's tickets, reusing the cache.
"""

from pipeline.embed.backends import BACKENDS, embedder_from_config
from pipeline.embed.embedder import (DEFAULT_MODEL, Embedder, EmbeddingError, EncodeResult,
                                     embedder_key, resolve_model_path, text_hash)
from pipeline.embed.stage import Embeddings, VectorCache, ticket_embeddings

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Embedder", "EmbeddingError", "EncodeResult", "Embeddings",
           "VectorCache", "embedder_from_config", "embedder_key", "resolve_model_path", "text_hash",
           "ticket_embeddings"]
