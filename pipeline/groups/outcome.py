"""The grouping outcome every path produces: which iceberg each ticket is in, the identity
events, and the registry of every id so far.

Both ways a run decides its icebergs — a full re-cluster matched to the previous run
(``identity``) and an assign night (``incremental``) — return one ``Grouped``, built with
the helpers here: ids are minted by ``KnownIcebergs.next_id``, lineage rows by
``lineage_table``, the next registry by ``next_registry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from pipeline.schemas import LINEAGE, LineageCols, TicketCols

ID_PREFIX = "ICE-"
# One identity event: (iceberg_id, event, related_ids); events are LINEAGE_EVENTS.
IdentityEvent = tuple[str, str, list[str]]


@dataclass(frozen=True)
class KnownIcebergs:
    """Every iceberg id seen so far, with its last centroid and its current members."""

    ids: list[str]
    centroids: np.ndarray               # (len(ids), dim)
    active: np.ndarray                  # bool: present in the previous run
    members: dict[str, frozenset[str]]  # active id -> ticket ids in the previous run

    @classmethod
    def none(cls, dim: int) -> "KnownIcebergs":
        return cls([], np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=bool), {})

    @property
    def dim(self) -> int:
        return self.centroids.shape[1]

    def next_number(self, taken: Iterable[str] = ()) -> int:
        """The number after every id known so far and in ``taken``."""
        numbers = [int(i[len(ID_PREFIX):]) for i in [*self.ids, *taken]
                   if i.startswith(ID_PREFIX) and i[len(ID_PREFIX):].isdigit()]
        return max(numbers, default=0) + 1

    def next_id(self, taken: Iterable[str] = ()) -> str:
        """The next unused id after every id known so far and in ``taken``."""
        return iceberg_id(self.next_number(taken))


def iceberg_id(number: int) -> str:
    return f"{ID_PREFIX}{number:04d}"


@dataclass(frozen=True)
class Grouped:
    """The icebergs of a run, row-aligned with its tickets."""

    assignments: pd.DataFrame      # ticket_id, iceberg_id (null outside), membership
    lineage: pd.DataFrame          # LINEAGE
    known: KnownIcebergs           # the registry to hand to the next run
    stats: dict = field(default_factory=dict)     # assign-mode figures (empty after a full run)
    decision: dict = field(default_factory=dict)  # the mode decision record (manifest ``incremental``)

    def applied_to(self, tickets: pd.DataFrame) -> pd.DataFrame:
        """``tickets`` with their ``iceberg_id`` and ``membership``, matched by ticket id."""
        by_ticket = self.assignments.set_index(TicketCols.ticket_id)
        ids = tickets[TicketCols.ticket_id]
        return tickets.assign(**{
            TicketCols.iceberg_id: ids.map(by_ticket[TicketCols.iceberg_id]).astype("string"),
            TicketCols.membership: ids.map(by_ticket[TicketCols.membership]).astype("float64")})


def assignment_table(ticket_ids, iceberg_ids, membership) -> pd.DataFrame:
    return pd.DataFrame({TicketCols.ticket_id: np.asarray(ticket_ids),
                         TicketCols.iceberg_id: pd.array(np.asarray(iceberg_ids, dtype=object), dtype="string"),
                         TicketCols.membership: np.asarray(membership, dtype="float64")})


def lineage_table(events: Iterable[IdentityEvent], run_id: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{LineageCols.iceberg_id: i, LineageCols.run_id: run_id, LineageCols.event: e,
          LineageCols.related_ids: r} for i, e, r in events],
        columns=LINEAGE.columns)


def next_registry(previous: KnownIcebergs, centroids: Mapping[str, np.ndarray],
                  members: Mapping[str, frozenset[str]],
                  active: Iterable[str] | None = None) -> KnownIcebergs:
    """Every id so far, sorted: ``previous`` updated with this run's ``centroids``. The
    ``active`` ids (default: those with ``members``) are the ones present in this run."""
    active = set(members if active is None else active)
    by_id = {i: previous.centroids[j] for j, i in enumerate(previous.ids)}
    by_id.update(centroids)
    ids = sorted(by_id)
    stacked = (np.stack([by_id[i] for i in ids]).astype(np.float32) if ids
               else np.zeros((0, previous.dim), np.float32))
    return KnownIcebergs(ids=ids, centroids=stacked,
                         active=np.array([i in active for i in ids], dtype=bool),
                         members=dict(members))
