"""The ``Reader`` protocol: what every ticket source (a file, a helpdesk export, SQL) gives ingest.

A reader yields its rows in batches, as read and before any interpretation: a DataFrame
of raw fields per batch, indexed by the row's 1-based position in the source (a CSV data
row, a JSONL line, a Parquet row), plus the records it could not split into fields at all,
each with a reason. Once its batches are exhausted, ``description()`` says what was read,
for the manifest's ``inputs``. ``pipeline.sources.ingest.read_tickets`` is pure over that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, runtime_checkable

import pandas as pd

from pipeline.schemas import QuarantineCols

RAW_LINE = "raw_line"      # quarantine column holding a record that could not be split into fields


@dataclass(frozen=True)
class RawBatch:
    """Rows as read (index: 1-based source position) and the records rejected while reading.

    Each rejected record is a dict with ``raw_line`` (the text as found), ``reason`` and
    ``source_row`` (its position, numbered like the rows' index)."""

    rows: pd.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.rejected)


@runtime_checkable
class Reader(Protocol):
    """A source of raw ticket rows."""

    @property
    def name(self) -> str:
        """What messages and the quarantine's ``source`` column call it (a file's path)."""

    def fingerprint(self) -> str | None:
        """A digest of the source's content, known before reading (a file's sha256), so an
        unfinished run on the same input can be resumed; None when the source cannot tell."""

    def batches(self) -> Iterator[RawBatch]:
        """The rows, in source order, a batch at a time."""

    def description(self) -> dict[str, Any]:
        """The source for the manifest's ``inputs``: at least ``kind`` and ``rows`` (records
        read: rows plus rejected records), and ``path`` or ``uri``; a file adds ``sha256``,
        ``format`` and what was detected (compression, encoding, dialect). Complete once
        ``batches()`` is exhausted."""


@dataclass(frozen=True)
class SourceMapping:
    """How a reader that knows its source's fields (a helpdesk export, ``MappedReader``) maps
    them onto the ticket contract: ``roles`` (role -> column, a list for body; ``[columns]``
    settings still win), the ``dimensions`` to profile (used instead of auto-detection unless
    ``[columns] dimensions`` is set) and which of them are ``multi_valued``: their cells hold
    a JSON array of strings (``["billing", "vip"]``) and a ticket counts under each value;
    ``set_aside``: the fields whose values mark a ticket that is no ticket (deleted, spam)."""

    roles: dict[str, str | list[str]]
    dimensions: list[str] = field(default_factory=list)
    multi_valued: list[str] = field(default_factory=list)
    # dimensions that say how a ticket is handled (status, priority): kept, never evidence
    handling: list[str] = field(default_factory=list)
    # column -> values (compared ignoring case) marking a deleted, spam or scrubbed ticket
    set_aside: dict[str, tuple[str, ...]] = field(default_factory=dict)


@runtime_checkable
class MappedReader(Reader, Protocol):
    """A ``Reader`` that also says how its fields map onto the ticket contract."""

    def mapping(self) -> SourceMapping:
        """The mapping of the columns its batches had; complete once ``batches()`` is exhausted."""


def rejected_record(raw: str, reason: str, position: int) -> dict[str, Any]:
    """One record a reader could not split into fields, as ``RawBatch.rejected`` holds it."""
    return {RAW_LINE: raw, QuarantineCols.reason: reason, QuarantineCols.source_row: position}


def unique_names(header: list[str]) -> list[str]:
    """Column names as given, trimmed; blank ones become ``column_<n>``, repeats get ``_2``, ``_3``."""
    names: list[str] = []
    for i, name in enumerate(header, start=1):
        name = name.strip() or f"column_{i}"
        base, n = name, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names
