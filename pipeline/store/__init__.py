"""The store: everything the pipeline keeps under ``OUT/`` (runs, ``latest``, caches, curation).

Imports are lazy (PEP 562), so ``from pipeline.store import …`` costs only what is used:
the CLI probes the lock without loading pandas or pyarrow.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EmbeddingCache": "embedding_cache",
    "Layout": "layout",
    "Changes": "records", "Counts": "records", "Manifest": "records",
    "PreviousRun": "reader", "Run": "reader", "latest_run_id": "reader", "list_runs": "reader",
    "load_run": "reader", "previous_run": "reader", "read_manifest": "reader",
    "RunWriter": "writer", "new_run_id": "writer",
    "raise_if_locked": "lock", "run_lock": "lock",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pipeline.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipeline.store.{_EXPORTS[name]}"), name)
