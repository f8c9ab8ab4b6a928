"""The store: atomic files, run folders, ``latest``, schema versions and the iceberg registry."""

from __future__ import annotations

import json
from datetime import UTC

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import SCHEMA_VERSION, TicketCols
from pipeline.errors import RunNotFound, UnsupportedSchema
from pipeline.store import (
    Manifest,
    RunWriter,
    atomic,
    latest_run_id,
    list_runs,
    load_run,
    new_run_id,
)


def tickets_frame(ids, iceberg_ids) -> pd.DataFrame:
    return pd.DataFrame({
        TicketCols.ticket_id: ids,
        TicketCols.created_at: pd.to_datetime(["2024-01-01T00:00:00Z"] * len(ids), utc=True),
        TicketCols.iceberg_id: pd.array(iceberg_ids, dtype="string"),
        TicketCols.membership: [0.9 if i else 0.0 for i in iceberg_ids],
        TicketCols.text: [f"text {t}" for t in ids],
        TicketCols.source_row: list(range(1, len(ids) + 1)),
    })


def manifest(run_id: str, status: str = "succeeded") -> Manifest:
    return Manifest(run_id=run_id, status=status, started_at="2024-01-01T00:00:00+00:00",
                    finished_at="2024-01-01T00:01:00+00:00", config={})


def finished_run(out, run_id, status="succeeded") -> RunWriter:
    writer = RunWriter(out, run_id)
    writer.write_table("tickets.parquet", tickets_frame(["T1", "T2"], ["ICE-0001", None]))
    writer.finish(manifest(run_id, status))
    return writer


# --- atomic writes -------------------------------------------------------------------------

def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "tmp" in p.name)


def test_atomic_writes_leave_only_the_target(tmp_path):
    atomic.atomic_write_text("hello\n", tmp_path / "a.txt")
    atomic.atomic_write_json({"x": [1, 2]}, tmp_path / "b.json")
    atomic.atomic_write_parquet(pa.table({"x": [1, 2, 3]}), tmp_path / "c.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.parquet"]
    assert (tmp_path / "a.txt").read_text() == "hello\n"
    assert json.loads((tmp_path / "b.json").read_text()) == {"x": [1, 2]}
    assert pq.read_table(tmp_path / "c.parquet").column("x").to_pylist() == [1, 2, 3]


def test_a_failed_write_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "t.parquet"
    atomic.atomic_write_parquet(pa.table({"x": [1]}), target)

    def broken(table, where, **kwargs):
        with open(where, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.parquet.write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_parquet(pa.table({"x": [2, 3]}), target)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
    assert pq.read_table(target).column("x").to_pylist() == [1]


def test_run_writer_leaves_no_temp_files(tmp_path):
    writer = finished_run(tmp_path, "20240101T000000Z-aaaaaa")
    assert sorted(p.name for p in writer.folder.iterdir()) == ["manifest.json", "tickets.parquet"]
    assert leftovers(tmp_path) == []


# --- latest, manifests and schema versions -------------------------------------------------

def test_latest_moves_only_to_succeeded_runs(tmp_path):
    assert latest_run_id(tmp_path) is None
    finished_run(tmp_path, "20240101T000000Z-aaaaaa")
    assert latest_run_id(tmp_path) == "20240101T000000Z-aaaaaa"
    finished_run(tmp_path, "20240102T000000Z-bbbbbb", status="failed")
    assert latest_run_id(tmp_path) == "20240101T000000Z-aaaaaa"
    assert load_run(tmp_path).run_id == "20240101T000000Z-aaaaaa"
    # The failed run is still there to inspect, with its status.
    assert load_run(tmp_path, "20240102T000000Z-bbbbbb").manifest.status == "failed"
    finished_run(tmp_path, "20240103T000000Z-cccccc")
    assert latest_run_id(tmp_path) == "20240103T000000Z-cccccc"
    assert (tmp_path / "latest").read_text().strip() == "20240103T000000Z-cccccc"


def test_tables_written_before_the_manifest_do_not_make_a_run(tmp_path):
    writer = RunWriter(tmp_path, "20240101T000000Z-aaaaaa")
    writer.write_table("tickets.parquet", tickets_frame(["T1"], [None]))   # killed here
    assert latest_run_id(tmp_path) is None
    with pytest.raises(RunNotFound, match="no finished run"):
        load_run(tmp_path)


def test_a_run_without_manifest_is_not_loadable_and_listed_incomplete(tmp_path):
    finished_run(tmp_path, "20240101T000000Z-aaaaaa")
    killed = RunWriter(tmp_path, "20240102T000000Z-bbbbbb")
    killed.write_table("tickets.parquet", tickets_frame(["T1"], [None]))
    with pytest.raises(RunNotFound, match="20240102T000000Z-bbbbbb.*did not finish"):
        load_run(tmp_path, "20240102T000000Z-bbbbbb")
    runs = list_runs(tmp_path)
    assert [r if isinstance(r, str) else (r.run_id, r.status) for r in runs] == [
        ("20240101T000000Z-aaaaaa", "succeeded"), "20240102T000000Z-bbbbbb"]
    assert latest_run_id(tmp_path) == "20240101T000000Z-aaaaaa"


def test_run_ids_sort_in_the_order_runs_began_even_within_one_second(tmp_path):
    from datetime import datetime, timedelta

    start = datetime(2024, 3, 1, 2, 0, 0, 999_000, tzinfo=UTC)
    moments = [start + timedelta(milliseconds=ms) for ms in (-998, -500, -1, 0, 1, 2, 1000)]
    ids = [new_run_id(moment) for moment in moments]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids
    for run_id in reversed(ids):       # written newest first: listing still goes oldest first
        finished_run(tmp_path, run_id)
    assert [r.run_id for r in list_runs(tmp_path)] == ids


def test_unknown_schema_version_is_refused_with_a_clear_message(tmp_path):
    writer = finished_run(tmp_path, "20240101T000000Z-aaaaaa")
    path = writer.folder / "manifest.json"
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(UnsupportedSchema) as info:
        load_run(tmp_path)
    message = str(info.value)
    assert "99" in message and str(SCHEMA_VERSION) in message and "Upgrade" in message
    del data["schema_version"]
    path.write_text(json.dumps(data))
    with pytest.raises(UnsupportedSchema, match="None"):
        load_run(tmp_path)


def test_no_runs_at_all(tmp_path):
    assert list_runs(tmp_path) == []
    with pytest.raises(RunNotFound, match="iceberg run"):
        load_run(tmp_path)


def test_table_files_come_back_with_their_types(tmp_path):
    finished_run(tmp_path, "20240101T000000Z-aaaaaa")
    run = load_run(tmp_path)
    tickets = run.tickets
    assert tickets[TicketCols.ticket_id].tolist() == ["T1", "T2"]
    assert str(tickets[TicketCols.created_at].dt.tz) == "UTC"
    assert tickets[TicketCols.iceberg_id].isna().tolist() == [False, True]
    with pytest.raises(KeyError, match="unknown table"):
        run.table("secrets")


# --- the registry -----------------------------------------------------------------------------

def test_known_icebergs_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(3, 16)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    known = KnownIcebergs(ids=["ICE-0001", "ICE-0002", "ICE-0007"], centroids=centroids,
                          active=np.array([True, False, True]),
                          members={"ICE-0001": frozenset({"T1", "T3"}), "ICE-0007": frozenset({"T4"})})
    writer = RunWriter(tmp_path, "20240101T000000Z-aaaaaa")
    writer.write_table("tickets.parquet", tickets_frame(
        ["T1", "T2", "T3", "T4"], ["ICE-0001", None, "ICE-0001", "ICE-0007"]))
    writer.write_registry(known)
    writer.finish(manifest("20240101T000000Z-aaaaaa"))

    back = load_run(tmp_path).known_icebergs()
    assert back.ids == known.ids
    np.testing.assert_array_equal(back.centroids, known.centroids)
    assert back.centroids.dtype == np.float32
    assert back.active.tolist() == [True, False, True]
    assert back.members == known.members
    assert back.next_number() == 8
