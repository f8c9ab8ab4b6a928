"""Where an iceberg happens: over-represented dimension values, against its time window.

``attribute_table`` writes the ``ATTRIBUTES`` rows; ``topical_dimensions`` says which
dimensions merely restate an iceberg's topic (``product`` for a card problem) so that the
score does not mistake them for a cause; ``top_combinations`` finds, per iceberg, the pair
of values (e.g. platform=Android ∧ app_version=5.2.1) most over-represented together.
"""

from __future__ import annotations

from itertools import combinations
from typing import Collection

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom
from sklearn.metrics import normalized_mutual_info_score

from pipeline.schemas import ATTRIBUTES, AttributeCols, CombinationCols, TicketCols, multi_values

TOPICAL_NMI = 0.2            # a dimension this tied to the clustering restates the topic
MIN_COMBINATION_SUPPORT = 5  # a pair needs this many of the iceberg's tickets
PAIR_SEPARATOR = " ∧ "       # between the two "dimension=value" of a pair


def enrichment_p_values(count: np.ndarray, iceberg_size: np.ndarray, value_count: np.ndarray,
                        total: np.ndarray | int) -> np.ndarray:
    """P(at least ``count`` of the iceberg's tickets have the value) if the iceberg were random.

    Of ``total`` tickets, ``value_count`` have the value; the iceberg holds
    ``iceberg_size``. Drawing that many at random, the number with the value is
    hypergeometric, and this tail is the one-sided (greater) Fisher exact test's p-value,
    computed for whole arrays at once.
    """
    return hypergeom.sf(np.asarray(count) - 1, total, value_count, iceberg_size)


def q_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of one family of tests."""
    p_values = np.asarray(p_values, dtype=np.float64)
    return false_discovery_control(p_values, method="bh") if p_values.size else p_values


def iceberg_windows(tickets: pd.DataFrame, onsets: dict[str, object]) -> pd.DataFrame:
    """Per iceberg, the time window its attributes are compared within: onset → last ticket.

    The start is the iceberg's onset day (its first ticket when the onset is unknown) and
    the end the end of the day of its last ticket. Without dates, both are NaT and the
    window is the whole data. Indexed by iceberg_id.
    """
    created = pd.to_datetime(tickets[TicketCols.created_at], utc=True)
    ids = tickets[TicketCols.iceberg_id]
    members = ids.notna()
    first = created[members].groupby(ids[members].astype(str)).min()
    last = created[members].groupby(ids[members].astype(str)).max()
    onset = pd.to_datetime(pd.Series(onsets, dtype="object").reindex(first.index), utc=True)
    start = onset.fillna(first.dt.normalize())
    end = last.dt.normalize() + pd.Timedelta(days=1)
    return pd.DataFrame({AttributeCols.window_start: start, AttributeCols.window_end: end})


def attribute_table(tickets: pd.DataFrame, dimensions: list[str],
                    windows: pd.DataFrame | None = None, multi_valued: Collection[str] = ()) -> pd.DataFrame:
    """One row per iceberg × dimension × value found among the iceberg's tickets in its window.

    A ``multi_valued`` dimension (tags: a JSON array per ticket, ``schemas.multi_values``)
    counts a ticket under each of its values, so its shares may add up to more than 1; each
    value's test is still "this value or not" over the tickets that have the dimension.

    The population of an iceberg's tests is the tickets created in its window
    (``window_start`` ≤ created_at < ``window_end``, see ``iceberg_windows``; all tickets
    when it has no window or no dates) with the dimension known:

    - ``count``: the iceberg's tickets in the population with the value;
    - ``share``: count / the iceberg's tickets in the population;
    - ``baseline_count`` / ``baseline_share``: the same among *all* tickets of the
      population (the iceberg's own included) — the share expected at that time if the
      iceberg were a random draw of tickets, the null of the test;
    - ``lift`` = share / baseline_share;
    - ``p_value``: one-sided Fisher exact test (greater), see ``enrichment_p_values``;
    - ``q_value``: Benjamini–Hochberg over every test of the table;
    - ``n_values``: how many distinct values of the dimension the iceberg spans.
    """
    missing = [d for d in dimensions if d not in tickets.columns]
    if missing:
        raise ValueError(f"dimension column(s) {missing} not in tickets (columns: "
                         f"{list(tickets.columns)}); pass existing columns as dimensions")
    created = pd.to_datetime(tickets[TicketCols.created_at], utc=True)
    ids = tickets[TicketCols.iceberg_id].astype("string")
    coded = {d: value_pairs(tickets[d], d in multi_valued) for d in dimensions}
    columns: dict[str, list] = {c: [] for c in (
        AttributeCols.iceberg_id, AttributeCols.dimension, AttributeCols.value, AttributeCols.count,
        AttributeCols.baseline_count, "n_own", "n_all", AttributeCols.n_values,
        AttributeCols.window_start, AttributeCols.window_end)}
    for iceberg in sorted(ids.dropna().unique()):
        in_window = _in_window(created, windows, iceberg)
        population = np.ones(len(tickets), dtype=bool) if in_window is None else in_window.to_numpy()
        own = (ids == iceberg).fillna(False).to_numpy() & population
        start, end = ((windows.loc[iceberg, AttributeCols.window_start],
                       windows.loc[iceberg, AttributeCols.window_end])
                      if windows is not None and iceberg in windows.index else (pd.NaT, pd.NaT))
        for dimension in dimensions:
            rows, codes, categories, known = coded[dimension]
            own_counts = np.bincount(codes[own[rows]], minlength=len(categories))
            if not own_counts.any():
                continue
            all_counts = np.bincount(codes[population[rows]], minlength=len(categories))
            present = np.flatnonzero(own_counts)
            n = len(present)
            columns[AttributeCols.iceberg_id] += [iceberg] * n
            columns[AttributeCols.dimension] += [dimension] * n
            columns[AttributeCols.value] += [str(v) for v in categories[present]]
            columns[AttributeCols.count] += own_counts[present].tolist()
            columns[AttributeCols.baseline_count] += all_counts[present].tolist()
            columns["n_own"] += [int((own & known).sum())] * n
            columns["n_all"] += [int((population & known).sum())] * n
            columns[AttributeCols.n_values] += [n] * n
            columns[AttributeCols.window_start] += [start] * n
            columns[AttributeCols.window_end] += [end] * n
    if not columns[AttributeCols.iceberg_id]:
        return empty_attributes()
    table = pd.DataFrame(columns)
    table[AttributeCols.window_start] = pd.to_datetime(table[AttributeCols.window_start], utc=True)
    table[AttributeCols.window_end] = pd.to_datetime(table[AttributeCols.window_end], utc=True)
    count, baseline = table[AttributeCols.count], table[AttributeCols.baseline_count]
    table[AttributeCols.share] = count / table["n_own"]
    table[AttributeCols.baseline_share] = baseline / table["n_all"]
    table[AttributeCols.lift] = table[AttributeCols.share] / table[AttributeCols.baseline_share]
    table[AttributeCols.p_value] = enrichment_p_values(count.to_numpy(), table["n_own"].to_numpy(),
                                                       baseline.to_numpy(), table["n_all"].to_numpy())
    table[AttributeCols.q_value] = q_values(table[AttributeCols.p_value].to_numpy())
    return table[list(empty_attributes().columns)].sort_values(
        [AttributeCols.iceberg_id, AttributeCols.dimension, AttributeCols.count, AttributeCols.value],
        ascending=[True, True, False, True], ignore_index=True)


def value_pairs(values: pd.Series,
                multi: bool = False) -> tuple[np.ndarray, np.ndarray, pd.Index, np.ndarray]:
    """A dimension as (ticket positions, value codes, the values, which tickets have one): one
    pair per ticket with a value, or, ``multi``-valued, one per (ticket, distinct value)."""
    if multi:
        lists = [list(dict.fromkeys(multi_values(v))) for v in values.array]
        rows = np.repeat(np.arange(len(lists)), [len(v) for v in lists])
        flat = pd.Categorical([v for vs in lists for v in vs])
    else:
        flat = pd.Categorical(values.astype("string"))
        rows = np.flatnonzero(flat.codes >= 0)
        flat = flat[rows]
    known = np.zeros(len(values), dtype=bool)
    known[rows] = True
    return rows, np.asarray(flat.codes, dtype=np.int64), flat.categories, known


def has_value(values: pd.Series, value: str, multi: bool = False) -> pd.Series:
    """Which tickets carry ``value`` in a dimension (among its values, when ``multi``-valued)."""
    if multi:
        return values.map(lambda cell: value in multi_values(cell)).astype(bool)
    return (values.astype("string") == value).fillna(False).astype(bool)


def is_evidence(attributes: pd.DataFrame, *, alpha: float, min_count: int,
                min_share: float) -> pd.Series:
    """Which attribute rows count as evidence of where an iceberg happens.

    Significant (q ≤ ``alpha``), over-represented (lift > 1) and with minimum support:
    at least ``min_count`` of the iceberg's tickets in its window carry the value, and at
    least ``min_share`` of them. The test alone is not enough in a short window: a value
    almost absent from the baseline (2 of 800 tickets) reaches q ≤ 0.05 with two of the
    iceberg's tickets, and its lift (8% vs 0.25%: 33) is a ratio of two tiny counts that
    one ticket more or less halves or doubles. A value on a small share of the iceberg's
    tickets explains at most that share of it, however large its lift.
    """
    A = AttributeCols
    return ((attributes[A.q_value] <= alpha) & (attributes[A.lift] > 1)
            & (attributes[A.count] >= min_count) & (attributes[A.share] >= min_share))


def topical_dimensions(tickets: pd.DataFrame, dimensions: list[str],
                       threshold: float = TOPICAL_NMI, *, clusters: np.ndarray | None = None,
                       multi_valued: Collection[str] = ()) -> list[str]:
    """Dimensions that restate what the icebergs are about, not where they happen.

    A dimension whose values are largely predicted by the clustering itself — normalised
    mutual information between iceberg and value over the tickets in an iceberg at least
    ``threshold`` — is a topic label (a product derived from the request, a complaint's
    "Issue"); a cause (a release, a region) cuts across topics and scores near 0.
    ``clusters`` (one per ticket, −1 outside) replaces ``iceberg_id`` before ids exist.
    A ``multi_valued`` dimension is compared over (ticket, value) pairs, a ticket without
    a value counting once as "".
    """
    if clusters is None:
        labels = tickets[TicketCols.iceberg_id].astype("string")
        inside = labels.notna().to_numpy()
    else:
        labels = pd.Series(clusters, index=tickets.index)
        inside = clusters >= 0
    members = tickets[inside]
    labels = labels[inside].astype(str)
    if labels.nunique() < 2:
        return []
    return [d for d in dimensions
            if normalized_mutual_info_score(*_paired(labels, members[d], d in multi_valued)) >= threshold]


def _paired(labels: pd.Series, values: pd.Series, multi: bool) -> tuple[np.ndarray, np.ndarray]:
    if not multi:
        return labels.to_numpy(), values.astype("string").fillna("").to_numpy()
    lists = [multi_values(v) or [""] for v in values.array]
    return (np.repeat(labels.to_numpy(), [len(v) for v in lists]),
            np.array([v for vs in lists for v in vs], dtype=object))


def top_combinations(tickets: pd.DataFrame, attributes: pd.DataFrame, alpha: float,
                     exclude: list[str], multi_valued: Collection[str] = ()) -> pd.DataFrame:
    """Per iceberg, the pair of values from two dimensions most over-represented together.

    Candidates pair the iceberg's significant values (q ≤ ``alpha``, lift > 1) of two
    different dimensions not in ``exclude``; a pair needs ``MIN_COMBINATION_SUPPORT`` of
    the iceberg's tickets in its window. Support, share, baseline share and lift are
    computed as in ``attribute_table``, within the same window; the pair with the highest
    lift wins (then the higher support). Icebergs without such a pair are absent.
    """
    A = AttributeCols
    significant = attributes[(attributes[A.q_value] <= alpha) & (attributes[A.lift] > 1)
                             & ~attributes[A.dimension].isin(exclude)]
    created = pd.to_datetime(tickets[TicketCols.created_at], utc=True)
    ids = tickets[TicketCols.iceberg_id].astype("string")
    rows = []
    for iceberg, values in significant.groupby(A.iceberg_id):
        window = values.iloc[0]
        population = tickets
        if pd.notna(window[A.window_start]):
            population = tickets[(created >= window[A.window_start]) & (created < window[A.window_end])]
        own = (ids[population.index] == iceberg).fillna(False)
        for (d1, v1), (d2, v2) in combinations(zip(values[A.dimension], values[A.value]), 2):
            if d1 == d2:
                continue
            both = (has_value(population[d1], v1, d1 in multi_valued)
                    & has_value(population[d2], v2, d2 in multi_valued))
            support = int((both & own).sum())
            if support < MIN_COMBINATION_SUPPORT:
                continue
            share = support / int(own.sum())
            baseline = int(both.sum()) / len(population)
            rows.append({CombinationCols.iceberg_id: iceberg,
                         CombinationCols.combination: f"{d1}={v1}{PAIR_SEPARATOR}{d2}={v2}",
                         CombinationCols.support: support, CombinationCols.share: share,
                         CombinationCols.baseline_share: baseline,
                         CombinationCols.lift: share / baseline})
    columns = [CombinationCols.iceberg_id, CombinationCols.combination, CombinationCols.support,
               CombinationCols.share, CombinationCols.baseline_share, CombinationCols.lift]
    if not rows:
        return pd.DataFrame(columns=columns).set_index(CombinationCols.iceberg_id)
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values([CombinationCols.lift, CombinationCols.support], ascending=False)
    return table.drop_duplicates(CombinationCols.iceberg_id).set_index(CombinationCols.iceberg_id)


def empty_attributes() -> pd.DataFrame:
    table = ATTRIBUTES.empty()
    table[AttributeCols.baseline_count] = pd.Series(dtype=np.int64)
    table[AttributeCols.n_values] = pd.Series(dtype=np.int64)
    table[AttributeCols.window_start] = pd.Series(dtype="datetime64[us, UTC]")
    table[AttributeCols.window_end] = pd.Series(dtype="datetime64[us, UTC]")
    return table


def _in_window(created: pd.Series, windows: pd.DataFrame | None, iceberg: str) -> pd.Series | None:
    if windows is None or iceberg not in windows.index:
        return None
    start, end = windows.loc[iceberg, [AttributeCols.window_start, AttributeCols.window_end]]
    if pd.isna(start):
        return None
    return ((created >= start) & (created < end)).fillna(False)
