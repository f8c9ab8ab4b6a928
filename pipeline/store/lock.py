"""One run at a time per output folder: a non-blocking lock on ``OUT/.lock``.

The lock is an OS file lock (``filelock``: ``flock`` on POSIX), so the operating system
releases it when the holder exits for any reason, ``kill -9`` included: a killed run
never leaves a stale lock behind. A second run on the same ``OUT`` does not wait; it
raises ``LockHeld`` at once (the CLI turns that into exit code 6). This module imports
nothing heavy, so the CLI can probe the lock before loading pandas.
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
from pipeline.store.atomic import ensure_folder
from pipeline.store.layout import Layout


@contextmanager
def run_lock(out: str | Path, run_id: str = "") -> Iterator[None]:
    """Hold ``OUT/.lock`` for the duration, or raise ``LockHeld`` immediately."""
    layout = Layout(ensure_folder(Path(out)))
    lock = FileLock(str(layout.lock), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockHeld(_held_message(layout)) from exc
    try:
        layout.lock_holder.write_text(json.dumps({
            "pid": os.getpid(), "run_id": run_id,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}), encoding="utf-8")
        yield
    finally:
        layout.lock_holder.unlink(missing_ok=True)
        lock.release()


def raise_if_locked(out: str | Path) -> None:
    """``LockHeld`` when another run holds ``OUT/.lock`` now; takes nothing."""
    layout = Layout(out)
    if not layout.lock.exists():
        return
    probe = FileLock(str(layout.lock), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        raise LockHeld(_held_message(layout)) from None
    probe.release()


def lock_holder(out: str | Path) -> dict:
    """What the holder wrote about itself, or ``{}``."""
    try:
        return json.loads(Layout(out).lock_holder.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _held_message(layout: Layout) -> str:
    holder = lock_holder(layout.out)
    who = f" (run {holder.get('run_id')}, pid {holder.get('pid')}, since {holder.get('since')})" if holder else ""
    return (f"another iceberg run is writing to {str(layout.out)!r}{who}; wait for it to finish "
            "or pass a different --out")
