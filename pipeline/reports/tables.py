"""The tidy tables of a report (CSV files, XLSX sheets): overview, evidence, timeline, tickets.

One row per observation, one column per variable, real numbers and dates (times in UTC,
without a time-zone suffix, since spreadsheets have none). ``COLUMNS`` says what each
column means; the XLSX *About* sheet and the docs print it.
"""

from __future__ import annotations

import pandas as pd

from pipeline.analysis.profile import ScoreCols
from pipeline.reports import lines
from pipeline.reports.model import Report
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.schemas import TimelineCols as TL

TABLES = ("overview", "evidence", "timeline", "tickets")

COLUMNS: dict[str, dict[str, str]] = {
    "overview": {
        "rank": "1 = most important (dismissed icebergs after every other problem)",
        "iceberg_id": "stable id of the recurring problem across runs",
        "name": "the curated name, else the generated label",
        "label": "generated from its most distinctive terms",
        "status": "open, acknowledged or dismissed (curation)",
        "problem_ticket": "the problem record someone linked to it (curation)",
        "score": lines.SCORE_FORMULA,
        "tickets": "its tickets", "customers": "distinct customers", "accounts": "distinct accounts",
        "agents": "distinct agents", "max_tickets_per_agent": "the most of its tickets one agent handled",
        "value_at_risk": "revenue of its accounts (else customers), when the input has revenue",
        "onset": "the day it became an ongoing problem", "first_seen": "its first ticket (UTC)",
        "last_seen": "its latest ticket (UTC)", "trend": "new, growing, stable or fading",
        "where": "over-represented values: share of its tickets vs of all tickets, lift, q",
        "what": "its most distinctive terms", "who": "who is affected, in one line",
        "score_reach": "log(1 + customers), or of tickets without customer ids",
        "score_concentration": "1 − 1/largest lift of a non-topical evidence value",
        "score_emergence": "1 when new or growing", "score_fragmentation": "share of its agents who saw at most 2",
    },
    "evidence": {
        "iceberg_id": "the iceberg", "dimension": "the ticket field", "value": "its value",
        "count": "the iceberg's tickets in its window with the value",
        "share": "count / the iceberg's tickets in its window",
        "baseline_count": "all tickets of the window with the value",
        "baseline_share": "the value's share among all tickets of the window",
        "lift": lines.LIFT_MEANS, "p_value": "one-sided Fisher exact test", "q_value": lines.Q_MEANS,
        "topical": "the dimension restates the topic (describes the problem, no cause)",
        "window_start": "the window compared: from the onset (UTC)", "window_end": "…to the day after its last ticket",
    },
    "timeline": {"iceberg_id": "the iceberg", "period_start": "first day of the period (week from Monday "
                 "by default, profile.period)", "count": "its tickets created in the period"},
    "tickets": {"ticket_id": "the ticket", "iceberg_id": "its iceberg", "created_at": "created (UTC)",
                "membership": "cosine similarity to the iceberg's centroid (0–1)",
                "customer_id": "the customer (pseudonymised when it was an e-mail or phone)",
                "agent_id": "the agent", "account_id": "the account", "segment": "the customer segment",
                "text": "the ticket text, cleaned and redacted"},
}


def utc_naive(values: pd.Series) -> pd.Series:
    """Timestamps in UTC without a time zone (spreadsheets have none)."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None)


def overview_table(report: Report) -> pd.DataFrame:
    rows = []
    for brief in report.briefs:
        r = brief.row
        rows.append({
            "rank": brief.rank, "iceberg_id": brief.iceberg_id, "name": brief.name, "label": brief.label,
            "status": brief.status, "problem_ticket": brief.problem_ticket, "score": r[I.score],
            "tickets": r[I.size], "customers": _number(r.get(I.n_customers)),
            "accounts": _number(r.get(I.n_accounts)), "agents": _number(r.get(I.n_agents)),
            "max_tickets_per_agent": _number(r.get(I.max_tickets_per_agent)),
            "value_at_risk": _number(r.get(I.value_at_risk)),
            "onset": r[I.onset] if lines.present(r.get(I.onset)) else None,
            "first_seen": r[I.first_seen], "last_seen": r[I.last_seen],
            "trend": r[I.trend] if lines.present(r.get(I.trend)) else None,
            "where": lines.where_line(brief.where) if brief.where_is_evidence else "no attribute over-represented",
            "what": ", ".join(brief.terms), "who": brief.who,
            **{column: _number(r.get(column)) for column in
               (ScoreCols.reach, ScoreCols.concentration, ScoreCols.emergence, ScoreCols.fragmentation)},
        })
    table = pd.DataFrame(rows, columns=list(COLUMNS["overview"]))
    for column in ("first_seen", "last_seen"):
        table[column] = utc_naive(table[column])
    return table


def evidence_table(report: Report) -> pd.DataFrame:
    """Every evidence row of the report's icebergs (a brief shows the first few)."""
    columns = list(COLUMNS["evidence"])
    table = report.evidence.copy()
    for column in columns:
        if column not in table:
            table[column] = None
    table = table[columns].reset_index(drop=True)
    for column in (A.window_start, A.window_end):
        table[column] = utc_naive(table[column])
    return table


def timeline_table(report: Report) -> pd.DataFrame:
    frames = [b.timeline.assign(iceberg_id=b.iceberg_id) for b in report.briefs]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS["timeline"]))
    table = pd.concat(frames, ignore_index=True)[[TL.iceberg_id, TL.period_start, TL.count]]
    table[TL.period_start] = pd.to_datetime(table[TL.period_start]).dt.date
    return table


def tickets_table(report: Report, iceberg_id: str | None = None) -> pd.DataFrame:
    table = report.tickets
    if iceberg_id is not None:
        table = table[table[T.iceberg_id] == iceberg_id]
    table = table.copy()
    table[T.created_at] = utc_naive(table[T.created_at])
    return table.reset_index(drop=True)


def report_tables(report: Report) -> dict[str, pd.DataFrame]:
    return {"overview": overview_table(report), "evidence": evidence_table(report),
            "timeline": timeline_table(report), "tickets": tickets_table(report)}


def column_meaning(table: str, column: str) -> str:
    return COLUMNS.get(table, {}).get(column) or ("a ticket dimension" if table == "tickets" else "")


def _number(value):
    return value if lines.present(value) else None


def plain_value(value):
    """A table cell as a Python value: numpy / pandas scalars as Python ones, NA and NaT as
    None, a list (keywords) as one text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return ", ".join(map(str, value))
    return value.item() if hasattr(value, "item") else value
