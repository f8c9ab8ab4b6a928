"""The ticket map (``pipeline.analysis.map``) and its state in the run folder (``map.parquet``)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from conftest import SAMPLE_CSV, iceberg
from pipeline.analysis.map import TicketMap, knn_placed, mapped_tickets
from pipeline.config import MapConfig
from pipeline.schemas import MapCols, TicketCols
from pipeline.store import load_run
from pipeline.store.map_state import read_map_state, write_map_state


def _agreement(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    same = labels[idx[:, 1:]] == labels[:, None]
    return float(same.mean())


def test_the_map_keeps_real_intents_together_far_better_than_a_linear_projection(banking):
    labels = banking.queries["category"].to_numpy()
    coords = TicketMap(sample_size=400, random_state=0).fit_transform(banking.vectors)
    from sklearn.decomposition import PCA

    linear = PCA(2).fit_transform(banking.vectors)
    assert coords.shape == (len(labels), 2) and coords.dtype == np.float32
    assert np.abs(coords).max() <= 1.5
    assert _agreement(coords, labels) > 0.5
    assert _agreement(coords, labels) > 2 * _agreement(linear, labels)


def test_the_map_is_deterministic_and_follows_the_estimator_contract(banking):
    ticket_map = TicketMap(sample_size=200, random_state=3)
    assert clone(ticket_map).get_params() == ticket_map.get_params()
    first = ticket_map.fit(banking.vectors).transform(banking.vectors)
    again = TicketMap(sample_size=200, random_state=3).fit(banking.vectors).transform(banking.vectors)
    np.testing.assert_array_equal(first, again)
    assert len(ticket_map.anchor_vectors_) == 200
    with pytest.raises(ValueError):
        TicketMap(sample_size=0).fit(banking.vectors)


def test_a_ticket_lands_beside_its_nearest_anchors():
    anchors = np.eye(3, dtype=np.float32)
    coords = np.array([[-1, 0], [1, 0], [0, 1]], dtype=np.float32)
    near_second = np.array([[0.1, 0.99, 0.0]], dtype=np.float32)
    placed = knn_placed(near_second, anchors, coords, n_neighbors=2)
    assert np.linalg.norm(placed[0] - coords[1]) < 0.05


def test_tiny_runs_get_a_map_too():
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    coords = TicketMap().fit_transform(vectors)
    assert coords.shape == (3, 2) and np.isfinite(coords).all()


def test_the_state_round_trips_through_parquet_without_pickle(banking, tmp_path):
    ids = [f"T{i}" for i in range(len(banking.vectors))]
    ticket_map = TicketMap(sample_size=150, random_state=0).fit(banking.vectors, ids=ids)
    path = tmp_path / "map.parquet"
    write_map_state(ticket_map, path)
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    assert table.column_names == [MapCols.ticket_id, MapCols.map_x, MapCols.map_y, MapCols.vector]

    class _Run:   # what read_map_state needs of a Run: a verified path
        def _checked(self, name):
            return tmp_path / name

    restored = read_map_state(_Run())
    np.testing.assert_allclose(restored.transform(banking.vectors), ticket_map.transform(banking.vectors),
                               atol=1e-5)
    assert list(restored.anchor_ids_) == list(ticket_map.anchor_ids_)


def test_an_earlier_map_keeps_unchanged_positions_and_places_only_new_tickets(banking):
    ids = np.array([f"T{i}" for i in range(len(banking.vectors))])
    first = mapped_tickets(banking.vectors[:500], ids[:500], MapConfig(sample_size=300))
    assert first.fitted
    kept = pd.DataFrame({TicketCols.ticket_id: ids[:500], TicketCols.map_x: first.coords[:, 0] + 5,
                         TicketCols.map_y: first.coords[:, 1]})
    second = mapped_tickets(banking.vectors, ids, MapConfig(), previous=first.ticket_map, kept=kept)
    assert not second.fitted and second.ticket_map is first.ticket_map
    np.testing.assert_array_equal(second.coords[:500, 0], first.coords[:, 0] + 5)
    np.testing.assert_allclose(second.coords[500:], first.ticket_map.transform(banking.vectors[500:]))


def test_every_run_maps_every_ticket_and_records_the_stage(sample_run):
    run = sample_run.run
    tickets = run.table("tickets", [TicketCols.ticket_id, TicketCols.map_x, TicketCols.map_y])
    assert tickets[[TicketCols.map_x, TicketCols.map_y]].notna().all().all()
    assert (run.folder / "map.parquet").is_file() and "map.parquet" in run.manifest.files
    stage = next(s for s in run.manifest.stages if s["name"] == "map")
    assert stage["seconds"] >= 0 and stage["fitted"] is True and stage["rows_out"] == len(tickets)


def test_an_assign_night_places_new_tickets_on_the_same_map(sample_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_run.out, out)
    grown = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    extra = grown[grown["ticket_id"].str.startswith("T10")].head(40).copy()
    extra["ticket_id"] = [f"N{i:04d}" for i in range(len(extra))]
    extra["created_at"] = "2024-07-01T10:00:00Z"
    path = tmp_path / "grown.csv"
    pd.concat([grown, extra]).to_csv(path, index=False)
    process = iceberg("run", "--input", str(path), "--out", str(out), "--mode", "assign", "--quiet")
    assert process.returncode == 0, process.stderr
    before, after = sample_run.run, load_run(out)
    stage = next(s for s in after.manifest.stages if s["name"] == "map")
    assert stage["fitted"] is False and stage["placed"] == len(extra)
    assert (before.folder / "map.parquet").read_bytes() != b""
    old = before.table("tickets", [TicketCols.ticket_id, TicketCols.map_x, TicketCols.map_y])
    new = after.table("tickets", [TicketCols.ticket_id, TicketCols.map_x, TicketCols.map_y])
    merged = old.merge(new, on=TicketCols.ticket_id, suffixes=("_before", "_after"))
    assert len(merged) == len(old)
    np.testing.assert_array_equal(merged["map_x_before"], merged["map_x_after"])
    state_before = read_map_state(before)
    state_after = read_map_state(after)
    np.testing.assert_array_equal(state_before.anchor_coords_, state_after.anchor_coords_)
    assert new[TicketCols.ticket_id].str.startswith("N").sum() == len(extra)
