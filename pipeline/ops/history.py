"""Run history for ``iceberg runs`` and ``iceberg diff``: read through the store's read API."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.errors import RunNotFound
from pipeline.ops.changes import iceberg_changes, with_alerts
from pipeline.store.reader import latest_run_id, list_runs, load_run, read_manifest
from pipeline.store.records import Changes, Manifest


def run_rows(out: str | Path) -> list[dict]:
    """One summary per run folder (oldest first), unfinished ones included."""
    latest = latest_run_id(Path(out))
    rows = []
    for m in list_runs(out):
        if isinstance(m, str):
            rows.append({"run_id": m, "latest": False, "status": "incomplete"})
            continue
        counts, inc, changes = m.counts, m.incremental, m.changes
        seconds = sum(s.get("seconds") or 0 for s in m.stages)
        rows.append({"run_id": m.run_id, "latest": m.run_id == latest, "status": m.status,
                     "mode": inc.get("mode"), "started_at": m.started_at,
                     "tickets": counts.tickets if counts else None, "new_tickets": inc.get("new_tickets"),
                     "icebergs": counts.icebergs if counts else None, "new": changes.get("new"),
                     "alerts": changes.get("alerts"), "seconds": round(seconds, 1) if seconds else None,
                     "error": m.error})
    return rows


def runs_table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    frame["run_id"] = [("* " if r["latest"] else "  ") + r["run_id"] for r in rows]
    columns = ["run_id", "status", "mode", "started_at", "tickets", "new_tickets", "icebergs", "new",
               "alerts", "seconds"]
    frame = frame.reindex(columns=columns)
    text = frame.astype(object).where(frame.notna(), "-").to_string(index=False)
    return text + "\n(* = latest)"


def run_manifest(out: str | Path, run_id: str | None = None) -> Manifest:
    """A run's manifest; unlike ``load_run`` this also shows failed runs."""
    if run_id is None:
        return load_run(out).manifest
    return read_manifest(out, run_id)


def changes_between(out: str | Path, run_a: str | None = None, run_b: str | None = None) -> Changes:
    """Changes from ``run_a`` to ``run_b`` (defaults: the latest run's own changes.json;
    ``run_a`` alone: against the latest run)."""
    b = load_run(out, run_b)
    stored = b.changes
    if run_a is None and stored is not None:
        return stored
    if run_a is None:
        run_a = b.manifest.incremental.get("previous_run_id")
        if run_a is None:
            raise RunNotFound(f"run {b.run_id!r} has no previous run to compare with")
    a = load_run(out, run_a)
    if stored is not None and stored.previous_run_id == a.run_id:
        return stored
    # Identity events of every run after A up to B, the latest event per id winning.
    finished = [m.run_id for m in list_runs(out) if isinstance(m, Manifest) and m.succeeded]
    between = [r for r in finished if a.run_id < r <= b.run_id]
    lineage = pd.concat([load_run(out, r).lineage for r in reversed(between)] or [b.lineage],
                        ignore_index=True)
    changes = iceberg_changes(a.icebergs, b.icebergs, lineage, run_id=b.run_id, previous_run_id=a.run_id,
                              mode=None)
    return Changes.from_dict(with_alerts(changes, b.config.alerts))
