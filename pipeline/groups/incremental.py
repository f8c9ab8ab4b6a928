"""Incremental runs: put new tickets into existing icebergs, pool the rest, decide the mode.

A nightly run on a grown ticket table has three ways to go (``--mode``):

- ``full``: re-cluster every ticket; ``pipeline.groups.identity`` matches the new clusters to
  the previous run's icebergs, so ids stay stable.
- ``assign``: keep every existing assignment, and put each **new or changed** ticket
  into the iceberg whose centroid (from the previous run's registry) is most similar,
  when the cosine similarity reaches ``incremental.assign_threshold`` (by default
  ``cluster.assign_threshold``, 0.55); a ticket below it stays outside. Then the
  **outlier pool** — every ticket outside any iceberg, old and new — is re-clustered on
  its own (same clusterer, same ``min_cluster_size`` as a full run of all tickets); a
  pool cluster that holds at least one ticket new to this run, and whose members are on
  average at least ``assign_threshold`` alike to its centroid, becomes an iceberg:
  it joins an existing iceberg when it is the same problem (its centroid at least
  ``pool_join_similarity`` alike to the iceberg's, or — for an iceberg a full run merged
  from neighbouring groups — most of its tickets nearest to that iceberg's tickets and
  the centroid of those nearest tickets that alike; see ``_same_problem``), comes back
  under a faded id when it matches that id's last centroid (``reborn``), and is ``born``
  otherwise. Every decision and its figures go to the manifest (``pool_decisions``). A problem that arrives a few
  tickets a night is thus born the night it is dense enough, not at the next full run.
- ``auto`` (default): ``full`` when there is no usable previous run, when the
  clustering or embedding settings changed, when the data is ``full_every_days`` newer
  than at the last full run (by ``created_at``; in runs when there are no dates), or when
  the new tickets exceed ``max_new_share`` of the previous run; otherwise it assigns
  and then checks two signals over the new tickets (once there are at least
  ``min_new_for_signals``): the share left outside (> ``max_outside_share``) and the
  drift (the old members' mean similarity to their centroid minus the new tickets'
  > ``max_drift``). Either one switches the run to ``full``.

Every decision is recorded with its reasons and signals in the manifest (``incremental``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import clone

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.groups.cluster import IcebergClusterer, cluster_assignments, unit_rows
from pipeline.groups.outcome import (Grouped, KnownIcebergs, assignment_table, lineage_table,
                                     next_registry)
from pipeline.schemas import TicketCols

if TYPE_CHECKING:
    from pipeline.store.reader import PreviousRun

MODES = ("auto", "assign", "full")
# Settings whose change makes old assignments incomparable: auto mode re-clusters.
_EMBEDDING_KEYS = ("model", "backend", "long_text", "max_chunks", "window_tokens")


def new_ticket_mask(tickets: pd.DataFrame, previous: PreviousRun | None) -> np.ndarray:
    """True for each ticket the previous run did not have, or had with another text."""
    if previous is None:
        return np.ones(len(tickets), dtype=bool)
    old_text = previous.tickets.set_index(TicketCols.ticket_id)[TicketCols.text]
    before = tickets[TicketCols.ticket_id].map(old_text)
    return (before.isna() | (before != tickets[TicketCols.text])).to_numpy(dtype=bool)


def data_until(tickets: pd.DataFrame) -> str | None:
    """The newest ``created_at`` of the tickets (ISO), the data's own clock."""
    if TicketCols.created_at not in tickets or tickets[TicketCols.created_at].isna().all():
        return None
    return pd.Timestamp(tickets[TicketCols.created_at].max()).isoformat()


@dataclass(frozen=True)
class ModeDecision:
    requested: str
    mode: str                    # assign | full (auto decides between them)
    reasons: list[str]
    signals: dict = field(default_factory=dict)

    def to_full(self, reason: str, **signals) -> "ModeDecision":
        return ModeDecision(self.requested, "full", self.reasons + [reason], {**self.signals, **signals})


def planned_mode(requested: str, previous: PreviousRun | None, config: Config, *, n_tickets: int,
                 n_new: int, until: str | None) -> ModeDecision:
    """The mode before embedding: what can be decided from the input and the previous run."""
    if requested not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {requested!r}")
    if requested == "full":
        return ModeDecision(requested, "full", ["requested"])
    if previous is None:
        return ModeDecision(requested, "full", ["no previous run to assign to"])
    settings = _settings_changed(previous.manifest.config, config.to_dict())
    if settings:
        reason = f"settings changed since the previous run: {', '.join(settings)}"
        if requested == "assign":
            return ModeDecision(requested, "assign", [f"requested (despite: {reason})"])
        return ModeDecision(requested, "full", [reason])
    if requested == "assign":
        return ModeDecision(requested, "assign", ["requested"])

    inc = config.incremental
    last_full_until = previous.incremental.get("last_full_data_until")
    signals: dict = {"new_tickets": n_new,
                     "new_share": round(n_new / max(len(previous.tickets), 1), 4)}
    if until and last_full_until:
        days = (pd.Timestamp(until) - pd.Timestamp(last_full_until)).total_seconds() / 86_400
        signals["days_since_full"] = round(days, 2)
    else:
        days = float(previous.incremental.get("runs_since_full", 0) + 1)
        signals["runs_since_full"] = int(days)
    if days >= inc.full_every_days:
        return ModeDecision(requested, "full", [f"{days:.1f} days since the last full run "
                                                f"(full_every_days = {inc.full_every_days})"], signals)
    if signals["new_share"] > inc.max_new_share:
        return ModeDecision(requested, "full", [f"{signals['new_share']:.0%} of the tickets are new "
                                                f"(max_new_share = {inc.max_new_share})"], signals)
    return ModeDecision(requested, "assign", ["no reason to re-cluster"], signals)


def confirmed_mode(decision: ModeDecision, stats: dict, config: Config) -> ModeDecision:
    """Auto mode after assigning: too many new tickets outside, or drift, mean re-cluster."""
    if decision.requested != "auto" or decision.mode != "assign":
        return decision
    inc = config.incremental
    signals = {k: stats[k] for k in ("outside_share", "drift") if k in stats}
    decision = ModeDecision(decision.requested, decision.mode, decision.reasons,
                            {**decision.signals, **signals})
    if stats.get("new_tickets", 0) < inc.min_new_for_signals:
        return decision
    if stats["outside_share"] > inc.max_outside_share:
        return decision.to_full(f"{stats['outside_share']:.0%} of the new tickets fit no iceberg "
                                f"(max_outside_share = {inc.max_outside_share})")
    if stats["drift"] is not None and stats["drift"] > inc.max_drift:
        return decision.to_full(f"new tickets drift {stats['drift']:.3f} from their icebergs "
                                f"(max_drift = {inc.max_drift})")
    return decision


def assigned_icebergs(tickets: pd.DataFrame, vectors: np.ndarray, is_new: np.ndarray,
                      previous: PreviousRun, run_id: str, clusterer: IcebergClusterer,
                      config: Config) -> Grouped:
    """Old tickets keep their iceberg; new ones join the nearest one or the outlier pool,
    and the pool is re-clustered (see the module docstring)."""
    inc = config.incremental
    threshold = inc.assign_threshold if inc.assign_threshold >= 0 else config.cluster.assign_threshold
    old = previous.tickets.set_index(TicketCols.ticket_id)
    ids = tickets[TicketCols.ticket_id].map(old[TicketCols.iceberg_id]).astype("string")
    membership = tickets[TicketCols.ticket_id].map(old[TicketCols.membership]).astype("float64")
    ids[is_new] = pd.NA
    membership[is_new] = 0.0
    membership = membership.fillna(0.0)

    known = previous.known
    active = np.flatnonzero(known.active)
    new_rows = np.flatnonzero(is_new)
    sims_new = np.zeros(len(new_rows))
    if len(active) and len(new_rows):
        sims = unit_rows(vectors[new_rows]) @ known.centroids[active].T
        best, sims_new = sims.argmax(axis=1), sims.max(axis=1)
        inside = sims_new >= threshold
        ids.iloc[new_rows[inside]] = [known.ids[active[b]] for b in best[inside]]
        membership.iloc[new_rows[inside]] = np.clip(sims_new[inside], 0, 1)
    assigned_now = int((ids.iloc[new_rows].notna()).sum()) if len(new_rows) else 0

    centroids = {i: known.centroids[j] for j, i in enumerate(known.ids)}
    events: list[tuple[str, str, list[str]]] = []
    pool_stats = {"pool_size": int(ids.isna().sum()), "pool_clustered": False, "pool_clusters": 0,
                  "pool_born": 0, "pool_joined": 0, "pool_decisions": []}
    pooled_new = int(ids.iloc[new_rows].isna().sum()) if len(new_rows) else 0
    pool = np.flatnonzero(ids.isna().to_numpy())
    min_size = clusterer.min_cluster_size_for(len(tickets))
    if pooled_new >= max(inc.pool_min_new, 1) and len(pool) >= min_size:
        model = clone(clusterer).set_params(min_cluster_size=min_size)
        clustered = cluster_assignments(tickets.iloc[pool], vectors[pool], model)
        frame, pool_centroids = clustered.assignments, clustered.centroids
        labels = frame["cluster"].to_numpy()
        pool_stats.update(pool_clustered=True, pool_clusters=len(pool_centroids))
        faded = [j for j in range(len(known.ids)) if not known.active[j]]
        taken: set[str] = set()
        for c in range(len(pool_centroids)):
            rows = pool[labels == c]
            if not is_new[rows].any():
                continue   # nothing new: it was as dense before, so no reason to act now
            centroid = pool_centroids[c]
            if float((unit_rows(vectors[rows]) @ centroid).mean()) < threshold:
                continue   # dense only by HDBSCAN's relative standard: not one problem
            target, event = None, "born"
            decision = {"size": int(len(rows)), "new": int(is_new[rows].sum())}
            if len(active):
                target, measured = _same_problem(vectors[rows], centroid, active, known, vectors, ids,
                                                 inc.pool_join_similarity, inc.pool_join_vote)
                decision.update(measured)
                if target is not None:
                    event = "joined"
            if target is None and faded:
                sims = known.centroids[faded] @ centroid
                j = faded[int(sims.argmax())]
                if sims.max() >= config.identity.min_centroid_similarity and known.ids[j] not in taken:
                    target, event = known.ids[j], "reborn"
            if target is None:
                target = known.next_id(taken)
            taken.add(target)
            pool_stats["pool_decisions"].append({**decision, "event": event, "iceberg_id": target})
            ids.iloc[rows] = target
            reference = centroids.get(target, centroid) if event == "joined" else centroid
            membership.iloc[rows] = np.clip(unit_rows(vectors[rows]) @ reference, 0, 1)
            if event != "joined":
                centroids[target] = centroid
                events.append((target, event, []))
                pool_stats["pool_born"] += 1
            else:
                pool_stats["pool_joined"] += 1

    members = {i: frozenset(g) for i, g in
               tickets[TicketCols.ticket_id].groupby(ids.to_numpy(), dropna=True)}
    reported = {e[0] for e in events}
    for j in active:
        iceberg = known.ids[j]
        if iceberg in reported:
            continue
        events.append((iceberg, "continued" if iceberg in members else "faded", []))
    registry = next_registry(known, centroids, members)
    lineage = lineage_table(sorted(events), run_id)

    left_out = int(ids.iloc[new_rows].isna().sum()) if len(new_rows) else 0
    old_members = previous.tickets[TicketCols.membership][previous.tickets[TicketCols.iceberg_id].notna()]
    assigned_sims = sims_new[sims_new >= threshold] if len(new_rows) else np.zeros(0)
    drift = (float(old_members.mean() - assigned_sims.mean())
             if len(assigned_sims) and len(old_members) else None)
    stats = {"new_tickets": int(len(new_rows)), "assigned": assigned_now, "threshold": threshold,
             "outside_share": round(left_out / len(new_rows), 4) if len(new_rows) else 0.0,
             "drift": round(drift, 4) if drift is not None else None, **pool_stats}
    return Grouped(assignment_table(tickets[TicketCols.ticket_id], ids, membership), lineage, registry,
                   stats=stats)


def _same_problem(members: np.ndarray, centroid: np.ndarray, active: np.ndarray, known: KnownIcebergs,
                  vectors: np.ndarray, ids: pd.Series, threshold: float, vote: float
                  ) -> tuple[str | None, dict]:
    """The existing iceberg a pool cluster is the same problem as, or None; and the figures.

    Two ways to be the same problem, both read at ``threshold`` (``pool_join_similarity``,
    the full run's ``merge_threshold``): the cluster's centroid is that alike to the
    iceberg's centroid; or — for an iceberg that a full run made by merging several
    neighbouring groups, whose overall centroid lies between them — at least ``vote`` of
    the cluster's tickets have their nearest iceberg ticket in that iceberg, and the
    centroid of that iceberg's tickets nearest to the cluster (as many as the cluster
    has) is that alike. That is the neighbourhood a full re-cluster would merge.
    """
    sims = known.centroids[active] @ centroid
    best = int(sims.argmax())
    figures = {"centroid_similarity": round(float(sims[best]), 4), "nearest_iceberg": known.ids[active[best]]}
    if sims[best] >= threshold:
        return known.ids[active[best]], figures
    inside = np.flatnonzero(ids.notna().to_numpy())
    if not len(inside):
        return None, figures
    inside_ids = ids.iloc[inside].to_numpy()
    unit_members = unit_rows(members)
    nearest = inside_ids[(unit_members @ unit_rows(vectors[inside]).T).argmax(axis=1)]
    names, counts = np.unique(nearest.astype(str), return_counts=True)
    winner = names[counts.argmax()]
    share = counts.max() / len(members)
    own = inside[inside_ids == winner]
    own_sims = unit_rows(vectors[own]) @ centroid
    closest = own[np.argsort(-own_sims, kind="stable")[:len(members)]]
    local = float(unit_rows(vectors[closest].mean(axis=0)) @ centroid)
    figures.update(vote_iceberg=str(winner), vote_share=round(float(share), 4),
                   local_similarity=round(local, 4))
    if share >= vote and local >= threshold:
        return str(winner), figures
    return None, figures


def _settings_changed(before: dict, now: dict) -> list[str]:
    changed = []
    for key, value in now.get("cluster", {}).items():
        if before.get("cluster", {}).get(key) != value:
            changed.append(f"cluster.{key}")
    for key in _EMBEDDING_KEYS:
        if before.get("embedding", {}).get(key) != now.get("embedding", {}).get(key):
            changed.append(f"embedding.{key}")
    return changed


def decision_record(decision: ModeDecision, stats: dict) -> dict:
    """The mode decision as the manifest records it (``incremental``; ``assign``: the figures)."""
    return {"requested": decision.requested, "mode": decision.mode, "reasons": decision.reasons,
            "signals": decision.signals, "assign": stats}


def incremental_record(decision: dict, previous: PreviousRun | None, is_new: np.ndarray,
                       tickets: pd.DataFrame, until: str | None, run_id: str) -> dict:
    """The manifest's ``incremental`` block (and what the next run's ``auto`` reads)."""
    before = previous.incremental if previous is not None else {}
    full = decision["mode"] == "full"
    removed = 0
    if previous is not None:
        removed = int((~previous.tickets[TicketCols.ticket_id].isin(tickets[TicketCols.ticket_id])).sum())
    return {
        **decision,
        "previous_run_id": previous.run_id if previous is not None else None,
        "data_until": until,
        "last_full_run_id": run_id if full else before.get("last_full_run_id"),
        "last_full_data_until": until if full else before.get("last_full_data_until"),
        "runs_since_full": 0 if full else int(before.get("runs_since_full", 0)) + 1,
        "new_tickets": int(is_new.sum()),
        "removed_tickets": removed,
    }
