"""``run``: the batch pipeline end to end, from an input to a finished run folder.

ingest → prepare (clean + redact) → embed (cache) → cluster → split (emerging sub-problems)
→ identify → profile → store.
Each stage is a function of its wing (``sources``, ``text``, ``embed``, ``groups``,
``analysis``); this module only sequences them, times them (``stages`` in the manifest)
and hands their results to ``pipeline.store``.

``mode`` (``pipeline.groups.incremental``) replaces cluster → identify by ``assign`` when a
run only needs to place new tickets; the run holds ``OUT/.lock`` throughout
(``pipeline.store.lock``), writes ``changes.json`` (``pipeline.ops.changes``) and, once
finished, posts its alerts to the webhook (``pipeline.ops.alerts``).
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from pipeline.analysis.map import Mapped, mapped_tickets
from pipeline.analysis.profile import Profiles, profiles
from pipeline.config import Config
from pipeline.embed import (Embedder, Embeddings, embedder_from_config, executor_from_config,
                            problem_embeddings)
from pipeline.errors import ConfigError
from pipeline.groups import incremental
from pipeline.groups.cluster import cluster_assignments, clusterer_from_config
from pipeline.groups.identity import iceberg_identities
from pipeline.groups.outcome import Grouped, KnownIcebergs
from pipeline.groups.split import (absorbed_hypotheses, emergent_splits, evidence_signatures,
                                   with_emergent_splits)
from pipeline.ops.alerts import alert_bodies, send_alerts
from pipeline.ops.changes import iceberg_changes, with_alerts
from pipeline.ops.memory import peak_rss
from pipeline.schemas import TicketCols, contract_order
from pipeline.sources import (Ingested, Reader, events_source, read_events, read_tickets,
                              source_fingerprint)
from pipeline.store import checkpoint
from pipeline.store.curation import Curation
from pipeline.store.embedding_cache import EmbeddingCache
from pipeline.store.layout import CHANGES, DIGEST, WEBHOOK, Layout
from pipeline.store.lock import run_lock
from pipeline.store.map_state import read_map_positions, read_map_state
from pipeline.store.reader import PreviousRun, latest_run_id, previous_run
from pipeline.store.records import FAILED, SUCCEEDED, Changes, Counts, Manifest
from pipeline.store.writer import RunWriter, new_run_id
from pipeline.text.prepare import Prepared, prepared_tickets, problem_view, scaffolding_groups, with_signatures
from pipeline.text.structure import structure_summary

log = logging.getLogger("iceberg")

_VERSIONED_PACKAGES = ("ticket-iceberg", "pandas", "numpy", "pyarrow", "scikit-learn", "hdbscan",
                       "sentence-transformers", "torch")


@dataclass
class _Stages:
    records: list[dict] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, rows_in: int | None) -> Iterator[dict]:
        record = {"name": name, "seconds": None, "rows_in": rows_in, "rows_out": None, "peak_rss_mb": None}
        started = time.perf_counter()
        with peak_rss(record):
            yield record
        record["seconds"] = round(time.perf_counter() - started, 3)
        self.records.append(record)
        log.info("%-8s %6.1f s  %s → %s rows  peak %s MB", name, record["seconds"],
                 _n(record["rows_in"]), _n(record["rows_out"]), record["peak_rss_mb"],
                 extra={"event": "stage", "stage": name, **{
                     k: record[k] for k in ("seconds", "rows_in", "rows_out", "peak_rss_mb")}})


@dataclass(frozen=True)
class RunResult:
    run_id: str
    folder: Path
    manifest: Manifest


def run(input_path: str | Path | Reader, out: str | Path, config: Config | None = None, *,
        embedder: Embedder | None = None, progress: bool | None = None, mode: str | None = None,
        resume: bool = False) -> RunResult:
    """Run the pipeline on ``input_path`` (a file, or any ``pipeline.sources.Reader``) and write
    ``out/runs/<run_id>/``; returns its manifest.

    ``mode`` is ``auto``, ``assign`` or ``full`` (default: ``incremental.mode``; see
    ``pipeline.groups.incremental``). ``resume`` reuses what an unfinished run with the same
    input, config and mode already computed (``pipeline.store.checkpoint``).
    A run that fails leaves a manifest with ``status = "failed"`` and the error, and
    ``out/latest`` untouched. Raises ``LockHeld`` at once when another run holds ``out``.
    """
    config = (config or Config()).validate()
    out = Path(out)
    mode = mode or config.incremental.mode
    if mode not in incremental.MODES:
        raise ConfigError(f"mode must be one of {', '.join(incremental.MODES)}, got {mode!r}")
    with run_lock(out):
        result = _locked_run(input_path, out, config, embedder, progress, mode, resume)
    _deliver_alerts(result, config)
    return result


def _locked_run(input_path, out: Path, config: Config, embedder: Embedder | None,
                progress: bool | None, mode: str, resume: bool) -> RunResult:
    started_at = _now()
    state = {"input_sha256": source_fingerprint(input_path, config.input), "config": config.to_dict(),
             "previous_run_id": latest_run_id(out), "mode": mode}
    if resume and state["input_sha256"] is None:   # e.g. SQL: nothing tells that the rows are the same
        log.warning("--resume ignored: the input has no content fingerprint to match an unfinished run by",
                    extra={"event": "resume_refused"})
        resume = False
    run_id = (checkpoint.resumable_run(out, state) if resume else None) or new_run_id()
    writer = RunWriter(out, run_id)
    checkpoint.write_state(writer.folder, state)
    log.info("run %s started (mode %s%s)", run_id, mode, ", resuming" if resume else "",
             extra={"event": "run_started", "run_id": run_id, "requested_mode": mode})
    stages = _Stages()
    try:
        computed = _computed(input_path, out, config, embedder, writer, stages, progress, mode)
    except BaseException as exc:
        try:
            writer.finish(Manifest(run_id=run_id, status=FAILED, error=f"{type(exc).__name__}: {exc}",
                                   started_at=started_at, finished_at=_now(), config=config.to_dict(),
                                   stages=stages.records))
        except OSError as again:   # e.g. the disk is still full: the first error is the one to report
            log.warning("could not record the failed run: %s", again)
        raise
    manifest = writer.finish(_manifest(computed, config, run_id, started_at, stages))
    checkpoint.clear(writer.folder)
    log.info("run %s finished (%s)", run_id, computed.incremental["mode"],
             extra={"event": "run_finished", "run_id": run_id, "counts": dataclasses.asdict(manifest.counts),
                    "mode": computed.incremental["mode"], "alerts": len(computed.changes.alerts)})
    return RunResult(run_id=run_id, folder=writer.folder, manifest=manifest)


def _deliver_alerts(result: RunResult, config: Config) -> None:
    """Post the run's alerts to the webhooks and mail the digest, when set; never raises
    (``pipeline.ops.alerts``, ``pipeline.ops.digest``)."""
    _send_digest(result, config)
    if not config.alerts.webhook_url:
        return
    writer = RunWriter(result.folder.parent.parent, result.run_id)
    try:
        from pipeline.store import load_run

        changes = Changes.read(result.folder / CHANGES).to_dict()
        bodies = alert_bodies(changes, config, out=str(writer.out), finished_at=result.manifest.finished_at,
                              changes_path=str(result.folder / CHANGES),
                              run=load_run(writer.out, result.run_id))
        records = [{**send_alerts(body, config.alerts, url, has_alerts=bool(changes["alerts"])), "format": fmt}
                   for fmt, url, body in bodies]
        writer.write_json(WEBHOOK, records[0] if len(records) == 1 else {"deliveries": records})
    except Exception as exc:   # noqa: BLE001 — the run has succeeded; a webhook never undoes that
        log.warning("alert webhook not sent: %s: %s", type(exc).__name__, exc)


def _send_digest(result: RunResult, config: Config) -> None:
    if not config.alerts.email_to:
        return
    try:
        from pipeline.ops.digest import send_digest, digest_message
        from pipeline.store import load_run

        changes = Changes.read(result.folder / CHANGES).to_dict()
        if not changes["alerts"] and not config.alerts.email_on_empty:
            return
        message = digest_message(changes, load_run(result.folder.parent.parent, result.run_id),
                                 dashboard_url=config.dashboard.url, sender=config.alerts.email_from,
                                 recipients=list(config.alerts.email_to), out=str(result.folder.parent.parent))
        RunWriter(result.folder.parent.parent, result.run_id).write_json(DIGEST, send_digest(message, config.alerts))
    except Exception as exc:   # noqa: BLE001 — the run has succeeded; a digest never undoes that
        log.warning("alert digest not sent: %s: %s", type(exc).__name__, exc)


@dataclass(frozen=True)
class _Computed:
    ingested: Ingested
    prepared: Prepared
    tickets: pd.DataFrame
    embeddings: Embeddings
    profiled: Profiles
    incremental: dict
    changes: Changes
    events: pd.DataFrame | None = None


def _computed(input_path, out: Path, config: Config, embedder: Embedder | None, writer: RunWriter,
              stages: _Stages, progress: bool | None, mode: str) -> _Computed:
    """Every stage in turn; each table is written as soon as it is final."""
    run_id = writer.run_id
    with stages.stage("ingest", None) as s:
        ingested = read_tickets(input_path, config)
        events = read_events(config.profile.events) if config.profile.events else None
        s["rows_out"] = len(ingested.tickets)
        s["rows_in"] = ingested.rows_read
    for line in ingested.understood():
        (log.warning if line.startswith("Warning: ") else log.info)(
            line.removeprefix("Warning: "), extra={"event": "input_understood"})

    with stages.stage("prepare", len(ingested.tickets)) as s:
        prepared = prepared_tickets(ingested.tickets, ingested.quarantine, config,
                                    source=ingested.name, groups=scaffolding_groups(ingested.dimensions))
        tickets = prepared.tickets
        s["rows_out"] = len(tickets)
        s.update(prepared.templates)
        s["structure"] = prepared.structure
    log.info(structure_summary(prepared.structure), extra={"event": "structure"})
    dimensions = with_signatures(ingested.dimensions, tickets)

    previous = previous_run(out)
    is_new = incremental.new_ticket_mask(tickets, previous)
    until = incremental.data_until(tickets)
    decision = incremental.planned_mode(mode, previous, config, n_tickets=len(tickets),
                                        n_new=int(is_new.sum()), until=until)
    embedder = embedder or embedder_from_config(config.embedding)
    executor = executor_from_config(config.embedding)
    with stages.stage("embed", len(tickets)) as s:
        cache = EmbeddingCache(Layout(out).embeddings, embedder.key).load()
        subjects = prepared.problem_subjects
        embeddings = problem_embeddings(prepared.problem_texts.tolist(),
                                        None if subjects is None else subjects.tolist(), embedder, cache,
                                        subject_weight=config.cluster.subject_weight, shard_name=run_id,
                                        model_name=config.embedding.model, progress=progress,
                                        executor=executor)
        s["rows_out"] = len(embeddings.vectors)
        s["damaged_cache_shards"] = cache.corrupt_shards

    if previous is not None and len(previous.known.ids) and previous.known.dim != embeddings.dim:
        previous = None
        decision = incremental.planned_mode(mode, None, config, n_tickets=len(tickets),
                                            n_new=len(tickets), until=until)
    grouped = checkpoint.read_grouped(writer.folder)
    if grouped is not None:
        log.info("resuming: reusing the icebergs decided by the killed run %s", run_id,
                 extra={"event": "resume", "run_id": run_id})
    else:
        # Split signatures are single values: multi-valued dimensions (tags) are not among them.
        single = [d for d in dimensions if d not in ingested.multi_valued]
        grouped = _grouped(tickets, embeddings, single, previous, is_new, decision,
                           config, run_id, stages)
        checkpoint.write_grouped(writer.folder, grouped)
    tickets = grouped.applied_to(tickets)
    inc = incremental.incremental_record(grouped.decision, previous, is_new, tickets, until, run_id)
    log.info("mode %s: %s", inc["mode"], "; ".join(inc["reasons"]),
             extra={"event": "mode", "mode": inc["mode"], "reasons": inc["reasons"], "signals": inc["signals"]})
    mapped = _mapped(tickets, embeddings, previous, is_new, inc["mode"], config, stages)
    if mapped is not None:
        tickets = tickets.assign(**{TicketCols.map_x: mapped.coords[:, 0], TicketCols.map_y: mapped.coords[:, 1]})

    with stages.stage("profile", len(tickets)) as s:
        profiled = profiles(problem_view(tickets, prepared), embeddings.vectors, dimensions, config.profile,
                            events, dismissed=Curation(out).dismissed(), multi_valued=ingested.multi_valued,
                            theme_threshold=config.cluster.theme_threshold)
        s["rows_out"] = len(profiled.icebergs)

    with stages.stage("write", len(tickets)) as s:
        tickets = contract_order(tickets)
        writer.write_table("tickets.parquet", tickets)
        writer.write_table("icebergs.parquet", profiled.icebergs)
        writer.write_table("themes.parquet", profiled.themes)
        writer.write_table("attributes.parquet", profiled.attributes)
        writer.write_table("timeline.parquet", profiled.timeline)
        writer.write_table("lineage.parquet", grouped.lineage)
        writer.write_table("quarantine.parquet", prepared.quarantine)
        writer.write_registry(grouped.known)
        if mapped is not None:
            writer.write_map_state(mapped.ticket_map)
        changes = Changes.from_dict(with_alerts(iceberg_changes(
            previous.icebergs if previous else None, profiled.icebergs, grouped.lineage, run_id=run_id,
            previous_run_id=previous.run_id if previous else None, mode=inc["mode"]), config.alerts))
        writer.write_changes(changes)
        s["rows_out"] = len(tickets)
    return _Computed(ingested, prepared, tickets, embeddings, profiled, inc, changes, events)


def _grouped(tickets: pd.DataFrame, embeddings: Embeddings, dimensions: list[str],
             previous: PreviousRun | None, is_new, decision: incremental.ModeDecision, config: Config,
             run_id: str, stages: _Stages) -> Grouped:
    """The icebergs of this run: assign (and pool) new tickets, or re-cluster and identify."""
    clusterer = clusterer_from_config(config.cluster)
    if decision.mode == "assign":
        with stages.stage("assign", int(is_new.sum())) as s:
            assigned = incremental.assigned_icebergs(tickets, embeddings.vectors, is_new, previous,
                                                     run_id, clusterer, config)
            decision = incremental.confirmed_mode(decision, assigned.stats, config)
            s["rows_out"] = assigned.stats["assigned"]
        if decision.mode == "assign":
            return dataclasses.replace(assigned, decision=incremental.decision_record(decision, assigned.stats))

    with stages.stage("cluster", len(tickets)) as s:
        clustered = cluster_assignments(tickets, embeddings.vectors, clusterer)
        assignments, centroids = clustered.assignments, clustered.centroids
        s["rows_out"] = int((assignments["cluster"] >= 0).sum())
        s.update(clustered.stats)

    if config.cluster.split_emerging:
        with stages.stage("split", len(centroids)) as s:
            labels = assignments["cluster"].to_numpy()
            hypotheses = [] if previous is None else absorbed_hypotheses(
                assignments[TicketCols.ticket_id].to_numpy(), labels, previous.known.members,
                evidence_signatures(previous.attributes, previous.icebergs))
            splits = emergent_splits(
                tickets, embeddings.vectors, labels, dimensions,
                min_size=clusterer.min_cluster_size_for(len(tickets)),
                alpha=config.cluster.split_alpha, min_auc=config.cluster.split_min_auc,
                join_similarity=config.cluster.assign_threshold, hypotheses=hypotheses,
                random_state=config.cluster.random_state)
            assignments, centroids = with_emergent_splits(assignments, centroids,
                                                          embeddings.vectors, splits)
            s["rows_out"] = len(splits)
            s["hypotheses"] = len(hypotheses)
            s["splits"] = [split.record() for split in splits]

    with stages.stage("identify", len(centroids)) as s:
        known = previous.known if previous is not None else KnownIcebergs.none(embeddings.dim)
        identified = iceberg_identities(assignments, centroids, known, run_id,
                                        min_overlap=config.identity.min_overlap,
                                        min_centroid_similarity=config.identity.min_centroid_similarity)
        s["rows_out"] = len(centroids)
    return dataclasses.replace(identified, decision=incremental.decision_record(decision, {}))


def _mapped(tickets: pd.DataFrame, embeddings: Embeddings, previous: PreviousRun | None, is_new,
            mode: str, config: Config, stages: _Stages) -> Mapped | None:
    """The dashboard's map (``pipeline.analysis.map``): an assign run keeps the previous run's
    map and positions and places only its new tickets; a full run fits a new map; None when
    ``map.enabled`` is off."""
    if not config.map.enabled:
        return None
    with stages.stage("map", len(tickets)) as s:
        earlier = kept = None
        if previous is not None and mode == "assign":
            earlier = read_map_state(previous.run, n_neighbors=config.map.n_neighbors)
            positions = read_map_positions(previous.run) if earlier is not None else None
            if positions is not None:
                unchanged = tickets.loc[~np.asarray(is_new, dtype=bool), TicketCols.ticket_id]
                kept = positions[positions[TicketCols.ticket_id].isin(unchanged)]
        ids = tickets[TicketCols.ticket_id].to_numpy()
        mapped = mapped_tickets(embeddings.vectors, ids, config.map, previous=earlier, kept=kept,
                                random_state=config.cluster.random_state)
        s["placed"] = len(ids) - (0 if kept is None else len(kept))
        s["rows_out"] = len(mapped.coords)
        s["fitted"] = mapped.fitted
        s["anchors"] = len(mapped.ticket_map.anchor_coords_)
    return mapped


def _manifest(computed: _Computed, config: Config, run_id: str, started_at: str,
              stages: _Stages) -> Manifest:
    tickets = computed.tickets
    in_icebergs = int(tickets[TicketCols.iceberg_id].notna().sum())
    return Manifest(
        run_id=run_id, status=SUCCEEDED, started_at=started_at, finished_at=_now(),
        config=config.to_dict(),
        inputs=[computed.ingested.source] + _events_source(computed.events, config),
        counts=Counts(rows_read=computed.ingested.rows_read,
                      rows_quarantined=len(computed.prepared.quarantine), tickets=len(tickets),
                      in_icebergs=in_icebergs, unclustered=len(tickets) - in_icebergs,
                      icebergs=len(computed.profiled.icebergs), set_aside=computed.ingested.set_aside),
        stages=stages.records,
        incremental=computed.incremental,
        changes=computed.changes.summary,
        embedding=computed.embeddings.manifest(),
        columns={"roles": computed.ingested.roles,
                 "dimensions": with_signatures(computed.ingested.dimensions, computed.tickets),
                 "multi_valued": computed.ingested.multi_valued,
                 "handling": computed.ingested.handling,
                 "created_at": computed.ingested.dates, "warnings": computed.ingested.warnings},
        redactions=computed.prepared.redactions,
        versions=_versions(),
    )


def _events_source(events: pd.DataFrame | None, config: Config) -> list[dict]:
    """The events file as a manifest input (path, sha256, rows, role), when the run has one."""
    if events is None:
        return []
    return [events_source(config.profile.events, events)]


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
