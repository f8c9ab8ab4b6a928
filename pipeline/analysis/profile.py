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

import numpy as np
import pandas as pd
from scipy.stats import binomtest, poisson

from pipeline.config import ProfileConfig
from pipeline.analysis.courtesy import boilerplate_icebergs
from pipeline.analysis.evidence import (attribute_table, iceberg_windows, is_evidence, top_combinations,
                               topical_dimensions)
from pipeline.analysis.events import onset_events
from pipeline.analysis.label import iceberg_keywords, iceberg_labels, representative_ticket_ids
from pipeline.analysis.onset import onset_date
from pipeline.schemas import (ICEBERGS, SEGMENT_CUSTOMERS, TIMELINE, AttributeCols, CombinationCols,
                              IcebergCols, TicketCols, TimelineCols)

PERIODS = {"D": "D", "W": "W-SUN", "M": "M"}   # pandas period of each timeline bucket

TREND_WINDOW_DAYS = 28
TREND_ALPHA = 0.05
QUIET_EXPECTED = 3         # a last window this busy at its share makes silence meaningful (P(0) ≈ 5 %)
SPIKE_ALPHA = 0.001
FRAGMENT_MAX_TICKETS = 2    # an agent who saw at most this many of its tickets saw a fragment


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


def profiles(tickets: pd.DataFrame, embeddings: np.ndarray, dimensions: list[str],
             config: ProfileConfig, events: pd.DataFrame | None = None) -> Profiles:
    """All three profile tables of a run's tickets.

    Timing comes first: each iceberg's attributes are compared with the tickets of its
    own time window (onset → last ticket, ``evidence.iceberg_windows``). ``events`` (from
    ``ingest.read_events``, None when the run has no events file) fill the icebergs'
    ``onset_events`` and ``event_concentrated`` (``events.onset_events``).
    """
    ids = sorted(tickets[TicketCols.iceberg_id].dropna().astype(str).unique())
    timing = timing_table(tickets, ids)
    windows = iceberg_windows(tickets, timing[IcebergCols.onset].to_dict())
    attributes = attribute_table(tickets, dimensions, windows)
    topical = topical_dimensions(tickets, dimensions)
    attributes[AttributeCols.topical] = attributes[AttributeCols.dimension].isin(topical)
    attributes[AttributeCols.evidence] = is_evidence(
        attributes, alpha=config.fdr_alpha, min_count=config.min_evidence_count,
        min_share=config.min_evidence_share).astype(bool)
    combinations = top_combinations(tickets, attributes, config.fdr_alpha, exclude=topical)
    icebergs = _iceberg_table(tickets, embeddings, attributes, timing, combinations, config)
    near = onset_events(timing[IcebergCols.onset], attributes, events, data_start=_data_start(tickets))
    for column in (IcebergCols.onset_events, IcebergCols.event_concentrated):
        icebergs[column] = near[column].reindex(icebergs[IcebergCols.iceberg_id]).array
    return Profiles(icebergs=icebergs,
                    attributes=attributes,
                    timeline=timeline_table(tickets, config.period))


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


def trend_status(daily_counts: pd.Series, onset: date | None, *, volume: pd.Series | None = None,
                 window_days: int = TREND_WINDOW_DAYS, alpha: float = TREND_ALPHA) -> str | None:
    """new / growing / stable / fading, or None when the data cannot tell.

    ``daily_counts``: the iceberg's tickets per day over the whole period of the data —
    its index runs from the data's first day to its last, zeros included — so that
    "recent" means recent in the data, not in the iceberg's own life. The rule:

    - None when the iceberg has no dated ticket or the data spans fewer than two windows
      (2 × ``window_days``): there is nothing to compare with.
    - ``new`` when the onset falls in the last window.
    - Otherwise the second half of the data period's count a is compared with the first
      half's, b (over a whole period, not two short windows: a problem that appeared
      mid-period is growing even when each month alone is too small to tell). If the
      iceberg keeps a steady share of the ticket flow, a given a + b is binomial(a + b, s)
      with s the second half's share of all tickets (``volume``: every ticket per day;
      s = ½ without it, a steady rate), so a two-sided binomial test with p < ``alpha``
      says its share changed: ``growing`` if a > (a + b)·s, else ``fading``; ``stable``
      otherwise. An iceberg quiet in the last window after being active is ``fading`` —
      it has gone quiet — unless the whole flow was so quiet then that silence is likely
      anyway (fewer than 3 of its tickets expected there at its share; then the test
      decides).
    """
    days = pd.to_datetime(daily_counts.index)
    if daily_counts.sum() == 0 or (days.max() - days.min()).days + 1 < 2 * window_days:
        return None
    last_day = days.max()
    if onset is not None and pd.Timestamp(onset) > last_day - pd.Timedelta(days=window_days):
        return "new"
    last_window = days > last_day - pd.Timedelta(days=window_days)
    middle = days.min() + (last_day - days.min()) / 2
    flow = volume.to_numpy(dtype=np.float64) if volume is not None else np.ones(len(days))
    quiet = daily_counts[last_window].sum() == 0
    if quiet and daily_counts.sum() * flow[last_window].sum() / flow.sum() >= QUIET_EXPECTED:
        return "fading"
    recent = int(daily_counts[days > middle].sum())
    total = recent + int(daily_counts[days <= middle].sum())
    share = float(flow[days > middle].sum() / flow.sum())
    if binomtest(recent, total, share).pvalue >= alpha:
        return "stable"
    return "growing" if recent > total * share else "fading"


def is_spike(daily_counts: pd.Series, *, alpha: float = SPIKE_ALPHA) -> bool | None:
    """Whether the last week is a spike against the iceberg's own history.

    ``daily_counts`` as in ``trend_status``. The last 7 days' count is compared with the
    Poisson rate of the weeks before it since the iceberg's first ticket: a spike when
    P(X ≥ count) < ``alpha``. None when there is no earlier week to compare with.
    """
    days = pd.to_datetime(daily_counts.index)
    active = daily_counts[daily_counts.to_numpy() > 0]
    if active.empty:
        return None
    last_week = days > days.max() - pd.Timedelta(days=7)
    history = ~last_week & (days >= pd.to_datetime(active.index).min())
    n_history_weeks = int(history.sum()) / 7
    if n_history_weeks < 1:
        return None
    rate = daily_counts[history].sum() / n_history_weeks
    return bool(poisson.sf(int(daily_counts[last_week].sum()) - 1, rate) < alpha)


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
    (``_segment_breakdowns``); ``value_at_risk``: the revenue of its accounts, else
    customers (``_values_at_risk``) — each null when the input lacks the column it needs;
    ``boilerplate`` as in ``courtesy.boilerplate_icebergs``; ``top_combination``
    and its support, share, baseline share and lift as in ``evidence.top_combinations``.
    """
    return profiles(tickets, embeddings, dimensions, config).icebergs


def _iceberg_table(tickets: pd.DataFrame, embeddings: np.ndarray, attributes: pd.DataFrame,
                   timing: pd.DataFrame, combinations: pd.DataFrame,
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
    table[IcebergCols.onset] = timing[IcebergCols.onset].reindex(ids).to_numpy()
    table[IcebergCols.trend] = pd.Series(timing[IcebergCols.trend].reindex(ids).to_numpy(),
                                         dtype="str")
    table[IcebergCols.spike] = pd.array(timing[IcebergCols.spike].reindex(ids), dtype="boolean")
    table[IcebergCols.representative_ticket_ids] = [representatives[i] for i in ids]
    table[IcebergCols.n_repeat_customers] = _repeat_customers(members, by_iceberg, ids)
    table[IcebergCols.n_accounts] = _account_counts(members, by_iceberg, ids)
    table[IcebergCols.segments] = _segment_breakdowns(tickets, members, by_iceberg, ids)
    table[IcebergCols.value_at_risk] = _values_at_risk(tickets, members, by_iceberg, ids)
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
    table = table.sort_values([IcebergCols.boilerplate, IcebergCols.score, IcebergCols.iceberg_id],
                              ascending=[True, False, True], ignore_index=True)
    table[IcebergCols.rank] = np.arange(1, len(table) + 1, dtype=np.int64)
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


def _repeat_customers(members: pd.DataFrame, by_iceberg: pd.Series, ids: list[str]) -> pd.array:
    """Customers with at least two of the iceberg's tickets; NA without a customer column."""
    if TicketCols.customer_id not in members.columns:
        return pd.array([pd.NA] * len(ids), dtype="Int64")
    per_customer = members.groupby([by_iceberg, members[TicketCols.customer_id]]).size()
    repeat = (per_customer >= 2).groupby(level=0).sum()
    return pd.array(repeat.reindex(ids, fill_value=0), dtype="Int64")


def _account_counts(members: pd.DataFrame, by_iceberg: pd.Series, ids: list[str]) -> pd.array:
    """Distinct non-null account ids per iceberg; NA without an account column."""
    if TicketCols.account_id not in members.columns:
        return pd.array([pd.NA] * len(ids), dtype="Int64")
    distinct = members[TicketCols.account_id].groupby(by_iceberg).nunique()
    return pd.array(distinct.reindex(ids, fill_value=0), dtype="Int64")


def _segment_breakdowns(tickets: pd.DataFrame, members: pd.DataFrame, by_iceberg: pd.Series,
                        ids: list[str]) -> list[list[dict] | None]:
    """Per iceberg, its customers per segment, most first (ties by name): ``SEGMENT_COUNT``
    entries. A customer is in the segment of their latest ticket that has one
    (``_latest_values``); a ticket without a customer id counts as a customer of its own,
    in its own segment, as in reach. Customers without a segment are left out, so an
    iceberg none of whose customers has one gets an empty list. None throughout without a
    segment column."""
    if TicketCols.segment not in members.columns:
        return [None] * len(ids)
    segment = members[TicketCols.segment].astype("object")
    who = "ticket " + members[TicketCols.ticket_id].astype(str)
    if TicketCols.customer_id in members.columns:
        customer = members[TicketCols.customer_id]
        identified = customer.notna()
        latest = _latest_values(tickets, TicketCols.customer_id, TicketCols.segment)
        segment = segment.where(~identified, customer.map(latest))
        who = who.where(~identified, "customer " + customer.astype(str))
    counted = pd.DataFrame({"iceberg": by_iceberg, "segment": segment, "who": who}).dropna()
    counts = counted.groupby(["iceberg", "segment"])["who"].nunique().reset_index()
    counts = counts.sort_values(["iceberg", "who", "segment"], ascending=[True, False, True])
    breakdown = {iceberg: [{TicketCols.segment: s, SEGMENT_CUSTOMERS: int(n)}
                           for s, n in zip(rows["segment"], rows["who"])]
                 for iceberg, rows in counts.groupby("iceberg")}
    return [breakdown.get(i, []) for i in ids]


def _values_at_risk(tickets: pd.DataFrame, members: pd.DataFrame, by_iceberg: pd.Series,
                    ids: list[str]) -> pd.array:
    """Per iceberg, the revenue of its distinct accounts — of its distinct customers when
    the input has no account column — each taken from its latest ticket with a revenue
    (``_latest_values``); tickets without an account (customer) id are not counted. NA
    where none of them has a known revenue, and throughout without a revenue column or
    without an account or customer column."""
    key = next((c for c in (TicketCols.account_id, TicketCols.customer_id) if c in members.columns), None)
    if TicketCols.revenue not in members.columns or key is None:
        return pd.array([pd.NA] * len(ids), dtype="Float64")
    revenue = _latest_values(tickets, key, TicketCols.revenue)
    affected = pd.DataFrame({"iceberg": by_iceberg, "key": members[key]}).dropna().drop_duplicates()
    at_risk = affected["key"].map(revenue).groupby(affected["iceberg"]).sum(min_count=1)
    return pd.array(at_risk.reindex(ids).to_numpy(dtype=np.float64), dtype="Float64")


def _latest_values(tickets: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Per ``key`` id, ``column`` on its latest ticket (anywhere in ``tickets``) that has a
    value: the latest ``created_at``, undated tickets counting as earliest, ties going to
    the later input row (``source_row``, else row order)."""
    known = tickets[tickets[key].notna() & tickets[column].notna()]
    order = [TicketCols.created_at] + [c for c in (TicketCols.source_row,) if c in known.columns]
    known = known.sort_values(order, kind="stable", na_position="first")
    return known.groupby(key)[column].last()


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


def timing_table(tickets: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Each iceberg's onset, trend and spike flag, from its daily counts over the data period."""
    days = _utc(tickets[TicketCols.created_at]).dt.tz_convert(None).dt.normalize()
    dated = tickets[TicketCols.iceberg_id].notna() & days.notna()
    columns = [IcebergCols.onset, IcebergCols.trend, IcebergCols.spike]
    if not dated.any():
        return pd.DataFrame(None, index=pd.Index(ids, dtype="str"), columns=columns, dtype=object)
    data_days = pd.date_range(days.min(), days.max(), freq="D")
    daily = (days[dated].groupby(tickets.loc[dated, TicketCols.iceberg_id].astype(str))
             .value_counts().unstack(fill_value=0)
             .reindex(index=ids, columns=data_days, fill_value=0))
    volume = days.value_counts().reindex(data_days, fill_value=0)    # every dated ticket
    onsets = [onset_date(daily.loc[i], volume) for i in ids]
    return pd.DataFrame({
        IcebergCols.onset: onsets,
        IcebergCols.trend: [trend_status(daily.loc[i], onset, volume=volume)
                            for i, onset in zip(ids, onsets)],
        IcebergCols.spike: [is_spike(daily.loc[i]) for i in ids],
    }, index=pd.Index(ids, dtype="str"), dtype=object)


def _data_start(tickets: pd.DataFrame) -> date | None:
    """The day of the data's first dated ticket, or None without dates."""
    first = _utc(tickets[TicketCols.created_at]).min()
    return None if pd.isna(first) else first.date()


def _utc(timestamps: pd.Series) -> pd.Series:
    return pd.to_datetime(timestamps, utc=True)
