"""Say what was understood: the column taken for each role, the dimensions, and likely misses.

A new user's export rarely uses the conventional names; a run that silently generates ids,
has no dates, or profiles the agent's name as a dimension is worse than one that says so.
``warnings`` flags what is probably a mistake, each with the setting that fixes it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from pipeline.sources.dates import created_timestamps
from pipeline.sources.roles import JSON_CONTAINER, Roles, name_key, role_columns
from pipeline.sources.values import stripped

REPORTED_ROLES = ("id", "created_at", "subject", "body", "customer", "agent", "account", "segment")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PERSON_NAME = re.compile(r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?: [A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?){1,2}")
PEOPLE_HINTS = ("name", "owner", "agent", "assignee", "user", "person", "rep", "contact", "customer",
                "requester", "author", "by", "staff", "employee", "manager", "handler", "assigned",
                "creator", "reporter", "submitter", "caller")
DATE_HINTS = ("date", "time", "created", "opened", "submitted", "received", "day")
ID_HINTS = ("id", "number", "no", "key", "ref", "reference")
FREE_TEXT_WORDS = 8        # a dimension whose values have this many words (median), in sentences, is text
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
MOSTLY = 0.8
SAMPLE = 1000              # rows looked at for a column's shape


def column_warnings(raw: pd.DataFrame, roles: Roles, dimensions: list[str]) -> list[str]:
    """Likely misses in the column mapping, one sentence each with its fix."""
    used = role_columns(roles) | set(dimensions)
    unused = [c for c in raw.columns if c not in used]
    warnings: list[str] = []
    if "id" not in roles:
        hint = next((c for c in unused if _looks_like_id(c, raw[c])), None)
        warnings.append("no id column: ticket ids are generated from each row's content"
                        + (f"; {hint!r} looks like one: set [columns] id = {hint!r}" if hint else ""))
    if "created_at" not in roles:
        hint = next((c for c in unused if _looks_like_date(c, raw[c])), None)
        warnings.append("no created_at column: tickets have no dates (no timeline, onset or trend)"
                        + (f"; {hint!r} looks like one: set [columns] created_at = {hint!r}" if hint else ""))
    for column in dimensions:
        values = stripped(raw[column]).dropna()
        distinct = pd.Series(values.unique())
        if not len(distinct):
            continue
        if distinct.str.fullmatch(EMAIL).mean() >= 0.5:
            warnings.append(f"dimension {column!r} holds e-mail addresses, which identify people, not a "
                            "kind of ticket: map it with [columns] customer or agent, or add it to "
                            "[columns] exclude")
        elif _looks_like_names(column, distinct):
            warnings.append(f"dimension {column!r} looks like person names (e.g. {distinct.iloc[0]!r}): "
                            "map it with [columns] agent or customer, or add it to [columns] exclude")
        words = distinct.str.split().str.len().median()
        if words >= FREE_TEXT_WORDS and distinct.str.contains(SENTENCE_END).mean() >= 0.5:
            warnings.append(f"dimension {column!r} looks like free text ({words:.0f} words per value): "
                            "add it to [columns] body if it is ticket text, else to [columns] exclude")
    for column in unused:
        present = stripped(raw[column].head(SAMPLE)).dropna()
        if len(present) and present.str.match(JSON_CONTAINER).all():
            warnings.append(f"column {column!r} holds lists or objects: kept as JSON text, not "
                            "profiled as a dimension")
    return warnings


def understood_lines(roles: Roles, dimensions: list[str], dates: dict[str, Any],
                     source: dict[str, Any], warnings: list[str]) -> list[str]:
    """What a run says it understood, as lines for the log and the dry run."""
    taken = []
    for role in REPORTED_ROLES:
        column = roles.get(role)
        if column is not None:
            shown = ", ".join(map(repr, column)) if isinstance(column, list) else repr(column)
            taken.append(f"{role} ← {shown}")
    lines = ["Columns: " + "; ".join(taken) + ".",
             "Dimensions: " + (", ".join(dimensions) if dimensions else "(none)") + "."]
    if dates.get("formats"):
        formats = ", ".join(f"{n:,} {kind}" for kind, n in dates["formats"].items())
        order = (f"; {dates['order']} (decided by {dates['order_decided_by']})" if dates.get("order")
                 else "")
        lines.append(f"Dates ({roles['created_at']!r}): {formats}{order}.")
    fallback = source.get("decoded_by_fallback")
    if fallback and fallback.get("rows"):
        warnings = [f"{fallback['rows']:,} row(s) are not valid UTF-8 and were read as "
                    f"{fallback['encoding']}"] + warnings
    nuls = source.get("nul_bytes_removed")
    if nuls and nuls.get("bytes"):
        warnings = [f"{nuls['bytes']:,} NUL byte(s) removed from {nuls['fields']:,} field(s) of "
                    f"{nuls['rows']:,} row(s) (binary data pasted in a text field); the tickets are kept"] + warnings
    lines += [f"Warning: {w}." for w in warnings]
    return lines


def _looks_like_id(column: str, values: pd.Series) -> bool:
    present = stripped(values).dropna()
    words = re.findall(r"[a-z]+|#", column.lower())
    named = any(w in ID_HINTS or w == "#" for w in words)
    return named and len(present) > 0 and present.nunique() >= 0.95 * len(present) \
        and present.str.len().median() <= 40


def _looks_like_date(column: str, values: pd.Series) -> bool:
    key = name_key(column)
    if any(h in key for h in DATE_HINTS) or key.endswith("at"):
        return True
    present = stripped(values).dropna()
    if not len(present) or pd.api.types.is_numeric_dtype(values):
        return False
    parsed = created_timestamps(present.head(200))
    return parsed.timestamps.notna().mean() >= MOSTLY


def _looks_like_names(column: str, distinct: pd.Series) -> bool:
    share = distinct.str.fullmatch(PERSON_NAME).mean()
    hinted = any(h in re.findall(r"[a-z]+", column.lower()) for h in PEOPLE_HINTS)
    return (hinted and share >= 0.5) or (share >= 0.9 and len(distinct) >= 5)
