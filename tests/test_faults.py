"""A dependable nightly job: the lock, kill -9 at random points, --resume, idempotency.

Every run here is a real ``python -m pipeline run`` subprocess on a slice of the bundled
sample export. The slow variant (``-m slow``) kills 12 runs; the quick one 3.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, SAMPLE_CSV, iceberg

TABLES = ("tickets", "icebergs", "attributes", "timeline", "lineage", "quarantine")
EXIT_LOCK_HELD = 6


def _slice(folder: Path, until: str, name: str) -> Path:
    tickets = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    path = folder / name
    tickets[tickets["created_at"] < until].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("fault-inputs")
    return {"a": _slice(folder, "2024-02-01", "a.csv"), "b": _slice(folder, "2024-02-12", "b.csv")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, inputs, model_cache) -> dict:
    """A clean history: run on A, then on B (auto mode: 11 days later, so a full re-cluster)."""
    from pipeline.store import load_run

    out = tmp_path_factory.mktemp("reference") / "out"
    assert iceberg("run", "--input", str(inputs["a"]), "--out", str(out), "-q").returncode == 0
    after_a = tmp_path_factory.mktemp("after-a") / "out"
    shutil.copytree(out, after_a)
    started = time.perf_counter()
    second = iceberg("run", "--input", str(inputs["b"]), "--out", str(out), "-q")
    assert second.returncode == 0, second.stderr
    return {"out": out, "after_a": after_a, "run": load_run(out), "seconds": time.perf_counter() - started}


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def assert_same_outputs(run, expected) -> None:
    """Equal tables, apart from run ids (lineage) — rows in a canonical order."""
    for name in TABLES:
        got, want = run.table(name), expected.table(name)
        if name == "lineage":
            got, want = got.drop(columns="run_id"), want.drop(columns="run_id")
        keys = [c for c in ("iceberg_id", "ticket_id", "dimension", "value", "period_start", "event",
                            "source_row") if c in want.columns]
        if keys:
            got = got.sort_values(keys, ignore_index=True)
            want = want.sort_values(keys, ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-6, obj=name)
    for key in ("counts",):
        assert getattr(run.manifest, key) == getattr(expected.manifest, key)
    assert run.manifest.incremental["mode"] == expected.manifest.incremental["mode"]


def _kill_at_random_points(tmp_path, inputs, reference, kills: int, seed: int) -> list[float]:
    from pipeline.store import load_run

    out = tmp_path / "out"
    shutil.copytree(reference["after_a"], out)
    previous = load_run(out).run_id
    rng = random.Random(seed)
    # Python start-up and imports take ~2 s; spread the kills over the whole run.
    span = reference["seconds"] + 1.0
    delays = sorted(rng.uniform(0.3, span) for _ in range(kills))
    first_completed = None    # a run that finished before its kill: the one to compare
    for delay in delays:
        process = _spawn("run", "--input", str(inputs["b"]), "--out", str(out), "-q")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        # Whatever the moment, the previous run is still latest and opens.
        run = load_run(out)
        if run.run_id != previous:      # the run finished before the kill: a legitimate new latest
            assert run.manifest.status == "succeeded"
            previous = run.run_id
            first_completed = first_completed or run.run_id
        for name in TABLES:
            run.table(name)
    final = iceberg("run", "--input", str(inputs["b"]), "--out", str(out), "-q")
    assert final.returncode == 0, final.stderr
    # The first run that completed after the previous one must equal the clean run; later
    # ones are assign runs on the same input, which the idempotency tests cover.
    assert_same_outputs(load_run(out, first_completed) if first_completed else load_run(out),
                        reference["run"])
    return delays


def test_kill_9_quick(tmp_path, inputs, reference):
    _kill_at_random_points(tmp_path, inputs, reference, kills=3, seed=1)


@pytest.mark.slow
def test_kill_9_at_twelve_random_points(tmp_path, inputs, reference):
    _kill_at_random_points(tmp_path, inputs, reference, kills=12, seed=2)


def test_second_run_exits_with_lock_code_within_2_s(tmp_path, inputs, reference):
    out = tmp_path / "out"
    shutil.copytree(reference["after_a"], out)
    first = _spawn("run", "--input", str(inputs["b"]), "--out", str(out), "-q", "--mode", "full")
    try:
        deadline = time.time() + 60
        while not (out / ".lock.holder.json").exists():
            assert time.time() < deadline and first.poll() is None, "the first run never took the lock"
            time.sleep(0.05)
        started = time.perf_counter()
        second = iceberg("run", "--input", str(inputs["b"]), "--out", str(out), timeout=30)
        elapsed = time.perf_counter() - started
    finally:
        first.wait(timeout=300)
    assert second.returncode == EXIT_LOCK_HELD, second.stderr
    assert "another iceberg run" in second.stderr
    assert elapsed < 2.0, f"the second run took {elapsed:.2f} s to give up"
    assert first.returncode == 0, first.stderr


def test_resume_reuses_the_killed_runs_icebergs(tmp_path, inputs, reference):
    from pipeline.store import load_run

    out = tmp_path / "out"
    shutil.copytree(reference["after_a"], out)
    process = _spawn("run", "--input", str(inputs["b"]), "--out", str(out), "-q")
    deadline = time.time() + 120
    checkpoints = []
    while not checkpoints:
        assert process.poll() is None and time.time() < deadline, "the run ended before its checkpoint"
        checkpoints = list((out / "runs").glob("*/_resume/decision.json"))
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    killed = checkpoints[0].parent.parent.name
    resumed = iceberg("run", "--input", str(inputs["b"]), "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    run = load_run(out)
    assert run.run_id == killed
    assert not (run.folder / "_resume").exists()
    assert_same_outputs(run, reference["run"])


def test_same_input_twice_gives_the_same_outputs(tmp_path, inputs, reference):
    """Idempotency: a fresh OUT reproduces the tables; the same OUT keeps every id."""
    from pipeline.store import load_run

    fresh = tmp_path / "fresh"
    assert iceberg("run", "--input", str(inputs["a"]), "--out", str(fresh), "-q").returncode == 0
    assert_same_outputs(load_run(fresh), load_run(reference["after_a"]))
    again = iceberg("run", "--input", str(inputs["a"]), "--out", str(fresh), "-q")
    assert again.returncode == 0
    second = load_run(fresh)
    assert second.manifest.incremental["mode"] == "assign"
    first = load_run(reference["after_a"])
    assert sorted(second.icebergs["iceberg_id"]) == sorted(first.icebergs["iceberg_id"])
    pd.testing.assert_series_equal(
        second.tickets.set_index("ticket_id")["iceberg_id"].sort_index(),
        first.tickets.set_index("ticket_id")["iceberg_id"].sort_index())
    assert set(second.lineage["event"]) == {"continued"}
