"""``read_tickets``: what a reader yields, as the tickets table and its quarantine.

Maps input columns to roles (id, created_at, subject, body, customer, agent, account,
segment; revenue only when configured) by their conventional names unless ``[columns]``
says otherwise, picks the dimension columns, reads ``created_at`` as one column
(``pipeline.sources.dates``), removes NUL bytes from fields (counted in the source's
``nul_bytes_removed``; the ticket is kept), sets deleted, spam and scrubbed tickets aside
(quarantined with a ``set aside: …`` reason unless ``input.keep_deleted``), and rejects
rows it cannot use into a quarantine table with a reason each, so that
``rows_read == len(tickets) + len(quarantine)``. A reader that knows
its source's fields (a helpdesk export, ``MappedReader``) supplies its own roles and
dimensions, under the ``[columns]`` settings. It also says what it
understood and what looks like a miss (``pipeline.sources.understood``).
Reading (formats, encodings, dialects) is the readers' (``pipeline.sources.readers``);
this function is pure over the batches a reader yields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.schemas import QuarantineCols
from pipeline.sources.date_order import UNDECIDED, evidence_order
from pipeline.sources.dates import ParsedDates, created_timestamps
from pipeline.sources.protocol import MappedReader, Reader
from pipeline.sources.readers import reader_for
from pipeline.sources.attributes import handling_split, listed_columns
from pipeline.sources.roles import (configured_column, dimension_columns, dimension_name, resolved_roles,
                                    role_columns)
from pipeline.sources.rows import SET_ASIDE, rejected_frame, set_aside_reasons, split_rows
from pipeline.sources.understood import column_warnings, understood_lines
from pipeline.sources.values import without_nul_bytes


@dataclass(frozen=True)
class Ingested:
    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    roles: dict[str, str | list[str]]      # role -> input column (a list for body)
    dimensions: list[str]                  # their names in ``tickets``
    source: dict[str, Any]                 # the reader's description: path or uri, sha256, rows, …
    name: str = ""                         # what messages and the quarantine call the source
    dates: dict[str, Any] = field(default_factory=dict)   # how created_at was read (formats, order)
    warnings: list[str] = field(default_factory=list)     # likely misses in the column mapping
    # dimensions whose cells are JSON arrays (tags): a ticket counts under each value
    multi_valued: list[str] = field(default_factory=list)
    # columns saying how a ticket is handled (status, priority): kept, never where-else evidence
    handling: list[str] = field(default_factory=list)

    @property
    def set_aside(self) -> int:
        """Rows set aside as no ticket (deleted, spam, scrubbed): quarantined with a
        ``set aside: …`` reason, counted apart in the manifest."""
        return int(self.quarantine[QuarantineCols.reason].str.startswith(SET_ASIDE).sum())

    def understood(self) -> list[str]:
        """The roles, dimensions, date reading and warnings, as lines to show the user."""
        shown = [f"{d} (multi-valued)" if d in self.multi_valued else d for d in self.dimensions]
        lines = understood_lines(self.roles, shown, self.dates, self.source, self.warnings)
        if self.handling:
            lines.insert(2, "Handling (kept as columns, not where-else evidence): " + ", ".join(self.handling) + ".")
        return lines


def read_tickets(source: str | Path | Reader | None, config: Config, *,
                 now: pd.Timestamp | None = None) -> Ingested:
    """Read ``source`` (a path, any ``Reader``, or None for ``[input] source = "sql"``) into
    tickets (one row per usable input row) and the quarantine. ``now`` (default: the current
    time) is the run's time, which bounds the plausible ``created_at`` dates
    (``input.max_days_ahead``)."""
    reader = reader_for(source, config.input)
    frames, rejected = [], []
    for batch in reader.batches():
        frames.append(batch.rows)
        rejected.extend(batch.rejected)
    raw = pd.concat(frames) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())
    name = reader.name
    rows_read = len(raw) + len(rejected)
    if rows_read == 0:
        raise InputError(f"{name} has no data rows; export at least one ticket, with a header "
                         "row naming the columns")
    if raw.empty:
        raise InputError(f"none of the {rows_read} rows of {name} could be read (first: "
                         f"{rejected[0][QuarantineCols.reason]}); check the file, or set [input] "
                         "format and delimiter")
    raw, nuls = without_nul_bytes(raw)
    mapping = reader.mapping() if isinstance(reader, MappedReader) else None
    roles = resolved_roles(list(raw.columns), config.columns, name, mapping.roles if mapping else None)
    multi = [c for c in mapping.multi_valued if c in raw.columns] if mapping else []
    if mapping is None:     # an issue tracker's list fields in a plain CSV (Affects Version/s)
        raw, multi = listed_columns(raw, role_columns(roles))
    dimensions = dimension_columns(raw, roles, config.columns, name,
                                   mapping.dimensions if mapping else None, multi)
    handling_set = [configured_column(n, "handling", list(raw.columns), name) for n in config.columns.handling]
    dimensions, handling = handling_split(raw, dimensions, config.columns,
                                          mapping.handling if mapping else None, handling_set)
    dates, date_warnings = None, []
    if "created_at" in roles:
        dates, date_warnings = _created_dates(raw, roles, config, now, getattr(reader, "path", None))
    set_aside = None if config.input.keep_deleted else set_aside_reasons(raw, mapping.set_aside if mapping else None)
    # Handling attributes are written like dimensions (trimmed text), but not profiled.
    tickets, quarantined = split_rows(raw, roles, dimensions + handling, name, dates, set_aside)
    if rejected:
        quarantined = pd.concat([quarantined, rejected_frame(rejected, name)])
    quarantine = quarantined.sort_values(QuarantineCols.source_row, kind="stable", ignore_index=True)
    return Ingested(
        tickets=tickets,
        quarantine=quarantine,
        rows_read=rows_read,
        roles=roles,
        dimensions=[dimension_name(c, roles) for c in dimensions],
        multi_valued=[dimension_name(c, roles) for c in dimensions if c in multi],
        handling=[dimension_name(c, roles) for c in handling],
        source={**reader.description(), **({"nul_bytes_removed": nuls} if nuls["bytes"] else {})},
        name=name,
        dates={"column": roles["created_at"], **dates.report} if dates else {},
        warnings=date_warnings + column_warnings(raw, roles, dimensions),
    )


def _created_dates(raw: pd.DataFrame, roles, config: Config, now: pd.Timestamp | None,
                   path: Path | None) -> tuple[ParsedDates, list[str]]:
    """``created_at`` as read; when no value tells day- from month-first, the order the
    export's other evidence supports (``pipeline.sources.date_order``), else a warning."""
    settings = config.input
    read = lambda order: created_timestamps(raw[roles["created_at"]], order=order,  # noqa: E731
                                            min_year=settings.min_year,
                                            max_days_ahead=settings.max_days_ahead, now=now)
    dates = read(settings.date_order)
    if dates.report.get("order_decided_by") != UNDECIDED:
        return dates, []
    modified = None
    if path is not None:
        try:
            modified = pd.Timestamp(Path(path).stat().st_mtime, unit="s", tz="UTC")
        except OSError:
            pass
    evidence = evidence_order(raw, roles["created_at"], roles.get("id"),
                              now=now if now is not None else pd.Timestamp.now(tz="UTC"), modified=modified)
    if evidence.order is None:
        example = raw[roles["created_at"]].dropna().iloc[0]
        return dates, [f"created_at dates such as {example!r} were read month-first, but nothing decided it "
                       "(no value, other date column, the export's end, resolved dates or key order tells "
                       "day- from month-first); if they are day-first, set input.date_order = \"day-first\" "
                       "(--set input.date_order=day-first)"]
    dates = read(evidence.order)
    dates.report["order_decided_by"] = f"evidence: {evidence.decided_by}"
    return dates, []
