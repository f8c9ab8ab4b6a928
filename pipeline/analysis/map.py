"""The ticket map: a 2-D position for every ticket, for the dashboard's map page.

``TicketMap`` fits t-SNE (scikit-learn, Barnes-Hut, on the embeddings reduced to 50 PCA
components) on a deterministic sample of at most ``sample_size`` tickets — the
*anchors* — and places every ticket, in chunks, at the similarity-weighted mean of the
positions of its ``n_neighbors`` most similar anchors (cosine, in the embedding space;
weights ``exp((s - s_max) / temperature)``). Its fitted state is the anchors' ticket
ids, vectors and positions (``anchor_ids_``, ``anchor_vectors_``, ``anchor_coords_``),
kept by the store beside the run (``pipeline.store.map_state``, Parquet), so an assign
night places new tickets on the same map without fitting it again: the same vectors
always land on the same spot.

Why this method (``bench/map_bench.py``, all 13,083 Banking77 queries, docs/dashboard.md):
PCA to two components is instant but piles the 77 intents on top of each other; UMAP
keeps them apart about as well as t-SNE but its numba compilation costs tens of seconds
in every fresh process (a nightly run is one); t-SNE on a 5,000-ticket sample plus
nearest-anchor placement keeps the intents apart, has no compilation, and its cost is
bounded whatever the number of tickets (the placement is one chunked matrix product).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils.validation import check_array, check_is_fitted

from pipeline.config import MapConfig
from pipeline.schemas import TicketCols

CHUNK_ROWS = 8_192
PCA_COMPONENTS = 50


class TicketMap(TransformerMixin, BaseEstimator):
    """t-SNE on a sample of ticket vectors, every ticket placed among its nearest anchors.

    Learned state: ``anchor_vectors_`` (unit rows, float32), ``anchor_coords_`` (their
    2-D positions, scaled to [-1, 1]) and ``anchor_ids_`` (their ticket ids, when ``fit``
    was given ``ids``). ``transform`` returns an ``(n, 2)`` float32 array.
    """

    def __init__(self, sample_size=5_000, n_neighbors=10, perplexity=30.0, max_iter=500,
                 temperature=0.02, random_state=0):
        self.sample_size = sample_size
        self.n_neighbors = n_neighbors
        self.perplexity = perplexity
        self.max_iter = max_iter
        self.temperature = temperature
        self.random_state = random_state

    def fit(self, X, y=None, ids=None) -> "TicketMap":
        X = check_array(X, dtype=np.float32)
        if self.sample_size < 1 or self.n_neighbors < 1 or self.temperature <= 0:
            raise ValueError("sample_size and n_neighbors must be at least 1 and temperature above 0")
        rows = np.arange(len(X))
        if len(X) > self.sample_size:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(len(X), self.sample_size, replace=False))
        self.anchor_vectors_ = _unit(X[rows])
        self.anchor_coords_ = self._fitted_coords(self.anchor_vectors_)
        self.anchor_ids_ = None if ids is None else np.asarray(ids, dtype=object)[rows]
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "anchor_coords_")
        X = check_array(X, dtype=np.float32)
        return knn_placed(X, self.anchor_vectors_, self.anchor_coords_,
                          n_neighbors=self.n_neighbors, temperature=self.temperature)

    def fit_transform(self, X, y=None, ids=None) -> np.ndarray:
        return self.fit(X, ids=ids).transform(X)

    @classmethod
    def from_anchors(cls, ids, vectors: np.ndarray, coords: np.ndarray, **params) -> "TicketMap":
        """A map fitted before (its state as ``pipeline.store.map_state`` keeps it)."""
        ticket_map = cls(**params)
        ticket_map.anchor_ids_ = np.asarray(ids, dtype=object)
        ticket_map.anchor_vectors_ = _unit(np.asarray(vectors, dtype=np.float32))
        ticket_map.anchor_coords_ = np.asarray(coords, dtype=np.float32)
        return ticket_map

    def _fitted_coords(self, vectors: np.ndarray) -> np.ndarray:
        n = len(vectors)
        if n < 5:   # too few for t-SNE's perplexity: their first two principal components
            coords = np.zeros((n, 2), dtype=np.float64)
            if n > 1:
                reduced = PCA(min(2, n - 1, vectors.shape[1])).fit_transform(vectors)
                coords[:, :reduced.shape[1]] = reduced
            return _scaled(coords)
        components = min(PCA_COMPONENTS, n - 1, vectors.shape[1])
        reduced = PCA(components, random_state=self.random_state).fit_transform(vectors)
        tsne = TSNE(n_components=2, perplexity=min(self.perplexity, (n - 1) / 3), init="pca",
                    learning_rate="auto", max_iter=self.max_iter, random_state=self.random_state)
        return _scaled(tsne.fit_transform(reduced))


def knn_placed(vectors: np.ndarray, anchor_vectors: np.ndarray, anchor_coords: np.ndarray, *,
               n_neighbors: int = 10, temperature: float = 0.02) -> np.ndarray:
    """Each row of ``vectors`` at the weighted mean position of its most similar anchors."""
    vectors = _unit(np.asarray(vectors, dtype=np.float32))
    k = min(n_neighbors, len(anchor_vectors))
    out = np.zeros((len(vectors), 2), dtype=np.float32)
    if k == 0:
        return out
    for start in range(0, len(vectors), CHUNK_ROWS):
        sims = vectors[start:start + CHUNK_ROWS] @ anchor_vectors.T
        nearest = (np.argpartition(sims, sims.shape[1] - k, axis=1)[:, -k:] if k < sims.shape[1]
                   else np.broadcast_to(np.arange(k), (len(sims), k)))
        near_sims = np.take_along_axis(sims, nearest, axis=1)
        weights = np.exp((near_sims - near_sims.max(axis=1, keepdims=True)) / temperature)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start:start + CHUNK_ROWS] = np.einsum("nk,nkd->nd", weights, anchor_coords[nearest])
    return out


@dataclass(frozen=True)
class Mapped:
    """The map stage's outcome: every ticket's position, the map, and whether it was fitted now."""

    coords: np.ndarray      # (n_tickets, 2) float32
    ticket_map: TicketMap
    fitted: bool            # False: an earlier run's map, reused


def ticket_map_from_config(config: MapConfig, random_state: int = 0) -> TicketMap:
    return TicketMap(sample_size=config.sample_size, n_neighbors=config.n_neighbors,
                     perplexity=config.perplexity, random_state=random_state)


def mapped_tickets(vectors: np.ndarray, ticket_ids, config: MapConfig, *,
                   previous: TicketMap | None = None, kept: pd.DataFrame | None = None,
                   random_state: int = 0) -> Mapped:
    """Every ticket's map position: on ``previous`` (an earlier run's map) when given and of
    the same dimension — tickets in ``kept`` (``ticket_id``, ``map_x``, ``map_y``: unchanged
    since that run) keep their position, the others are placed — else on a map fitted now
    on a sample of these tickets."""
    if previous is None or previous.anchor_vectors_.shape[1] != vectors.shape[1]:
        ticket_map = ticket_map_from_config(config, random_state).fit(vectors, ids=ticket_ids)
        return Mapped(ticket_map.transform(vectors), ticket_map, fitted=True)
    coords = np.zeros((len(vectors), 2), dtype=np.float32)
    todo = np.ones(len(vectors), dtype=bool)
    if kept is not None and len(kept):
        known = kept.drop_duplicates(TicketCols.ticket_id).set_index(TicketCols.ticket_id)
        ids = pd.Series(np.asarray(ticket_ids))
        found = ids.isin(known.index).to_numpy()
        coords[found] = known.loc[ids[found], [TicketCols.map_x, TicketCols.map_y]].to_numpy(np.float32)
        todo = ~found
    if todo.any():
        coords[todo] = previous.transform(vectors[todo])
    return Mapped(coords, previous, fitted=False)


def _unit(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _scaled(coords: np.ndarray) -> np.ndarray:
    """Centred, and scaled so the largest coordinate is 1: maps of any run look alike."""
    coords = coords - coords.mean(axis=0) if len(coords) else coords
    span = np.abs(coords).max() if coords.size else 0.0
    return (coords / span if span > 0 else coords).astype(np.float32)
