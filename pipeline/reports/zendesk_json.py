"""``zendesk``: JSON for Zendesk's Tickets API — a ``problem`` ticket per iceberg and the
updates that make its source tickets incidents of it.

``problems[].ticket`` is the body's ``ticket`` of ``POST /api/v2/tickets``: ``subject``
(``[Iceberg ICE-0042] …``, ≤ 150 characters), ``type: "problem"``, ``priority`` (urgent /
high / normal / low, the ``problem`` module's rule), ``tags`` (safe tokens), ``external_id``
(``iceberg:ICE-0042``, stable across runs) and ``comment`` (the brief as plain text, an
internal note). ``problems[].incident_updates`` are bodies of ``PUT
/api/v2/tickets/update_many?ids=…`` (at most 100 ids each, Zendesk's limit), for its
tickets whose id is a Zendesk ticket id (a positive integer): ``{"type": "incident",
"problem_id": …}``, the id the POST returned (already filled in when a person linked the
iceberg to a Zendesk ``…/tickets/123`` URL). Values are built safe (``safety.import_text``).
"""

from __future__ import annotations

from pipeline.reports import problem
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered

MIME = problem.JSON_MIME
FORMAT = "iceberg-zendesk-problems"
SUBJECT_CHARS = 150
COMMENT_CHARS = 60_000
UPDATE_BATCH = 100
HOW_TO_IMPORT = ("POST {\"ticket\": problems[].ticket} to /api/v2/tickets; then for each incident_updates "
                 "entry, PUT {\"ticket\": entry.ticket} to /api/v2/tickets/update_many?ids=<entry.ids, "
                 "comma-separated> with ticket.problem_id set to the new problem ticket's id")
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False,
    "required": ["format", "format_version", "run_id", "generated_at", "how_to_import", "rule", "problems"],
    "properties": {
        "format": {"const": FORMAT}, "format_version": {"const": 1}, "run_id": {"type": "string"},
        "generated_at": {"type": "string"}, "how_to_import": {"type": "string"}, "rule": {"type": "string"},
        "problems": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["iceberg_id", "ticket", "incident_updates", "tickets_without_zendesk_id"],
            "properties": {
                "iceberg_id": {"type": "string"},
                "ticket": {"type": "object", "additionalProperties": False,
                           "required": ["subject", "type", "priority", "tags", "external_id", "comment"],
                           "properties": {
                               "subject": {"type": "string", "minLength": 1, "maxLength": SUBJECT_CHARS},
                               "type": {"const": "problem"},
                               "priority": {"enum": ["urgent", "high", "normal", "low"]},
                               "tags": {"type": "array", "items": {"type": "string",
                                                                   "pattern": "^[a-z0-9][a-z0-9_.-]*$"}},
                               "external_id": {"type": "string"},
                               "comment": {"type": "object", "additionalProperties": False,
                                           "required": ["body", "public"],
                                           "properties": {"body": {"type": "string", "maxLength": COMMENT_CHARS},
                                                          "public": {"const": False}}}}},
                "incident_updates": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["ids", "ticket"],
                    "properties": {
                        "ids": {"type": "array", "minItems": 1, "maxItems": UPDATE_BATCH,
                                "items": {"type": "integer", "minimum": 1}},
                        "ticket": {"type": "object", "additionalProperties": False,
                                   "required": ["type", "problem_id"],
                                   "properties": {"type": {"const": "incident"},
                                                  "problem_id": {"type": ["integer", "null"]}}}}}},
                "tickets_without_zendesk_id": {"type": "integer", "minimum": 0}}}},
    },
}


def render(report: Report, *, split: bool = False) -> Rendered:
    return problem.problems_json(report, FORMAT, HOW_TO_IMPORT, _problem, "zendesk-problems.json")


def _problem(report: Report, b: Brief) -> dict:
    ids, without = problem.zendesk_ids(b)
    problem_id = problem.curated_zendesk_problem(b)
    return {
        "iceberg_id": b.iceberg_id,
        "ticket": {
            "subject": problem.summary(b, SUBJECT_CHARS), "type": "problem",
            "priority": problem.ZENDESK_PRIORITIES[problem.priority_level(report, b)],
            "tags": problem.labels(b),
            "external_id": f"iceberg:{b.iceberg_id}",
            "comment": {"body": problem.plain_description(report, b, COMMENT_CHARS), "public": False},
        },
        "incident_updates": [{"ids": ids[i:i + UPDATE_BATCH],
                              "ticket": {"type": "incident", "problem_id": problem_id}}
                             for i in range(0, len(ids), UPDATE_BATCH)],
        "tickets_without_zendesk_id": without,
    }
