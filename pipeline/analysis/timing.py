"""When: each iceberg's timeline, onset, trend and spike (the ``TIMELINE`` table and the
icebergs' ``onset``, ``trend`` and ``spike`` columns)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import binomtest, poisson

from pipeline.analysis.onset import onset_date
from pipeline.schemas import TIMELINE, IcebergCols, TicketCols, TimelineCols

PERIODS = {"D": "D", "W": "W-SUN", "M": "M"}   # pandas period of each timeline bucket
TREND_WINDOW_DAYS = 28
TREND_ALPHA = 0.05
QUIET_EXPECTED = 3         # a last window this busy at its share makes silence meaningful (P(0) ≈ 5 %)
SPIKE_ALPHA = 0.001


def timing_table(tickets: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Each iceberg's onset, trend and spike flag, from its daily counts over the data period."""
    days = utc(tickets[TicketCols.created_at]).dt.tz_convert(None).dt.normalize()
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


def timeline_table(tickets: pd.DataFrame, period: str) -> pd.DataFrame:
    """Tickets per iceberg per period (D, W weeks from Monday, or M), zero periods included.

    Each iceberg's rows run from the period of its first dated ticket to that of its
    last; tickets without a date are not counted. Empty when no ticket has a date.
    """
    if period not in PERIODS:
        raise ValueError(f"profile.period must be one of {', '.join(PERIODS)}, got {period!r} "
                         "(e.g. --set profile.period=W)")
    created = utc(tickets[TicketCols.created_at])
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


def utc(timestamps: pd.Series) -> pd.Series:
    return pd.to_datetime(timestamps, utc=True)
