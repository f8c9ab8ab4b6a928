"""The run folder: ``OUT/runs/<run_id>/``, written atomically, manifest last.

``OUT/latest`` (a text file holding a run id) moves only after every file of a run is
complete and its manifest says ``succeeded``, so a crashed or killed run never becomes
latest. Readers check ``schema_version`` and refuse versions they do not know.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import RunNotFound, UnsupportedSchema
from pipeline.groups.identity import KnownIcebergs
from pipeline.schemas import (ATTRIBUTES, ICEBERGS, LINEAGE, QUARANTINE, SUPPORTED_SCHEMA_VERSIONS,
                              TICKETS, TIMELINE, TableSchema, TicketCols)
from pipeline.store.atomic import atomic_write_json, atomic_write_parquet, atomic_write_text

MANIFEST = "manifest.json"
LATEST = "latest"
REGISTRY = "registry.parquet"   # every iceberg id so far, with its last centroid
TABLE_FILES: dict[str, TableSchema] = {
    "tickets.parquet": TICKETS, "icebergs.parquet": ICEBERGS, "attributes.parquet": ATTRIBUTES,
    "timeline.parquet": TIMELINE, "lineage.parquet": LINEAGE, "quarantine.parquet": QUARANTINE,
}


def new_run_id(now: datetime | None = None) -> str:
    """UTC start time to the millisecond, then a random tag: ids sort in the order runs began
    (``list_runs`` and ``iceberg diff`` rely on it), even for runs within the same second."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def runs_folder(out: Path) -> Path:
    return Path(out) / "runs"


def cache_folder(out: Path) -> Path:
    return Path(out) / "cache" / "embeddings"


@dataclass(frozen=True)
class RunWriter:
    out: Path
    run_id: str

    @property
    def folder(self) -> Path:
        return runs_folder(self.out) / self.run_id

    def write_table(self, filename: str, frame: pd.DataFrame) -> None:
        atomic_write_parquet(TABLE_FILES[filename].to_arrow(frame), self.folder / filename)

    def write_registry(self, known: KnownIcebergs) -> None:
        dim = known.centroids.shape[1]
        table = pa.table({
            "iceberg_id": pa.array(known.ids, pa.string()),
            "active": pa.array(known.active.tolist(), pa.bool_()),
            "centroid": pa.FixedSizeListArray.from_arrays(
                pa.array(known.centroids.astype(np.float32).ravel()), dim),
        })
        atomic_write_parquet(table, self.folder / REGISTRY)

    def finish(self, manifest: dict) -> None:
        """Write the manifest (last), then point ``latest`` at this run."""
        atomic_write_json(manifest, self.folder / MANIFEST)
        if manifest.get("status") == "succeeded":
            atomic_write_text(self.run_id + "\n", Path(self.out) / LATEST)


def latest_run_id(out: Path) -> str | None:
    path = Path(out) / LATEST
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


@dataclass(frozen=True)
class Run:
    """A finished run, read back from its folder."""

    folder: Path
    manifest: dict

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    def table(self, name: str) -> pd.DataFrame:
        filename = name if name.endswith(".parquet") else f"{name}.parquet"
        if filename not in TABLE_FILES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLE_FILES)}")
        return pq.read_table(self.folder / filename).to_pandas()

    @property
    def tickets(self) -> pd.DataFrame:
        return self.table("tickets")

    @property
    def icebergs(self) -> pd.DataFrame:
        return self.table("icebergs")

    @property
    def attributes(self) -> pd.DataFrame:
        return self.table("attributes")

    @property
    def timeline(self) -> pd.DataFrame:
        return self.table("timeline")

    @property
    def lineage(self) -> pd.DataFrame:
        return self.table("lineage")

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.table("quarantine")

    def known_icebergs(self) -> KnownIcebergs:
        table = pq.read_table(self.folder / REGISTRY)
        ids = table.column("iceberg_id").to_pylist()
        dim = table.schema.field("centroid").type.list_size
        flat = table.column("centroid").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        tickets = pq.read_table(self.folder / "tickets.parquet",
                                columns=[TicketCols.ticket_id, TicketCols.iceberg_id]).to_pandas()
        members = {i: frozenset(g) for i, g in
                   tickets.dropna().groupby(TicketCols.iceberg_id)[TicketCols.ticket_id]}
        return KnownIcebergs(ids=ids, centroids=flat.reshape(len(ids), dim).astype(np.float32),
                             active=np.array(table.column("active").to_pylist(), dtype=bool),
                             members=members)


def load_run(out: str | Path, run_id: str | None = None) -> Run:
    """The run ``run_id`` under ``out``, or the latest finished one."""
    out = Path(out)
    run_id = run_id or latest_run_id(out)
    if run_id is None:
        raise RunNotFound(f"no finished run in {str(out)!r}; run `iceberg run --input FILE --out {out}` first")
    folder = runs_folder(out) / run_id
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise RunNotFound(f"run {run_id!r} has no manifest in {str(folder)!r} (it did not finish)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = manifest.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise UnsupportedSchema(
            f"run {run_id!r} uses schema_version {version!r}; this Iceberg reads "
            f"{sorted(SUPPORTED_SCHEMA_VERSIONS)}. Upgrade Iceberg (pip install -U ticket-iceberg)")
    return Run(folder=folder, manifest=manifest)


def list_runs(out: str | Path) -> list[dict]:
    """Manifests of every run folder under ``out``, oldest first (unfinished runs included)."""
    rows = []
    for folder in sorted(runs_folder(Path(out)).glob("*")):
        manifest_path = folder / MANIFEST
        if manifest_path.is_file():
            rows.append(json.loads(manifest_path.read_text(encoding="utf-8")))
        elif folder.is_dir():
            rows.append({"run_id": folder.name, "status": "incomplete"})
    return rows
