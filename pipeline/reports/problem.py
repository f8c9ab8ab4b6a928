"""What the three problem-record formats (Jira, ServiceNow, Zendesk) share: impact, urgency
and priority from a documented rule, the summary line, labels, and the linked tickets.

ITIL problem management links many incidents to one problem; an iceberg is such a problem.

Impact (how many it reaches; ``reach`` = distinct customers, or tickets without customer ids):

- 1 (high): ``reach`` ≥ 100, or ≥ 5 % of the run's customers (tickets);
- 2 (medium): ``reach`` ≥ 20, or ≥ 1 %;
- 3 (low): otherwise.

Urgency (how long it can wait), from the trend: 1 (high) when it is new or growing or
spiked last week; 2 (medium) when stable; 3 (low) when fading or undated.

Priority is ServiceNow's default lookup of the two (impact + urgency − 1: 1 critical …
5 planning). ServiceNow computes it itself, so its records never carry it; Jira gets it as
Highest / High / Medium / Low / Lowest, Zendesk as urgent / high / normal / low.
"""

from __future__ import annotations

import json
import re
from typing import Callable

from pipeline.reports import lines
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import cut, import_text, safe_token
from pipeline.reports.text import brief_text, method_lines
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I

HIGH_REACH, HIGH_SHARE = 100, 0.05
MEDIUM_REACH, MEDIUM_SHARE = 20, 0.01
JIRA_PRIORITIES = {1: "Highest", 2: "High", 3: "Medium", 4: "Low", 5: "Lowest"}
ZENDESK_PRIORITIES = {1: "urgent", 2: "high", 3: "normal", 4: "low", 5: "low"}
INCIDENT_NUMBER = re.compile(r"INC\d+")            # ServiceNow's incident numbers (INC0010001)
ZENDESK_ID = re.compile(r"[1-9]\d{0,17}")          # Zendesk ticket ids are positive integers
_SERVICENOW_SYS_ID = re.compile(r"sys_id(?:=|%3D)([0-9a-f]{32})", re.IGNORECASE)
_ZENDESK_TICKET_URL = re.compile(r"/tickets/([1-9]\d{0,17})\b")
MAX_LABELS = 6


def impact(report: Report, brief: Brief) -> int:
    population = report.n_customers if lines.present(brief.row.get(I.n_customers)) else report.counts.tickets
    share = brief.reach / population if population else 0.0
    if brief.reach >= HIGH_REACH or share >= HIGH_SHARE:
        return 1
    if brief.reach >= MEDIUM_REACH or share >= MEDIUM_SHARE:
        return 2
    return 3


def urgency(brief: Brief) -> int:
    trend = brief.row.get(I.trend)
    spike = brief.row.get(I.spike)
    if trend in ("new", "growing") or (lines.present(spike) and bool(spike)):
        return 1
    return 2 if trend == "stable" else 3


def priority_level(report: Report, brief: Brief) -> int:
    """1 (critical) … 5 (planning): ServiceNow's default impact × urgency lookup."""
    return impact(report, brief) + urgency(brief) - 1


def rule_text() -> str:
    return (f"impact 1 when the iceberg reaches at least {HIGH_REACH} customers (tickets without customer "
            f"ids) or {HIGH_SHARE:.0%} of the run's, 2 at {MEDIUM_REACH} or {MEDIUM_SHARE:.0%}, else 3; "
            "urgency 1 when it is new, growing or spiked last week, 2 when stable, 3 when fading or undated; "
            "priority is left to ServiceNow (impact + urgency − 1)")


def summary(brief: Brief, limit: int) -> str:
    """``[Iceberg ICE-0042] <name>``, at most ``limit`` characters."""
    prefix = f"[Iceberg {brief.iceberg_id}] "
    name = import_text(brief.name)
    if len(prefix) + len(name) > limit:
        name = name[:max(limit - len(prefix) - 1, 0)].rstrip() + "…"
    return prefix + name


def labels(brief: Brief) -> list[str]:
    """``iceberg``, the iceberg id, its trend and its top non-topical evidence values, as
    safe tokens (``region-us``)."""
    tokens = ["iceberg", safe_token(brief.iceberg_id)]
    if lines.present(brief.row.get(I.trend)):
        tokens.append(safe_token(f"trend-{brief.row[I.trend]}"))
    if brief.where_is_evidence:
        where = brief.where
        if A.topical in where:
            where = where.sort_values(A.topical, key=lambda s: s.fillna(False).astype(bool), kind="stable")
        tokens += [safe_token(f"{e[A.dimension]}-{e[A.value]}", limit=60) for e in where.to_dict(orient="records")]
    return list(dict.fromkeys(t for t in tokens if t))[:MAX_LABELS]


def incident_numbers(brief: Brief) -> tuple[list[str], int]:
    """The brief's tickets whose id is a ServiceNow incident number, and how many are not."""
    numbers = [t for t in brief.ticket_ids if INCIDENT_NUMBER.fullmatch(t)]
    return numbers, len(brief.ticket_ids) - len(numbers)


def zendesk_ids(brief: Brief) -> tuple[list[int], int]:
    """The brief's tickets whose id is a Zendesk ticket id, and how many are not."""
    ids = [int(t) for t in brief.ticket_ids if ZENDESK_ID.fullmatch(t)]
    return ids, len(brief.ticket_ids) - len(ids)


def curated_servicenow_problem(brief: Brief) -> str | None:
    """The sys_id of the problem record a person linked (a ServiceNow URL with ``sys_id=``)."""
    match = _SERVICENOW_SYS_ID.search(brief.problem_ticket or "")
    return match.group(1).lower() if match else None


def curated_zendesk_problem(brief: Brief) -> int | None:
    """The id of the problem ticket a person linked (a Zendesk ``…/tickets/123`` URL)."""
    match = _ZENDESK_TICKET_URL.search(brief.problem_ticket or "")
    return int(match.group(1)) if match else None


def plain_description(report: Report, brief: Brief, limit: int) -> str:
    """The brief as plain text for a description field, built safe, at most ``limit`` characters:
    the ticket list is shortened, then the method left out, before anything else is cut."""
    body = brief_text(report, brief, width=None, ticket_ids=False, method=False)
    method = "\n".join(["", "How it was computed", *(f"  {line}" for line in method_lines(report))])
    room = limit - len(body) - len(method) - 80
    if room < 200:   # keep the ticket list over the method
        method, room = f"\n\nHow it was computed: Iceberg run {report.run_id}", limit - len(body) - 120
    listed = []
    for ticket_id in brief.ticket_ids:
        room -= len(ticket_id) + 2
        if room < 0:
            break
        listed.append(ticket_id)
    more = len(brief.ticket_ids) - len(listed)
    tickets = (f"\n\nTickets ({len(brief.ticket_ids):,})\n  " + ", ".join(listed)
               + (f" … and {more:,} more" if more else ""))
    return cut(import_text(body + tickets + method, multiline=True), limit)


JSON_MIME = "application/json"


def problems_json(report: Report, fmt: str, how_to_import: str, record: Callable[[Report, Brief], dict],
                  file_name: str) -> Rendered:
    """The problem records of every brief as one self-describing JSON document (``fmt``,
    its version, the run, how to import it and the impact/urgency rule)."""
    document = {"format": fmt, "format_version": 1, "run_id": report.run_id,
                "generated_at": report.generated_at, "how_to_import": how_to_import,
                "rule": rule_text(), "problems": [record(report, b) for b in report.briefs]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Rendered({file_name: text.encode("utf-8")}, JSON_MIME, text=True)
