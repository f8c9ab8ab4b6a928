"""``run``: the batch pipeline end to end, from an input file to a finished run folder.

ingest → prepare (clean + redact) → embed (cache) → cluster → identify → profile → store.
Each stage is a function of its own module; this one only sequences them, times them
(``stages`` in the manifest) and writes the run through ``pipeline.store``.
"""

from __future__ import annotations

import logging
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterator

import pandas as pd

from pipeline.cluster import cluster_assignments, clusterer_from_config
from pipeline.config import Config
from pipeline.embed import Embedder, Embeddings, embedder_from_config, ticket_embeddings
from pipeline.identity import KnownIcebergs, iceberg_identities
from pipeline.ingest import Ingested, read_tickets
from pipeline.prepare import Prepared, prepared_tickets
from pipeline.profile import Profiles, profiles
from pipeline.schemas import SCHEMA_VERSION, TICKETS, TicketCols
from pipeline.store import EmbeddingCache, RunWriter, cache_folder, latest_run_id, load_run, new_run_id

log = logging.getLogger("iceberg")

_VERSIONED_PACKAGES = ("ticket-iceberg", "pandas", "numpy", "pyarrow", "scikit-learn", "hdbscan",
                       "sentence-transformers", "torch")


@dataclass
class _Stages:
    records: list[dict] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, rows_in: int | None) -> Iterator[dict]:
        record = {"name": name, "seconds": None, "rows_in": rows_in, "rows_out": None}
        started = time.perf_counter()
        yield record
        record["seconds"] = round(time.perf_counter() - started, 3)
        self.records.append(record)
        log.info("%-8s %6.1f s  %s → %s rows", name, record["seconds"],
                 _n(record["rows_in"]), _n(record["rows_out"]))


@dataclass(frozen=True)
class RunResult:
    run_id: str
    folder: Path
    manifest: dict


def run(input_path: str | Path, out: str | Path, config: Config | None = None, *,
        embedder: Embedder | None = None, progress: bool | None = None) -> RunResult:
    """Run the pipeline on ``input_path`` and write ``out/runs/<run_id>/``; returns its manifest.

    A run that fails leaves a manifest with ``status = "failed"`` and the error, and
    ``out/latest`` untouched.
    """
    config = config or Config()
    out = Path(out)
    started_at = _now()
    writer = RunWriter(out, new_run_id())
    stages = _Stages()
    try:
        computed = _computed(input_path, out, config, embedder or embedder_from_config(config.embedding),
                             writer, stages, progress)
    except BaseException as exc:
        writer.finish({"schema_version": SCHEMA_VERSION, "run_id": writer.run_id, "status": "failed",
                       "error": f"{type(exc).__name__}: {exc}", "started_at": started_at,
                       "finished_at": _now(), "config": config.to_dict(), "stages": stages.records})
        raise
    manifest = _manifest(computed, config, writer.run_id, started_at, stages)
    writer.finish(manifest)
    return RunResult(run_id=writer.run_id, folder=writer.folder, manifest=manifest)


@dataclass(frozen=True)
class _Computed:
    ingested: Ingested
    prepared: Prepared
    tickets: pd.DataFrame
    embeddings: Embeddings
    profiled: Profiles


def _computed(input_path, out: Path, config: Config, embedder: Embedder, writer: RunWriter,
              stages: _Stages, progress: bool | None) -> _Computed:
    """Every stage in turn; each table is written as soon as it is final."""
    run_id = writer.run_id
    with stages.stage("ingest", None) as s:
        ingested = read_tickets(input_path, config)
        s["rows_out"] = len(ingested.tickets)
        s["rows_in"] = ingested.rows_read

    with stages.stage("prepare", len(ingested.tickets)) as s:
        prepared = prepared_tickets(ingested.tickets, ingested.quarantine, config,
                                    source=ingested.source["path"])
        tickets = prepared.tickets
        s["rows_out"] = len(tickets)

    with stages.stage("embed", len(tickets)) as s:
        cache = EmbeddingCache(cache_folder(out), embedder.key).load()
        embeddings = ticket_embeddings(tickets[TicketCols.text].tolist(), embedder, cache,
                                       shard_name=run_id, model_name=config.embedding.model,
                                       progress=progress)
        s["rows_out"] = len(embeddings.vectors)

    with stages.stage("cluster", len(tickets)) as s:
        assignments, centroids = cluster_assignments(tickets, embeddings.vectors,
                                                     clusterer_from_config(config.cluster))
        s["rows_out"] = int((assignments["cluster"] >= 0).sum())

    with stages.stage("identify", len(centroids)) as s:
        identities = iceberg_identities(assignments, centroids, _previous_icebergs(out, embeddings.dim),
                                        run_id)
        ids = assignments["cluster"].map(identities.cluster_to_id).astype("string")
        tickets = tickets.assign(**{TicketCols.iceberg_id: ids,
                                    TicketCols.membership: assignments[TicketCols.membership]})
        s["rows_out"] = len(identities.cluster_to_id)

    with stages.stage("profile", len(tickets)) as s:
        profiled = profiles(tickets, embeddings.vectors, ingested.dimensions, config.profile)
        s["rows_out"] = len(profiled.icebergs)

    with stages.stage("write", len(tickets)) as s:
        tickets = tickets[_ticket_columns(tickets)]
        writer.write_table("tickets.parquet", tickets)
        writer.write_table("icebergs.parquet", profiled.icebergs)
        writer.write_table("attributes.parquet", profiled.attributes)
        writer.write_table("timeline.parquet", profiled.timeline)
        writer.write_table("lineage.parquet", identities.lineage)
        writer.write_table("quarantine.parquet", prepared.quarantine)
        writer.write_registry(identities.known)
        s["rows_out"] = len(tickets)
    return _Computed(ingested, prepared, tickets, embeddings, profiled)


def _manifest(computed: _Computed, config: Config, run_id: str, started_at: str,
              stages: _Stages) -> dict:
    tickets = computed.tickets
    in_icebergs = int(tickets[TicketCols.iceberg_id].notna().sum())
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "status": "succeeded",
        "started_at": started_at,
        "finished_at": _now(),
        "config": config.to_dict(),
        "inputs": [computed.ingested.source],
        "counts": {
            "rows_read": computed.ingested.rows_read,
            "rows_quarantined": len(computed.prepared.quarantine),
            "tickets": len(tickets),
            "in_icebergs": in_icebergs,
            "unclustered": len(tickets) - in_icebergs,
            "icebergs": len(computed.profiled.icebergs),
        },
        "stages": stages.records,
        "embedding": computed.embeddings.manifest(),
        "columns": {"roles": computed.ingested.roles, "dimensions": computed.ingested.dimensions},
        "redactions": computed.prepared.redactions,
        "versions": _versions(),
    }


def _previous_icebergs(out: Path, dim: int) -> KnownIcebergs:
    if latest_run_id(out) is None:
        return KnownIcebergs.none(dim)
    known = load_run(out).known_icebergs()
    return known if known.centroids.shape[1] == dim else KnownIcebergs.none(dim)


def _ticket_columns(tickets: pd.DataFrame) -> list[str]:
    """Contract columns first, then the rest as they came from the input."""
    first = [c for c in TICKETS.columns + [TicketCols.customer_id, TicketCols.agent_id]
             if c in tickets.columns]
    return first + [c for c in tickets.columns if c not in first]


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
