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
concentration  1 − 1/L, with L the largest lift among its attributes with
               q ≤ ``fdr_alpha`` (0 when there is none): of the tickets carrying its most
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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import binomtest, false_discovery_control, hypergeom

from pipeline.config import ProfileConfig
from pipeline.label import iceberg_keywords, iceberg_labels, representative_ticket_ids
from pipeline.schemas import (ATTRIBUTES, ICEBERGS, TIMELINE, AttributeCols, IcebergCols,
                              TicketCols, TimelineCols)

PERIODS = {"D": "D", "W": "W-SUN", "M": "M"}   # pandas period of each timeline bucket
WEEKS_FROM_MONDAY = {"rule": "W-MON", "closed": "left", "label": "left"}

ONSET_QUIET_P = 0.01        # a quiet spell this improbable breaks an iceberg's activity
TREND_WINDOW_DAYS = 28
TREND_ALPHA = 0.05
FRAGMENT_MAX_TICKETS = 2    # an agent who saw at most this many of its tickets saw a fragment


class ScoreCols:
    """Extra ``icebergs`` columns: the score's components (see the module docstring)."""

    reach = "score_reach"
    concentration = "score_concentration"
    emergence = "score_emergence"
    fragmentation = "score_fragmentation"
    max_lift = "max_significant_lift"    # L of the concentration; NaN when there is none


_SCORE_COLUMNS = [ScoreCols.reach, ScoreCols.concentration, ScoreCols.emergence,
                  ScoreCols.fragmentation, ScoreCols.max_lift]


@dataclass(frozen=True)
class Profiles:
    """A run's profile tables: ``ICEBERGS`` (+ ``ScoreCols``), ``ATTRIBUTES``, ``TIMELINE``."""

    icebergs: pd.DataFrame
    attributes: pd.DataFrame
    timeline: pd.DataFrame


def profiles(tickets: pd.DataFrame, embeddings: np.ndarray, dimensions: list[str],
             config: ProfileConfig) -> Profiles:
    """All three profile tables of a run's tickets."""
    attributes = attribute_table(tickets, dimensions)
    return Profiles(icebergs=_iceberg_table(tickets, embeddings, attributes, config),
                    attributes=attributes,
                    timeline=timeline_table(tickets, config.period))


# --- where: over-represented dimension values -------------------------------------------

def attribute_table(tickets: pd.DataFrame, dimensions: list[str]) -> pd.DataFrame:
    """One row per iceberg × dimension × value found among the iceberg's tickets.

    For a dimension, only tickets where it is known (non-null) take part, so every
    number below describes the same population:

    - ``count``: the iceberg's tickets with the value;
    - ``share``: count / the iceberg's tickets with the dimension known (its size when the
      dimension is never missing);
    - ``baseline_count`` / ``baseline_share``: the same among *all* tickets with the
      dimension known, the iceberg's own included — the share expected if the iceberg
      were a random draw of tickets, which is exactly the null of the test below;
    - ``lift`` = share / baseline_share: how many times more common the value is in the
      iceberg than overall (1 = no different);
    - ``p_value``: one-sided Fisher exact test (greater) on the 2×2 table (in the iceberg
      or not × the value or another), see ``enrichment_p_values``;
    - ``q_value``: Benjamini–Hochberg over every test of the table (all icebergs and
      dimensions): among the rows with q ≤ α, the expected share of chance findings is
      at most α.
    """
    missing = [d for d in dimensions if d not in tickets.columns]
    if missing:
        raise ValueError(f"dimension column(s) {missing} not in tickets (columns: "
                         f"{list(tickets.columns)}); pass existing columns as dimensions")
    frames = [frame for frame in (_dimension_attributes(tickets, d) for d in dimensions)
              if len(frame)]
    if not frames:
        return _empty_attributes()
    table = pd.concat(frames, ignore_index=True)
    table[AttributeCols.q_value] = q_values(table[AttributeCols.p_value].to_numpy())
    return table.sort_values([AttributeCols.iceberg_id, AttributeCols.dimension,
                              AttributeCols.count, AttributeCols.value],
                             ascending=[True, True, False, True], ignore_index=True)


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


def _dimension_attributes(tickets: pd.DataFrame, dimension: str) -> pd.DataFrame:
    known = tickets.loc[tickets[dimension].notna(), [TicketCols.iceberg_id, dimension]]
    values = known[dimension].astype(str)
    in_iceberg = known[TicketCols.iceberg_id].notna()
    pairs = pd.DataFrame({AttributeCols.iceberg_id: known.loc[in_iceberg, TicketCols.iceberg_id]
                          .astype(str),
                          AttributeCols.value: values[in_iceberg]})
    if pairs.empty:
        return _empty_attributes()
    table = pairs.value_counts(sort=False).rename(AttributeCols.count).reset_index()
    iceberg_known = table[AttributeCols.iceberg_id].map(pairs[AttributeCols.iceberg_id]
                                                        .value_counts())
    table.insert(1, AttributeCols.dimension, dimension)
    table[AttributeCols.share] = table[AttributeCols.count] / iceberg_known
    table[AttributeCols.baseline_count] = table[AttributeCols.value].map(values.value_counts())
    table[AttributeCols.baseline_share] = table[AttributeCols.baseline_count] / len(known)
    table[AttributeCols.lift] = table[AttributeCols.share] / table[AttributeCols.baseline_share]
    table[AttributeCols.p_value] = enrichment_p_values(
        table[AttributeCols.count].to_numpy(), iceberg_known.to_numpy(),
        table[AttributeCols.baseline_count].to_numpy(), len(known))
    return table


def _empty_attributes() -> pd.DataFrame:
    table = ATTRIBUTES.empty()
    table[AttributeCols.baseline_count] = pd.Series(dtype=np.int64)
    return table


# --- when: timeline, onset, trend --------------------------------------------------------

def timeline_table(tickets: pd.DataFrame, period: str) -> pd.DataFrame:
    """Tickets per iceberg per period (D, W weeks from Monday, or M), zero periods included.

    Each iceberg's rows run from the period of its first dated ticket to that of its
    last; tickets without a date are not counted. Empty when no ticket has a date.
    """
    if period not in PERIODS:
        raise ValueError(f"profile.period must be one of {', '.join(PERIODS)}, got {period!r} "
                         "(e.g. --set profile.period=W)")
    created = _utc(tickets[TicketCols.created_at])
    dated = tickets[TicketCols.iceberg_id].notna() & created.notna()
    if not dated.any():
        return TIMELINE.empty()
    buckets = created[dated].dt.tz_convert(None).dt.to_period(PERIODS[period])
    counts = buckets.groupby(tickets.loc[dated, TicketCols.iceberg_id].astype(str)).value_counts()
    frames = []
    for iceberg, per_period in counts.groupby(level=0):
        per_period = per_period.droplevel(0)
        span = pd.period_range(per_period.index.min(), per_period.index.max(), freq=PERIODS[period])
        frames.append(pd.DataFrame({
            TimelineCols.iceberg_id: iceberg,
            TimelineCols.period_start: span.start_time.date,
            TimelineCols.count: per_period.reindex(span, fill_value=0).to_numpy(dtype=np.int64),
        }))
    return pd.concat(frames, ignore_index=True)


def onset_date(daily_counts: pd.Series) -> date | None:
    """The day the iceberg became an ongoing problem, or None when it has no dated ticket.

    ``daily_counts``: tickets per day, indexed by day. The rule, on weekly counts (weeks
    from Monday): a week is active when it has a ticket. The onset week is the earliest
    active week after which the activity never breaks, where a break is a run of g quiet
    weeks between active ones that would be improbable — probability exp(−r·g) below
    ``ONSET_QUIET_P`` — for tickets arriving at random at r, the mean weekly count from
    that week to the last active one. So stray early tickets followed by a long silence
    do not count as the start, while a sparse but steady iceberg starts at its first
    ticket. Quiet weeks after the last active one (a problem that stopped) are ignored.
    The onset is the first day with a ticket in the onset week.
    """
    ticket_days = daily_counts[daily_counts.to_numpy() > 0]
    if ticket_days.empty:
        return None
    ticket_days = ticket_days.set_axis(pd.to_datetime(ticket_days.index))
    weekly = ticket_days.resample(**WEEKS_FROM_MONDAY).sum()
    per_week = weekly.to_numpy(dtype=np.float64)
    active = np.flatnonzero(per_week > 0)
    rate = np.cumsum(per_week[::-1])[::-1][active] / (active[-1] - active + 1)
    quiet_runs = np.append(np.diff(active) - 1, 0)     # quiet weeks after each active week
    longest_later_quiet_run = np.maximum.accumulate(quiet_runs[::-1])[::-1]
    unbroken = longest_later_quiet_run <= np.log(1 / ONSET_QUIET_P) / rate
    onset_week = weekly.index[active[np.argmax(unbroken)]]
    return ticket_days.index[ticket_days.index >= onset_week].min().date()


def trend_status(daily_counts: pd.Series, onset: date | None, *,
                 window_days: int = TREND_WINDOW_DAYS, alpha: float = TREND_ALPHA) -> str | None:
    """new / growing / stable / fading, or None when the data cannot tell.

    ``daily_counts``: the iceberg's tickets per day over the whole period of the data —
    its index runs from the data's first day to its last, zeros included — so that
    "recent" means recent in the data, not in the iceberg's own life. The rule:

    - None when the iceberg has no dated ticket or the data spans fewer than two windows
      (2 × ``window_days``): there is nothing to compare with.
    - ``new`` when the onset falls in the last window.
    - Otherwise the last window's count a is compared with the window before's, b. If
      tickets arrive at a steady Poisson rate, a given a + b is binomial(a + b, ½), so a
      two-sided binomial test with p < ``alpha`` says the rate changed: ``growing`` if
      a > b, else ``fading``; ``stable`` otherwise. An iceberg quiet in both windows
      (a = b = 0) is ``fading``: it has gone quiet.
    """
    days = pd.to_datetime(daily_counts.index)
    if daily_counts.sum() == 0 or (days.max() - days.min()).days + 1 < 2 * window_days:
        return None
    window = pd.Timedelta(days=window_days)
    last_day = days.max()
    if onset is not None and pd.Timestamp(onset) > last_day - window:
        return "new"
    recent = int(daily_counts[days > last_day - window].sum())
    before = int(daily_counts[(days > last_day - 2 * window) & (days <= last_day - window)].sum())
    if recent + before == 0:
        return "fading"
    if binomtest(recent, recent + before, 0.5).pvalue >= alpha:
        return "stable"
    return "growing" if recent > before else "fading"


# --- who and how much: one row per iceberg ---------------------------------------------

def iceberg_table(tickets: pd.DataFrame, embeddings: np.ndarray, dimensions: list[str],
                  config: ProfileConfig) -> pd.DataFrame:
    """One row per iceberg, ranked by score (see the module docstring), matching ``ICEBERGS``.

    ``n_customers`` / ``n_agents``: distinct non-null customer / agent ids among its
    tickets; ``max_tickets_per_agent``: the most of its tickets one agent handled. These
    are null (not zero) when the input has no such column. ``first_seen`` /
    ``last_seen``: its earliest and latest ticket; ``onset`` and ``trend`` as in
    ``onset_date`` and ``trend_status``.
    """
    return _iceberg_table(tickets, embeddings, attribute_table(tickets, dimensions), config)


def _iceberg_table(tickets: pd.DataFrame, embeddings: np.ndarray, attributes: pd.DataFrame,
                   config: ProfileConfig) -> pd.DataFrame:
    # Called first: it also checks that the embeddings are those of these tickets.
    representatives = representative_ticket_ids(tickets, embeddings, config.n_representatives)
    ids = list(representatives)
    if not ids:
        return _empty_icebergs()
    keywords = iceberg_keywords(tickets, config.n_keywords)
    labels = iceberg_labels(keywords)
    members = tickets[tickets[TicketCols.iceberg_id].notna()]
    by_iceberg = members[TicketCols.iceberg_id].astype(str)
    created = _utc(members[TicketCols.created_at])
    table = pd.DataFrame({IcebergCols.iceberg_id: pd.Series(ids, dtype="str")})
    table[IcebergCols.label] = [labels[i] for i in ids]
    table[IcebergCols.keywords] = [keywords[i] for i in ids]
    table[IcebergCols.size] = by_iceberg.value_counts().reindex(ids).to_numpy(dtype=np.int64)
    table[IcebergCols.n_customers], table[ScoreCols.reach] = _customer_columns(
        members, by_iceberg, ids)
    (table[IcebergCols.n_agents], table[IcebergCols.max_tickets_per_agent],
     table[ScoreCols.fragmentation]) = _agent_columns(members, by_iceberg, ids)
    table[IcebergCols.first_seen] = created.groupby(by_iceberg).min().reindex(ids).array
    table[IcebergCols.last_seen] = created.groupby(by_iceberg).max().reindex(ids).array
    onsets, trends = _onsets_and_trends(tickets, ids)
    table[IcebergCols.onset] = onsets
    table[IcebergCols.trend] = pd.Series(trends, dtype="str")
    table[IcebergCols.representative_ticket_ids] = [representatives[i] for i in ids]

    significant = attributes[attributes[AttributeCols.q_value] <= config.fdr_alpha]
    table[ScoreCols.max_lift] = (significant.groupby(AttributeCols.iceberg_id)[AttributeCols.lift]
                                 .max().reindex(ids).to_numpy(dtype=np.float64))
    table[ScoreCols.concentration] = (1 - 1 / table[ScoreCols.max_lift]).fillna(0.0)
    table[ScoreCols.emergence] = table[IcebergCols.trend].isin(["new", "growing"]).astype(np.float64)
    table[IcebergCols.score] = table[ScoreCols.reach] * (
        1 + table[ScoreCols.concentration] + table[ScoreCols.emergence]
        + table[ScoreCols.fragmentation])
    table = table.sort_values([IcebergCols.score, IcebergCols.iceberg_id],
                              ascending=[False, True], ignore_index=True)
    table[IcebergCols.rank] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table[ICEBERGS.columns + _SCORE_COLUMNS]


def _empty_icebergs() -> pd.DataFrame:
    table = ICEBERGS.empty()
    for column in _SCORE_COLUMNS:
        table[column] = pd.Series(dtype=np.float64)
    return table


def _customer_columns(members: pd.DataFrame, by_iceberg: pd.Series,
                      ids: list[str]) -> tuple[pd.array, np.ndarray]:
    """n_customers and the reach component, per iceberg.

    Without a customer column n_customers is NA throughout and every ticket counts
    towards reach as a customer of its own.
    """
    if TicketCols.customer_id not in members.columns:
        size = by_iceberg.value_counts().reindex(ids).to_numpy(dtype=np.float64)
        return pd.array([pd.NA] * len(ids), dtype="Int64"), np.log1p(size)
    customers = members[TicketCols.customer_id]
    distinct = customers.groupby(by_iceberg).nunique().reindex(ids, fill_value=0)
    anonymous = customers.isna().groupby(by_iceberg).sum().reindex(ids, fill_value=0)
    return (pd.array(distinct, dtype="Int64"),
            np.log1p((distinct + anonymous).to_numpy(dtype=np.float64)))


def _agent_columns(members: pd.DataFrame, by_iceberg: pd.Series,
                   ids: list[str]) -> tuple[pd.array, pd.array, np.ndarray]:
    """n_agents, max_tickets_per_agent and the fragmentation component, per iceberg.

    Without an agent column the first two are NA throughout and fragmentation is 0.
    """
    if TicketCols.agent_id not in members.columns:
        unknown = pd.array([pd.NA] * len(ids), dtype="Int64")
        return unknown, unknown, np.zeros(len(ids))
    per_agent = members.groupby([by_iceberg, members[TicketCols.agent_id]]).size()
    by_agent = per_agent.groupby(level=0)
    fragmented = (per_agent <= FRAGMENT_MAX_TICKETS).groupby(level=0).mean()
    return (pd.array(by_agent.size().reindex(ids, fill_value=0), dtype="Int64"),
            pd.array(by_agent.max().reindex(ids, fill_value=0), dtype="Int64"),
            fragmented.reindex(ids, fill_value=0.0).to_numpy(dtype=np.float64))


def _onsets_and_trends(tickets: pd.DataFrame, ids: list[str]) -> tuple[list, list]:
    """Each iceberg's onset and trend, from its daily counts over the whole data period."""
    days = _utc(tickets[TicketCols.created_at]).dt.tz_convert(None).dt.normalize()
    dated = tickets[TicketCols.iceberg_id].notna() & days.notna()
    if not dated.any():
        return [None] * len(ids), [None] * len(ids)
    data_days = pd.date_range(days.min(), days.max(), freq="D")
    daily = (days[dated].groupby(tickets.loc[dated, TicketCols.iceberg_id].astype(str))
             .value_counts().unstack(fill_value=0)
             .reindex(index=ids, columns=data_days, fill_value=0))
    onsets = [onset_date(daily.loc[i]) for i in ids]
    return onsets, [trend_status(daily.loc[i], onset) for i, onset in zip(ids, onsets)]


def _utc(timestamps: pd.Series) -> pd.Series:
    return pd.to_datetime(timestamps, utc=True)
