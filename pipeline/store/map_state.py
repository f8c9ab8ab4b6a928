"""The fitted ticket map of a run: ``OUT/runs/<run_id>/map.parquet``.

One row per anchor ticket of the map (``pipeline.analysis.map.TicketMap``): its
``ticket_id``, position (``map_x``, ``map_y``) and unit ``vector`` (float32, fixed-size
list) — Parquet, never pickle. Every run writes the map its tickets were placed on, so
an assign night reads the previous run's and places its new tickets on the same map.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import RunUnreadable
from pipeline.schemas import MapCols
from pipeline.store.atomic import atomic_write_parquet
from pipeline.store.layout import MAP_STATE

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.analysis.map import TicketMap
    from pipeline.store.reader import Run


def write_map_state(ticket_map: "TicketMap", path: Path) -> None:
    vectors = ticket_map.anchor_vectors_
    ids = ticket_map.anchor_ids_ if ticket_map.anchor_ids_ is not None else [None] * len(vectors)
    table = pa.table({
        MapCols.ticket_id: pa.array([None if i is None else str(i) for i in ids], pa.string()),
        MapCols.map_x: pa.array(ticket_map.anchor_coords_[:, 0], pa.float32()),
        MapCols.map_y: pa.array(ticket_map.anchor_coords_[:, 1], pa.float32()),
        MapCols.vector: pa.FixedSizeListArray.from_arrays(
            pa.array(vectors.astype(np.float32).ravel()), vectors.shape[1]),
    })
    atomic_write_parquet(table, path)


def read_map_state(run: "Run", **params) -> "TicketMap | None":
    """The map ``run`` placed its tickets on (checksum verified), or None when it has none."""
    from pipeline.analysis.map import TicketMap

    path = run._checked(MAP_STATE)
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        dim = table.schema.field(MapCols.vector).type.list_size
        flat = table.column(MapCols.vector).combine_chunks().flatten().to_numpy(zero_copy_only=False)
        coords = np.column_stack([table.column(MapCols.map_x).to_numpy(),
                                  table.column(MapCols.map_y).to_numpy()])
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise RunUnreadable(f"cannot read {str(path)!r} ({exc}); the run folder is damaged: "
                            "re-run `iceberg run --mode full` into this --out") from exc
    return TicketMap.from_anchors(table.column(MapCols.ticket_id).to_pylist(),
                                  flat.reshape(len(coords), dim), coords, **params)


def read_map_positions(run: "Run") -> "pd.DataFrame | None":
    """``ticket_id``, ``map_x``, ``map_y`` of ``run``'s tickets, or None when it has no map."""
    from pipeline.schemas import TicketCols

    path = run._checked("tickets.parquet")
    names = pq.read_schema(path).names
    if TicketCols.map_x not in names or TicketCols.map_y not in names:
        return None
    return run.table("tickets", [TicketCols.ticket_id, TicketCols.map_x, TicketCols.map_y])
