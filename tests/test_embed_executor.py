"""The executor seam: where the embedding batches run never changes a vector, only the cache
misses are sent, and Dask (a real LocalCluster, the real model) gives the in-process vectors."""

from __future__ import annotations

import pickle
import socket
import sys

import dask.config
import numpy as np
import pytest
from conftest import SAMPLE_CSV
from fakes import FakeEmbedder

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.embed import (EmbeddingError, LocalExecutor, encoded, executor_from_config, text_hash,
                            ticket_embeddings)
from pipeline.embed.dask_executor import DaskExecutor
from pipeline.embed.executor import TEXTS_PER_BATCH
from pipeline.errors import EXIT_CONFIG
from pipeline.store import EmbeddingCache


class Recording:
    """Runs the batches in reverse order (as a cluster might finish them) and records them."""

    name = "recording"

    def __init__(self):
        self.batches: list = []

    def map(self, work, items, *, progress=False):
        self.batches.append(list(items))
        done = {i: work(items[i]) for i in reversed(range(len(items)))}
        return [done[i] for i in range(len(items))]


class Refusing:
    name = "refusing"

    def map(self, work, items, *, progress=False):
        pytest.fail("the executor was used although every text was in the cache")


def texts_of(n: int) -> list[str]:
    rng = np.random.default_rng(3)
    words = ["card", "payment", "declined", "refund", "app", "crash", "login", "reset", "fee", "transfer"]
    return [" ".join(rng.choice(words, size=rng.integers(1, 30))) + f" #{i}" for i in range(n)]


def embed(texts, embedder, cache=None, executor=None, shard="run-1"):
    return ticket_embeddings(texts, embedder, cache, shard_name=shard, model_name="fake",
                             progress=False, executor=executor)


# --- the seam, with the fake embedder ------------------------------------------------------

def test_fake_embedder_is_deterministic_and_similar_texts_are_close():
    fake = FakeEmbedder()
    a, b, c = fake.encode(["my card has not arrived", "my card still has not arrived",
                           "what exchange rate do you use"]).vectors
    assert fake.encode(["my card has not arrived"]).vectors.shape == (1, 384)
    np.testing.assert_array_equal(FakeEmbedder().encode(["my card has not arrived"]).vectors[0], a)
    assert a @ b > 0.8 and abs(a @ c) < 0.3


def test_a_plain_embedder_gets_length_sorted_batches_and_its_vectors_in_order():
    texts, fake, executor = texts_of(150), FakeEmbedder(), Recording()
    result = embed(texts, fake, executor=executor)
    [batches] = executor.batches
    assert [len(b) for b in batches] == [TEXTS_PER_BATCH, TEXTS_PER_BATCH, 150 - 2 * TEXTS_PER_BATCH]
    lengths = [len(t) for b in batches for t in b]
    assert lengths == sorted(lengths)
    assert sorted(t for b in batches for t in b) == sorted(texts)
    np.testing.assert_array_equal(result.vectors, fake.encode(texts).vectors)
    assert result.manifest()["executor"] == "recording"


def test_only_cache_misses_are_sent_and_a_full_cache_sends_nothing(tmp_path):
    texts, fake = texts_of(40), FakeEmbedder()
    cache = EmbeddingCache(tmp_path, fake.key).load()
    first = embed(texts[:30], fake, cache)
    executor = Recording()
    mixed = embed(texts[20:] + texts[35:], fake, cache, executor, shard="run-2")
    assert sorted(t for b in executor.batches[0] for t in b) == sorted(texts[30:])   # new, each once
    assert (mixed.cache_hits, mixed.cache_misses) == (10, 15)
    np.testing.assert_array_equal(mixed.vectors[:10], first.vectors[20:])
    again = embed(list(reversed(texts)), fake, cache, Refusing(), shard="run-3")
    assert (again.cache_hits, again.cache_misses) == (40, 0)


# --- the packaged backends: batches planned once, wherever they run ------------------------

def test_the_order_batches_run_in_does_not_change_a_vector(banking):
    texts = banking.queries["text"].tolist()[:200] + [" ".join(banking.queries["text"].tolist()[:40])]
    local = banking.embedder.encode(texts)
    executor = Recording()
    elsewhere = encoded(banking.embedder, texts, executor)
    assert len(executor.batches[0]) > 1
    np.testing.assert_array_equal(elsewhere.vectors, local.vectors)
    assert (elsewhere.long_texts, elsewhere.chunks) == (local.long_texts, local.chunks)
    assert local.long_texts == 1 and local.chunks >= 2


def test_an_embedder_travels_as_its_settings(banking):
    banking.embedder.encode(["loads the tokenizer and the session"])
    travelled = pickle.loads(pickle.dumps(banking.embedder))
    assert travelled.config == banking.embedder.config and travelled._tokenizer is None
    texts = banking.queries["text"].tolist()[:20]
    np.testing.assert_array_equal(travelled.encode(texts).vectors, banking.embedder.encode(texts).vectors)


def test_dask_local_cluster_gives_the_in_process_vectors(banking, tmp_path):
    """Two single-threaded worker processes, each loading the real model once."""
    texts = banking.queries["text"].tolist()[::12]
    assert len(texts) >= 50
    local = embed(texts, banking.embedder)
    cache = EmbeddingCache(tmp_path, banking.embedder.key).load()
    executor = executor_from_config(load_config(overrides={"embedding.executor": "dask",
                                                           "embedding.scheduler": "local:2"}).embedding)
    on_dask = embed(texts, banking.embedder, cache, executor)
    np.testing.assert_allclose(on_dask.vectors, local.vectors, atol=1e-6, rtol=0)
    assert on_dask.manifest()["executor"] == "dask local:2"
    found, cached = cache.lookup([text_hash(t) for t in texts])
    assert found.all()
    np.testing.assert_array_equal(cached, on_dask.vectors)


# --- one-line errors ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_with_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("pipeline.run.embedder_from_config", lambda config: FakeEmbedder())
    address = f"tcp://127.0.0.1:{free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["run", "--input", str(SAMPLE_CSV), "--out", str(tmp_path / "out"),
                     "--set", "embedding.executor=dask", "--set", f"embedding.scheduler={address}"])
    err = capsys.readouterr().err
    assert code == EXIT_CONFIG
    [line] = [line for line in err.splitlines() if line.startswith("iceberg: error: ")]
    assert line.startswith(f"iceberg: error: cannot reach the Dask scheduler at embedding.scheduler = "
                           f"{address!r}")
    assert "dask scheduler" in line and 'embedding.executor = "local"' in line
    assert "Traceback" not in err


def test_dask_not_installed_is_one_line_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "pipeline.embed.dask_executor")
    with pytest.raises(EmbeddingError, match=r"needs Dask distributed .*pip install 'ticket-iceberg\[dask\]'"):
        executor_from_config(load_config(overrides={"embedding.executor": "dask"}).embedding)


def test_a_scheduler_without_the_dask_executor_is_refused():
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"'embedding.executor' must be 'dask' when embedding.scheduler"):
        load_config(overrides={"embedding.scheduler": "tcp://scheduler:8786"})
    assert isinstance(executor_from_config(load_config().embedding), LocalExecutor)
    assert DaskExecutor("").name == "dask local"
