"""``ZendeskReader``: a Zendesk Support ticket export, JSON (API pages, arrays, the
incremental export's JSON Lines) or the CSV export.

JSON fields are Zendesk's Tickets API names: ``id``, ``created_at``, ``subject``,
``description``, ``requester_id`` (customer), ``organization_id`` (account),
``assignee_id`` (agent). Nested objects are flattened (``via.channel``,
``satisfaction_rating.score``, a side-loaded ``requester.email``, which redaction then
pseudonymises like any column of people); ``tags`` stays a list (a multi-valued
dimension); ``custom_fields`` (``[{"id": 360001, "value": "pro"}]``) become one column
each, named by ``[input] custom_fields`` or ``custom_<id>``. The CSV export's columns
(``Id``, ``Requester id``, ``Via``, ``Ticket type``, ``Tags`` separated by spaces, …) are
renamed to the same names.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pipeline.schemas import multi_value_text
from pipeline.sources.helpdesk import HelpdeskReader, Malformed, field_of, listed
from pipeline.sources.jsonl_reader import flattened
from pipeline.sources.protocol import SourceMapping
from pipeline.sources.roles import name_key

# API plumbing, duplicates of kept fields (``fields`` repeats ``custom_fields``) and lists of
# people's ids copied on the ticket: not kept.
NOT_KEPT = ("url", "fields", "raw_subject", "generated_timestamp", "collaborator_ids", "follower_ids",
            "email_cc_ids", "sharing_agreement_ids", "followup_ids")
CSV_FIELDS = {   # our name -> the CSV export's column names (compared ignoring case and separators)
    "id": ("Id", "Ticket id"), "created_at": ("Created at",), "subject": ("Subject",),
    "description": ("Description",), "requester_id": ("Requester id",),
    "requester.email": ("Requester email",), "organization_id": ("Organization id",),
    "organization": ("Organization",), "assignee_id": ("Assignee id",), "assignee": ("Assignee",),
    "group": ("Group",), "brand": ("Brand",), "via.channel": ("Via",), "type": ("Ticket type", "Type"),
    "priority": ("Priority",), "status": ("Status",), "satisfaction_rating.score": ("Satisfaction Score",),
}


class ZendeskReader(HelpdeskReader):
    format = "zendesk"
    roles = {"id": "id", "created_at": "created_at", "subject": "subject", "body": ["description"],
             "customer": "requester_id", "account": "organization_id", "agent": "assignee_id"}
    dimensions = ("via.channel", "group_id", "group", "brand_id", "brand", "priority", "type", "status",
                  "tags", "satisfaction_rating.score")
    multi_valued = ("tags",)
    handling = ("group_id", "group", "priority", "status", "satisfaction_rating.score")
    # A deleted ticket keeps status "deleted" in the incremental export; once scrubbed, its
    # subject is "SCRUBBED" (and its description "X").
    set_aside = {"status": ("deleted",), "subject": ("SCRUBBED",)}

    def mapping(self) -> SourceMapping:
        """The mapping, with a side-loaded ``requester.email`` (or the CSV's names) standing in
        for ids the export lacks."""
        mapping = super().mapping()
        roles = dict(mapping.roles)
        for role, fallbacks in (("customer", ("requester.email", "requester.id")),
                                ("account", ("organization",)), ("agent", ("assignee",))):
            if role not in roles:
                found = next((c for c in fallbacks if c in self._columns), None)
                if found:
                    roles[role] = found
        return dataclasses.replace(mapping, roles=roles)

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        return self._csv_row(record) if self.details.get("layout") == "csv" else self._json_row(record)

    def _json_row(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {k: v for k, v in record.items() if k not in NOT_KEPT}
        tags = listed(record.pop("tags", None), "tags")
        custom = listed(record.pop("custom_fields", None), "custom_fields")
        row = flattened(record)
        row["tags"] = multi_value_text(tags)
        for item in custom:
            if not isinstance(item, dict) or "id" not in item:
                raise Malformed(f"custom_fields holds {json.dumps(item, default=str)[:60]}, not an "
                                "object with an id")
            self.custom_field(row, item["id"], item.get("value"))
        return row

    def _csv_row(self, record: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        taken: set[str] = set()
        for name, columns in CSV_FIELDS.items():
            value = field_of(record, *columns)
            if value is not None or any(_has(record, c) for c in columns):
                row[name] = value
                taken.update(k for k in record if any(_same(k, c) for c in columns))
        tags_column = next((k for k in record if _same(k, "Tags")), None)
        if tags_column is not None:
            row["tags"] = multi_value_text(str(record[tags_column] or "").replace(",", " ").split())
            taken.add(tags_column)
        for name, value in record.items():
            if name not in taken:
                row[name] = value
        return row


def _same(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def _has(record: dict[str, Any], column: str) -> bool:
    return any(_same(k, column) for k in record)
