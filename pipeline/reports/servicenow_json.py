"""``servicenow``: JSON ready for ServiceNow's Table API — a ``problem`` record per iceberg
and the incident updates that link its source tickets to it.

``problems[].record`` is the body of ``POST /api/now/table/problem``: ``short_description``
(``[Iceberg ICE-0042] …``, ≤ 160 characters), ``description`` (the brief as plain text, ≤
4,000 characters, the default size of the field), ``category`` (``software``, a default
choice of the problem table), ``impact`` and ``urgency`` (``"1"``–``"3"``, the ``problem``
module's rule) and ``correlation_id`` (``iceberg:ICE-0042``, stable across runs, to find the
record again); never ``priority``, which ServiceNow computes from impact and urgency.
``problems[].incident_updates`` lists, for each of its tickets whose id is an incident
number (``INC0010001``), the update ``{"number": …, "problem_id": …}``: look the incident
up by number and ``PATCH /api/now/table/incident/{sys_id}`` with ``problem_id`` set to the
``sys_id`` the POST returned (already filled in when a person linked the iceberg to a
problem URL with a ``sys_id``). Values are built safe (``safety.import_text``).
"""

from __future__ import annotations

from pipeline.reports import problem
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered

MIME = problem.JSON_MIME
FORMAT = "iceberg-servicenow-problems"
SHORT_DESCRIPTION_CHARS = 160
DESCRIPTION_CHARS = 4_000
CATEGORY = "software"
HOW_TO_IMPORT = ("POST each problems[].record to /api/now/table/problem; then for each "
                 "incident_updates entry, GET /api/now/table/incident?sysparm_query=number=<number> and "
                 "PATCH /api/now/table/incident/<sys_id> with {\"problem_id\": <the problem's sys_id>}")
_LEVEL = {"type": "string", "enum": ["1", "2", "3"]}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False,
    "required": ["format", "format_version", "run_id", "generated_at", "how_to_import", "rule", "problems"],
    "properties": {
        "format": {"const": FORMAT}, "format_version": {"const": 1}, "run_id": {"type": "string"},
        "generated_at": {"type": "string"}, "how_to_import": {"type": "string"}, "rule": {"type": "string"},
        "problems": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["iceberg_id", "table", "record", "incident_updates", "tickets_without_incident_number"],
            "properties": {
                "iceberg_id": {"type": "string"}, "table": {"const": "problem"},
                "record": {"type": "object", "additionalProperties": False,
                           "required": ["short_description", "description", "category", "impact", "urgency",
                                        "correlation_id", "correlation_display"],
                           "properties": {
                               "short_description": {"type": "string", "minLength": 1,
                                                     "maxLength": SHORT_DESCRIPTION_CHARS},
                               "description": {"type": "string", "maxLength": DESCRIPTION_CHARS},
                               "category": {"type": "string"}, "impact": _LEVEL, "urgency": _LEVEL,
                               "correlation_id": {"type": "string"}, "correlation_display": {"const": "Iceberg"}}},
                "incident_updates": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["number", "problem_id"],
                    "properties": {"number": {"type": "string", "pattern": "^INC[0-9]+$"},
                                   "problem_id": {"type": ["string", "null"]}}}},
                "tickets_without_incident_number": {"type": "integer", "minimum": 0}}}},
    },
}


def render(report: Report, *, split: bool = False) -> Rendered:
    return problem.problems_json(report, FORMAT, HOW_TO_IMPORT, _problem, "servicenow-problems.json")


def _problem(report: Report, b: Brief) -> dict:
    numbers, without = problem.incident_numbers(b)
    sys_id = problem.curated_servicenow_problem(b)
    return {
        "iceberg_id": b.iceberg_id, "table": "problem",
        "record": {
            "short_description": problem.summary(b, SHORT_DESCRIPTION_CHARS),
            "description": problem.plain_description(report, b, DESCRIPTION_CHARS),
            "category": CATEGORY,
            "impact": str(problem.impact(report, b)), "urgency": str(problem.urgency(b)),
            "correlation_id": f"iceberg:{b.iceberg_id}", "correlation_display": "Iceberg",
        },
        "incident_updates": [{"number": n, "problem_id": sys_id} for n in numbers],
        "tickets_without_incident_number": without,
    }
