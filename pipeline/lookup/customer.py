"""This customer's history: their earlier tickets in a run, which icebergs those are in, and
whether one of them is the same problem as the ticket looked up.

A run stores customer ids as its preparation left them (``pipeline.text.prepare``): an
e-mail address, a phone number or a person's name became a stable pseudonym
(``cust-<12 hex>``), other ids stayed. ``customer_keys`` gives the forms an id the agent
types can have in the run — the id itself and its pseudonym as the run's redaction
settings make it — so "jane@example.com" finds the tickets stored under ``cust-…``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import RedactConfig
from pipeline.schemas import TicketCols as T

SAME_PROBLEM = "same problem"
OUTSIDE = "outside any iceberg"


def customer_keys(given: str, config: RedactConfig) -> list[str]:
    """The forms ``given`` (a customer id as the helpdesk shows it) can take in the run's
    ``customer_id`` column: as given, and pseudonymised by the run's own preparation."""
    from pipeline.text.prepare import redacted_columns

    given = given.strip()
    if not given:
        return []
    frame = pd.DataFrame({T.customer_id: pd.Series([given], dtype="string")})
    pseudonymised = str(redacted_columns(frame, config)[0][T.customer_id].iloc[0])
    return list(dict.fromkeys([given, pseudonymised]))


@dataclass(frozen=True)
class CustomerHistory:
    given: str                 # the id as asked for
    customer_id: str | None    # the id as the run stores it (None: no ticket of theirs in the run)
    tickets: pd.DataFrame      # ticket_id, created_at, iceberg_id, name, similarity, same problem, text
    same_problem: bool         # one of their earlier tickets is the problem looked up

    @property
    def icebergs(self) -> list[str]:
        """The icebergs their tickets are in, most tickets first."""
        ids = Counter(i for i in self.tickets[T.iceberg_id].tolist() if isinstance(i, str))
        return [i for i, _ in ids.most_common()]


def customer_rows(customers: pd.Series) -> dict[str, np.ndarray]:
    """customer id → the row positions of their tickets (an index built once per run)."""
    if customers is None or customers.empty:
        return {}
    return {str(k): v for k, v in customers.astype("string").groupby(customers.astype("string"),
                                                                      sort=False).indices.items()}


def customer_history(given: str, keys: list[str], rows_by_customer: dict[str, np.ndarray],
                     tickets: pd.DataFrame, vector: np.ndarray, vectors: np.ndarray, found: np.ndarray,
                     names: dict[str, str], placed_in: str | None, threshold: float,
                     n: int = 20) -> CustomerHistory:
    """The customer's tickets in the run (the same problem first, then newest first; at most
    ``n``), each with its iceberg,
    its similarity to the ticket looked up (``vector``) and whether it is the same problem:
    in the iceberg the look-up would join (``placed_in``), or itself at least ``threshold``
    alike (the run's assign rule, ticket to ticket)."""
    key = next((k for k in keys if k in rows_by_customer), None)
    rows = rows_by_customer.get(key, np.zeros(0, dtype=np.int64)) if key else np.zeros(0, dtype=np.int64)
    chosen = tickets.iloc[rows]
    sims = np.where(found[rows], vectors[rows] @ vector, np.nan) if len(rows) else np.zeros(0)
    iceberg_ids = [i if isinstance(i, str) else None for i in chosen[T.iceberg_id]]
    in_placed = np.array([placed_in is not None and i == placed_in for i in iceberg_ids], dtype=bool)
    same = in_placed | (np.nan_to_num(sims, nan=-1.0) >= threshold)
    table = pd.DataFrame({
        T.ticket_id: chosen[T.ticket_id].to_numpy(),
        T.created_at: chosen[T.created_at].to_numpy(),
        T.iceberg_id: iceberg_ids,
        "name": [names.get(i, OUTSIDE) if isinstance(i, str) else OUTSIDE for i in iceberg_ids],
        "similarity": sims.astype(float),
        SAME_PROBLEM: same,
        T.text: chosen[T.text].to_numpy()})
    table = table.sort_values([SAME_PROBLEM, T.created_at], ascending=False, kind="stable",
                              ignore_index=True).head(n)
    return CustomerHistory(given, key, table, bool(same.any()))
