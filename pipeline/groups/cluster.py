"""Clustering: HDBSCAN finds dense groups, then near-duplicates merge and outliers join.

Measured on Banking77 (13,083 texts, 77 intents; ``bench/banking77.py``): UMAP + HDBSCAN
over-segments (≈300 clusters) and BERTopic's defaults give 371 topics, while HDBSCAN on
PCA-reduced embeddings is very pure but leaves ~45% of tickets outside any cluster.
``IcebergClusterer`` keeps HDBSCAN's purity and closes the gap in two steps:

1. **merge** clusters whose centroids (in the full embedding space) are more similar
   than ``merge_threshold`` (average-linkage agglomeration of the centroids), which
   joins the fragments HDBSCAN makes of one problem;
2. **assign** each remaining outlier to its most similar centroid when the cosine
   similarity reaches ``assign_threshold``; the rest stay outside any iceberg.

No UMAP, so no numba compilation and no dependence on thread scheduling: the same
embeddings in the same order give the same clusters, and ``cluster_assignments`` puts
tickets in a canonical order (by ticket id) first, so row order does not matter.
For large inputs the model is fitted on a deterministic sample of ``sample_size``
tickets and the rest are assigned, which keeps HDBSCAN's super-linear cost bounded.

Duplicates are clustered deliberately. Identical tickets (the same words, whatever the
case, spacing or punctuation: an auto-generated ticket, a copy-paste campaign) would
collapse HDBSCAN's density estimate — their distances are zero — and drag the tickets
around them into one blob, or make every distinct ticket look sparse. So
``cluster_assignments`` clusters each distinct text once, weighted by how many tickets
carry it, and gives every copy its text's cluster. A text carried by at least
``min_cluster_size`` tickets that HDBSCAN leaves outside is a recurring problem of its
own and becomes a cluster. And a cluster that swallows more than ``max_share`` of the
tickets is implausible as one problem (it is what a fragment shared across topics does
to density clustering): it is clustered again on its own and replaced by the parts found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import hdbscan
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_array, check_is_fitted

from pipeline.config import ClusterConfig
from pipeline.schemas import TicketCols

OUTSIDE = -1


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Each row of ``X`` (or ``X`` itself, a single vector) scaled to length 1; zeros stay."""
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norms == 0, 1.0, norms)


class IcebergClusterer(ClusterMixin, BaseEstimator):
    """HDBSCAN on PCA-reduced embeddings, then centroid merging and outlier assignment.

    Parameters mirror ``[cluster]`` in the config; ``min_cluster_size=0`` scales it with
    the data (``n / 800``, between 3 and 15: the 2,503 Hadoop bug reports of
    ``bench/real_problems.py`` get 3, a 4,000-ticket export 5, Banking77's 13,083 texts 15).
    Problems are small: with ``min_samples=2`` and that size, HDBSCAN finds the handful of
    reports of one bug as a cluster instead of leaving them in a theme or outside (measured:
    Hadoop duplicate groups whole in an iceberg of ≤ 50 go from 24 % to 56 %; Banking77 and
    the demo's planted problems keep their scores). ``selection="leaf"`` takes HDBSCAN's
    finest clusters instead of its most stable ones ("eom"): no better on Hadoop (56 %), and it splits
    the demo's planted problems into fragments of their wording. Learned state: ``labels_`` (cluster
    per row, -1 outside), ``membership_`` (cosine similarity of each row to its
    cluster's centroid, 0 outside), ``centroids_`` (unit vectors, one per cluster),
    ``n_clusters_``, ``sample_indices_`` (rows HDBSCAN was fitted on).
    """

    def __init__(self, min_cluster_size=0, min_samples=2, reduce_dim=30, merge_threshold=0.80,
                 assign_threshold=0.50, sample_size=30_000, random_state=0, max_share=0.25,
                 selection="eom"):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.selection = selection
        self.reduce_dim = reduce_dim
        self.merge_threshold = merge_threshold
        self.assign_threshold = assign_threshold
        self.sample_size = sample_size
        self.random_state = random_state
        self.max_share = max_share

    def fit(self, X, y=None, sample_weight=None):
        """Fit on the rows of ``X``; ``sample_weight`` counts the tickets each row stands for
        (a distinct text and its copies, see ``cluster_assignments``)."""
        X = unit_rows(check_array(X, dtype=np.float32))
        self.n_features_in_ = X.shape[1]
        if not 0 < self.merge_threshold <= 1 or not 0 <= self.assign_threshold <= 1:
            raise ValueError("merge_threshold must be in (0, 1] and assign_threshold in [0, 1]")
        if self.selection not in ("leaf", "eom"):
            raise ValueError(f"selection must be 'leaf' or 'eom', got {self.selection!r}")
        weight = _checked_weights(sample_weight, len(X))
        self.sample_indices_ = self._sample(weight)
        sample, sample_weight = X[self.sample_indices_], weight[self.sample_indices_]
        min_size = self.min_cluster_size_for(int(round(weight.sum())))
        raw = self._with_heavy_rows(self._hdbscan_labels(sample, min_size), sample_weight, min_size)
        merged = self._merged(sample, raw, sample_weight)
        merged, self.resplit_ = self._resplit(sample, merged, sample_weight, min_size)
        self.centroids_ = self._centroids(sample, merged, sample_weight)
        self.n_clusters_ = len(self.centroids_)
        self.labels_, self.membership_ = self.predict_with_membership(X)
        # HDBSCAN's own members keep their cluster even below the assignment threshold.
        core = merged >= 0
        self.labels_[self.sample_indices_[core]] = merged[core]
        self.membership_ = self._similarity_to_own(X, self.labels_)
        return self

    def predict_with_membership(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centroid when similar enough (``assign_threshold``), else outside."""
        check_is_fitted(self, "centroids_")
        X = unit_rows(check_array(X, dtype=np.float32))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        labels = np.full(len(X), OUTSIDE, dtype=np.int64)
        similarity = np.zeros(len(X), dtype=np.float64)
        if self.n_clusters_ == 0 or len(X) == 0:
            return labels, similarity
        best, best_sim = _nearest(X, self.centroids_)
        inside = best_sim >= self.assign_threshold
        labels[inside] = best[inside]
        similarity[inside] = best_sim[inside]
        return labels, similarity

    def predict(self, X) -> np.ndarray:
        return self.predict_with_membership(X)[0]

    def _sample(self, weight: np.ndarray) -> np.ndarray:
        """The rows HDBSCAN is fitted on: every row that stands for a ticket, or a
        deterministic sample of ``sample_size`` of them."""
        rows = np.flatnonzero(weight > 0)
        if len(rows) <= self.sample_size:
            return rows
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(rows, size=self.sample_size, replace=False))

    def min_cluster_size_for(self, n: int) -> int:
        """HDBSCAN's smallest cluster for ``n`` tickets (``min_cluster_size``, or its auto rule)."""
        return self.min_cluster_size or int(np.clip(n // 800, 3, 15))

    def _hdbscan_labels(self, X: np.ndarray, min_cluster_size: int) -> np.ndarray:
        if len(X) < max(min_cluster_size, 2):
            return np.full(len(X), OUTSIDE, dtype=np.int64)
        reduced = X
        components = min(self.reduce_dim, X.shape[1], len(X) - 1)
        if self.reduce_dim and components < X.shape[1]:
            reduced = unit_rows(PCA(components, svd_solver="full").fit_transform(X))
        model = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size,
                                min_samples=min(self.min_samples, len(X) - 1),
                                cluster_selection_method=self.selection)
        return model.fit(reduced.astype(np.float64)).labels_.astype(np.int64)

    @staticmethod
    def _with_heavy_rows(labels: np.ndarray, weight: np.ndarray, min_size: int) -> np.ndarray:
        """A row left outside that stands for at least ``min_size`` tickets is a cluster."""
        heavy = np.flatnonzero((labels == OUTSIDE) & (weight >= min_size))
        if not len(heavy):
            return labels
        labels = labels.copy()
        labels[heavy] = labels.max(initial=OUTSIDE) + 1 + np.arange(len(heavy))
        return labels

    def _merged(self, X: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Merge clusters with similar centroids; renumber by size (largest = 0)."""
        centroids = self._centroids(X, labels, weight)
        if len(centroids) == 0:   # HDBSCAN found nothing (e.g. fewer rows than min_cluster_size)
            return np.full(len(labels), OUTSIDE, dtype=np.int64)
        if len(centroids) >= 2:
            groups = AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average",
                distance_threshold=1 - self.merge_threshold).fit(centroids).labels_
        else:
            groups = np.zeros(len(centroids), dtype=np.int64)
        merged = np.where(labels >= 0, groups[np.maximum(labels, 0)], OUTSIDE)
        return _renumbered_by_size(merged, weight)

    def _resplit(self, X: np.ndarray, labels: np.ndarray, weight: np.ndarray,
                 min_size: int) -> tuple[np.ndarray, list[dict]]:
        """Clusters holding more than ``max_share`` of the weight, clustered again on their own."""
        records = []
        total = weight.sum()
        # A cluster's share counts the outliers that will join it, as the final tickets will.
        joined = labels.copy()
        outside = labels == OUTSIDE
        centroids = self._centroids(X, labels, weight)
        if len(centroids) and outside.any():
            best, best_sim = _nearest(X[outside], centroids)
            joined[outside] = np.where(best_sim >= self.assign_threshold, best, OUTSIDE)
        for cluster in range(int(labels.max(initial=OUTSIDE)) + 1):
            rows = np.flatnonzero(joined == cluster)
            share = weight[rows].sum() / total
            if share <= self.max_share or len(rows) < 2 * min_size:
                continue
            parts = self._with_heavy_rows(self._hdbscan_labels(X[rows], min_size), weight[rows], min_size)
            parts = self._merged(X[rows], parts, weight[rows])
            found = int(parts.max(initial=OUTSIDE)) + 1
            records.append({"share": round(float(share), 4), "tickets": int(weight[rows].sum()),
                            "parts": found})
            if found >= 2:
                labels = labels.copy()
                base = int(labels.max()) + 1
                labels[rows] = np.where(parts >= 0, base + parts, OUTSIDE)
        if any(r["parts"] >= 2 for r in records):
            labels = _renumbered_by_size(labels, weight)
        return labels, records

    @staticmethod
    def _centroids(X: np.ndarray, labels: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        k = int(labels.max()) + 1 if (labels >= 0).any() else 0
        inside = labels >= 0
        w = np.ones(int(inside.sum())) if weight is None else weight[inside]
        sums = np.zeros((k, X.shape[1]), dtype=np.float64)
        np.add.at(sums, labels[inside], X[inside] * w[:, None])
        return unit_rows(sums).astype(np.float32)

    def _similarity_to_own(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        similarity = np.zeros(len(X), dtype=np.float64)
        inside = labels >= 0
        similarity[inside] = np.einsum("ij,ij->i", X[inside], self.centroids_[labels[inside]])
        return np.clip(similarity, 0.0, 1.0)


def _checked_weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.shape != (n,):
        raise ValueError(f"sample_weight has shape {weight.shape}; expected one weight per row of X ({n},)")
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise ValueError("sample_weight must be finite and not negative")
    if n and not (weight > 0).any():
        raise ValueError("sample_weight is zero for every row; at least one row must carry weight")
    return weight


def _nearest(X: np.ndarray, centroids: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    best = np.empty(len(X), dtype=np.int64)
    best_sim = np.empty(len(X), dtype=np.float64)
    for start in range(0, len(X), block):
        sims = X[start:start + block] @ centroids.T
        best[start:start + block] = sims.argmax(axis=1)
        best_sim[start:start + block] = sims.max(axis=1)
    return best, best_sim


def _renumbered_by_size(labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest (by weight); ties go to the cluster whose first row comes first."""
    ids, first = np.unique(labels[labels >= 0], return_index=True)
    if not len(ids):
        return np.full(len(labels), OUTSIDE, dtype=np.int64)
    sizes = np.bincount(labels[labels >= 0], weights=weight[labels >= 0], minlength=int(ids.max()) + 1)[ids]
    order = np.lexsort((first, -sizes))
    mapping = np.full(int(ids.max()) + 1, OUTSIDE, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    return np.where(labels >= 0, mapping[np.maximum(labels, 0)], OUTSIDE)


def clusterer_from_config(config: ClusterConfig) -> IcebergClusterer:
    return IcebergClusterer(
        min_cluster_size=config.min_cluster_size, min_samples=config.min_samples,
        reduce_dim=config.reduce_dim, merge_threshold=config.merge_threshold,
        assign_threshold=config.assign_threshold, sample_size=config.sample_size,
        random_state=config.random_state, max_share=config.max_share, selection=config.selection)


def canonical_order(ticket_ids: pd.Series) -> np.ndarray:
    """Row positions sorted by ticket id (ids are unique): independent of input row order."""
    return np.argsort(ticket_ids.astype(str).to_numpy(), kind="stable")


_NOT_A_WORD = re.compile(r"\W+")


def duplicate_keys(texts: pd.Series) -> np.ndarray:
    """A key per text that is equal for the same words, whatever the case, spacing or punctuation."""
    return np.array([_NOT_A_WORD.sub(" ", str(t).casefold()).strip() for t in texts], dtype=object)


@dataclass(frozen=True)
class Clustered:
    """``cluster_assignments``' outcome: a row per ticket, the centroids, and what was found."""

    assignments: pd.DataFrame      # ticket_id, cluster (-1 outside), membership; aligned with the tickets
    centroids: np.ndarray
    stats: dict = field(default_factory=dict)   # duplicates and re-split clusters, for the manifest


def cluster_assignments(tickets: pd.DataFrame, embeddings: np.ndarray,
                        clusterer: IcebergClusterer) -> Clustered:
    """Cluster per ticket (``cluster``: -1 outside) and membership, plus the centroids.

    Each distinct text (``duplicate_keys``) is clustered once, weighted by its copies,
    in a canonical order (by ticket id, so row order does not matter); every copy gets its
    text's cluster and its own similarity to the centroid.
    """
    order = canonical_order(tickets[TicketCols.ticket_id])
    keys = duplicate_keys(tickets[TicketCols.text].iloc[order]) if TicketCols.text in tickets else \
        np.arange(len(order)).astype(object)
    _, first, group, weight = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    representatives = np.sort(first)                 # the first copy of each text, in canonical order
    position = np.empty(len(first), dtype=np.int64)  # group -> its row among the representatives
    position[group[representatives]] = np.arange(len(representatives))
    model = clusterer.fit(embeddings[order[representatives]],
                          sample_weight=weight[group[representatives]])
    labels = np.empty(len(order), dtype=np.int64)
    labels[order] = model.labels_[position[group]]
    vectors = unit_rows(embeddings.astype(np.float32, copy=False))
    membership = np.zeros(len(order), dtype=np.float64)
    inside = labels >= 0
    membership[inside] = np.clip(np.einsum("ij,ij->i", vectors[inside], model.centroids_[labels[inside]]), 0, 1)
    frame = pd.DataFrame({TicketCols.ticket_id: tickets[TicketCols.ticket_id].to_numpy(),
                          "cluster": labels, TicketCols.membership: membership},
                         index=tickets.index)
    copies = weight[weight > 1]
    stats = {"distinct_texts": int(len(first)), "duplicate_texts": int(len(copies)),
             "duplicate_tickets": int((copies - 1).sum()), "resplit": model.resplit_}
    return Clustered(frame, model.centroids_, stats)
