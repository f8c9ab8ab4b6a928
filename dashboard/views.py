"""The tables the pages show, built from a run's tables: filtering and arranging only.

Nothing here clusters or tests anything: the icebergs keep the score, rank and figures
the run wrote; a filter only hides rows, and the remaining ones are numbered again in
the run's order (``position``). Plain functions of DataFrames, testable without Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from pipeline.analysis.profile import ScoreCols
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import LineageCols as L
from pipeline.schemas import ThemeCols as TH
from pipeline.schemas import TicketCols as T
from pipeline.schemas import TimelineCols as TL
from pipeline.store.curation import DISMISSED, CurationCols

from dashboard.words import trend_badge

POSITION = "position"        # rank among the icebergs a filter leaves, in the run's order
WEEKLY = "weekly"            # the timeline's counts, one per period of the run (sparkline)
IN_WINDOW = "in_window"      # its tickets created inside the date window
NAME = CurationCols.name
THEME = "theme"


@dataclass(frozen=True)
class Filters:
    """What the overview's filters ask for; the defaults show every real problem."""

    start: date | None = None
    end: date | None = None                          # inclusive
    values: tuple[tuple[str, str], ...] = ()         # (dimension, value): tickets with each
    min_customers: int = 0
    trends: tuple[str, ...] = ()                     # empty: any trend
    show_boilerplate: bool = False
    show_dismissed: bool = True
    search: str = ""                                 # in the name, label or keywords


def weekly_counts(timeline: pd.DataFrame) -> pd.Series:
    """Each iceberg's counts per period, over every period of the run (zeros filled)."""
    if timeline.empty:
        return pd.Series(dtype=object)
    wide = timeline.pivot_table(index=TL.iceberg_id, columns=TL.period_start, values=TL.count,
                                aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=sorted(wide.columns), fill_value=0)
    return pd.Series([row.astype(int).tolist() for row in wide.to_numpy()], index=wide.index)


def counts_in_window(timeline: pd.DataFrame, start: date | None, end: date | None) -> pd.Series:
    """Each iceberg's tickets in the periods that start inside [start, end]."""
    periods = pd.to_datetime(timeline[TL.period_start])
    inside = pd.Series(True, index=timeline.index)
    if start is not None:
        inside &= periods >= pd.Timestamp(start)
    if end is not None:
        inside &= periods <= pd.Timestamp(end)
    return timeline[inside].groupby(TL.iceberg_id)[TL.count].sum()


def with_value(attributes: pd.DataFrame, dimension: str, value: str) -> set[str]:
    """Icebergs with at least one ticket where ``dimension`` is ``value``."""
    rows = attributes[(attributes[A.dimension] == dimension) & (attributes[A.value] == value)
                      & (attributes[A.count] > 0)]
    return set(rows[A.iceberg_id])


def filtered_icebergs(icebergs: pd.DataFrame, timeline: pd.DataFrame, attributes: pd.DataFrame,
                      filters: Filters) -> pd.DataFrame:
    """The curated icebergs (``Run.curated_icebergs``) that pass ``filters``, in rank order,
    with ``position``, ``weekly`` and (with a date window) ``in_window`` added."""
    table = icebergs.sort_values(I.rank, kind="stable")
    keep = pd.Series(True, index=table.index)
    if I.boilerplate in table.columns and not filters.show_boilerplate:
        keep &= ~table[I.boilerplate].fillna(False).astype(bool)
    if not filters.show_dismissed and CurationCols.status in table.columns:
        keep &= table[CurationCols.status] != DISMISSED
    if filters.min_customers:
        keep &= table[I.n_customers].fillna(table[I.size]).astype(float) >= filters.min_customers
    if filters.trends:
        keep &= table[I.trend].isin(filters.trends)
    for dimension, value in filters.values:
        keep &= table[I.iceberg_id].isin(with_value(attributes, dimension, value))
    if filters.search.strip():
        needle = filters.search.strip().lower()
        text = (table.get(NAME, table[I.label]).astype(str) + " " + table[I.label].astype(str) + " "
                + table[I.keywords].map(lambda k: " ".join(k) if k is not None else "")).str.lower()
        keep &= text.str.contains(needle, regex=False)
    window = filters.start is not None or filters.end is not None
    if window:
        in_window = counts_in_window(timeline, filters.start, filters.end)
        table = table.assign(**{IN_WINDOW: table[I.iceberg_id].map(in_window).fillna(0).astype(int)})
        keep &= table[IN_WINDOW] > 0
    table = table[keep]
    weekly = weekly_counts(timeline)
    return table.assign(**{
        POSITION: np.arange(1, len(table) + 1),
        WEEKLY: table[I.iceberg_id].map(weekly).map(lambda w: w if isinstance(w, list) else []),
    }).reset_index(drop=True)


OVERVIEW_COLUMNS = {
    POSITION: "#", NAME: "iceberg", THEME: "theme", "trend_badge": "trend", WEEKLY: "weekly tickets",
    I.score: "score", ScoreCols.reach: "reach", ScoreCols.concentration: "concentration",
    ScoreCols.emergence: "emergence", ScoreCols.fragmentation: "fragmentation",
    I.size: "tickets", I.n_customers: "customers", I.n_agents: "agents",
    I.max_tickets_per_agent: "most per agent", I.onset: "onset", CurationCols.status: "status",
    I.iceberg_id: "id",
}


def with_theme_names(table: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each iceberg's theme as "TH-0009 aws · region" (``analysis.themes``)."""
    if I.theme_id not in table.columns or themes.empty:
        return table
    names = dict(zip(themes[TH.theme_id], themes[TH.theme_id] + " " + themes[TH.label]))
    return table.assign(**{THEME: table[I.theme_id].map(names)})


def overview_rows(table: pd.DataFrame) -> pd.DataFrame:
    """``filtered_icebergs``' output with the overview's columns and headings."""
    shown = table.assign(trend_badge=table[I.trend].map(trend_badge))
    if IN_WINDOW in shown.columns:
        columns = {**OVERVIEW_COLUMNS, IN_WINDOW: "in window"}
    else:
        columns = OVERVIEW_COLUMNS
    present = [c for c in columns if c in shown.columns]
    return shown[present].rename(columns=columns)


def where_table(attributes: pd.DataFrame, iceberg_id: str, alpha: float) -> pd.DataFrame:
    """One iceberg's attribute rows, most over-represented first, with ``significant`` added."""
    rows = attributes[attributes[A.iceberg_id] == iceberg_id]
    significant = (rows[A.evidence].fillna(False).astype(bool) if A.evidence in rows.columns
                   else rows[A.q_value] <= alpha)
    return rows.assign(significant=significant).sort_values(
        [A.dimension, A.lift], ascending=[True, False], kind="stable").reset_index(drop=True)


def dimension_spans(attributes: pd.DataFrame, iceberg_id: str) -> pd.DataFrame:
    """Per dimension: how many distinct values the iceberg's tickets span (``n_values``)."""
    rows = attributes[attributes[A.iceberg_id] == iceberg_id]
    if A.n_values in rows.columns:
        spans = rows.groupby(A.dimension)[A.n_values].max()
    else:
        spans = rows[rows[A.count] > 0].groupby(A.dimension)[A.value].nunique()
    return spans.rename("distinct values").reset_index()


def lineage_rows(lineage: pd.DataFrame, iceberg_id: str) -> pd.DataFrame:
    rows = lineage[lineage[L.iceberg_id] == iceberg_id]
    return rows.assign(**{L.related_ids: rows[L.related_ids].map(
        lambda ids: ", ".join(ids) if ids is not None and len(ids) else "")}).reset_index(drop=True)


def tickets_table(tickets: pd.DataFrame, dimensions: list[str], search: str = "") -> pd.DataFrame:
    """An iceberg's tickets for the searchable table: id, date, similarity, who, text, dimensions."""
    columns = [c for c in (T.ticket_id, T.created_at, T.membership, T.customer_id, T.agent_id, T.text,
                           *dimensions) if c in tickets.columns]
    table = tickets[columns]
    if search.strip():
        needle = search.strip().lower()
        keep = table[T.text].astype(str).str.lower().str.contains(needle, regex=False)
        keep |= table[T.ticket_id].astype(str).str.lower().str.contains(needle, regex=False)
        table = table[keep]
    return table.sort_values(T.created_at, ascending=False, kind="stable").reset_index(drop=True)


def tickets_per_agent(tickets: pd.DataFrame) -> pd.Series:
    """How many of the iceberg's tickets each agent handled (the histogram's input)."""
    if T.agent_id not in tickets.columns:
        return pd.Series(dtype=int)
    return tickets[T.agent_id].dropna().value_counts()


def dimension_values(attributes: pd.DataFrame) -> dict[str, list[str]]:
    """Every dimension and its values, as the run profiled them (for the filter's choices)."""
    pairs = attributes[[A.dimension, A.value]].drop_duplicates()
    return {d: sorted(g[A.value].astype(str)) for d, g in pairs.groupby(A.dimension)}
