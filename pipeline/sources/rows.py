"""Row validation: raw rows into tickets and quarantined rows, each with a reason."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from pipeline.schemas import QuarantineCols, TicketCols
from pipeline.sources.protocol import RAW_LINE
from pipeline.sources.roles import (RESERVED_QUARANTINE_NAMES, RESERVED_TICKET_NAMES, ROLE_OUTPUT,
                                    Roles, dimension_name, name_key, output_name, role_columns)
from pipeline.sources.dates import ParsedDates, created_timestamps
from pipeline.sources.values import as_str, revenue_numbers, stated_numbers, stripped


# A plain file's status column (by name) with one of these values marks a ticket that is none.
STATUS_COLUMNS = ("status", "state", "ticketstatus", "ticketstate")
NOT_A_TICKET = ("deleted", "spam", "trash", "scrubbed")
SET_ASIDE = "set aside: "       # how the reasons of rows that are no tickets begin


def set_aside_reasons(raw: pd.DataFrame, marks: dict[str, tuple[str, ...]] | None) -> pd.Series:
    """Why each row is no ticket — deleted, spam or scrubbed — as ``set aside: deleted ticket
    (status = 'deleted')``; None for the others. ``marks``: a helpdesk reader's fields and
    values (``SourceMapping.set_aside``); None (a plain file): a status column by name
    (``STATUS_COLUMNS``) whose value is one of ``NOT_A_TICKET``."""
    if marks is None:
        marks = {c: NOT_A_TICKET for c in raw.columns if name_key(str(c)) in STATUS_COLUMNS}
    reasons = pd.Series(None, index=raw.index, dtype=object)
    for column, values in marks.items():
        if column not in raw.columns:
            continue
        text = stripped(raw[column])
        hit = reasons.isna() & text.str.lower().isin({v.lower() for v in values})
        if hit.any():
            reasons[hit] = [f"{SET_ASIDE}{_what(str(column), v)} ticket ({column} = {v!r})" for v in text[hit]]
    return reasons


def _what(column: str, value: str) -> str:
    value = value.lower()
    if "spam" in (value, column.lower()):
        return "spam"
    return "scrubbed" if value == "scrubbed" else "deleted"


def split_rows(raw: pd.DataFrame, roles: Roles, dimensions: list[str], source: str,
               dates: ParsedDates | None = None,
               set_aside: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tickets and the quarantined rows (set aside as no ticket, missing id, no text, a
    created_at that is not a plausible date, duplicate id). ``dates``: the created_at column
    as read (``created_timestamps``; read with the defaults when not given); ``set_aside``:
    ``set_aside_reasons``."""
    texts = ticket_texts(raw, roles)
    ids = stripped(raw[roles["id"]]) if "id" in roles else row_ids(raw, roles, texts)
    reasons = (set_aside.copy() if set_aside is not None
               else pd.Series(None, index=raw.index, dtype=object))
    reasons[reasons.isna() & ids.isna()] = "missing ticket id"
    reasons[reasons.isna() & (texts == "")] = "no text (subject and body are empty)"
    if "created_at" in roles:
        dates = dates or created_timestamps(raw[roles["created_at"]])
        timestamps = dates.timestamps
        bad_date = reasons.isna() & dates.problems.notna()
        reasons[bad_date] = dates.problems[bad_date]
    else:
        timestamps = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if "revenue" in roles:
        given = raw[roles["revenue"]]
        revenue = revenue_numbers(given)
        unparseable = reasons.isna() & revenue.isna() & stated_numbers(given).notna()
        reasons[unparseable] = [f"unparseable revenue ({roles['revenue']}): {v!r}"
                                for v in given[unparseable]]
    valid_ids = ids[reasons.isna()]
    duplicate = valid_ids[valid_ids.duplicated()]
    kept_row = pd.Series(valid_ids.index, index=valid_ids.values).groupby(level=0).first()
    reasons[duplicate.index] = [f"duplicate ticket id {i!r} (kept row {kept_row[i]})" for i in duplicate]
    accepted = reasons.isna()

    tickets = pd.DataFrame({TicketCols.ticket_id: ids, TicketCols.created_at: timestamps},
                           index=raw.index)
    if "subject" in roles:
        tickets[TicketCols.subject] = raw[roles["subject"]]
    tickets[TicketCols.text] = texts
    for role in ("customer", "agent", "account", "segment"):
        if role in roles:
            tickets[ROLE_OUTPUT[role]] = stripped(raw[roles[role]])
    if "revenue" in roles:
        tickets[TicketCols.revenue] = revenue
    for column in dimensions:
        tickets[dimension_name(column, roles)] = stripped(raw[column])
    used = role_columns(roles) | set(dimensions)
    for column in raw.columns:
        if column not in used:
            tickets[output_name(column, RESERVED_TICKET_NAMES)] = raw[column]
    tickets[TicketCols.source_row] = raw.index.astype("int64")
    tickets = tickets[accepted].reset_index(drop=True)

    rejected = raw[~accepted]
    quarantine = pd.DataFrame({output_name(c, RESERVED_QUARANTINE_NAMES): as_str(rejected[c])
                               for c in raw.columns}, index=rejected.index)
    quarantine[QuarantineCols.reason] = reasons[~accepted].astype("str")
    quarantine[QuarantineCols.source] = source
    quarantine[QuarantineCols.source_row] = quarantine.index.astype("int64")
    return tickets, quarantine.reset_index(drop=True)


def ticket_texts(raw: pd.DataFrame, roles: Roles) -> pd.Series:
    """Subject, a blank line, then each body column: raw, only trimmed; "" when all are empty."""
    columns = ([roles["subject"]] if "subject" in roles else []) + list(roles.get("body", []))
    parts = [stripped(raw[c]).fillna("").tolist() for c in columns]
    return pd.Series(["\n\n".join(p for p in row if p) for row in zip(*parts)],
                     index=raw.index, dtype="str")


def row_ids(raw: pd.DataFrame, roles: Roles, texts: pd.Series) -> pd.Series:
    """Stable ids for an input without an id column: a hash of text, date and customer, so a
    re-export in another order keeps them and an exact duplicate row is caught as one."""
    keys = [texts] + [as_str(raw[roles[r]]).fillna("") for r in ("created_at", "customer") if r in roles]
    ids = ["row-" + hashlib.sha256("\x1f".join(k).encode()).hexdigest()[:12] for k in zip(*keys)]
    return pd.Series(ids, index=raw.index, dtype="str")


def rejected_frame(rejected: list[dict[str, Any]], source: str) -> pd.DataFrame:
    """Records a reader could not split into fields, as quarantine rows."""
    frame = pd.DataFrame.from_records(rejected, columns=[RAW_LINE, QuarantineCols.reason,
                                                         QuarantineCols.source_row])
    frame[QuarantineCols.source] = source
    return frame.astype({RAW_LINE: "str", QuarantineCols.reason: "str",
                         QuarantineCols.source: "str", QuarantineCols.source_row: "int64"})
