"""One run at a time per output folder: a non-blocking lock on ``OUT/.lock``.

The lock is an OS file lock (``filelock``: ``flock`` on POSIX), so the operating system
releases it when the holder exits for any reason, ``kill -9`` included: a killed run
never leaves a stale lock behind. A second run on the same ``OUT`` does not wait; it
raises ``LockHeld`` at once (the CLI turns that into exit code 6).
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from pipeline.errors import LockHeld

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.holder.json"   # who holds it (informational; the lock itself is the OS lock)


def lock_path(out: Path) -> Path:
    return Path(out) / LOCK_FILE


@contextmanager
def run_lock(out: str | Path, run_id: str = "") -> Iterator[None]:
    """Hold ``OUT/.lock`` for the duration, or raise ``LockHeld`` immediately."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(out)), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        holder = lock_holder(out)
        who = f" (run {holder.get('run_id')}, pid {holder.get('pid')}, since {holder.get('since')})" if holder else ""
        raise LockHeld(f"another iceberg run is writing to {str(out)!r}{who}; wait for it to finish "
                       "or pass a different --out") from exc
    holder_path = out / HOLDER_FILE
    try:
        holder_path.write_text(json.dumps({
            "pid": os.getpid(), "run_id": run_id,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}), encoding="utf-8")
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()


def lock_holder(out: str | Path) -> dict:
    """What the holder wrote about itself, or ``{}``."""
    try:
        return json.loads((Path(out) / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
