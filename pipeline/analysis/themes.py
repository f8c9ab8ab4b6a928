"""Themes: the icebergs that are about one area, grouped — the level above problems.

Icebergs are problems (HDBSCAN's finest clusters, ``pipeline.groups.cluster``); many of
them belong to one area of the product ("HDFS erasure coding", "card payments"). A theme
joins icebergs whose centroids are at least ``threshold`` alike (average linkage, in the
full embedding space), so a lead can read the result top-down: the theme, then the
problems in it. An iceberg alike to no other is a theme of its own.

A theme's id is ``TH-`` and the number of its oldest iceberg (the lowest ``ICE-`` number):
iceberg ids are stable across nightly runs, and so is a theme's as long as its oldest
problem stays in it. Its keywords are c-TF-IDF over themes, as an iceberg's are over icebergs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering
from sklearn.preprocessing import normalize

from pipeline.analysis.label import iceberg_keywords, iceberg_labels, iceberg_members
from pipeline.groups.identity import id_number
from pipeline.groups.outcome import ID_PREFIX
from pipeline.schemas import IcebergCols, ThemeCols, TicketCols

THEME_PREFIX = "TH-"


def iceberg_themes(tickets: pd.DataFrame, embeddings: np.ndarray, threshold: float) -> dict[str, str]:
    """The theme id of each iceberg of ``tickets`` (see the module docstring)."""
    members = iceberg_members(tickets)
    ids = list(members)
    if not ids:
        return {}
    vectors = normalize(np.asarray(embeddings, dtype=np.float64))
    centroids = normalize(np.stack([vectors[rows].mean(axis=0) for rows in members.values()]))
    if len(ids) == 1:
        groups = np.zeros(1, dtype=np.int64)
    else:
        groups = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=1 - threshold).fit(centroids).labels_
    themes = {}
    for group in np.unique(groups):
        in_group = [ids[i] for i in np.flatnonzero(groups == group)]
        oldest = min(in_group, key=id_number)
        theme = THEME_PREFIX + oldest.removeprefix(ID_PREFIX) if oldest.startswith(ID_PREFIX) else \
            THEME_PREFIX + oldest
        themes.update({iceberg: theme for iceberg in in_group})
    return themes


def theme_table(tickets: pd.DataFrame, icebergs: pd.DataFrame, themes: dict[str, str],
                n_keywords: int) -> pd.DataFrame:
    """One row per theme: id, label, keywords, its icebergs (best ranked first), tickets and
    the rank of its best iceberg; ordered by that rank."""
    columns = [ThemeCols.theme_id, ThemeCols.label, ThemeCols.keywords, ThemeCols.iceberg_ids,
               ThemeCols.n_icebergs, ThemeCols.size, ThemeCols.best_rank]
    if not themes:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    by_ticket = tickets[TicketCols.iceberg_id].map(themes)
    keywords = iceberg_keywords(tickets.assign(**{TicketCols.iceberg_id: by_ticket}), n_keywords)
    labels = iceberg_labels(keywords)
    ranked = icebergs.sort_values(IcebergCols.rank)
    ranked = ranked.assign(theme=ranked[IcebergCols.iceberg_id].map(themes))
    rows = []
    for theme, group in ranked.groupby("theme", sort=False):
        rows.append({ThemeCols.theme_id: theme, ThemeCols.label: labels.get(theme, theme),
                     ThemeCols.keywords: keywords.get(theme, []),
                     ThemeCols.iceberg_ids: group[IcebergCols.iceberg_id].tolist(),
                     ThemeCols.n_icebergs: len(group), ThemeCols.size: int(group[IcebergCols.size].sum()),
                     ThemeCols.best_rank: int(group[IcebergCols.rank].min())})
    return pd.DataFrame(rows, columns=columns).sort_values(ThemeCols.best_rank, ignore_index=True)

