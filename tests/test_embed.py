"""Embedding with the real model (all-MiniLM-L6-v2, offline), its backends, and the cache."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import default_embedding_config
from tokenizers import Tokenizer

from pipeline.embed import (
    embedder_from_config,
    resolve_model_path,
    text_hash,
    ticket_embeddings,
)
from pipeline.store import EmbeddingCache

DIM = 384
MODEL_MAX_TOKENS = 256     # the model's sentence_bert_config max_seq_length


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def window() -> int:
    """Tokens of text per window: the configured window within the model's, less [CLS], [SEP]."""
    return min(MODEL_MAX_TOKENS, default_embedding_config().window_tokens) - 2


def embedder(**changes):
    return embedder_from_config(dataclasses.replace(default_embedding_config(), **changes))


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(Path(resolve_model_path("all-MiniLM-L6-v2")) / "tokenizer.json"))
    tokenizer.no_truncation()          # tokenizer.json truncates at 128 tokens
    tokenizer.no_padding()
    return tokenizer


def n_tokens(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


def topic_text(banking, intent: str, tokenizer: Tokenizer, min_tokens: int) -> str:
    """Real queries of one intent, repeated until the text has at least ``min_tokens`` tokens."""
    queries = banking.queries.loc[banking.queries["category"] == intent, "text"].tolist()
    parts: list[str] = []
    while n_tokens(tokenizer, " ".join(parts)) < min_tokens:
        assert len(parts) < 200, "the tokenizer should not truncate"
        parts.append(queries[len(parts) % len(queries)])
    return " ".join(parts)


# --- the vectors ------------------------------------------------------------------------

def test_vectors_are_unit_length_with_the_model_dimension(banking):
    vectors = banking.vectors
    assert banking.embedder.dim == DIM
    assert vectors.shape == (len(banking.queries), DIM)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_queries_are_closer_than_unrelated_ones(banking):
    a, b, unrelated = banking.embedder.encode([
        "My new card still hasn't arrived, when will it be delivered?",
        "I ordered a card two weeks ago and it never came in the post.",
        "What exchange rate do you use when I pay in euros abroad?",
    ]).vectors
    assert cosine(a, b)[0] > cosine(a, unrelated)[0] + 0.2
    assert cosine(a, b)[0] > cosine(b, unrelated)[0] + 0.2


def test_queries_of_one_intent_sit_together(banking):
    """Leave-one-out nearest neighbour finds the same intent far above chance (1/77)."""
    vectors, intents = banking.vectors, banking.queries["category"].to_numpy()
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    accuracy = (intents[similarity.argmax(axis=1)] == intents).mean()
    assert accuracy >= 0.70          # measured 0.78 with onnx-int8
    np.fill_diagonal(similarity, np.nan)
    closer = []
    for intent in np.unique(intents):
        own = intents == intent
        within = np.nanmean(similarity[np.ix_(own, own)])
        between = np.nanmean(similarity[np.ix_(own, ~own)])
        closer.append(within > between)
    assert np.mean(closer) >= 0.95   # measured 77 of 77 intents


# --- backends ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch_embedder():
    return embedder(backend="torch")


def test_onnx_int8_agrees_with_torch(banking, torch_embedder):
    texts = banking.queries["text"].iloc[::12].tolist()      # 52 real queries, all intents
    assert len(texts) >= 50
    onnx = banking.embedder.encode(texts).vectors
    exact = torch_embedder.encode(texts).vectors
    assert exact.shape == onnx.shape == (len(texts), DIM)
    agreement = cosine(onnx, exact)
    assert agreement.min() >= 0.97, texts[int(agreement.argmin())]
    assert agreement.mean() >= 0.99


def test_backends_have_distinct_cache_keys(banking, torch_embedder):
    keys = {banking.embedder.key, torch_embedder.key, embedder(backend="onnx").key,
            embedder(long_text="truncate").key, embedder(max_chunks=2).key}
    assert len(keys) == 5


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(Exception, match="onnx-int8.*torch.*'tensorflow'"):
        embedder(backend="tensorflow")


# --- long texts ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_text(banking, tokenizer):
    """Two topics, each longer than the window: card arrival, then exchange rates."""
    first = topic_text(banking, "card_arrival", tokenizer, window() + 20)
    second = topic_text(banking, "exchange_rate", tokenizer, window() + 20)
    text = f"{first} {second}"
    tokens = n_tokens(tokenizer, text)
    assert tokens > 2 * window()
    return {"first": first, "second": second, "text": text, "tokens": tokens}


def test_long_text_is_counted_and_chunked(banking, long_text):
    short = "Where is my card?"
    result = banking.embedder.encode([short, long_text["text"]])
    windows = math.ceil(long_text["tokens"] / window())
    assert result.long_texts == 1
    assert result.chunks == windows >= 3
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    # The short text is embedded as usual (int8 activations are quantised per batch, so a
    # vector moves a little with its batch companions: cosine ~0.98-1, not exactly 1).
    assert cosine(result.vectors[0], banking.embedder.encode([short]).vectors[0])[0] > 0.97


def test_chunking_sees_past_the_window_and_truncation_does_not(banking, long_text):
    chunked = banking.embedder.encode([long_text["text"]])
    truncated = embedder(long_text="truncate").encode([long_text["text"]])
    assert truncated.long_texts == 1 and truncated.chunks == 0
    first, second = banking.embedder.encode([long_text["first"], long_text["second"]]).vectors
    # Truncation keeps only the first window, which lies wholly inside the first topic.
    only_first = embedder(long_text="truncate").encode([long_text["first"]]).vectors[0]
    assert cosine(truncated.vectors[0], only_first)[0] > 0.999
    # Chunking mean-pools every window, so the second topic counts.
    assert cosine(chunked.vectors[0], second)[0] > cosine(truncated.vectors[0], second)[0] + 0.1
    assert cosine(chunked.vectors[0], first)[0] > 0.6


def test_max_chunks_caps_the_windows(banking, long_text):
    capped = embedder(max_chunks=2).encode([long_text["text"]])
    full = banking.embedder.encode([long_text["text"]])
    assert capped.long_texts == 1 and capped.chunks == 2
    assert cosine(capped.vectors[0], full.vectors[0])[0] < 0.999


def test_torch_backend_counts_and_chunks_long_texts_too(long_text, torch_embedder, banking):
    result = torch_embedder.encode([long_text["text"]])
    onnx = banking.embedder.encode([long_text["text"]])
    assert (result.long_texts, result.chunks) == (onnx.long_texts, onnx.chunks)
    assert cosine(result.vectors[0], onnx.vectors[0])[0] >= 0.97


def test_row_order_does_not_change_any_vector(banking):
    """int8 activations are quantised per batch, so what shares a batch must not depend on
    row order: the same texts shuffled give bit-identical vectors (and so the same clusters)."""
    texts = banking.queries["text"].tolist()[:300]
    order = np.random.default_rng(7).permutation(len(texts))
    plain = ticket_embeddings(texts, banking.embedder, None, shard_name="-", model_name="m").vectors
    shuffled = ticket_embeddings([texts[i] for i in order], banking.embedder, None,
                                 shard_name="-", model_name="m").vectors
    np.testing.assert_array_equal(shuffled, plain[order])


# --- the cache ------------------------------------------------------------------------------

class Counting:
    """The real embedder, wrapped to record every call the cache lets through."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[list[str]] = []
        self.dim_reads = 0

    @property
    def key(self) -> str:
        return self.inner.key

    @property
    def dim(self) -> int:
        self.dim_reads += 1
        return self.inner.dim

    def encode(self, texts, *, progress=False):
        self.calls.append(list(texts))
        return self.inner.encode(texts, progress=progress)


def same_texts(vectors: np.ndarray, rows, banking) -> bool:
    """Each vector's nearest neighbour among the slice's embeddings is the text it was made from."""
    return list((vectors @ banking.vectors.T).argmax(axis=1)) == list(rows)


def embed(texts, counting, cache, shard="run-1"):
    return ticket_embeddings(texts, counting, cache, shard_name=shard, model_name="all-MiniLM-L6-v2")


@pytest.fixture
def texts(banking) -> list[str]:
    return banking.queries["text"].iloc[:40].tolist()


def test_first_call_misses_second_call_hits_without_encoding(tmp_path, banking, texts):
    counting = Counting(banking.embedder)
    cache = EmbeddingCache(tmp_path, counting.key).load()
    first = embed(texts, counting, cache)
    assert (first.cache_hits, first.cache_misses) == (0, len(texts))
    assert len(counting.calls) == 1 and sorted(counting.calls[0]) == sorted(texts)
    assert len(cache) == len(texts)
    assert same_texts(first.vectors, range(40), banking)

    second = embed(texts, counting, cache, shard="run-2")
    assert (second.cache_hits, second.cache_misses) == (len(texts), 0)
    assert len(counting.calls) == 1          # encode was not called again
    np.testing.assert_array_equal(second.vectors, first.vectors)
    assert second.manifest()["cache_hits"] == len(texts)
    assert second.manifest()["cache_misses"] == 0
    assert second.manifest()["dim"] == DIM
    assert not (cache.folder / "run-2.parquet").exists()     # nothing new to store


def test_mixed_old_and_new_texts_give_exact_counts(tmp_path, banking, texts):
    counting = Counting(banking.embedder)
    cache = EmbeddingCache(tmp_path, counting.key).load()
    embed(texts[:30], counting, cache)
    new = banking.queries["text"].iloc[100:110].tolist()
    batch = texts[10:30] + new + new[:3] + texts[:2]      # 22 old rows, 13 new rows (10 distinct)
    mixed = embed(batch, counting, cache, shard="run-2")
    assert (mixed.cache_hits, mixed.cache_misses) == (22, 13)
    assert len(counting.calls) == 2
    assert sorted(counting.calls[1]) == sorted(new)      # only the new texts, each once
    assert len(cache) == 40
    np.testing.assert_array_equal(mixed.vectors[30:33], mixed.vectors[20:23])
    assert same_texts(mixed.vectors, [*range(10, 30), *range(100, 110), 100, 101, 102, 0, 1], banking)


def test_duplicates_are_embedded_once(tmp_path, banking, texts):
    counting = Counting(banking.embedder)
    cache = EmbeddingCache(tmp_path, counting.key).load()
    a, b, c = texts[:3]
    result = embed([a, b, a, c, b, a], counting, cache)
    assert len(counting.calls) == 1 and sorted(counting.calls[0]) == sorted([a, b, c])
    assert result.cache_misses == 6 and result.cache_hits == 0
    assert len(cache) == 3
    np.testing.assert_array_equal(result.vectors[0], result.vectors[2])
    np.testing.assert_array_equal(result.vectors[1], result.vectors[4])
    assert cosine(result.vectors[0], result.vectors[1])[0] < 0.999


def test_cache_survives_reload_and_never_loads_the_model(tmp_path, banking, texts):
    counting = Counting(banking.embedder)
    first = embed(texts, counting, EmbeddingCache(tmp_path, counting.key).load())

    reloaded = EmbeddingCache(tmp_path, counting.key).load()      # a new object, from disk
    assert len(reloaded) == len(texts)
    found, vectors = reloaded.lookup([text_hash(t) for t in texts])
    assert found.all()
    np.testing.assert_array_equal(vectors, first.vectors)

    fresh = Counting(embedder())          # a new, never-loaded embedder
    again = embed(list(reversed(texts)), fresh, reloaded, shard="run-2")
    assert (again.cache_hits, again.cache_misses) == (len(texts), 0)
    assert fresh.calls == [] and fresh.dim_reads == 0
    np.testing.assert_array_equal(again.vectors, first.vectors[::-1])
    assert [p.name for p in sorted(reloaded.folder.iterdir())] == ["run-1.parquet"]


def test_cache_keeps_embedder_keys_apart(tmp_path, banking, texts):
    counting = Counting(banking.embedder)
    embed(texts[:5], counting, EmbeddingCache(tmp_path, counting.key).load())
    other = EmbeddingCache(tmp_path, embedder(long_text="truncate").key).load()
    assert len(other) == 0
    assert not other.lookup([text_hash(t) for t in texts[:5]])[0].any()
