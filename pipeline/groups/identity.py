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

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline.groups.outcome import (ID_PREFIX, Grouped, KnownIcebergs, assignment_table, iceberg_id,
                                     lineage_table, next_registry)
from pipeline.schemas import TicketCols


def iceberg_identities(assignments: pd.DataFrame, centroids: np.ndarray, previous: KnownIcebergs,
                       run_id: str, *, min_overlap: float = 0.3,
                       min_centroid_similarity: float = 0.9) -> Grouped:
    """Map this run's clusters (``assignments.cluster``, -1 outside) to iceberg ids.

    ``assignments`` has a row per ticket (``ticket_id``, ``cluster`` and, when known,
    ``membership``); the outcome's assignments keep that order."""
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
            new_id = iceberg_id(number)
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

    ids = assignments["cluster"].map(cluster_to_id)
    membership = (assignments[TicketCols.membership] if TicketCols.membership in assignments
                  else pd.Series(np.nan, index=assignments.index))
    known = next_registry(previous, {cluster_to_id[c]: centroids[c] for c in cluster_to_id},
                          {cluster_to_id[c]: m for c, m in members.items()},
                          active=cluster_to_id.values())
    return Grouped(assignment_table(assignments[TicketCols.ticket_id], ids, membership),
                   lineage_table(events, run_id), known)


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
        oldest = min([j, *merged], key=lambda k: id_number(previous.ids[k]))
        if oldest != j:
            result[c] = oldest
            taken.discard(j)
            taken.add(oldest)
    return result


def id_number(name: str) -> tuple[int, str]:
    digits = name[len(ID_PREFIX):]
    return (int(digits), name) if name.startswith(ID_PREFIX) and digits.isdigit() else (10 ** 9, name)
