"""``Lookup``: a finished run loaded once — its settings, the embedding model, the iceberg
registry, the tickets' vectors, an index of customers — answering any number of look-ups.

``iceberg lookup`` makes one and asks once; ``iceberg serve`` makes one at start and asks
for every request. An ``Answer`` turns into plain JSON (``to_dict``), the API's body and
``iceberg lookup --json``'s output. Nothing asked is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from pipeline.errors import UsageError
from pipeline.lookup.customer import SAME_PROBLEM, CustomerHistory, customer_history, customer_keys, customer_rows
from pipeline.lookup.nearest import WOULD_JOIN, LookupResult, looked_up, ticket_vectors
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

MAX_TEXT_CHARS = 20_000     # a ticket longer than this is cut before it is prepared


@dataclass(frozen=True)
class DimensionShare:
    """How common one of the asked ticket's values is in the nearest iceberg, against all tickets."""

    dimension: str
    value: str
    iceberg_id: str
    share: float                   # of the iceberg's tickets with the value
    baseline_share: float | None   # of all tickets (None: the value is in no attribute row)

    def text(self) -> str:
        base = "" if self.baseline_share is None else f", against {self.baseline_share:.0%} of all tickets"
        return f"{self.dimension}={self.value}: {self.share:.0%} of {self.iceberg_id}'s tickets{base}."


def dimension_shares(attributes: pd.DataFrame, iceberg_id: str,
                     given: Mapping[str, str]) -> list[DimensionShare]:
    """For each (dimension, value) given, its share among ``iceberg_id``'s tickets and among all."""
    rows = attributes[attributes[A.iceberg_id] == iceberg_id]
    shares = []
    for dimension, value in given.items():
        match = rows[(rows[A.dimension] == dimension) & (rows[A.value] == value)]
        shares.append(DimensionShare(dimension, value, iceberg_id,
                                     float(match[A.share].iloc[0]) if len(match) else 0.0,
                                     float(match[A.baseline_share].iloc[0]) if len(match) else None))
    return shares


@dataclass(frozen=True)
class Answer:
    run_id: str
    result: LookupResult
    customer: CustomerHistory | None
    dimensions: list[DimensionShare]
    links: Mapping[str, str]      # iceberg id -> its dashboard page (empty without dashboard.url)

    @property
    def placed_in(self) -> str | None:
        return self.result.placed_in

    def to_dict(self) -> dict:
        """Plain JSON: what the API answers and ``iceberg lookup --json`` prints."""
        icebergs = [{**_plain(row), "url": self.links.get(row[I.iceberg_id])}
                    for row in _records(self.result.icebergs.rename(columns={WOULD_JOIN: "would_join"}))]
        body = {"run_id": self.run_id, "text": self.result.text, "threshold": self.result.threshold,
                "placed_in": self.placed_in, "one_off": self.placed_in is None,
                "icebergs": icebergs, "tickets": [_plain(r) for r in _records(self.result.tickets)],
                "dimensions": [vars(d) for d in self.dimensions], "customer": None}
        if self.customer is not None:
            history = self.customer.tickets.rename(columns={SAME_PROBLEM: "same_problem"})
            body["customer"] = {"given": self.customer.given, "customer_id": self.customer.customer_id,
                                "found": self.customer.customer_id is not None,
                                "same_problem": self.customer.same_problem,
                                "icebergs": self.customer.icebergs,
                                "tickets": [_plain(r) for r in _records(history)]}
        return body


class Lookup:
    """One finished run, ready to answer look-ups (``open_lookup``)."""

    def __init__(self, run, embedder=None, dashboard_url: str = ""):
        from pipeline.embed import embedder_from_config
        from pipeline.links import iceberg_url

        self.run = run
        self.config = run.config
        self.icebergs = run.curated_icebergs()
        tickets = run.tickets
        # Only what a look-up shows: a narrow frame keeps each answer's row picking quick.
        # Only what a look-up shows, as plain Python objects: picking a few rows stays quick.
        slim = tickets[[c for c in (T.ticket_id, T.created_at, T.iceberg_id, T.customer_id, T.text)
                        if c in tickets.columns]]
        self.tickets = slim.astype({c: object for c in slim.columns if c != T.created_at})
        self.attributes = run.attributes
        self.known = run.known_icebergs()
        self.names = _names(self.icebergs)
        self._ranks = self.icebergs[[I.iceberg_id, I.rank, I.size]]
        self.vectors, self.found = ticket_vectors(run, tickets)
        self.customers = customer_rows(self.tickets[T.customer_id]) if T.customer_id in self.tickets else {}
        self.dimensions = {d: sorted(v.astype(str).unique().tolist())
                           for d, v in self.attributes.groupby(A.dimension)[A.value]}
        self.links = {i: iceberg_url(dashboard_url, i, run.run_id) for i in self.icebergs[I.iceberg_id]
                      } if dashboard_url else {}
        self.embedder = embedder if embedder is not None else embedder_from_config(self.config.embedding)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def __call__(self, text: str, *, customer: str | None = None, dimensions: Mapping[str, str] | None = None,
                 n_icebergs: int = 5, n_tickets: int = 10) -> Answer:
        """Where ``text`` would land, the most similar past tickets, the ``customer``'s history
        and how common the ticket's ``dimensions`` values are in its nearest iceberg."""
        if not text or not text.strip():
            raise UsageError("the ticket text is empty: give the text the customer wrote")
        dimensions = dict(dimensions or {})
        unknown = sorted(set(dimensions) - set(self.dimensions))
        if unknown:
            raise UsageError(f"unknown dimension {unknown[0]!r}; this run's dimensions: "
                             f"{', '.join(sorted(self.dimensions)) or 'none'}")
        result = looked_up(text[:MAX_TEXT_CHARS], self.config, self.embedder, self.known, self._ranks,
                           self.names, self.vectors, self.found, self.tickets,
                           n_icebergs=n_icebergs, n_tickets=n_tickets)
        history = None
        if customer is not None and customer.strip():
            given = customer.strip()   # as given when the run kept it so, else as the run pseudonymised it
            keys = [given] if given in self.customers else customer_keys(given, self.config.redact)
            history = customer_history(given, keys,
                                       self.customers, self.tickets, result.vector, self.vectors, self.found,
                                       self.names, result.placed_in, result.threshold)
        nearest = result.placed_in or (str(result.icebergs[I.iceberg_id].iloc[0]) if len(result.icebergs)
                                       else None)
        shares = dimension_shares(self.attributes, nearest, dimensions) if nearest and dimensions else []
        return Answer(self.run_id, result, history, shares, self.links)

    def iceberg(self, iceberg_id: str) -> dict | None:
        """One iceberg of the run as plain JSON (its figures, name, status and top evidence), or None."""
        rows = self.icebergs[self.icebergs[I.iceberg_id] == iceberg_id]
        if rows.empty:
            return None
        row = _plain(rows.iloc[0].to_dict())
        evidence = self.run.evidence(iceberg_id, n=5, attributes=self.attributes)
        keep = [A.dimension, A.value, A.count, A.share, A.baseline_share, A.lift, A.q_value]
        return {"run_id": self.run_id, **row, "name": self.names.get(iceberg_id, ""),
                "evidence": [_plain(r) for r in _records(evidence[keep])],
                "url": self.links.get(iceberg_id)}


def open_lookup(out: str | Path, run_id: str | None = None, *, embedder=None, dashboard_url: str = "") -> Lookup:
    """A ``Lookup`` on run ``run_id`` of ``out`` (default: the latest finished run)."""
    from pipeline.store import load_run

    return Lookup(load_run(out, run_id), embedder=embedder, dashboard_url=dashboard_url)


def _names(icebergs: pd.DataFrame) -> dict[str, str]:
    """Iceberg id → the name people see (curated name, else label)."""
    from pipeline.store.curation import CurationCols

    column = CurationCols.name if CurationCols.name in icebergs.columns else I.label
    return dict(zip(icebergs[I.iceberg_id], icebergs[column].astype(str)))


def _records(frame: pd.DataFrame) -> list[dict]:
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, row)) for row in zip(*(frame[c].tolist() for c in frame.columns))]


def _plain(row: Mapping) -> dict:
    """``row`` with numpy and pandas values as JSON's: NaN/NA/NaT as null, timestamps as ISO 8601."""
    return {str(k): _value(v) for k, v in row.items()}


def _value(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    return value
