"""Where a problem happens vs how its tickets are handled: which columns are which.

A *where* dimension — a product, version, component, platform, region, channel, tag — is
evidence for a problem (lift, significance, the concentration score). A *handling*
attribute — status, resolution, priority, severity, SLA, queue or workflow fields — says
what support did with the ticket: it stays a column of ``tickets.parquet`` and is listed
in the manifest's ``columns.handling``, but is never where-else evidence nor part of the
score ("17 % of its tickets have Resolution=Done" says nothing about where it happens).

The rule, in order (``handling_split``):

1. ``[columns] handling`` names handling columns; ``[columns] dimensions`` names where
   dimensions — both win over what follows.
2. A helpdesk reader knows its fields (``SourceMapping.handling``: Zendesk's status,
   priority, group, satisfaction; Freshdesk's status, priority, group; Jira's Status,
   Priority, Resolution).
3. Else by name: a column whose name (in English, or a Jira name in another language) has
   one of ``HANDLING_WORDS`` (``Status``, ``ticket_priority``, ``SLA breach``, ``Queue``);
   ``state``/``stage`` only when its values are workflow values (a US ``State`` is a region).
4. Else by values: a column whose distinct values are all workflow or priority values
   (``Open``/``Closed``/``In Progress``…, ``Low``/``High``/``P1``/``Blocker``…).

Issue trackers' list fields — ``Affects Version/s``, ``Fix Version/s``, ``Component/s``,
``Labels`` — are multi-valued where dimensions in plain CSVs too: a cell
``2.7.0, 2.8.0`` counts the ticket under both (``listed_columns``).
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.config import ColumnsConfig
from pipeline.schemas import multi_value_text
from pipeline.sources.jira_locales import english_header
from pipeline.sources.values import stripped

HANDLING_WORDS = frozenset({"status", "resolution", "priority", "severity", "urgency", "sla", "slas", "queue",
                            "workflow", "escalation", "escalated", "satisfaction", "csat"})
VALUE_CHECKED_WORDS = frozenset({"state", "stage"})
WORKFLOW_VALUES = frozenset({
    "open", "opened", "reopened", "new", "closed", "resolved", "solved", "done", "pending", "on hold", "hold",
    "in progress", "in review", "waiting", "waiting for customer", "waiting for support", "to do", "todo",
    "backlog", "cancelled", "canceled", "fixed", "won't fix", "wont fix", "duplicate", "invalid",
    "cannot reproduce", "incomplete", "not a problem", "works for me", "unresolved", "patch available",
    "escalated", "assigned", "triage", "completed", "rejected", "declined"})
PRIORITY_VALUES = frozenset({
    "low", "lowest", "medium", "normal", "high", "highest", "urgent", "critical", "blocker", "major", "minor",
    "trivial", "p0", "p1", "p2", "p3", "p4", "p5", "sev1", "sev2", "sev3", "sev4", "s1", "s2", "s3", "s4"})
LIST_FIELDS = frozenset({"Affects Version/s", "Fix Version/s", "Component/s", "Labels"})
LIST_SEPARATOR = re.compile(r"\s*,\s*")


def handling_split(raw: pd.DataFrame, dimensions: list[str], settings: ColumnsConfig,
                   declared: list[str] | None = None, configured_handling: list[str] = ()
                   ) -> tuple[list[str], list[str]]:
    """``dimensions`` split into (where dimensions, handling attributes) by the module's
    rule; ``configured_handling``: the input columns ``[columns] handling`` names (resolved)."""
    explicit = set(settings.dimensions)
    handling_set = set(configured_handling)
    where, handling = [], []
    for column in dimensions:
        if column in handling_set:
            handling.append(column)
        elif column in explicit:
            where.append(column)
        elif declared is not None:
            (handling if column in declared else where).append(column)
        elif is_handling(column, raw[column]):
            handling.append(column)
        else:
            where.append(column)
    handling += [c for c in configured_handling if c not in handling]
    return where, handling


def is_handling(column: str, values: pd.Series) -> bool:
    """Whether a plain file's column is a handling attribute, by its name or values (rules 3, 4)."""
    words = set(_words(english_header(str(column))))
    if words & HANDLING_WORDS:
        return True
    distinct = {v.lower() for v in stripped(values).dropna().unique()}
    if not distinct:
        return False
    workflow = distinct <= WORKFLOW_VALUES
    if words & VALUE_CHECKED_WORDS:
        return workflow
    return workflow or distinct <= PRIORITY_VALUES


def listed_columns(raw: pd.DataFrame, skip: set[str] = frozenset()) -> tuple[pd.DataFrame, list[str]]:
    """``raw`` with an issue tracker's list fields (``LIST_FIELDS``, by their English or
    localised Jira name) as multi-valued cells (JSON arrays, split at commas); and which."""
    updates, listed = {}, []
    for column in raw.columns:
        if column in skip or english_header(str(column)) not in LIST_FIELDS:
            continue
        values = raw[column]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        text = stripped(values)
        if text.dropna().str.match(r"\s*\[").all() and text.notna().any():
            continue                                    # JSON arrays already
        updates[column] = text.map(lambda v: multi_value_text(LIST_SEPARATOR.split(v)) if isinstance(v, str) else None)
        listed.append(column)
    return (raw.assign(**updates) if updates else raw), listed


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.findall(r"[a-z]+", spaced.lower())
