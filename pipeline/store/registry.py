"""The iceberg registry's one codec: ``KnownIcebergs`` to and from Parquet.

``registry.parquet`` (in every run folder, and in a resume checkpoint) holds every iceberg
id issued so far — ``iceberg_id``, ``active`` (present in that run) and its last
``centroid`` (float32, fixed-size list) — so the next run can keep ids stable. Members
come from the run's tickets, not from this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import TicketCols
from pipeline.store.atomic import atomic_write_parquet


def write_registry(known: KnownIcebergs, path: Path) -> None:
    table = pa.table({
        "iceberg_id": pa.array(known.ids, pa.string()),
        "active": pa.array(known.active.tolist(), pa.bool_()),
        "centroid": pa.FixedSizeListArray.from_arrays(
            pa.array(known.centroids.astype(np.float32).ravel()), known.dim),
    })
    atomic_write_parquet(table, path)


def read_registry(path: Path, assignments: pd.DataFrame) -> KnownIcebergs:
    """The registry at ``path``; members from ``assignments`` (ticket_id, iceberg_id)."""
    table = pq.read_table(path)
    ids = table.column("iceberg_id").to_pylist()
    dim = table.schema.field("centroid").type.list_size
    flat = table.column("centroid").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    inside = assignments.dropna(subset=[TicketCols.iceberg_id])
    members = {i: frozenset(g) for i, g in inside.groupby(TicketCols.iceberg_id)[TicketCols.ticket_id]}
    return KnownIcebergs(ids=ids, centroids=flat.reshape(len(ids), dim).astype(np.float32),
                         active=np.array(table.column("active").to_pylist(), dtype=bool),
                         members=members)
