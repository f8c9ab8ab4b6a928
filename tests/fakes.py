"""Fast stand-ins for tests that need an embedder's behaviour, not the model's quality."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from pipeline.embed import EncodeResult


class FakeEmbedder:
    """Deterministic unit vectors from a text's character 3-grams, feature-hashed (signed)
    into ``dim`` buckets: identical texts get identical vectors in every process, texts that
    share most of their 3-grams lie close, unrelated ones near orthogonal. No model, and
    each text's vector is the same whatever batch it is in."""

    def __init__(self, dim: int = 384, n: int = 3):
        self._dim, self.n = dim, n

    @property
    def key(self) -> str:
        return f"fake-{self.n}grams-d{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> EncodeResult:
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {' '.join(text.lower().split())} "
            for start in range(len(padded) - self.n + 1):
                digest = hashlib.blake2b(padded[start:start + self.n].encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dim
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return EncodeResult(vectors / np.where(norms == 0, 1, norms))
