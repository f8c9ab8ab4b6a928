"""Atomic file writes: write to a temporary file beside the target, fsync, rename.

A reader (or a run killed half-way) never sees a half-written file: the target either
holds its previous content or the complete new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_parquet(table: pa.Table, path: Path) -> None:
    with _replacing(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def atomic_write_text(text: str, path: Path) -> None:
    with _replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(data: Any, path: Path) -> None:
    atomic_write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", path)

