"""Run history for ``iceberg runs`` and ``iceberg diff``: read from the manifests and tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.ops.changes import CHANGES_FILE, iceberg_changes, with_alerts
from pipeline.config import AlertsConfig
from pipeline.store import RunNotFound, list_runs, load_run
from pipeline.store.runs import latest_run_id


def run_rows(out: str | Path) -> list[dict]:
    """One summary per run folder (oldest first), unfinished ones included."""
    latest = latest_run_id(Path(out))
    rows = []
    for m in list_runs(out):
        counts, inc, changes = m.get("counts", {}), m.get("incremental", {}), m.get("changes", {})
        seconds = sum(s.get("seconds") or 0 for s in m.get("stages", []))
        rows.append({"run_id": m["run_id"], "latest": m["run_id"] == latest, "status": m.get("status"),
                     "mode": inc.get("mode"), "started_at": m.get("started_at"),
                     "tickets": counts.get("tickets"), "new_tickets": inc.get("new_tickets"),
                     "icebergs": counts.get("icebergs"), "new": changes.get("new"),
                     "alerts": changes.get("alerts"), "seconds": round(seconds, 1) if seconds else None,
                     "error": m.get("error")})
    return rows


def runs_table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    frame["run_id"] = [("* " if r["latest"] else "  ") + r["run_id"] for r in rows]
    columns = ["run_id", "status", "mode", "started_at", "tickets", "new_tickets", "icebergs", "new",
               "alerts", "seconds"]
    text = frame[columns].astype(object).where(frame[columns].notna(), "-").to_string(index=False)
    return text + "\n(* = latest)"


def run_manifest(out: str | Path, run_id: str | None = None) -> dict:
    """A run's manifest; unlike ``load_run`` this also shows failed runs."""
    if run_id is None:
        return load_run(out).manifest
    path = Path(out) / "runs" / run_id / "manifest.json"
    if not path.is_file():
        raise RunNotFound(f"run {run_id!r} has no manifest under {str(out)!r}; see `iceberg runs list --out {out}`")
    return json.loads(path.read_text(encoding="utf-8"))


def changes_between(out: str | Path, run_a: str | None = None, run_b: str | None = None) -> dict:
    """Changes from ``run_a`` to ``run_b`` (defaults: the latest run's own changes.json;
    ``run_a`` alone: against the latest run)."""
    b = load_run(out, run_b)
    stored = b.folder / CHANGES_FILE
    if run_a is None and stored.is_file():
        return json.loads(stored.read_text(encoding="utf-8"))
    if run_a is None:
        run_a = b.manifest.get("incremental", {}).get("previous_run_id")
        if run_a is None:
            raise RunNotFound(f"run {b.run_id!r} has no previous run to compare with")
    a = load_run(out, run_a)
    if stored.is_file():
        saved = json.loads(stored.read_text(encoding="utf-8"))
        if saved.get("previous_run_id") == a.run_id:
            return saved
    # Identity events of every run after A up to B, the latest event per id winning.
    finished = [m["run_id"] for m in list_runs(out) if m.get("status") == "succeeded"]
    between = [r for r in finished if a.run_id < r <= b.run_id]
    lineage = pd.concat([load_run(out, r).lineage for r in reversed(between)] or [b.lineage],
                        ignore_index=True)
    rules = AlertsConfig(**{k: v for k, v in b.manifest.get("config", {}).get("alerts", {}).items()
                            if k in AlertsConfig.__dataclass_fields__})
    changes = iceberg_changes(a.icebergs, b.icebergs, lineage, run_id=b.run_id, previous_run_id=a.run_id,
                              mode=None)
    return with_alerts(changes, rules)
