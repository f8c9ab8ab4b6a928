"""``embedding.executor = "dask"``: the embedding batches run on a Dask distributed cluster.

The driver (the process running ``iceberg run``) still reads, cleans, tokenises and plans
the batches, looks the cache up, and does everything after embedding; only the batches of
cache misses travel, as padded token ids, to the workers. What travels with them is the
embedder's settings, never a loaded model (an ONNX Runtime session does not pickle): each
worker process loads the model once, on its first batch, and keeps it
(``onnx_backend._session``, ``torch_backend._model``). A ``WorkerPlugin`` sets the
model's intra-op threads in every worker to one, unless ``embedding.threads`` says
otherwise: a worker's own threads (``dask worker --nthreads``) run batches side by side.

``embedding.scheduler`` is a scheduler address (``tcp://host:8786``), or ``local:N`` for a
``LocalCluster`` of N single-threaded worker processes on this machine ("" = one per
core), started for the stage and closed after it.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import dask.config
import distributed
from dask.utils import parse_timedelta

from pipeline.embed.embedder import EmbeddingError, set_process_threads


class DaskExecutor:
    """Runs each batch as a Dask task; results come back in the batches' order."""

    def __init__(self, scheduler: str = ""):
        self.scheduler = scheduler

    @property
    def name(self) -> str:
        return f"dask {self.scheduler or 'local'}"

    def map(self, work: Callable[[Any], Any], items: Sequence[Any], *, progress: bool = False) -> list[Any]:
        if len(items) == 0:
            return []
        with self._client() as client:
            futures = client.map(work, list(items), pure=False)
            if progress:
                from tqdm.auto import tqdm

                for _ in tqdm(distributed.as_completed(futures), total=len(futures), desc="Embedding", unit="batch"):
                    pass
            return client.gather(futures)

    @contextmanager
    def _client(self) -> Iterator[Any]:
        if not self.scheduler or self.scheduler.startswith("local:"):
            workers = int(self.scheduler.partition(":")[2] or 0) or os.cpu_count() or 1
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                    distributed.Client(cluster) as client:
                client.register_plugin(ModelThreads())
                yield client
            return
        try:
            client = distributed.Client(self.scheduler)
        except (OSError, TimeoutError) as exc:
            raise EmbeddingError(
                f"cannot reach the Dask scheduler at embedding.scheduler = {self.scheduler!r} "
                f"({' '.join(str(exc).split())}); start one (`dask scheduler`, then `dask worker "
                f"{self.scheduler}`) or set embedding.executor = \"local\"") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=_connect_timeout())
            except (OSError, TimeoutError):
                raise EmbeddingError(
                    f"the Dask scheduler at {self.scheduler!r} has no workers; start one with "
                    f"`dask worker {self.scheduler}` or set embedding.executor = \"local\"") from None
            client.register_plugin(ModelThreads())
            yield client


def _connect_timeout() -> float:
    return parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s")


class ModelThreads(distributed.WorkerPlugin):
    """In every worker, ``embedding.threads = 0`` means one model thread per task."""

    name = "iceberg-model-threads"

    def setup(self, worker) -> None:
        set_process_threads(1)
