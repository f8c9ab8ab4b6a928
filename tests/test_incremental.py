"""Incremental runs: the mode decision, assign + outlier pool, and a few simulated nights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_CSV, iceberg
from pipeline.groups.cluster import IcebergClusterer
from pipeline.config import Config
from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import TicketCols
from pipeline.store import Manifest, PreviousRun, Run
from pipeline.errors import ConfigError as ModeError
from pipeline.groups.incremental import (assigned_icebergs, confirmed_mode,
                                  new_ticket_mask, planned_mode)


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _previous(ids, centroids, tickets, active=None) -> PreviousRun:
    known = KnownIcebergs(ids, np.asarray(centroids, np.float32),
                          np.array(active if active is not None else [True] * len(ids)),
                          {i: frozenset(tickets.loc[tickets.iceberg_id == i, "ticket_id"]) for i in ids})
    manifest = Manifest(run_id="R1", status="succeeded", started_at="", finished_at="",
                        config=Config().to_dict(),
                        incremental={"last_full_data_until": "2024-03-01T00:00:00+00:00"})
    return PreviousRun(Run(Path("."), manifest), tickets, pd.DataFrame(), known)


def test_planned_mode_signals():
    config = Config()
    old = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(100)], "text": "x", "iceberg_id": "ICE-0001",
                        "membership": 0.9})
    previous = _previous(["ICE-0001"], [[1, 0]], old)
    assert planned_mode("auto", None, config, n_tickets=10, n_new=10, until=None).mode == "full"
    assert planned_mode("full", previous, config, n_tickets=110, n_new=10, until=None).reasons == ["requested"]
    quiet = planned_mode("auto", previous, config, n_tickets=110, n_new=10, until="2024-03-03T00:00:00+00:00")
    assert quiet.mode == "assign" and quiet.signals["days_since_full"] == 2.0
    week = planned_mode("auto", previous, config, n_tickets=110, n_new=10, until="2024-03-08T00:00:00+00:00")
    assert week.mode == "full" and "days since the last full run" in week.reasons[0]
    backfill = planned_mode("auto", previous, config, n_tickets=200, n_new=100, until="2024-03-02T00:00:00+00:00")
    assert backfill.mode == "full" and "new" in backfill.reasons[0]
    changed = Config()
    changed.cluster.merge_threshold = 0.7
    assert planned_mode("auto", previous, changed, n_tickets=110, n_new=1, until=None).reasons[0].startswith(
        "settings changed")
    with pytest.raises(ModeError):
        planned_mode("sometimes", previous, config, n_tickets=1, n_new=1, until=None)
    # After assigning: too many new tickets outside switches auto to full.
    outside = confirmed_mode(quiet, {"new_tickets": 30, "outside_share": 0.8, "drift": 0.0}, config)
    assert outside.mode == "full" and "fit no iceberg" in outside.reasons[-1]
    few = confirmed_mode(quiet, {"new_tickets": 3, "outside_share": 1.0, "drift": 0.5}, config)
    assert few.mode == "assign"


def test_new_ticket_mask_sees_new_and_changed_texts():
    old = pd.DataFrame({"ticket_id": ["a", "b"], "text": ["one", "two"], "iceberg_id": [None, None],
                        "membership": [0.0, 0.0]})
    now = pd.DataFrame({"ticket_id": ["a", "b", "c"], "text": ["one", "TWO", "three"]})
    previous = _previous([], np.zeros((0, 2)), old)
    assert new_ticket_mask(now, previous).tolist() == [False, True, True]


def test_assign_keeps_old_places_new_and_pools_the_rest():
    rng = np.random.default_rng(0)
    dim = 16
    a, b, c = np.eye(dim)[0], np.eye(dim)[1], np.eye(dim)[2]
    noise = lambda n: rng.normal(0, 0.05, (n, dim))   # noqa: E731
    old_vectors = _unit(np.vstack([a + noise(10), b + noise(10), rng.normal(0, 1, (4, dim))]))
    old = pd.DataFrame({"ticket_id": [f"o{i:02d}" for i in range(24)], "text": "old",
                        "iceberg_id": ["ICE-0001"] * 10 + ["ICE-0002"] * 10 + [None] * 4,
                        "membership": [0.9] * 20 + [0.0] * 4})
    previous = _previous(["ICE-0001", "ICE-0002"], [a, b], old)
    # New: 3 near a, 8 forming a new problem around c (nobody's centroid), 1 stray.
    new_vectors = _unit(np.vstack([a + noise(3), c + noise(8), rng.normal(0, 1, (1, dim))]))
    tickets = pd.DataFrame({"ticket_id": list(old.ticket_id) + [f"n{i:02d}" for i in range(12)],
                            "text": [f"old {i}" for i in range(24)] + [f"new {i}" for i in range(12)]})
    vectors = np.vstack([old_vectors, new_vectors]).astype(np.float32)
    is_new = np.r_[np.zeros(24, bool), np.ones(12, bool)]
    config = Config()
    result = assigned_icebergs(tickets, vectors, is_new, previous, "R2",
                               IcebergClusterer(min_cluster_size=5, min_samples=3), config)
    ids = result.assignments[TicketCols.iceberg_id]
    assert ids[:20].tolist() == old.iceberg_id[:20].tolist()          # old tickets keep their place
    assert set(ids[24:27]) == {"ICE-0001"}                            # new ones join the nearest
    assert set(ids[27:35]) == {"ICE-0003"}                            # the pool gives birth
    events = dict(zip(result.lineage.iceberg_id, result.lineage.event))
    assert events == {"ICE-0001": "continued", "ICE-0002": "continued", "ICE-0003": "born"}
    assert result.stats["assigned"] == 3 and result.stats["pool_born"] == 1
    assert set(result.known.ids) == {"ICE-0001", "ICE-0002", "ICE-0003"}
    np.testing.assert_allclose(result.known.centroids[0], a)          # registry centroids kept
    # Nothing new: nothing moves, the pool is not re-clustered.
    again = assigned_icebergs(tickets.iloc[:24], vectors[:24], np.zeros(24, bool), previous, "R3",
                              IcebergClusterer(min_cluster_size=5, min_samples=3), config)
    assert again.assignments[TicketCols.iceberg_id].tolist() == ids[:24].tolist() and not again.stats["pool_clustered"]


def test_a_pool_cluster_of_an_existing_problem_joins_it_instead_of_being_born():
    """The duplicate-id bug: a full run merged four neighbouring groups into ICE-0001, whose
    centroid lies between them (cosine 0.5 to each). New tickets of one group fall below
    the assign threshold and form a pool cluster whose centroid is only 0.5 alike to
    ICE-0001's — yet it is the same problem, and a full run would merge it back. It must
    join ICE-0001; a really new problem next to it must still be born."""
    rng = np.random.default_rng(1)
    dim = 16
    e = np.eye(dim)
    noise = lambda n: rng.normal(0, 0.05, (n, dim))   # noqa: E731
    lobes = [e[k] + noise(8) for k in range(4)]         # ICE-0001: four groups
    old_vectors = _unit(np.vstack(lobes + [e[5] + noise(10)]))
    old = pd.DataFrame({"ticket_id": [f"o{i:02d}" for i in range(42)], "text": "old",
                        "iceberg_id": ["ICE-0001"] * 32 + ["ICE-0002"] * 10, "membership": 0.5})
    merged_centroid = _unit(e[:4].sum(axis=0, keepdims=True))[0]
    previous = _previous(["ICE-0001", "ICE-0002"], [merged_centroid, e[5]], old)
    new_vectors = _unit(np.vstack([e[3] + noise(8), e[8] + noise(8)]))   # group 4 again; a new problem
    tickets = pd.DataFrame({"ticket_id": list(old.ticket_id) + [f"n{i:02d}" for i in range(16)],
                            "text": [f"old {i}" for i in range(42)] + [f"new {i}" for i in range(16)]})
    vectors = np.vstack([old_vectors, new_vectors]).astype(np.float32)
    is_new = np.r_[np.zeros(42, bool), np.ones(16, bool)]
    result = assigned_icebergs(tickets, vectors, is_new, previous, "R2",
                               IcebergClusterer(min_cluster_size=5, min_samples=3), Config())
    ids = result.assignments[TicketCols.iceberg_id]
    assert set(ids[42:50]) == {"ICE-0001"}        # joined, not born as ICE-0003
    assert set(ids[50:58]) == {"ICE-0003"}        # the new problem is born
    decisions = {d["event"]: d for d in result.stats["pool_decisions"]}
    assert decisions["joined"]["centroid_similarity"] < 0.6          # the centroid alone says no
    assert decisions["joined"]["vote_share"] == 1.0 and decisions["joined"]["local_similarity"] > 0.9
    assert decisions["born"]["local_similarity"] < 0.8
    events = dict(zip(result.lineage.iceberg_id, result.lineage.event))
    assert events == {"ICE-0001": "continued", "ICE-0002": "continued", "ICE-0003": "born"}


@pytest.fixture(scope="module")
def nights(tmp_path_factory, model_cache):
    """Four nights of the sample export through the Python API (one shared embedder)."""
    from pipeline.config import load_config
    from pipeline.embed import embedder_from_config
    from pipeline.run import run

    folder = tmp_path_factory.mktemp("nights")
    out = folder / "out"
    tickets = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    config = load_config()
    embedder = embedder_from_config(config.embedding)
    results = []
    for day in ("2024-01-25", "2024-01-26", "2024-01-27", "2024-02-03"):
        path = folder / f"{day}.csv"
        tickets[tickets.created_at < day].to_csv(path, index=False)
        results.append(run(path, out, config, embedder=embedder, progress=False))
    return out, results


def test_nights_assign_then_full_and_ids_stay(nights):
    from pipeline.store import load_run

    out, results = nights
    modes = [r.manifest.incremental["mode"] for r in results]
    assert modes == ["full", "assign", "assign", "full"]
    assert 0 < results[1].manifest.embedding["cache_misses"] <= results[1].manifest.incremental["new_tickets"]
    stages = [s["name"] for s in results[1].manifest.stages]
    assert "assign" in stages and "cluster" not in stages
    # An assign night keeps every earlier assignment.
    first = load_run(out, results[0].run_id).tickets.set_index("ticket_id")["iceberg_id"]
    second = load_run(out, results[1].run_id).tickets.set_index("ticket_id")["iceberg_id"]
    kept = first.dropna()
    assert (second.reindex(kept.index) == kept).all()
    # Every night writes changes.json, and lineage names each current iceberg.
    for r in results:
        changes = json.loads((r.folder / "changes.json").read_text())
        assert changes["run_id"] == r.run_id and "alerts" in changes
        run = load_run(out, r.run_id)
        assert set(run.icebergs.iceberg_id) <= set(run.lineage.iceberg_id)
        assert set(run.lineage.event) <= {"born", "continued", "merged", "split", "faded", "reborn"}
    assert results[3].manifest.incremental["last_full_run_id"] == results[3].run_id
    assert results[2].manifest.incremental["last_full_run_id"] == results[0].run_id


def test_cli_history_diff_dry_run_and_json_logs(nights, tmp_path):
    out, results = nights
    listed = iceberg("runs", "list", "--out", str(out))
    assert listed.returncode == 0 and all(r.run_id in listed.stdout for r in results)
    rows = [json.loads(line) for line in iceberg("runs", "list", "--out", str(out), "--json").stdout.splitlines()]
    assert [r["mode"] for r in rows] == ["full", "assign", "assign", "full"]
    shown = iceberg("runs", "show", results[1].run_id, "--out", str(out))
    assert json.loads(shown.stdout)["run_id"] == results[1].run_id
    assert iceberg("runs", "show", "nope", "--out", str(out)).returncode == 7
    diff = iceberg("diff", "--out", str(out), "--json")
    assert json.loads(diff.stdout) == json.loads((results[3].folder / "changes.json").read_text())
    between = iceberg("diff", results[0].run_id, results[3].run_id, "--out", str(out))
    assert between.returncode == 0 and f"{results[0].run_id} → {results[3].run_id}" in between.stdout
    dry = iceberg("run", "--input", str(SAMPLE_CSV), "--out", str(out), "--dry-run")
    assert dry.returncode == 0 and "Dry run: nothing written" in dry.stdout
    assert len(list((out / "runs").iterdir())) == 4
    bad = iceberg("run", "--input", str(SAMPLE_CSV), "--out", str(out), "--dry-run",
                  "--set", "incremental.mode=sometimes")
    assert bad.returncode == 5
    logged = iceberg("run", "--input", str(tmp_path / "missing.csv"), "--out", str(out), "--log-format", "json")
    assert logged.returncode == 4
    fresh = tmp_path / "json-out"
    small = tmp_path / "small.csv"
    pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False).head(300).to_csv(small, index=False)
    process = iceberg("run", "--input", str(small), "--out", str(fresh), "--log-format", "json")
    assert process.returncode == 0, process.stderr
    records = [json.loads(line) for line in process.stderr.splitlines() if line.startswith("{")]
    events = {r.get("event") for r in records}
    assert {"run_started", "stage", "mode", "run_finished"} <= events
    assert all({"ts", "level", "message"} <= set(r) for r in records)
