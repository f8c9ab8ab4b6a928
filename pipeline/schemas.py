"""The output contract (v1): one schema per table, checked at stage boundaries.

Every table a run writes is described once here, as a pyarrow schema. Stages refer to
columns through the ``*Cols`` namespaces instead of scattering string literals, and
``TableSchema.to_arrow`` both validates a DataFrame and fixes its types before it is
written. Readers refuse a ``schema_version`` they do not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


class SchemaError(ValueError):
    """A table does not match its schema (missing column, wrong type)."""


class TicketCols:
    ticket_id = "ticket_id"
    created_at = "created_at"
    iceberg_id = "iceberg_id"
    membership = "membership"
    text = "text"
    customer_id = "customer_id"
    agent_id = "agent_id"
    account_id = "account_id"   # these three when the input has them (``[columns]`` roles)
    segment = "segment"
    revenue = "revenue"
    # Not in the contract's required list, but always written: where the row came from.
    source_row = "source_row"
    subject = "subject"
    # Contract v1 addition: the normalised error of the ticket's machine text (text/signatures.py);
    # null when it has none, absent when clean.error_signatures is off.
    error_signature = "error_signature"
    # Contract v1 addition: the ticket's position on the dashboard's map (``analysis.map``);
    # absent when ``map.enabled`` is off.
    map_x = "map_x"
    map_y = "map_y"


class IcebergCols:
    iceberg_id = "iceberg_id"
    rank = "rank"
    score = "score"
    label = "label"
    keywords = "keywords"
    size = "size"
    n_customers = "n_customers"
    n_agents = "n_agents"
    max_tickets_per_agent = "max_tickets_per_agent"
    first_seen = "first_seen"
    last_seen = "last_seen"
    onset = "onset"
    trend = "trend"
    representative_ticket_ids = "representative_ticket_ids"
    # Extra columns (not required by the contract).
    spike = "spike"                            # last week a spike against its own history
    n_repeat_customers = "n_repeat_customers"  # customers with two or more of its tickets
    onset_events = "onset_events"              # events within ±7 days of its onset; null without an events file
    event_concentrated = "event_concentrated"  # concentrated in an onset event's dimension value
    n_accounts = "n_accounts"                  # distinct account ids; null without an account column
    segments = "segments"                      # customers per segment; null without a segment column
    value_at_risk = "value_at_risk"            # revenue of its accounts (else customers); null without revenue
    boilerplate = "boilerplate"                # only courtesy (thanks, greetings, auto-replies): no problem
    theme_id = "theme_id"                      # the theme it belongs to (themes.parquet)


class ThemeCols:
    """``themes.parquet`` (contract v1 addition): related icebergs grouped (``analysis.themes``)."""
    theme_id = "theme_id"
    label = "label"
    keywords = "keywords"
    iceberg_ids = "iceberg_ids"      # best ranked first
    n_icebergs = "n_icebergs"
    size = "size"                    # tickets in its icebergs
    best_rank = "best_rank"          # the rank of its best iceberg


class AttributeCols:
    iceberg_id = "iceberg_id"
    dimension = "dimension"
    value = "value"
    count = "count"
    share = "share"
    baseline_count = "baseline_count"
    baseline_share = "baseline_share"
    lift = "lift"
    p_value = "p_value"
    q_value = "q_value"
    n_values = "n_values"            # distinct values of the dimension the iceberg spans
    window_start = "window_start"    # the tickets compared: created in [start, end)
    window_end = "window_end"
    topical = "topical"              # the dimension restates the topic (see evidence.py)
    evidence = "evidence"            # significant, over-represented and with minimum support


class CombinationCols:
    """Extra ``icebergs`` columns: the most over-represented pair of values."""

    iceberg_id = "iceberg_id"
    combination = "top_combination"
    support = "combination_support"
    share = "combination_share"
    baseline_share = "combination_baseline_share"
    lift = "combination_lift"


class TimelineCols:
    iceberg_id = "iceberg_id"
    period_start = "period_start"
    count = "count"


class LineageCols:
    iceberg_id = "iceberg_id"
    run_id = "run_id"
    event = "event"
    related_ids = "related_ids"


class QuarantineCols:
    reason = "reason"
    source = "source"
    source_row = "source_row"


class MapCols:
    """``map.parquet`` (contract v1 addition): the fitted map — its anchor tickets, their
    unit vectors and positions — which later runs place their tickets on (``analysis.map``)."""

    ticket_id = "ticket_id"
    map_x = "map_x"
    map_y = "map_y"
    vector = "vector"          # float32, fixed-size list of the embedding's dimension


class EventCols:
    """The events file (``sources.read_events``): an input, not an output table."""

    date = "date"              # the day it happened (UTC)
    name = "name"              # e.g. "App release 5.4.0"
    dimension = "dimension"    # optional: the ticket dimension it shows up in (app_version)…
    value = "value"            # …and the value (5.4.0); both or neither


LINEAGE_EVENTS = ("born", "continued", "merged", "split", "faded", "reborn")


@dataclass(frozen=True)
class TableSchema:
    """A table of the contract: its required fields, and whether other columns may follow.

    ``optional`` fixes the type of extra columns that may be all null (a list column
    would otherwise be written as text); other extra columns keep their inferred type.
    """

    name: str
    fields: tuple[pa.Field, ...]
    open_ended: bool = False
    optional: tuple[pa.Field, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def validate(self, df: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise SchemaError(f"{self.name}: missing required column(s) {missing}")
        extra = [c for c in df.columns if c not in self.columns]
        if extra and not self.open_ended:
            raise SchemaError(f"{self.name}: unexpected column(s) {extra}")
        return df

    def arrow_schema(self, df: pd.DataFrame) -> pa.Schema:
        """Required fields with their contract types, then any extra columns as inferred."""
        self.validate(df)
        fields = list(self.fields)
        optional = {f.name: f for f in self.optional}
        for column in df.columns:
            if column in optional:
                fields.append(optional[column])
            elif column not in self.columns:
                inferred = pa.Schema.from_pandas(df[[column]], preserve_index=False).field(column)
                if pa.types.is_null(inferred.type):
                    inferred = inferred.with_type(pa.string())
                fields.append(inferred)
        return pa.schema(fields, metadata={"iceberg.table": self.name,
                                           "iceberg.schema_version": str(SCHEMA_VERSION)})

    def to_arrow(self, df: pd.DataFrame) -> pa.Table:
        schema = self.arrow_schema(df)
        try:
            return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SchemaError(f"{self.name}: {exc}") from exc

    def empty(self) -> pd.DataFrame:
        return pa.schema(self.fields).empty_table().to_pandas()


# Contract v1 addition: a multi-valued dimension (a ticket's tags, Jira labels) is one
# ``tickets`` column whose cell is a JSON array of strings (``["billing", "vip"]``; missing
# when the ticket has none); the manifest's ``columns.multi_valued`` names such columns and
# ``attributes`` counts a ticket under each of its values.
def multi_value_text(values: list | tuple | None) -> str | None:
    """Values as a multi-valued dimension's cell: distinct, trimmed, in order; None when none."""
    kept = list(dict.fromkeys(str(v).strip() for v in values or () if v is not None and str(v).strip()))
    return json.dumps(kept, ensure_ascii=False) if kept else None


def multi_values(cell: object) -> list[str]:
    """A multi-valued dimension's cell as its values ([] when missing); text that is not a JSON
    array (a value redaction or a user changed) is one value."""
    if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
        return []
    try:
        values = json.loads(str(cell))
    except ValueError:
        return [str(cell)]
    return [str(v) for v in values] if isinstance(values, list) else [str(cell)]


_str = pa.string()
_list_str = pa.list_(pa.string())
# ``IcebergCols.segments``: one entry per segment, most customers first.
SEGMENT_CUSTOMERS = IcebergCols.n_customers
SEGMENT_COUNT = pa.struct([pa.field(TicketCols.segment, _str), pa.field(SEGMENT_CUSTOMERS, pa.int64())])

TICKETS = TableSchema("tickets", (
    pa.field(TicketCols.ticket_id, _str, nullable=False),
    pa.field(TicketCols.created_at, UTC_TIMESTAMP),
    pa.field(TicketCols.iceberg_id, _str),
    pa.field(TicketCols.membership, pa.float64()),
    pa.field(TicketCols.text, _str),
    pa.field(TicketCols.source_row, pa.int64()),
), open_ended=True)

ICEBERGS = TableSchema("icebergs", (
    pa.field(IcebergCols.iceberg_id, _str, nullable=False),
    pa.field(IcebergCols.rank, pa.int64()),
    pa.field(IcebergCols.score, pa.float64()),
    pa.field(IcebergCols.label, _str),
    pa.field(IcebergCols.keywords, _list_str),
    pa.field(IcebergCols.size, pa.int64()),
    pa.field(IcebergCols.n_customers, pa.int64()),
    pa.field(IcebergCols.n_agents, pa.int64()),
    pa.field(IcebergCols.max_tickets_per_agent, pa.int64()),
    pa.field(IcebergCols.first_seen, UTC_TIMESTAMP),
    pa.field(IcebergCols.last_seen, UTC_TIMESTAMP),
    pa.field(IcebergCols.onset, pa.date32()),
    pa.field(IcebergCols.trend, _str),
    pa.field(IcebergCols.representative_ticket_ids, _list_str),
), open_ended=True, optional=(
    pa.field(IcebergCols.onset_events, _list_str),
    pa.field(IcebergCols.event_concentrated, pa.bool_()),
    pa.field(IcebergCols.n_accounts, pa.int64()),
    pa.field(IcebergCols.segments, pa.list_(SEGMENT_COUNT)),
    pa.field(IcebergCols.value_at_risk, pa.float64()),
    pa.field(IcebergCols.boilerplate, pa.bool_()),
    pa.field(IcebergCols.theme_id, _str),
))

THEMES = TableSchema("themes", (
    pa.field(ThemeCols.theme_id, _str, nullable=False),
    pa.field(ThemeCols.label, _str),
    pa.field(ThemeCols.keywords, _list_str),
    pa.field(ThemeCols.iceberg_ids, _list_str),
    pa.field(ThemeCols.n_icebergs, pa.int64()),
    pa.field(ThemeCols.size, pa.int64()),
    pa.field(ThemeCols.best_rank, pa.int64()),
))

ATTRIBUTES = TableSchema("attributes", (
    pa.field(AttributeCols.iceberg_id, _str, nullable=False),
    pa.field(AttributeCols.dimension, _str),
    pa.field(AttributeCols.value, _str),
    pa.field(AttributeCols.count, pa.int64()),
    pa.field(AttributeCols.share, pa.float64()),
    pa.field(AttributeCols.baseline_share, pa.float64()),
    pa.field(AttributeCols.lift, pa.float64()),
    pa.field(AttributeCols.p_value, pa.float64()),
    pa.field(AttributeCols.q_value, pa.float64()),
), open_ended=True)

TIMELINE = TableSchema("timeline", (
    pa.field(TimelineCols.iceberg_id, _str, nullable=False),
    pa.field(TimelineCols.period_start, pa.date32()),
    pa.field(TimelineCols.count, pa.int64()),
), open_ended=True)

LINEAGE = TableSchema("lineage", (
    pa.field(LineageCols.iceberg_id, _str, nullable=False),
    pa.field(LineageCols.run_id, _str),
    pa.field(LineageCols.event, _str),
    pa.field(LineageCols.related_ids, _list_str),
), open_ended=True)

# The raw fields of a rejected row vary with the input, so they follow as extra columns.
QUARANTINE = TableSchema("quarantine", (
    pa.field(QuarantineCols.reason, _str, nullable=False),
    pa.field(QuarantineCols.source, _str),
    pa.field(QuarantineCols.source_row, pa.int64()),
), open_ended=True)

def contract_order(tickets: pd.DataFrame) -> pd.DataFrame:
    """``tickets`` with the contract's columns first, then the rest as they came from the input."""
    first = [c for c in TICKETS.columns + [TicketCols.customer_id, TicketCols.agent_id]
             if c in tickets.columns]
    return tickets[first + [c for c in tickets.columns if c not in first]]


TABLES: dict[str, TableSchema] = {
    t.name: t for t in (TICKETS, ICEBERGS, THEMES, ATTRIBUTES, TIMELINE, LINEAGE, QUARANTINE)
}
