"""Profile each iceberg: where it happens, when it started, who it affects, how much it matters.

Three tables of the output contract come from here: ``ATTRIBUTES`` (where: the dimension
values over-represented among an iceberg's tickets), ``TIMELINE`` (how it grows) and
``ICEBERGS`` (one row per iceberg: name, who, when, and its score).

Score
-----
::

    score = reach × (1 + concentration + emergence + fragmentation)

reach          log(1 + customers): its distinct customer ids, each ticket without one
               counting as one more customer (so log(1 + tickets) when the input has no
               customer column). How many it hurts; sets the scale.
concentration  1 − 1/L, with L the largest lift among its attributes that count as
               evidence (q ≤ ``fdr_alpha`` and minimum support, see
               ``evidence.is_evidence``) on dimensions that are not topical (lift against the
               tickets of its own time window; a topical dimension, such as a product
               derived from the request, restates the topic and is no cause — see
               ``evidence.topical_dimensions``); 0 when there is none: of the tickets carrying its most
               over-represented value, the fraction the baseline does not explain — a
               pointer to a cause. In [0, 1).
emergence      1 when its trend is new or growing, else 0: it needs attention now.
fragmentation  the share of its agents who handled at most two of its tickets (0 when the
               input has no agent column): nobody saw it whole, so nobody escalated it.
               In [0, 1].

Each of the three signs of a hidden, live problem can add up to one more multiple of its
reach, so the multiplier runs from 1 to 4. ``rank`` 1 is the highest score; equal scores
are ranked by iceberg_id. The components are written as ``ScoreCols`` columns so that a
reader can see why an iceberg ranks where it does.

Boilerplate icebergs — clusters of courtesy such as "thanks", "ok" or auto-replies
(``boilerplate``, see ``pipeline.analysis.courtesy``) — rank after every other iceberg, by score
among themselves. Their score is left as the formula gives it: the score measures reach
and shape, which such a cluster has, while ``boilerplate`` says that it is no problem; a
score forced to 0 would hide how much courtesy traffic there is, and give the formula an
exception that a reader recomputing it would have to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Collection

import numpy as np
import pandas as pd

from pipeline.analysis.courtesy import boilerplate_icebergs
from pipeline.analysis.events import onset_events
from pipeline.analysis.evidence import (attribute_table, iceberg_windows, is_evidence, top_combinations,
                                        topical_dimensions)
from pipeline.analysis.label import (iceberg_keywords, iceberg_labels, iceberg_names,
                                     representative_ticket_ids)
from pipeline.analysis.ranking import ranked
from pipeline.analysis.themes import iceberg_themes, theme_table
from pipeline.analysis.timing import timeline_table, timing_table, utc
from pipeline.analysis.who import (account_counts, agent_columns, customer_columns, repeat_customers,
                                   segment_breakdowns, values_at_risk)
from pipeline.config import ProfileConfig
from pipeline.schemas import ICEBERGS, AttributeCols, CombinationCols, IcebergCols, TicketCols


class ScoreCols:
    """Extra ``icebergs`` columns: the score's components (see the module docstring)."""

    reach = "score_reach"
    concentration = "score_concentration"
    emergence = "score_emergence"
    fragmentation = "score_fragmentation"
    max_lift = "max_significant_lift"    # L of the concentration; NaN when there is none


_COMBINATION_COLUMNS = [CombinationCols.combination, CombinationCols.support,
                        CombinationCols.share, CombinationCols.baseline_share, CombinationCols.lift]
# Typed even when no iceberg has a combination, so the columns stay numeric in Parquet.
_COMBINATION_DTYPES = {CombinationCols.combination: "string", CombinationCols.support: "Int64",
                       CombinationCols.share: "float64", CombinationCols.baseline_share: "float64",
                       CombinationCols.lift: "float64"}
_EXTRA_COLUMNS = [IcebergCols.spike, IcebergCols.n_repeat_customers, IcebergCols.n_accounts,
                  IcebergCols.segments, IcebergCols.value_at_risk,
                  IcebergCols.boilerplate] + _COMBINATION_COLUMNS
_SCORE_COLUMNS = [ScoreCols.reach, ScoreCols.concentration, ScoreCols.emergence,
                  ScoreCols.fragmentation, ScoreCols.max_lift]


@dataclass(frozen=True)
class Profiles:
    """A run's profile tables: ``ICEBERGS`` (+ ``ScoreCols``), ``ATTRIBUTES``, ``TIMELINE``."""

    icebergs: pd.DataFrame
    attributes: pd.DataFrame
    timeline: pd.DataFrame
    themes: pd.DataFrame | None = None   # ``THEMES`` (``analysis.themes``), when asked for


def profiles(tickets: pd.DataFrame, embeddings: np.ndarray, dimensions: list[str],
             config: ProfileConfig, events: pd.DataFrame | None = None,
             dismissed: Collection[str] = frozenset(), multi_valued: Collection[str] = (),
             theme_threshold: float | None = None) -> Profiles:
    """All three profile tables of a run's tickets.

    Timing comes first: each iceberg's attributes are compared with the tickets of its
    own time window (onset → last ticket, ``evidence.iceberg_windows``). ``events`` (from
    ``sources.read_events``, None when the run has no events file) fill the icebergs'
    ``onset_events`` and ``event_concentrated`` (``events.onset_events``). ``dismissed``:
    the ids people marked "not a problem" (``pipeline.store.curation``), ranked after every
    other problem (``ranking.ranked``). ``multi_valued``: the dimensions whose cells list
    several values (tags, ``schemas.multi_values``), counted under each. ``theme_threshold``:
    group the icebergs into themes (``analysis.themes``) at this centroid similarity.
    """
    ids = sorted(tickets[TicketCols.iceberg_id].dropna().astype(str).unique())
    timing = timing_table(tickets, ids)
    windows = iceberg_windows(tickets, timing[IcebergCols.onset].to_dict())
    attributes = attribute_table(tickets, dimensions, windows, multi_valued)
    topical = topical_dimensions(tickets, dimensions, multi_valued=multi_valued)
    attributes[AttributeCols.topical] = attributes[AttributeCols.dimension].isin(topical)
    attributes[AttributeCols.evidence] = is_evidence(
        attributes, alpha=config.fdr_alpha, min_count=config.min_evidence_count,
        min_share=config.min_evidence_share).astype(bool)
    combinations = top_combinations(tickets, attributes, config.fdr_alpha, exclude=topical,
                                    multi_valued=multi_valued)
    icebergs = _iceberg_table(tickets, embeddings, attributes, timing, combinations, config, dismissed)
    near = onset_events(timing[IcebergCols.onset], attributes, events, data_start=_data_start(tickets))
    for column in (IcebergCols.onset_events, IcebergCols.event_concentrated):
        icebergs[column] = near[column].reindex(icebergs[IcebergCols.iceberg_id]).array
    themes = None
    if theme_threshold is not None:
        theme_of = iceberg_themes(tickets, embeddings, theme_threshold)
        icebergs[IcebergCols.theme_id] = pd.Series(icebergs[IcebergCols.iceberg_id].map(theme_of),
                                                   dtype="str", index=icebergs.index)
        themes = theme_table(tickets, icebergs, theme_of, config.n_keywords)
    return Profiles(icebergs=icebergs,
                    attributes=attributes,
                    timeline=timeline_table(tickets, config.period),
                    themes=themes)


# --- who and how much: one row per iceberg ---------------------------------------------

def iceberg_table(tickets: pd.DataFrame, embeddings: np.ndarray, dimensions: list[str],
                  config: ProfileConfig) -> pd.DataFrame:
    """One row per iceberg, ranked by score (see the module docstring), matching ``ICEBERGS``.

    ``n_customers`` / ``n_agents``: distinct non-null customer / agent ids among its
    tickets; ``max_tickets_per_agent``: the most of its tickets one agent handled. These
    are null (not zero) when the input has no such column. ``first_seen`` /
    ``last_seen``: its earliest and latest ticket; ``onset`` and ``trend`` as in
    ``onset_date`` and ``trend_status``; ``spike`` as in ``is_spike``;
    ``n_repeat_customers``: customers with two or more of its tickets; ``n_accounts``:
    distinct non-null account ids; ``segments``: its customers per segment
    (``segment_breakdowns``); ``value_at_risk``: the revenue of its accounts, else
    customers (``values_at_risk``) — each null when the input lacks the column it needs;
    ``boilerplate`` as in ``courtesy.boilerplate_icebergs``; ``top_combination``
    and its support, share, baseline share and lift as in ``evidence.top_combinations``.
    """
    return profiles(tickets, embeddings, dimensions, config).icebergs


def _iceberg_table(tickets: pd.DataFrame, embeddings: np.ndarray, attributes: pd.DataFrame,
                   timing: pd.DataFrame, combinations: pd.DataFrame,
                   config: ProfileConfig, dismissed: Collection[str]) -> pd.DataFrame:
    # Called first: it also checks that the embeddings are those of these tickets.
    representatives = representative_ticket_ids(tickets, embeddings, config.n_representatives)
    ids = list(representatives)
    if not ids:
        return _empty_icebergs()
    keywords = iceberg_keywords(tickets, config.n_keywords)
    labels = iceberg_names(tickets, representatives, iceberg_labels(keywords))
    members = tickets[tickets[TicketCols.iceberg_id].notna()]
    by_iceberg = members[TicketCols.iceberg_id].astype(str)
    created = utc(members[TicketCols.created_at])
    table = pd.DataFrame({IcebergCols.iceberg_id: pd.Series(ids, dtype="str")})
    table[IcebergCols.label] = [labels[i] for i in ids]
    table[IcebergCols.keywords] = [keywords[i] for i in ids]
    table[IcebergCols.size] = by_iceberg.value_counts().reindex(ids).to_numpy(dtype=np.int64)
    table[IcebergCols.n_customers], table[ScoreCols.reach] = customer_columns(
        members, by_iceberg, ids)
    (table[IcebergCols.n_agents], table[IcebergCols.max_tickets_per_agent],
     table[ScoreCols.fragmentation]) = agent_columns(members, by_iceberg, ids)
    table[IcebergCols.first_seen] = created.groupby(by_iceberg).min().reindex(ids).array
    table[IcebergCols.last_seen] = created.groupby(by_iceberg).max().reindex(ids).array
    table[IcebergCols.onset] = timing[IcebergCols.onset].reindex(ids).to_numpy()
    table[IcebergCols.trend] = pd.Series(timing[IcebergCols.trend].reindex(ids).to_numpy(),
                                         dtype="str")
    table[IcebergCols.spike] = pd.array(timing[IcebergCols.spike].reindex(ids), dtype="boolean")
    table[IcebergCols.representative_ticket_ids] = [representatives[i] for i in ids]
    table[IcebergCols.n_repeat_customers] = repeat_customers(members, by_iceberg, ids)
    table[IcebergCols.n_accounts] = account_counts(members, by_iceberg, ids)
    table[IcebergCols.segments] = segment_breakdowns(tickets, members, by_iceberg, ids)
    table[IcebergCols.value_at_risk] = values_at_risk(tickets, members, by_iceberg, ids)
    table[IcebergCols.boilerplate] = (boilerplate_icebergs(tickets).reindex(ids, fill_value=False)
                                      .to_numpy(dtype=bool))
    for column, dtype in _COMBINATION_DTYPES.items():
        values = (combinations[column].reindex(ids).to_numpy(dtype=object) if len(combinations)
                  else [None] * len(ids))
        table[column] = pd.Series(values, dtype=dtype, index=table.index)

    significant = attributes[attributes[AttributeCols.evidence] & ~attributes[AttributeCols.topical]]
    table[ScoreCols.max_lift] = (significant.groupby(AttributeCols.iceberg_id)[AttributeCols.lift]
                                 .max().reindex(ids).to_numpy(dtype=np.float64))
    table[ScoreCols.concentration] = (1 - 1 / table[ScoreCols.max_lift]).fillna(0.0)
    table[ScoreCols.emergence] = table[IcebergCols.trend].isin(["new", "growing"]).astype(np.float64)
    table[IcebergCols.score] = table[ScoreCols.reach] * (
        1 + table[ScoreCols.concentration] + table[ScoreCols.emergence]
        + table[ScoreCols.fragmentation])
    table = ranked(table, dismissed)
    return table[ICEBERGS.columns + _EXTRA_COLUMNS + _SCORE_COLUMNS]


def _empty_icebergs() -> pd.DataFrame:
    table = ICEBERGS.empty()
    table[IcebergCols.spike] = pd.Series(dtype="boolean")
    table[IcebergCols.n_repeat_customers] = pd.Series(dtype="Int64")
    table[IcebergCols.n_accounts] = pd.Series(dtype="Int64")
    table[IcebergCols.segments] = pd.Series(dtype=object)
    table[IcebergCols.value_at_risk] = pd.Series(dtype="Float64")
    table[IcebergCols.boilerplate] = pd.Series(dtype=bool)
    for column, dtype in _COMBINATION_DTYPES.items():
        table[column] = pd.Series(dtype=dtype)
    for column in _SCORE_COLUMNS:
        table[column] = pd.Series(dtype=np.float64)
    return table


def _data_start(tickets: pd.DataFrame) -> date | None:
    """The day of the data's first dated ticket, or None without dates."""
    first = utc(tickets[TicketCols.created_at]).min()
    return None if pd.isna(first) else first.date()


