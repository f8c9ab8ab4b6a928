"""The store: everything the pipeline keeps under ``OUT/`` (runs, ``latest``, caches)."""

from pipeline.store.embedding_cache import EmbeddingCache
from pipeline.store.runs import (Run, RunNotFound, RunWriter, UnsupportedSchema, cache_folder,
                                 latest_run_id, list_runs, load_run, new_run_id)

__all__ = ["EmbeddingCache", "Run", "RunNotFound", "RunWriter", "UnsupportedSchema", "cache_folder",
           "latest_run_id", "list_runs", "load_run", "new_run_id"]
