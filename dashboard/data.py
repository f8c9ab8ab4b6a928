"""The dashboard's one way to a run: the store's read API behind bounded Streamlit caches.

Every table is cached by (output folder, run id) — a run folder never changes once
finished, so nothing goes stale — with a bound on how many runs are kept, so a server
that is shown many runs keeps its memory. Curation (``OUT/curation.jsonl``) is read on
every rerun (it is small and changes under the user's hands) and applied on top of the
cached icebergs with the store's own ``with_curation``. The embedding model, the
registry's centroids and the run's ticket vectors are resources (loaded once, shared).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import streamlit as st

from pipeline import reports
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

RUNS_KEPT = 3          # runs whose tables stay in memory at once
ICEBERGS_KEPT = 64     # per-iceberg ticket tables kept


def _run(out: str, run_id: str | None):
    from pipeline.store import load_run

    return load_run(out, run_id)


def resolved_run_id(out: str, run_id: str | None) -> str:
    """``run_id``, or the latest finished run's (``RunNotFound`` when there is none)."""
    return _run(out, run_id).run_id


@st.cache_data(ttl=30, max_entries=8, show_spinner=False)
def runs(out: str) -> pd.DataFrame:
    """One row per run folder, oldest first: id, status, mode, counts, seconds (``iceberg runs list``)."""
    from pipeline.ops.history import run_rows

    return pd.DataFrame(run_rows(out))


@st.cache_data(max_entries=16, show_spinner=False)
def manifest(out: str, run_id: str):
    return _run(out, run_id).manifest


@st.cache_data(max_entries=16, show_spinner=False)
def config(out: str, run_id: str):
    """The settings the run used (``pipeline.config.Config``)."""
    return _run(out, run_id).config


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def icebergs(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).icebergs


def curated_icebergs(out: str, run_id: str) -> pd.DataFrame:
    """The run's icebergs with today's curation (names, statuses, notes) and ranks."""
    from pipeline.store.curation import Curation, with_curation

    return with_curation(icebergs(out, run_id), Curation(out).entries())


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def themes(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).themes


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def attributes(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).attributes


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def evidence(out: str, run_id: str) -> pd.DataFrame:
    """The attribute rows that count as evidence (``Run.evidence``), most over-represented first."""
    return _run(out, run_id).evidence()


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def timeline(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).timeline


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def lineage(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).lineage


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def quarantine(out: str, run_id: str) -> pd.DataFrame:
    return _run(out, run_id).quarantine


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def changes(out: str, run_id: str):
    return _run(out, run_id).changes


@st.cache_data(max_entries=RUNS_KEPT, show_spinner=False)
def events(out: str, run_id: str) -> pd.DataFrame | None:
    """The run's events file (``profile.events``), or None when it has none or it is gone."""
    from pipeline.errors import IcebergError
    from pipeline.sources import read_events

    path = _run(out, run_id).config.profile.events
    if not path:
        return None
    try:
        return read_events(path)
    except IcebergError:
        return None


@st.cache_resource(max_entries=RUNS_KEPT, show_spinner=False)
def tickets(out: str, run_id: str) -> pd.DataFrame:
    """Every ticket of the run (a resource: one shared, read-only frame, not a copy per page)."""
    return _run(out, run_id).tickets


@st.cache_data(max_entries=ICEBERGS_KEPT, show_spinner=False)
def iceberg_tickets(out: str, run_id: str, iceberg_id: str) -> pd.DataFrame:
    frame = tickets(out, run_id)
    return frame[frame[T.iceberg_id] == iceberg_id].reset_index(drop=True)


@st.cache_data(max_entries=RUNS_KEPT * 2, show_spinner=False)
def map_points(out: str, run_id: str, limit: int, seed: int = 0) -> pd.DataFrame | None:
    """At most ``limit`` tickets with their map position, iceberg and text: every iceberg
    keeps the same share of its tickets (at least one), so small ones stay visible;
    None when the run has no map (``map.enabled`` off, or a run from before the map)."""
    frame = tickets(out, run_id)
    if T.map_x not in frame.columns:
        return None
    points = frame[[T.ticket_id, T.iceberg_id, T.map_x, T.map_y, T.text]]
    if len(points) <= limit:
        return points.reset_index(drop=True)
    share = limit / len(points)
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(points), dtype=bool)
    groups = points.groupby(points[T.iceberg_id].fillna(""), sort=False).indices
    for rows in groups.values():
        n = max(1, int(round(len(rows) * share)))
        keep[rng.choice(rows, min(n, len(rows)), replace=False)] = True
    return points[keep].reset_index(drop=True)


@st.cache_resource(max_entries=RUNS_KEPT, show_spinner=False)
def known_icebergs(out: str, run_id: str):
    """The run's registry: ids, centroids (unit vectors), active flags."""
    return _run(out, run_id).known_icebergs()


@st.cache_resource(max_entries=2, show_spinner=False)
def ticket_vectors(out: str, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The run's tickets' vectors from the embedding cache (``pipeline.lookup.ticket_vectors``),
    and a mask of the tickets found there (a cache pruned since the run lacks some)."""
    from pipeline.lookup import ticket_vectors as vectors_of

    return vectors_of(_run(out, run_id), tickets(out, run_id))


@st.cache_resource(max_entries=RUNS_KEPT, show_spinner=False)
def customer_index(out: str, run_id: str) -> dict:
    """customer id → the row positions of their tickets (``pipeline.lookup.customer``)."""
    from pipeline.lookup.customer import customer_rows

    frame = tickets(out, run_id)
    return customer_rows(frame[T.customer_id]) if T.customer_id in frame.columns else {}


@st.cache_resource(max_entries=2, show_spinner="Loading the embedding model…")
def embedder(embedding_settings: tuple):
    """The run's embedding model and backend (``embedder_from_config``), loaded once."""
    from pipeline.config import EmbeddingConfig
    from pipeline.embed import embedder_from_config

    return embedder_from_config(EmbeddingConfig(**dict(embedding_settings)))


def names(icebergs_table: pd.DataFrame) -> dict[str, str]:
    """Iceberg id → the name people see (curated name, else label)."""
    from pipeline.store.curation import CurationCols

    column = CurationCols.name if CurationCols.name in icebergs_table.columns else I.label
    return dict(zip(icebergs_table[I.iceberg_id], icebergs_table[column].astype(str)))


def lineage_history(out: str, run_id: str, iceberg_id: str, max_runs: int = 50) -> pd.DataFrame:
    """``iceberg_id``'s identity events in every finished run up to ``run_id`` (the last
    ``max_runs``), oldest first: born, continued, merged, split, faded, reborn."""
    from pipeline.schemas import LineageCols as L

    frame = runs(out)
    if frame.empty:
        return pd.DataFrame(columns=[L.run_id, L.event, L.related_ids])
    finished = frame[(frame["status"] == "succeeded") & (frame["run_id"] <= run_id)]["run_id"].tolist()
    rows = []
    for earlier in finished[-max_runs:]:
        table = lineage(out, earlier)
        rows.append(table[table[L.iceberg_id] == iceberg_id])
    history = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if history.empty:
        return pd.DataFrame(columns=[L.run_id, L.event, L.related_ids])
    history[L.related_ids] = history[L.related_ids].map(
        lambda ids: ", ".join(ids) if ids is not None and len(ids) else "")
    return history[[L.run_id, L.event, L.related_ids]]


def tickets_csv(out: str, run_id: str, iceberg_id: str) -> bytes:
    """One iceberg's tickets as ``iceberg report`` exports them (``pipeline.reports.tickets_csv``)."""
    return reports.tickets_csv(_run(out, run_id), iceberg_id)


def report_file(fmt: str, iceberg_id: str) -> tuple[str, str]:
    """(file name, mime) of one iceberg's brief in ``fmt``, known before it is rendered."""
    module = importlib.import_module(f"pipeline.reports.{reports.FORMATS[fmt]}")
    return f"{iceberg_id}.{fmt}", module.MIME


def report_bytes(out: str, run_id: str, iceberg_id: str, fmt: str) -> bytes:
    """One iceberg's brief in ``fmt``, the same file ``iceberg report --iceberg`` writes."""
    _, content, _ = reports.render(_run(out, run_id), fmt, iceberg_ids=[iceberg_id]).download()
    return content
