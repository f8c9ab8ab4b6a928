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
"""

from __future__ import annotations

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
    the data (``n / 500``, between 5 and 15: a 4,000-ticket export gets 8, Banking77's
    13,083 texts get 15). Learned state: ``labels_`` (cluster
    per row, -1 outside), ``membership_`` (cosine similarity of each row to its
    cluster's centroid, 0 outside), ``centroids_`` (unit vectors, one per cluster),
    ``n_clusters_``, ``sample_indices_`` (rows HDBSCAN was fitted on).
    """

    def __init__(self, min_cluster_size=0, min_samples=5, reduce_dim=30, merge_threshold=0.80,
                 assign_threshold=0.55, sample_size=30_000, random_state=0):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.reduce_dim = reduce_dim
        self.merge_threshold = merge_threshold
        self.assign_threshold = assign_threshold
        self.sample_size = sample_size
        self.random_state = random_state

    def fit(self, X, y=None):
        X = unit_rows(check_array(X, dtype=np.float32))
        self.n_features_in_ = X.shape[1]
        if not 0 < self.merge_threshold <= 1 or not 0 <= self.assign_threshold <= 1:
            raise ValueError("merge_threshold must be in (0, 1] and assign_threshold in [0, 1]")
        n = len(X)
        self.sample_indices_ = self._sample(n)
        sample = X[self.sample_indices_]
        raw = self._hdbscan_labels(sample)
        merged = self._merged(sample, raw)
        self.centroids_ = self._centroids(sample, merged)
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

    def _sample(self, n: int) -> np.ndarray:
        if n <= self.sample_size:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(n, size=self.sample_size, replace=False))

    def min_cluster_size_for(self, n: int) -> int:
        """HDBSCAN's smallest cluster for ``n`` tickets (``min_cluster_size``, or its auto rule)."""
        return self.min_cluster_size or int(np.clip(n // 500, 5, 15))

    def _hdbscan_labels(self, X: np.ndarray) -> np.ndarray:
        min_cluster_size = self.min_cluster_size_for(len(X))
        if len(X) < max(min_cluster_size, 2):
            return np.full(len(X), OUTSIDE, dtype=np.int64)
        reduced = X
        components = min(self.reduce_dim, X.shape[1], len(X) - 1)
        if self.reduce_dim and components < X.shape[1]:
            reduced = unit_rows(PCA(components, svd_solver="full").fit_transform(X))
        model = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size,
                                min_samples=min(self.min_samples, len(X) - 1))
        return model.fit(reduced.astype(np.float64)).labels_.astype(np.int64)

    def _merged(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Merge clusters with similar centroids; renumber by size (largest = 0)."""
        centroids = self._centroids(X, labels)
        if len(centroids) == 0:   # HDBSCAN found nothing (e.g. fewer rows than min_cluster_size)
            return np.full(len(labels), OUTSIDE, dtype=np.int64)
        if len(centroids) >= 2:
            groups = AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average",
                distance_threshold=1 - self.merge_threshold).fit(centroids).labels_
        else:
            groups = np.zeros(len(centroids), dtype=np.int64)
        merged = np.where(labels >= 0, groups[np.maximum(labels, 0)], OUTSIDE)
        return _renumbered_by_size(merged)

    @staticmethod
    def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        k = int(labels.max()) + 1 if (labels >= 0).any() else 0
        sums = np.zeros((k, X.shape[1]), dtype=np.float64)
        np.add.at(sums, labels[labels >= 0], X[labels >= 0])
        return unit_rows(sums).astype(np.float32)

    def _similarity_to_own(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        similarity = np.zeros(len(X), dtype=np.float64)
        inside = labels >= 0
        similarity[inside] = np.einsum("ij,ij->i", X[inside], self.centroids_[labels[inside]])
        return np.clip(similarity, 0.0, 1.0)


def _nearest(X: np.ndarray, centroids: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    best = np.empty(len(X), dtype=np.int64)
    best_sim = np.empty(len(X), dtype=np.float64)
    for start in range(0, len(X), block):
        sims = X[start:start + block] @ centroids.T
        best[start:start + block] = sims.argmax(axis=1)
        best_sim[start:start + block] = sims.max(axis=1)
    return best, best_sim


def _renumbered_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest; ties go to the cluster whose first row comes first."""
    ids, first, counts = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    mapping = np.full(int(ids.max()) + 1 if len(ids) else 0, OUTSIDE, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    return np.where(labels >= 0, mapping[np.maximum(labels, 0)] if len(ids) else OUTSIDE, OUTSIDE)


def clusterer_from_config(config: ClusterConfig) -> IcebergClusterer:
    return IcebergClusterer(
        min_cluster_size=config.min_cluster_size, min_samples=config.min_samples,
        reduce_dim=config.reduce_dim, merge_threshold=config.merge_threshold,
        assign_threshold=config.assign_threshold, sample_size=config.sample_size,
        random_state=config.random_state)


def canonical_order(ticket_ids: pd.Series) -> np.ndarray:
    """Row positions sorted by ticket id (ids are unique): independent of input row order."""
    return np.argsort(ticket_ids.astype(str).to_numpy(), kind="stable")


def cluster_assignments(tickets: pd.DataFrame, embeddings: np.ndarray,
                        clusterer: IcebergClusterer) -> tuple[pd.DataFrame, np.ndarray]:
    """Cluster per ticket (``cluster``: -1 outside) and membership, plus the centroids.

    Returns a frame aligned with ``tickets`` (same index) and the fitted centroids.
    """
    order = canonical_order(tickets[TicketCols.ticket_id])
    model = clusterer.fit(embeddings[order])
    labels = np.empty(len(order), dtype=np.int64)
    membership = np.empty(len(order), dtype=np.float64)
    labels[order] = model.labels_
    membership[order] = model.membership_
    frame = pd.DataFrame({TicketCols.ticket_id: tickets[TicketCols.ticket_id].to_numpy(),
                          "cluster": labels, TicketCols.membership: membership},
                         index=tickets.index)
    return frame, model.centroids_
