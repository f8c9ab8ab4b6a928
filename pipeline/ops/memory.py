"""The process's peak resident memory (RSS) while a block of work runs: each stage's
``peak_rss_mb`` in the manifest.

Two readings are combined, so the figure costs nothing and needs no extra package:

- the kernel's high-water mark of the whole process (``resource.getrusage``'s
  ``ru_maxrss``): when it rose during the block, the block set a new peak and that value
  is exact;
- otherwise the block stayed below an earlier peak, and its own peak is the largest RSS
  sampled every ``interval`` seconds by a daemon thread (``/proc/self/statm`` on Linux,
  psutil elsewhere when installed) — a spike shorter than the interval can go unseen.

The high-water mark is never reset (``/proc/self/clear_refs`` could), so whoever measures
the process from outside (``/usr/bin/time``, a parent's ``RUSAGE_CHILDREN``) still sees
its true peak.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

INTERVAL_S = 0.02
_MB = 1024 * 1024


def high_water_mb() -> float:
    """The process's peak RSS so far, in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MB if sys.platform == "darwin" else peak / 1024


def _rss_reader() -> Callable[[], float] | None:
    """A function returning the current RSS in MiB, or None where none is available."""
    if os.path.exists("/proc/self/statm"):
        page = os.sysconf("SC_PAGE_SIZE")

        def from_proc() -> float:
            with open("/proc/self/statm", "rb") as statm:
                return int(statm.read().split()[1]) * page / _MB
        return from_proc
    try:
        import psutil
    except ImportError:
        return None
    process = psutil.Process()
    return lambda: process.memory_info().rss / _MB


_current_rss = _rss_reader()


def current_rss_mb() -> float | None:
    """The process's resident memory now, in MiB (None where it cannot be read)."""
    return _current_rss() if _current_rss is not None else None


@contextmanager
def peak_rss(record: dict, key: str = "peak_rss_mb", interval: float = INTERVAL_S) -> Iterator[dict]:
    """Set ``record[key]`` to the peak RSS in MiB (rounded to 0.1) of the process during the block."""
    before = high_water_mb()
    sampled = [current_rss_mb() or 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            sampled[0] = max(sampled[0], current_rss_mb() or 0.0)

    sampler = threading.Thread(target=sample, name="iceberg-peak-rss", daemon=True)
    if _current_rss is not None:
        sampler.start()
    try:
        yield record
    finally:
        stop.set()
        if sampler.is_alive():
            sampler.join()
        after = high_water_mb()
        peak = after if after > before else max(sampled[0], current_rss_mb() or 0.0)
        record[key] = round(peak if peak > 0 else after, 1)
