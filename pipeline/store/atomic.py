"""Atomic file writes: write to a temporary file beside the target, fsync, rename.

A reader (or a run killed half-way) never sees a half-written file: the target either
holds its previous content or the complete new one. A write that the system refuses
(disk full, read-only, a file where a folder should be) raises ``OutputError`` naming the
path, and leaves no temporary file behind.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from pipeline.errors import OutputError

if TYPE_CHECKING:
    import pyarrow as pa

_REMEDIES = {
    errno.ENOSPC: "the disk is full: free some space or pass another --out",
    errno.EDQUOT: "the disk quota is exceeded: free some space or pass another --out",
    errno.EROFS: "the file system is read-only: pass a writable --out",
    errno.EACCES: "permission denied: pass a folder you can write to as --out",
    errno.EPERM: "permission denied: pass a folder you can write to as --out",
    errno.ENOTDIR: "a file is in the way of a folder: pass a folder (not a file) as --out",
    errno.EEXIST: "a file is in the way of a folder: pass a folder (not a file) as --out",
}


def output_error(exc: OSError, path: Path) -> OutputError:
    remedy = _REMEDIES.get(exc.errno, "check the output folder and pass a writable --out")
    return OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}; {remedy}")


def ensure_folder(path: Path) -> Path:
    """``path`` as an existing, writable folder (created if missing), or ``OutputError``."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise OSError(errno.ENOTDIR, "it is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        if not _writable(path):
            raise OSError(errno.EACCES, "not writable")
    except OSError as exc:
        raise output_error(exc, path) from exc
    return path


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise output_error(exc, path) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_parquet(table: "pa.Table", path: Path) -> None:
    """Zstd-compressed, with page checksums (``read_parquet`` verifies them)."""
    import pyarrow.parquet as pq

    with _replacing(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)


def atomic_write_text(text: str, path: Path) -> None:
    with _replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(data: Any, path: Path) -> None:
    atomic_write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", path)
