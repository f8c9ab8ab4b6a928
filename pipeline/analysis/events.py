"""Events near an iceberg's onset: did it start with a release, a deploy, a campaign?

An events file (``profile.events``, read by ``sources.read_events``) lists what happened
when: ``date, name[, dimension, value]``. For each iceberg, ``onset_events`` lists the
events within ``EVENT_WINDOW_DAYS`` of its onset, and says whether the iceberg is
concentrated in the dimension value one of them introduced — an iceberg that starts two
days after release 5.4.0 *and* whose tickets are over-represented on app_version=5.4.0
points at the release; one that merely starts the same week does not.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from pipeline.schemas import AttributeCols, EventCols, IcebergCols

EVENT_WINDOW_DAYS = 7   # an event this many days before or after the onset coincides with it


def onset_events(onsets: pd.Series, attributes: pd.DataFrame, events: pd.DataFrame | None, *,
                 data_start: date | None = None,
                 window_days: int = EVENT_WINDOW_DAYS) -> pd.DataFrame:
    """Per iceberg, the events around its onset and whether it is concentrated in one's value.

    ``onsets``: each iceberg's onset date (or None), indexed by iceberg_id; ``attributes``:
    the run's attribute table with its ``evidence`` column; ``events``: as
    ``sources.read_events`` returns it, or None when the run has no events file.

    - ``onset_events``: ``"<date> <name>"`` (then ``" (dimension=value)"`` when the event
      names one) for each event dated within ±``window_days`` days of the onset, by date;
      empty when there is none or the iceberg has no onset — and when the onset falls
      within ``window_days`` of ``data_start``, the data's first day: there it is where
      the data begins, the problem may be older, and no event can be said to start it.
    - ``event_concentrated``: whether one of those events names a dimension value that
      counts as evidence for the iceberg (``evidence.is_evidence``: lift > 1 with
      q ≤ ``fdr_alpha`` and minimum support); False when none does.

    Both are null for every iceberg when ``events`` is None. Indexed like ``onsets``.
    """
    index = onsets.index
    if events is None:
        return pd.DataFrame({IcebergCols.onset_events: pd.Series([None] * len(index), index=index,
                                                                 dtype=object),
                             IcebergCols.event_concentrated: pd.Series(pd.NA, index=index,
                                                                       dtype="boolean")})
    A = AttributeCols
    evidence = set(zip(*(attributes.loc[attributes[A.evidence], c]
                         for c in (A.iceberg_id, A.dimension, A.value))))
    days = pd.to_datetime(events[EventCols.date])
    near_lists, concentrated = [], []
    censored_until = (pd.Timestamp(data_start) + pd.Timedelta(days=window_days)
                      if data_start is not None else None)
    for iceberg, onset in onsets.items():
        if (onset is None or pd.isna(onset)
                or (censored_until is not None and pd.Timestamp(onset) <= censored_until)):
            near = events.iloc[0:0]
        else:
            gap = (days - pd.Timestamp(onset)).dt.days.abs()
            near = events[(gap <= window_days).to_numpy()]
        near_lists.append([_describe(e) for e in near.itertuples(index=False)])
        concentrated.append(any((iceberg, e.dimension, e.value) in evidence
                                for e in near.itertuples(index=False) if pd.notna(e.dimension)))
    return pd.DataFrame({IcebergCols.onset_events: pd.Series(near_lists, index=index, dtype=object),
                         IcebergCols.event_concentrated: pd.Series(concentrated, index=index,
                                                                   dtype="boolean")})


def _describe(event) -> str:
    text = f"{event.date} {event.name}"
    if pd.notna(event.dimension):
        text += f" ({event.dimension}={event.value})"
    return text
