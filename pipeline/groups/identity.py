"""Identity: give each cluster an ``iceberg_id`` that names the same problem across runs.

A cluster of this run inherits the id of the previous run's iceberg it matches. Matching
is a one-to-one assignment (Hungarian) on a score that combines member overlap (Jaccard
over the tickets both runs saw) and centroid similarity; a pair counts as a match when
the overlap reaches ``min_overlap`` or, for clusters with no shared tickets, when the
centroids are at least ``min_centroid_similarity`` alike. Ids the previous run no longer
had (faded, or merged into another iceberg) are matched by centroid alone and come back
as ``reborn`` — so a problem that a re-cluster merged and later splits off again gets its
old id back instead of a new one. A cluster that merges several previous icebergs keeps
the oldest of their ids.

Lineage events written per run: ``born`` (new id), ``continued`` (same id; its
``related_ids`` list ids merged into it), ``merged`` (an old id whose members now sit
mostly in another iceberg; ``related_ids`` = that iceberg), ``split`` (a new id made
mostly of one previous iceberg's members; ``related_ids`` = that one), ``faded`` (an old
id with no successor), ``reborn`` (a faded id matched again).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline.schemas import LINEAGE, LineageCols, TicketCols

ID_PREFIX = "ICE-"


@dataclass(frozen=True)
class KnownIcebergs:
    """Every iceberg id seen so far, with its last centroid and its current members."""

    ids: list[str]
    centroids: np.ndarray               # (len(ids), dim)
    active: np.ndarray                  # bool: present in the previous run
    members: dict[str, frozenset[str]]  # active id -> ticket ids in the previous run

    @classmethod
    def none(cls, dim: int) -> "KnownIcebergs":
        return cls([], np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=bool), {})

    def next_number(self, taken=()) -> int:
        """The number after every id known so far and in ``taken``."""
        numbers = [int(i[len(ID_PREFIX):]) for i in [*self.ids, *taken] if i.startswith(ID_PREFIX)]
        return max(numbers, default=0) + 1


def next_iceberg_id(known: KnownIcebergs, taken=()) -> str:
    """The next unused id after every id in ``known`` and in ``taken``."""
    return f"{ID_PREFIX}{known.next_number(taken):04d}"


@dataclass(frozen=True)
class Identities:
    cluster_to_id: dict[int, str]
    lineage: pd.DataFrame
    known: KnownIcebergs     # the registry to hand to the next run


def iceberg_identities(assignments: pd.DataFrame, centroids: np.ndarray, previous: KnownIcebergs,
                       run_id: str, *, min_overlap: float = 0.3,
                       min_centroid_similarity: float = 0.9) -> Identities:
    """Map this run's clusters (``assignments.cluster``, -1 outside) to iceberg ids."""
    clusters = np.arange(len(centroids))
    members = {c: frozenset(g) for c, g in assignments.loc[assignments["cluster"] >= 0]
               .groupby("cluster")[TicketCols.ticket_id]}
    seen_before = frozenset().union(*previous.members.values()) if previous.members else frozenset()
    seen_now = frozenset(assignments[TicketCols.ticket_id])

    n_old = len(previous.ids)
    overlap = np.zeros((len(clusters), n_old))
    containment = np.zeros((len(clusters), n_old))  # share of old members now in cluster
    for j, old_id in enumerate(previous.ids):
        old = previous.members.get(old_id, frozenset()) & seen_now
        for c in clusters:
            new = members.get(c, frozenset()) & seen_before
            shared = len(old & new)
            if shared:
                overlap[c, j] = shared / len(old | new)
                containment[c, j] = shared / len(old)
    similarity = centroids @ previous.centroids.T if n_old else np.zeros((len(clusters), 0))
    no_shared = ~overlap.any(axis=0)[None, :] & ~overlap.any(axis=1)[:, None]
    # An id with no members now (faded, or merged into another) may be taken back by
    # centroid alone, even by a cluster split off the iceberg it had merged into.
    by_centroid = no_shared | ~previous.active[None, :]
    eligible = (overlap >= min_overlap) | (by_centroid & (similarity >= min_centroid_similarity))
    score = np.where(eligible, overlap + similarity, -np.inf)

    matched: dict[int, int] = {}
    if n_old and len(clusters):
        rows, cols = linear_sum_assignment(np.where(np.isfinite(score), -score, 1e6))
        matched = {r: c for r, c in zip(rows, cols) if np.isfinite(score[r, c])}
    matched = _oldest_id_wins(matched, containment, previous)

    number = previous.next_number()
    cluster_to_id: dict[int, str] = {}
    events: list[tuple[str, str, list[str]]] = []
    for c in clusters:
        if c in matched:
            j = matched[c]
            old_id = previous.ids[j]
            cluster_to_id[c] = old_id
            event = "continued" if previous.active[j] else "reborn"
            absorbed = [previous.ids[k] for k in np.flatnonzero(containment[c] >= 0.5)
                        if k != j and k not in matched.values()]
            events.append((old_id, event, absorbed))
        else:
            new_id = f"{ID_PREFIX}{number:04d}"
            number += 1
            cluster_to_id[c] = new_id
            origin = [previous.ids[k] for k in np.flatnonzero(overlap[c] > 0)
                      if len(members.get(c, ())) and
                      len(members[c] & previous.members.get(previous.ids[k], frozenset()))
                      >= 0.5 * len(members[c])]
            events.append((new_id, "split" if origin else "born", origin))

    survivors = {j: c for c, j in matched.items()}
    for j, old_id in enumerate(previous.ids):
        if j in survivors or not previous.active[j]:
            continue
        host = containment[:, j].argmax() if len(clusters) else -1
        if host >= 0 and containment[host, j] >= 0.5:
            events.append((old_id, "merged", [cluster_to_id[host]]))
        else:
            events.append((old_id, "faded", []))

    lineage = pd.DataFrame(
        [{LineageCols.iceberg_id: i, LineageCols.run_id: run_id, LineageCols.event: e,
          LineageCols.related_ids: r} for i, e, r in events],
        columns=LINEAGE.columns)
    return Identities(cluster_to_id, lineage, _updated_registry(previous, cluster_to_id, centroids, members))


def _oldest_id_wins(matched: dict[int, int], containment: np.ndarray,
                    previous: KnownIcebergs) -> dict[int, int]:
    """When a cluster merges several previous icebergs, it keeps the oldest id.

    A cluster that holds at least half the members of its matched iceberg and of other
    unmatched previous icebergs merges them; whichever id was issued first (the lowest
    number) names it, so a problem that an assign night briefly split in two gets its
    original id back, and the younger id is reported ``merged`` into it.
    """
    taken = set(matched.values())
    result = dict(matched)
    for c, j in matched.items():
        if containment[c, j] < 0.5:
            continue
        merged = [k for k in np.flatnonzero(containment[c] >= 0.5)
                  if k not in taken and previous.active[k]]
        oldest = min([j, *merged], key=lambda k: _id_number(previous.ids[k]))
        if oldest != j:
            result[c] = oldest
            taken.discard(j)
            taken.add(oldest)
    return result


def _id_number(iceberg_id: str) -> tuple[int, str]:
    digits = iceberg_id[len(ID_PREFIX):]
    return (int(digits), iceberg_id) if iceberg_id.startswith(ID_PREFIX) and digits.isdigit() \
        else (10 ** 9, iceberg_id)


def _updated_registry(previous: KnownIcebergs, cluster_to_id: dict[int, str], centroids: np.ndarray,
                      members: dict[int, frozenset[str]]) -> KnownIcebergs:
    by_id = {i: previous.centroids[j] for j, i in enumerate(previous.ids)}
    for c, iceberg_id in cluster_to_id.items():
        by_id[iceberg_id] = centroids[c]
    ids = sorted(by_id)
    current = set(cluster_to_id.values())
    dim = centroids.shape[1] if len(centroids) else previous.centroids.shape[1]
    stacked = np.stack([by_id[i] for i in ids]).astype(np.float32) if ids else np.zeros((0, dim), np.float32)
    return KnownIcebergs(ids=ids, centroids=stacked,
                         active=np.array([i in current for i in ids], dtype=bool),
                         members={cluster_to_id[c]: m for c, m in members.items()})
