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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.groups.identity import KnownIcebergs
from pipeline.schemas import LINEAGE, TicketCols
from pipeline.store.atomic import atomic_write_json, atomic_write_parquet
from pipeline.store.runs import MANIFEST, runs_folder

FOLDER = "_resume"


@dataclass(frozen=True)
class Grouped:
    """The outcome of the cluster/assign + identify stages."""

    iceberg_ids: pd.DataFrame      # ticket_id, iceberg_id, membership
    lineage: pd.DataFrame
    known: KnownIcebergs
    decision: dict


def write_state(run_folder: Path, state: dict) -> None:
    atomic_write_json(state, Path(run_folder) / FOLDER / "state.json")


def write_grouped(run_folder: Path, grouped: Grouped) -> None:
    folder = Path(run_folder) / FOLDER
    atomic_write_parquet(pa.Table.from_pandas(grouped.iceberg_ids, preserve_index=False),
                         folder / "grouped.parquet")
    atomic_write_parquet(LINEAGE.to_arrow(grouped.lineage), folder / "lineage.parquet")
    known = grouped.known
    dim = known.centroids.shape[1]
    atomic_write_parquet(pa.table({
        "iceberg_id": pa.array(known.ids, pa.string()),
        "active": pa.array(known.active.tolist(), pa.bool_()),
        "centroid": pa.FixedSizeListArray.from_arrays(pa.array(known.centroids.astype(np.float32).ravel()),
                                                      dim)}), folder / "registry.parquet")
    atomic_write_json(grouped.decision, folder / "decision.json")   # last: marks the stage done


def read_grouped(run_folder: Path) -> Grouped | None:
    folder = Path(run_folder) / FOLDER
    if not (folder / "decision.json").is_file():
        return None
    ids = pq.read_table(folder / "grouped.parquet").to_pandas()
    lineage = pq.read_table(folder / "lineage.parquet").to_pandas()
    table = pq.read_table(folder / "registry.parquet")
    names = table.column("iceberg_id").to_pylist()
    dim = table.schema.field("centroid").type.list_size
    flat = table.column("centroid").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    members = {i: frozenset(g) for i, g in
               ids.dropna(subset=[TicketCols.iceberg_id]).groupby(TicketCols.iceberg_id)[TicketCols.ticket_id]}
    known = KnownIcebergs(names, flat.reshape(len(names), dim).astype(np.float32),
                          np.array(table.column("active").to_pylist(), dtype=bool), members)
    decision = json.loads((folder / "decision.json").read_text(encoding="utf-8"))
    return Grouped(ids, lineage, known, decision)


def resumable_run(out: Path, state: dict) -> str | None:
    """The newest unfinished (killed or failed) run started with the same ``state``."""
    for folder in sorted(runs_folder(out).glob("*"), reverse=True):
        manifest = folder / MANIFEST
        if manifest.is_file():
            status = json.loads(manifest.read_text(encoding="utf-8")).get("status")
            if status != "failed":
                continue
        try:
            saved = json.loads((folder / FOLDER / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved == json.loads(json.dumps(state, default=str)):
            return folder.name
    return None


def clear(run_folder: Path) -> None:
    shutil.rmtree(Path(run_folder) / FOLDER, ignore_errors=True)
