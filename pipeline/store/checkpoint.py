"""Checkpoints that let ``--resume`` reuse the stages a killed run finished.

A run writes ``OUT/runs/<run_id>/_resume/`` as it goes (each file atomically):
``state.json`` (what the run is computing: input sha256, resolved config, previous
run, requested mode) first, then ``grouped.parquet`` + ``lineage.parquet`` +
``registry.parquet`` + ``decision.json`` once its icebergs are decided (the cluster /
assign and identify stages). Embeddings need no checkpoint: the embedding cache keeps
every vector a run computed. ``iceberg run --resume`` picks the newest unfinished run
whose ``state.json`` matches the same input, config, previous run and mode, reuses its
run id and folder, and skips what its checkpoint holds; the folder is removed once the
run's manifest is written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.groups.outcome import Grouped
from pipeline.schemas import LINEAGE
from pipeline.store.atomic import atomic_write_json, atomic_write_parquet
from pipeline.store.layout import MANIFEST, RESUME, Layout
from pipeline.store.records import FAILED
from pipeline.store.registry import read_registry, write_registry


def write_state(run_folder: Path, state: dict) -> None:
    atomic_write_json(state, Path(run_folder) / RESUME / "state.json")


def write_grouped(run_folder: Path, grouped: Grouped) -> None:
    folder = Path(run_folder) / RESUME
    atomic_write_parquet(pa.Table.from_pandas(grouped.assignments, preserve_index=False),
                         folder / "grouped.parquet")
    atomic_write_parquet(LINEAGE.to_arrow(grouped.lineage), folder / "lineage.parquet")
    write_registry(grouped.known, folder / "registry.parquet")
    atomic_write_json({"decision": grouped.decision, "stats": grouped.stats},
                      folder / "decision.json")   # last: marks the stage done


def read_grouped(run_folder: Path) -> Grouped | None:
    folder = Path(run_folder) / RESUME
    try:
        recorded = json.loads((folder / "decision.json").read_text(encoding="utf-8"))
        assignments = pq.read_table(folder / "grouped.parquet").to_pandas()
        lineage = pq.read_table(folder / "lineage.parquet").to_pandas()
        known = read_registry(folder / "registry.parquet", assignments)
    except (OSError, ValueError, KeyError):
        return None   # no checkpoint, or a damaged one: decide the icebergs again
    return Grouped(assignments, lineage, known, stats=recorded.get("stats", {}),
                   decision=recorded.get("decision", {}))


def resumable_run(out: Path, state: dict) -> str | None:
    """The newest unfinished (killed or failed) run started with the same ``state``."""
    runs = Layout(out).runs
    for folder in sorted(runs.glob("*"), reverse=True) if runs.is_dir() else []:
        manifest = folder / MANIFEST
        if manifest.is_file():
            try:
                status = json.loads(manifest.read_text(encoding="utf-8")).get("status")
            except (OSError, ValueError):
                continue
            if status != FAILED:
                continue
        try:
            saved = json.loads((folder / RESUME / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved == json.loads(json.dumps(state, default=str)):
            return folder.name
    return None


def clear(run_folder: Path) -> None:
    shutil.rmtree(Path(run_folder) / RESUME, ignore_errors=True)
