"""The embedding cache: vectors keyed by sha256 of the text, one folder per embedder key.

A folder of Parquet shards under ``OUT/cache/embeddings/<embedder key>/``, one shard per
run that added vectors, each written atomically, so a killed run leaves the cache
readable and a nightly run embeds only the texts it has not seen before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.store.atomic import atomic_write_parquet

log = logging.getLogger("iceberg")


@dataclass
class EmbeddingCache:
    """Vectors keyed by sha256 of the text, for one embedder key, as Parquet shards."""

    root: Path
    key: str
    _index: dict[str, int] = field(default_factory=dict, init=False)
    _vectors: list[np.ndarray] = field(default_factory=list, init=False)
    corrupt_shards: list[str] = field(default_factory=list, init=False)

    @property
    def folder(self) -> Path:
        return Path(self.root) / self.key

    def load(self) -> "EmbeddingCache":
        """Read every shard; a damaged one is set aside (``*.corrupt``) and its texts are
        embedded again, never trusted (``corrupt_shards`` names them)."""
        self._index, self._vectors, self.corrupt_shards = {}, [], []
        for shard in sorted(self.folder.glob("*.parquet")):
            try:
                hashes, vectors = _shard(shard)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("embedding cache shard %s is damaged (%s); its texts will be embedded again",
                            shard, exc, extra={"event": "cache_shard_damaged", "shard": str(shard)})
                self.corrupt_shards.append(shard.name)
                shard.replace(shard.with_name(shard.name + ".corrupt"))
                continue
            offset = sum(len(v) for v in self._vectors)
            self._vectors.append(vectors)
            for j, h in enumerate(hashes):
                self._index.setdefault(h, offset + j)
        return self

    def __len__(self) -> int:
        return len(self._index)

    def lookup(self, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(found mask, vectors of the found hashes in order)."""
        rows = np.array([self._index.get(h, -1) for h in hashes], dtype=np.int64)
        found = rows >= 0
        if not found.any():
            return found, None
        return found, np.concatenate(self._vectors)[rows[found]]

    def add(self, hashes: Sequence[str], vectors: np.ndarray, shard_name: str) -> None:
        if len(hashes) == 0:
            return
        dim = vectors.shape[1]
        table = pa.table({
            "text_sha256": pa.array(list(hashes), pa.string()),
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.astype(np.float32).ravel()), dim),
        })
        atomic_write_parquet(table, self.folder / f"{shard_name}.parquet")
        offset = sum(len(v) for v in self._vectors)
        self._vectors.append(vectors.astype(np.float32))
        for j, h in enumerate(hashes):
            self._index.setdefault(h, offset + j)


def _shard(path: Path) -> tuple[list[str], np.ndarray]:
    """A shard's hashes and vectors, checked: page checksums, finite unit vectors."""
    table = pq.read_table(path, page_checksum_verification=True)
    hashes = table.column("text_sha256").to_pylist()
    flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = flat.reshape(len(hashes), -1).astype(np.float32, copy=False)
    norms = np.linalg.norm(vectors, axis=1)
    unit = np.isclose(norms, 1, atol=1e-3) | (norms == 0)
    if len(set(hashes)) != len(hashes) or not np.isfinite(vectors).all() or not unit.all():
        raise ValueError("vectors that are not unit length, or repeated hashes")
    return hashes, vectors


def embedding_cache(out: Path, key: str) -> EmbeddingCache:
    """The loaded embedding cache of output folder ``out`` for embedder ``key``."""
    from pipeline.store.layout import Layout

    return EmbeddingCache(Layout(out).embeddings, key).load()
