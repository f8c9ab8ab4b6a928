"""Column roles (id, created_at, subject, body, customer, agent, account, segment, revenue)
and the dimension columns icebergs are profiled by."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Collection

import pandas as pd

from pipeline.config import ColumnsConfig
from pipeline.errors import InputError
from pipeline.schemas import QuarantineCols, TicketCols
from pipeline.sources.values import is_measurement, stripped

Roles = dict[str, "str | list[str]"]     # role -> input column (a list for body)

ROLE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("ticket_id", "id", "ticketid", "case_id", "complaint_id", "case_number", "ticket_number",
           "ticket_no", "case_no", "issue_id", "issue_key", "incident_id", "request_id",
           "conversation_id", "number", "key"),
    "created_at": ("created_at", "date", "created", "timestamp", "date_received", "opened_at",
                   "opened", "opened_on", "open_date", "date_opened", "created_date", "created_on",
                   "created_time", "creation_date", "date_created", "submitted_at", "submitted_on",
                   "date_submitted", "received_at", "reported_at"),
    "subject": ("subject", "title", "summary", "short_description", "ticket_subject", "case_subject",
                "email_subject"),
    "body": ("body", "description", "text", "message", "content", "narrative",
             "consumer_complaint_narrative", "customer_message", "message_body", "details",
             "problem_description", "question", "complaint"),
    "customer": ("customer_id", "requester_id", "account_id", "customer", "requester", "user_id",
                 "customer_email", "requester_email", "contact_id", "contact", "contact_email",
                 "client_id", "client", "reporter", "reporter_id", "submitter", "submitter_id",
                 "caller_id"),
    "agent": ("agent_id", "assignee_id", "assignee", "agent", "owner", "owner_id", "owner_name",
              "assigned_to", "assignee_name", "assignee_email", "agent_name", "agent_email",
              "handled_by", "responder", "responder_id"),
    # After "customer": an input whose only id column is account_id keeps it as the customer.
    # Not "company" (CFPB's is the company complained about), "tier" (often a support
    # tier) or "plan" (often a payment plan): set those with [columns] when they are meant.
    "account": ("account_id", "account", "organization_id", "organisation_id", "organization",
                "organisation", "org_id", "company_id", "tenant_id", "tenant", "account_name",
                "organization_name", "organisation_name"),
    "segment": ("segment", "customer_segment", "customer_tier", "account_tier"),
    "revenue": (),      # money is never guessed: only [columns] revenue sets it
}
# A column none of whose names above match is still the body when its name ends like one
# ("Customer Message", "Issue Description"), unless it is a short one ("Short description").
BODY_ENDINGS = ("message", "description", "body", "narrative", "text")
ROLE_OUTPUT = {"id": TicketCols.ticket_id, "created_at": TicketCols.created_at,
               "subject": TicketCols.subject, "customer": TicketCols.customer_id,
               "agent": TicketCols.agent_id, "account": TicketCols.account_id,
               "segment": TicketCols.segment, "revenue": TicketCols.revenue}
# The one role whose column is also profiled as a dimension (under its role's name).
DIMENSION_ROLE = "segment"
# Names a kept input column cannot take in the output tables; such a column gets "input_".
RESERVED_TICKET_NAMES = {v for k, v in vars(TicketCols).items() if not k.startswith("_")}
RESERVED_QUARANTINE_NAMES = {QuarantineCols.reason, QuarantineCols.source, QuarantineCols.source_row}
JSON_CONTAINER = re.compile(r"\s*(\[.*\]|\{.*\})\s*$", re.DOTALL)
MAX_UNIQUE_SHARE = 0.5     # a column with more distinct values per row is an identifier, not a dimension


def resolved_roles(columns: list[str], settings: ColumnsConfig, source: str,
                   defaults: Roles | None = None) -> Roles:
    """Role -> input column(s): the ``[columns]`` settings, else the reader's ``defaults`` (a
    helpdesk export's own mapping), else the first conventional name found."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(name_key(column), column)
    roles: Roles = {}
    for role in ROLE_CANDIDATES:
        configured = getattr(settings, role)
        if configured:
            names = configured if isinstance(configured, list) else [configured]
            found = [configured_column(name, role, columns, source) for name in names]
            roles[role] = found if role == "body" else found[0]
    taken = role_columns(roles)
    for role, column in (defaults or {}).items():
        if role not in roles and not set(column if isinstance(column, list) else [column]) & taken:
            roles[role] = column
            taken |= role_columns({role: column})
    for role, candidates in ROLE_CANDIDATES.items():
        detected = next((by_key[k] for k in map(name_key, candidates)
                         if k in by_key and by_key[k] not in taken), None)
        if role not in roles and detected is not None:
            roles[role] = [detected] if role == "body" else detected
            taken.add(detected)
    if "body" not in roles:
        ending = next((c for c in columns if c not in taken and not name_key(c).startswith("short")
                       and name_key(c).endswith(BODY_ENDINGS)), None)
        if ending is not None:
            roles["body"] = [ending]
    if "body" not in roles and "subject" not in roles:
        raise InputError(f"no text column in {_short(source)}: found columns {columns}. Map the column "
                         "holding the ticket text with [columns] body = [\"...\"] in iceberg.toml "
                         "or --set columns.body=...")
    return roles


def dimension_columns(raw: pd.DataFrame, roles: Roles, settings: ColumnsConfig, source: str,
                      declared: list[str] | None = None, multi_valued: Collection[str] = ()) -> list[str]:
    """Input columns to profile icebergs by: ``[columns] dimensions``, else the reader's
    ``declared`` ones (a helpdesk export's fields) that have values — at most
    ``max_dimension_values`` of them unless ``multi_valued`` (tags) — else every other
    low-cardinality column that is not a measurement (decimals, dates). Role columns are
    not dimensions, except the segment's: a segment over-represented in an iceberg is
    evidence like any other dimension value."""
    columns = list(raw.columns)
    used = role_columns({r: c for r, c in roles.items() if r != DIMENSION_ROLE})
    excluded = {configured_column(name, "exclude", columns, source) for name in settings.exclude}
    if settings.dimensions:
        chosen = [configured_column(name, "dimensions", columns, source) for name in settings.dimensions]
        return [c for c in chosen if c not in used and c not in excluded]
    if declared is not None:
        kept = []
        for column in (c for c in declared if c in columns and c not in used and c not in excluded):
            distinct = stripped(raw[column]).dropna().nunique()
            if distinct and (column in multi_valued or distinct <= settings.max_dimension_values):
                kept.append(column)
        return kept
    dimensions = []
    for column in columns:
        values = raw[column]
        if column in used or column in excluded or is_measurement(values):
            continue
        if column in multi_valued:          # list fields (Affects Version/s): any number of values
            if stripped(values).notna().any():
                dimensions.append(column)
            continue
        present = stripped(values).dropna()
        if len(present) and present.head(1000).str.match(JSON_CONTAINER).all() \
                and present.str.match(JSON_CONTAINER).all():
            continue            # lists (or objects) kept as JSON text: not one value each
        distinct = present.nunique()
        if 2 <= distinct <= settings.max_dimension_values and distinct <= MAX_UNIQUE_SHARE * len(present):
            dimensions.append(column)
    return dimensions


def configured_column(name: str, setting: str, columns: list[str], source: str) -> str:
    """The input column a ``[columns]`` setting names: exactly, else ignoring case and separators."""
    if name in columns:
        return name
    matches = [c for c in columns if name_key(c) == name_key(name)]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"column {name!r} (set by columns.{setting}) is not in {_short(source)}; available "
                     f"columns: {', '.join(columns)}. Fix [columns] {setting} in iceberg.toml or "
                     f"--set columns.{setting}=...")


def role_columns(roles: Roles) -> set[str]:
    return {c for v in roles.values() for c in (v if isinstance(v, list) else [v])}


def name_key(name: str) -> str:
    """A column name compared ignoring case, spaces, underscores, dashes and dots (so the
    flattened ``requester.id`` is ``requester_id``); ``#`` reads as "number"."""
    return re.sub(r"[\s_\-.]+", "", name).lower().replace("#", "number")


def dimension_name(column: str, roles: Roles) -> str:
    """A dimension's name in ``tickets``: the segment's role name, else the input's (see ``output_name``)."""
    if roles.get(DIMENSION_ROLE) == column:
        return ROLE_OUTPUT[DIMENSION_ROLE]
    return output_name(column, RESERVED_TICKET_NAMES)


def output_name(column: str, reserved: set[str]) -> str:
    return f"input_{column}" if column in reserved else column


def _short(source: str) -> str:
    """A file's name without its folder, as messages about its columns give it."""
    return PurePath(source).name or source
