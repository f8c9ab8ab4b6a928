"""Who is affected: per iceberg, its customers, agents, accounts, segments and value at risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.schemas import SEGMENT_CUSTOMERS, TicketCols

FRAGMENT_MAX_TICKETS = 2    # an agent who saw at most this many of its tickets saw a fragment


def repeat_customers(members: pd.DataFrame, by_iceberg: pd.Series, ids: list[str]) -> pd.array:
    """Customers with at least two of the iceberg's tickets; NA without a customer column."""
    if TicketCols.customer_id not in members.columns:
        return pd.array([pd.NA] * len(ids), dtype="Int64")
    per_customer = members.groupby([by_iceberg, members[TicketCols.customer_id]]).size()
    repeat = (per_customer >= 2).groupby(level=0).sum()
    return pd.array(repeat.reindex(ids, fill_value=0), dtype="Int64")


def account_counts(members: pd.DataFrame, by_iceberg: pd.Series, ids: list[str]) -> pd.array:
    """Distinct non-null account ids per iceberg; NA without an account column."""
    if TicketCols.account_id not in members.columns:
        return pd.array([pd.NA] * len(ids), dtype="Int64")
    distinct = members[TicketCols.account_id].groupby(by_iceberg).nunique()
    return pd.array(distinct.reindex(ids, fill_value=0), dtype="Int64")


def segment_breakdowns(tickets: pd.DataFrame, members: pd.DataFrame, by_iceberg: pd.Series,
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


def values_at_risk(tickets: pd.DataFrame, members: pd.DataFrame, by_iceberg: pd.Series,
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


def customer_columns(members: pd.DataFrame, by_iceberg: pd.Series,
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


def agent_columns(members: pd.DataFrame, by_iceberg: pd.Series,
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
