"""The embedding backends ``[embedding] backend`` names, and the embedder each one builds."""

from __future__ import annotations

from pipeline.config import EmbeddingConfig
from pipeline.embed.embedder import Embedder, EmbeddingError

BACKENDS = ("onnx-int8", "onnx", "torch")


def embedder_from_config(config: EmbeddingConfig) -> Embedder:
    """The embedder that ``[embedding]`` describes."""
    if config.backend not in BACKENDS:
        raise EmbeddingError(f"embedding.backend must be one of {', '.join(BACKENDS)}, got {config.backend!r}")
    if config.long_text not in ("chunk", "truncate"):
        raise EmbeddingError(f"embedding.long_text must be 'chunk' or 'truncate', got {config.long_text!r}")
    if config.backend == "torch":
        from pipeline.embed.torch_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(config)
    if config.device != "cpu":
        raise EmbeddingError(f"embedding.backend {config.backend!r} runs on the CPU; for "
                             f"device {config.device!r} set embedding.backend = \"torch\"")
    from pipeline.embed.onnx_backend import OnnxEmbedder

    return OnnxEmbedder(config, quantized=config.backend == "onnx-int8")
