"""The run folder: ``OUT/runs/<run_id>/``, written atomically, manifest last.

Every file goes through ``RunWriter``; ``finish`` records each file's size and sha256 in
the manifest (``files``), writes the manifest last, and only then — for a run that
succeeded — points ``OUT/latest`` at it, so a crashed or killed run never becomes latest
and a reader can tell a damaged file from a good one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import (ATTRIBUTES, ICEBERGS, LINEAGE, QUARANTINE, THEMES, TICKETS, TIMELINE,
                              TableSchema)
from pipeline.store.atomic import atomic_write_json, atomic_write_parquet, atomic_write_text
from pipeline.store.layout import CHANGES, MANIFEST, MAP_STATE, REGISTRY, Layout
from pipeline.store.map_state import write_map_state
from pipeline.store.records import Changes, Manifest
from pipeline.store.registry import write_registry

TABLE_FILES: dict[str, TableSchema] = {
    "tickets.parquet": TICKETS, "icebergs.parquet": ICEBERGS, "themes.parquet": THEMES,
    "attributes.parquet": ATTRIBUTES,
    "timeline.parquet": TIMELINE, "lineage.parquet": LINEAGE, "quarantine.parquet": QUARANTINE,
}


def new_run_id(now: datetime | None = None) -> str:
    """UTC start time to the millisecond, then a random tag: ids sort in the order runs began
    (``list_runs`` and ``iceberg diff`` rely on it), even for runs within the same second."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


@dataclass(frozen=True)
class RunWriter:
    out: Path
    run_id: str

    @property
    def folder(self) -> Path:
        return Layout(self.out).run(self.run_id)

    def write_table(self, filename: str, frame: pd.DataFrame) -> None:
        atomic_write_parquet(TABLE_FILES[filename].to_arrow(frame), self.folder / filename)

    def write_registry(self, known: KnownIcebergs) -> None:
        write_registry(known, self.folder / REGISTRY)

    def write_map_state(self, ticket_map) -> None:
        """The run's fitted ticket map (``pipeline.analysis.map.TicketMap``), as ``map.parquet``."""
        write_map_state(ticket_map, self.folder / MAP_STATE)

    def write_changes(self, changes: Changes) -> None:
        changes.write(self.folder / CHANGES)

    def write_json(self, filename: str, data: Any) -> None:
        atomic_write_json(data, self.folder / filename)

    def finish(self, manifest: Manifest) -> Manifest:
        """Write the manifest (last, with every other file's checksum), then point ``latest``
        at this run if it succeeded. Returns the manifest as written."""
        files = {p.name: file_digest(p) for p in sorted(self.folder.iterdir())
                 if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")}
        manifest = dataclasses.replace(manifest, files=files)
        manifest.write(self.folder / MANIFEST)
        if manifest.succeeded:
            atomic_write_text(self.run_id + "\n", Layout(self.out).latest)
        return manifest
