"""Emerging sub-problems: split off the part of a cluster that began on a date, carries a
metadata signature and reads differently from the rest.

A new failure is often worded like an old request: "my PIN is blocked" sits next to "how
do I change my PIN", and a text clustering puts both in one cluster. What tells them
apart is when and where: from one day on, the cluster's tickets with a signature — a value
such as ``region=UK`` or a pair such as ``platform=Android ∧ app_version=5.4.0`` — outnumber
what that value's share in the rest of the data would explain. ``emergent_splits`` looks for
that pattern in every cluster and, when three independent checks agree, splits the
emerging part off as a cluster of its own:

1. **enrichment** — for each candidate signature (each value of a non-topical dimension,
   and each pair of values, held by at least ``min_size`` of the cluster's tickets) and
   each possible start (every ticket from the ``min_size``-th to the ``min_size``-th last,
   in time order), the one-sided Fisher exact test of the signature's count among the
   cluster's tickets since that start against its share among *all* tickets since then
   (so a release that every ticket moves to is no signal). The smallest p-value of the
   best signature must pass Bonferroni over every cluster × signature tested:
   p ≤ ``alpha`` / tests;
2. **change** — at the start found by a two-segment Bernoulli change point of the
   signature within the cluster, its share after must exceed its share before (one-sided
   Fisher, p ≤ ``CHANGE_ALPHA``): a cluster that *is* the new problem from its first
   ticket has nothing to split off;
3. **wording** — a logistic regression on the embeddings tells the signature's tickets
   since the start from the cluster's tickets before it with a cross-validated ROC AUC
   of at least ``min_auc``: random customers who happen to share a value read like
   everyone else (AUC ≈ 0.5), a sub-problem does not.

Members of the new cluster are the cluster's tickets since the start whose evidence
favours the sub-problem: the classifier's log-odds (out-of-fold for the tickets it was
trained on) plus the signature's log likelihood ratio — log(s/b) with it,
log((1−s)/(1−b)) without, where b is the signature's share among all tickets since the
start and s its share in the sub-problem, estimated from the excess over b — is
positive. So a ticket without the signature joins when its wording is clearly the
sub-problem's, and one with it stays when its wording is clearly the old request's. A
growing problem's first tickets come before its likeliest start: those since the
earliest plausible start (``split_search.change_starts``) join when they carry the signature and
their log-odds are positive. The remainder is searched again, so one cluster can hold
more than one emerging problem. A split then recruits the tickets from elsewhere that
carry its signature since its start and are more alike to it, or nearer its tickets,
than to their own cluster (``_recruited``). On a re-cluster, icebergs of the previous
run that were absorbed lend their evidence as hypotheses, tested first in a Bonferroni
family of their own and not on their wording again (``absorbed_hypotheses``).

Measured on the planted benchmark (``bench/planted_bench.py``, 5 seeds × 4 planted
problems, see docs/analytics.md for the figures).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering
from sklearn.neighbors import NearestNeighbors

from pipeline.analysis.evidence import PAIR_SEPARATOR
from pipeline.groups.cluster import unit_rows
from pipeline.groups.split_search import (EmergentSplit, Hypothesis, best_candidate, confirmed_split,
                                          signature_mask, signature_values, stated_candidate)
from pipeline.schemas import AttributeCols, CombinationCols, IcebergCols, TicketCols

MAX_ROUNDS = 3          # searches of a cluster's remainder after a split


def emergent_splits(tickets: pd.DataFrame, embeddings: np.ndarray, labels: np.ndarray,
                    dimensions: list[str], *, min_size: int, alpha: float, min_auc: float,
                    join_similarity: float, hypotheses: Sequence[Hypothesis] = (),
                    random_state: int = 0) -> list[EmergentSplit]:
    """Sub-problems to split off the clusters ``labels`` (one per row of ``tickets``, −1
    outside). Needs ``created_at``; returns [] without dates or dimensions.

    Splits from different clusters with the same signature whose centroids are at least
    ``join_similarity`` alike (cosine) are one problem showing in two neighbourhoods, and
    are joined.

    ``hypotheses`` (``absorbed_hypotheses``) were stated before the clusters were seen, so
    they form a family of their own: in its first search, a cluster with hypotheses is
    tested on them at ``alpha`` / (number of hypotheses) before the open search, and on
    the change alike. The wording is not checked again: it was told apart when the
    problem was first split off, and the dozen tickets a re-cluster absorbs give an AUC
    that is mostly noise (the classifier's log-odds still choose the members). A problem
    split off in one run and absorbed again by the next re-clustering is so held to its
    earlier evidence, not to a search through every signature of every cluster."""
    if TicketCols.created_at not in tickets.columns or not dimensions:
        return []
    created = pd.to_datetime(tickets[TicketCols.created_at], utc=True)
    if created.isna().all():
        return []
    values = signature_values(tickets, labels, dimensions)
    if values.empty:
        return []
    # Time order, ties broken by ticket id, so row order never changes the result.
    order = np.lexsort((tickets[TicketCols.ticket_id].astype(str).to_numpy(),
                        created.to_numpy(dtype="datetime64[ns]")))
    dated = created.notna().to_numpy()
    order = order[dated[order]]
    times = created.to_numpy(dtype="datetime64[ns]")
    labels = labels.copy()
    splits: list[EmergentSplit] = []
    searched = sorted(c for c in np.unique(labels) if c >= 0)
    stated = {}
    for hypothesis in hypotheses:
        stated.setdefault(hypothesis.cluster, []).append(hypothesis)
    for _ in range(MAX_ROUNDS):
        rows_of = {cluster: order[labels[order] == cluster] for cluster in searched}
        candidates = {cluster: best_candidate(cluster, rows, values, times, order, min_size)
                      for cluster, rows in rows_of.items()}
        tests = sum(c.tests for c in candidates.values() if c is not None)
        found = []
        for cluster in searched:
            split = None
            if cluster in stated:
                candidate = stated_candidate(stated.pop(cluster), rows_of[cluster], values, times,
                                              order, min_size, len(hypotheses))
                if candidate is not None and candidate.p_value * candidate.tests <= alpha:
                    split = confirmed_split(candidate, embeddings, times, min_size,
                                       min_auc=0.0, tests=candidate.tests,
                                       random_state=random_state)
            candidate = candidates[cluster]
            if split is None and candidate is not None and candidate.p_value * max(tests, 1) <= alpha:
                split = confirmed_split(candidate, embeddings, times, min_size, min_auc, tests, random_state)
            if split is not None:
                found.append(split)
        if not found:
            break
        labels = split_labels(labels, found)
        splits += found
        searched = [s.parents[0] for s in found]
    unit = unit_rows(embeddings)
    joined = _joined(splits, unit, join_similarity)
    in_a_split = np.zeros(len(labels), dtype=bool)
    for split in joined:
        in_a_split[split.rows] = True
    return [_recruited(split, labels, in_a_split, unit, values, times, join_similarity, min_size)
            for split in joined]


def absorbed_hypotheses(ticket_ids: Sequence[str], labels: np.ndarray,
                        previous_members: Mapping[str, frozenset[str]],
                        previous_signatures: Mapping[str, list[tuple[str, ...]]]) -> list[Hypothesis]:
    """Hypotheses for this run's clusters (``labels``, one per ticket id) from the previous
    run: each previous iceberg lends its signatures (``evidence_signatures``) to every
    cluster that holds at least a third of its tickets still here while they are less than
    half of that cluster — where it has been absorbed (a third, not most: a problem split
    off two neighbours and joined can be absorbed back into both)."""
    position = {ticket: row for row, ticket in enumerate(ticket_ids)}
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, dtype=int)
    hypotheses = []
    for iceberg in sorted(previous_signatures):
        rows = [position[t] for t in previous_members.get(iceberg, ()) if t in position]
        inside = labels[rows] if rows else np.zeros(0, dtype=int)
        held = np.bincount(inside[inside >= 0], minlength=len(sizes))
        for cluster in np.flatnonzero((3 * held >= len(rows)) & (2 * held < sizes) & (held > 0)):
            hypotheses += [Hypothesis(int(cluster), s) for s in previous_signatures[iceberg]
                           if Hypothesis(int(cluster), s) not in hypotheses]
    return hypotheses


def evidence_signatures(attributes: pd.DataFrame, icebergs: pd.DataFrame) -> dict[str, list[tuple[str, ...]]]:
    """Per iceberg of a run, the signatures its profile found: each value that counts as
    evidence on a non-topical dimension, and its top combination of two values."""
    A = AttributeCols
    signatures: dict[str, list[tuple[str, ...]]] = {}
    if {A.evidence, A.topical} <= set(attributes.columns):
        cause = attributes[attributes[A.evidence].astype(bool) & ~attributes[A.topical].astype(bool)]
        for iceberg, dimension, value in zip(cause[A.iceberg_id], cause[A.dimension], cause[A.value]):
            signatures.setdefault(str(iceberg), []).append((f"{dimension}={value}",))
    if CombinationCols.combination in icebergs.columns:
        pairs = icebergs.dropna(subset=[CombinationCols.combination])
        for iceberg, pair in zip(pairs[IcebergCols.iceberg_id], pairs[CombinationCols.combination]):
            signatures.setdefault(str(iceberg), []).append(tuple(str(pair).split(PAIR_SEPARATOR)))
    return signatures


def _joined(splits: list[EmergentSplit], unit: np.ndarray,
            join_similarity: float) -> list[EmergentSplit]:
    by_signature: dict[tuple[str, ...], list[EmergentSplit]] = {}
    for split in splits:
        by_signature.setdefault(split.signature, []).append(split)
    joined = []
    for group in by_signature.values():
        if len(group) > 1:
            centroids = np.array([_centroid(unit, s.rows) for s in group])
            together = AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average",
                distance_threshold=1 - join_similarity).fit(centroids).labels_
        else:
            together = np.zeros(1, dtype=int)
        for label in np.unique(together):
            parts = [s for s, t in zip(group, together) if t == label]
            first = min(parts, key=lambda s: s.p_value)
            joined.append(replace(first, parents=tuple(p for s in parts for p in s.parents),
                                  rows=np.sort(np.concatenate([s.rows for s in parts])),
                                  start=min(s.start for s in parts)))
    return sorted(joined, key=lambda s: (s.parents, s.start))


def _recruited(split: EmergentSplit, labels: np.ndarray, in_a_split: np.ndarray,
               unit: np.ndarray, values: pd.DataFrame, times: np.ndarray,
               join_similarity: float, neighbours: int) -> EmergentSplit:
    """The split with the tickets from elsewhere that belong to it: created since its start,
    carrying its signature, outside its parents, and either more alike to its centroid
    than to their own cluster's (tickets outside any cluster: at least ``join_similarity``,
    the bar for an outlier to join an iceberg), or with more of their ``neighbours``
    nearest tickets in the split than in their own cluster, and at least a third (short
    queries sit far from every centroid, but next to their own kind). Text clustering
    scatters a few of a new problem's tickets over other neighbours or leaves them out;
    its signature and timing are the evidence the text alone lacked. ``labels``: after
    every split; tickets already in a split (``in_a_split``) stay where they are."""
    carries = signature_mask(values, split.signature)
    since = times >= split.start.tz_convert(None).to_datetime64()
    candidates = np.flatnonzero(carries & since & ~in_a_split & ~np.isin(labels, split.parents))
    if not len(candidates):
        return split
    to_split = unit[candidates] @ _centroid(unit, split.rows)
    to_own = np.full(len(candidates), join_similarity)
    clusters = labels[candidates]
    for cluster in np.unique(clusters[clusters >= 0]):
        mine = clusters == cluster
        to_own[mine] = unit[candidates[mine]] @ _centroid(unit, labels == cluster)
    alike = (to_split > to_own) & (to_split >= join_similarity)
    near = _nearest_neighbours(unit, candidates, neighbours)
    in_split = np.isin(near, split.rows).sum(axis=1)
    in_own = ((labels[near] == clusters[:, None]) & (clusters[:, None] >= 0)).sum(axis=1)
    surrounded = (in_split > in_own) & (3 * in_split >= neighbours)
    joining = candidates[alike | surrounded]
    if not len(joining):
        return split
    return replace(split, rows=np.sort(np.concatenate([split.rows, joining])))


def _nearest_neighbours(unit: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest tickets (cosine) to each of ``rows``, itself left out."""
    width = min(k, len(unit) - 1)
    index = NearestNeighbors(n_neighbors=width + 1, metric="cosine").fit(unit)
    near = index.kneighbors(unit[rows], return_distance=False)
    others = near != rows[:, None]
    # itself is among its nearest (first, unless an identical text came first): drop it
    return np.array([row[keep][:width] for row, keep in zip(near, others)])


def _centroid(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The unit mean of ``unit``'s ``rows`` (positions or a mask)."""
    return unit_rows(unit[rows].sum(axis=0, keepdims=True))[0]


def split_labels(labels: np.ndarray, splits: list[EmergentSplit]) -> np.ndarray:
    """``labels`` with each split's rows moved to a new cluster, numbered after the last."""
    labels = labels.copy()
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for split in splits:
        labels[split.rows] = next_label
        next_label += 1
    return labels


def with_emergent_splits(assignments: pd.DataFrame, centroids: np.ndarray, embeddings: np.ndarray,
                         splits: list[EmergentSplit]) -> tuple[pd.DataFrame, np.ndarray]:
    """``cluster_assignments``' frame and centroids after the splits: each split is a new
    cluster, and its parent's centroid and every moved ticket's membership are recomputed."""
    if not splits:
        return assignments, centroids
    labels = split_labels(assignments["cluster"].to_numpy(), splits)
    unit = unit_rows(embeddings)
    changed = sorted({p for s in splits for p in s.parents}
                     | set(range(len(centroids), labels.max() + 1)))
    centroids = np.vstack([centroids, np.zeros((labels.max() + 1 - len(centroids),
                                                centroids.shape[1]), dtype=centroids.dtype)])
    for cluster in changed:
        centroids[cluster] = _centroid(unit, labels == cluster)
    membership = assignments[TicketCols.membership].to_numpy(dtype=np.float64).copy()
    moved = np.isin(labels, changed)
    membership[moved] = np.clip(np.einsum("ij,ij->i", unit[moved], centroids[labels[moved]]), 0, 1)
    return assignments.assign(cluster=labels, **{TicketCols.membership: membership}), centroids
