"""The embed stage: every ticket's unit vector, from the cache or from the embedder."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
from sklearn.preprocessing import normalize

from pipeline.embed.embedder import Embedder, EncodeResult, text_hash
from pipeline.embed.executor import Executor, LocalExecutor, encoded


class VectorCache(Protocol):
    """Where vectors are looked up by text hash and added (see ``pipeline.store``)."""

    def lookup(self, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]: ...

    def add(self, hashes: Sequence[str], vectors: np.ndarray, shard_name: str) -> None: ...


@dataclass(frozen=True)
class Embeddings:
    vectors: np.ndarray
    model: str
    key: str
    cache_hits: int
    cache_misses: int
    encoded: EncodeResult      # what the embedder computed this time (the cache misses)
    encode_seconds: float
    executor: str = "local"    # where the misses were embedded (``Executor.name``)
    subjects: int = 0          # tickets whose subject is weighed in (``problem_embeddings``)…
    subject_cache_misses: int = 0   # …and those subjects not found in the cache

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def manifest(self) -> dict:
        rate = len(self.encoded.vectors) / self.encode_seconds if self.encode_seconds else None
        return {"model": self.model, "key": self.key, "dim": self.dim,
                "cache_hits": self.cache_hits, "cache_misses": self.cache_misses,
                "long_texts": self.encoded.long_texts, "long_text_windows": self.encoded.chunks,
                "encode_seconds": round(self.encode_seconds, 3), "executor": self.executor,
                "subjects": self.subjects, "subject_cache_misses": self.subject_cache_misses,
                "texts_per_second": round(rate, 1) if rate else None}


def ticket_embeddings(texts: Sequence[str], embedder: Embedder, cache: VectorCache | None,
                      *, shard_name: str, model_name: str, progress: bool | None = None,
                      executor: Executor | None = None) -> Embeddings:
    """Embed ``texts`` (already cleaned and redacted), reusing cached vectors.

    Identical texts are embedded once; the model is not even loaded, nor ``executor``
    (default: this process) used, when every text is in the cache. Only the misses go to it.
    """
    executor = executor or LocalExecutor()
    if progress is None:
        progress = sys.stderr.isatty()
    hashes = [text_hash(t) for t in texts]
    found, cached = (cache.lookup(hashes) if cache is not None
                     else (np.zeros(len(texts), dtype=bool), None))
    missing = np.flatnonzero(~found)
    # First occurrence wins. Sorted by hash, so the batches the texts are embedded in (and
    # int8 activations are quantised per batch) depend on which texts, not on row order.
    unique_missing = dict(sorted({hashes[i]: i for i in missing[::-1]}.items()))
    started = time.perf_counter()
    if unique_missing:
        result = encoded(embedder, [texts[i] for i in unique_missing.values()], executor, progress=progress)
        dim = result.vectors.shape[1]
    else:
        dim = cached.shape[1] if cached is not None else embedder.dim
        result = EncodeResult(np.zeros((0, dim), dtype=np.float32))
    encode_seconds = time.perf_counter() - started
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    if cached is not None:
        vectors[found] = cached
    if unique_missing:
        row_of = {h: j for j, h in enumerate(unique_missing)}
        vectors[missing] = result.vectors[[row_of[hashes[i]] for i in missing]]
        if cache is not None:
            cache.add(list(unique_missing), result.vectors, shard_name)
    return Embeddings(vectors=vectors, model=model_name, key=embedder.key,
                      cache_hits=int(found.sum()), cache_misses=len(missing),
                      encoded=result, encode_seconds=encode_seconds, executor=executor.name)


def given_subjects(subjects: Sequence[str]) -> np.ndarray:
    """Which tickets have a subject to weigh in (not empty once cleaned)."""
    return np.array([isinstance(s, str) and bool(s.strip()) for s in subjects], dtype=bool)


def cached_problem_vectors(cache: VectorCache, texts: Sequence[str], subjects: Sequence[str] | None,
                           subject_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The problem vectors ``problem_embeddings`` gave these tickets, from ``cache`` alone,
    and a mask of the tickets whose vectors were all there (the other rows are zeros)."""
    found, vectors = cache.lookup([text_hash(t) for t in texts])
    dim = vectors.shape[1] if vectors is not None and len(vectors) else 1
    full = np.zeros((len(texts), dim), dtype=np.float32)
    if vectors is not None:
        full[found] = vectors
    if subjects is not None and subject_weight:
        rows = np.flatnonzero(given_subjects(subjects))
        hit, titles = cache.lookup([text_hash(subjects[i]) for i in rows])
        if titles is not None and len(titles):
            full[rows[hit]] += subject_weight * titles
        found = found & ~np.isin(np.arange(len(texts)), rows[~hit])
        full = normalize(full)
    return full, found


def problem_embeddings(texts: Sequence[str], subjects: Sequence[str] | None, embedder: Embedder,
                       cache: VectorCache | None, *, subject_weight: float, shard_name: str,
                       model_name: str, progress: bool | None = None,
                       executor: Executor | None = None) -> Embeddings:
    """Each ticket's problem vector: ``subject_weight`` times its subject's embedding plus its
    text's (the reporter's words), scaled to unit length.

    What the reporter names the problem — a subject, summary or title — says what the
    ticket is about more directly than anything under it, and a long body (logs pasted, a
    story told) would otherwise outweigh it. Tickets without a subject get their text's
    vector; with ``subjects`` None or a weight of 0, that is every ticket.
    """
    body = ticket_embeddings(texts, embedder, cache, shard_name=shard_name, model_name=model_name,
                             progress=progress, executor=executor)
    if subjects is None or subject_weight == 0:
        return body
    given = given_subjects(subjects)
    if not given.any():
        return body
    titles = ticket_embeddings([subjects[i] for i in np.flatnonzero(given)], embedder, cache,
                               shard_name=f"{shard_name}-subjects", model_name=model_name,
                               progress=progress, executor=executor)
    vectors = body.vectors.copy()
    vectors[given] += subject_weight * titles.vectors
    vectors = normalize(vectors)
    encoded_both = EncodeResult(np.concatenate([body.encoded.vectors, titles.encoded.vectors]),
                                long_texts=body.encoded.long_texts + titles.encoded.long_texts,
                                chunks=body.encoded.chunks + titles.encoded.chunks)
    return Embeddings(vectors=vectors.astype(np.float32), model=model_name, key=embedder.key,
                      cache_hits=body.cache_hits, cache_misses=body.cache_misses, encoded=encoded_both,
                      encode_seconds=body.encode_seconds + titles.encode_seconds,
                      executor=body.executor, subjects=int(given.sum()),
                      subject_cache_misses=titles.cache_misses)
