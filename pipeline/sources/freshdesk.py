"""``FreshdeskReader``: Freshdesk's tickets as its API returns them (a JSON array, pages of
them, or JSON Lines).

Mapped: ``id``, ``created_at``, ``subject``, ``description_text`` (else the HTML
``description``, converted to text) as the body, ``requester_id`` (customer),
``company_id`` (account), ``responder_id`` (agent); the older ``ticket_type`` is ``type``. ``source``, ``status`` and
``priority`` are integer codes, decoded with the tables of Freshdesk's API reference
(a code outside them, such as a custom status, is kept as ``status 6``); ``tags`` is a
multi-valued dimension; ``custom_fields`` (``{"cf_product": "Pro"}``) become one column
each, named by ``[input] custom_fields`` or their key.
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import InputError
from pipeline.schemas import multi_value_text
from pipeline.sources.helpdesk import HelpdeskReader, Malformed, listed
from pipeline.sources.jsonl_reader import flattened
from pipeline.text.clean import html_text

SOURCES = {1: "Email", 2: "Portal", 3: "Phone", 7: "Chat", 9: "Feedback Widget", 10: "Outbound Email"}
STATUSES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
PRIORITIES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
CODES = {"source": SOURCES, "status": STATUSES, "priority": PRIORITIES}


class FreshdeskReader(HelpdeskReader):
    format = "freshdesk"
    roles = {"id": "id", "created_at": "created_at", "subject": "subject", "body": ["description_text"],
             "customer": "requester_id", "account": "company_id", "agent": "responder_id"}
    dimensions = ("source", "status", "priority", "type", "group_id", "product_id", "tags")
    multi_valued = ("tags",)
    handling = ("status", "priority", "group_id")
    set_aside = {"spam": ("true",), "deleted": ("true",)}

    def _csv_records(self, data: bytes):
        raise InputError(f"{self.name} is not JSON: the freshdesk source reads the tickets as "
                         "Freshdesk's API returns them; read a CSV export with [input] source = \"file\"")

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        record = dict(record)
        tags = listed(record.pop("tags", None), "tags")
        custom = record.pop("custom_fields", None) or {}
        if not isinstance(custom, dict):
            raise Malformed(f"custom_fields is a JSON {type(custom).__name__}, not an object")
        if "ticket_type" in record:      # the older v2 name of ``type``
            kind = record.pop("ticket_type")
            if record.get("type") is None:
                record["type"] = kind
        html = record.pop("description", None)
        if record.get("description_text") in (None, "") and html:
            # Quoted replies are kept: the clean stage removes them as it does from any body.
            text = html_text(str(html), drop_quotes=False)
            record["description_text"] = "\n\n".join(p.strip() for p in text.split("\n\n") if p.strip())
        for field, table in CODES.items():
            if field in record:
                record[field] = decoded(record[field], table, field)
        row = flattened(record)
        row["tags"] = multi_value_text(tags)
        for key, value in custom.items():
            self.custom_field(row, key, value)
        return row


def decoded(code: Any, table: dict[int, str], field: str) -> str | None:
    """A Freshdesk code as its name; an unknown code as "<field> <code>"; None stays None."""
    if code is None:
        return None
    if isinstance(code, bool) or not isinstance(code, (int, str)) or not str(code).strip().isdigit():
        raise Malformed(f"{field} is {code!r}, not one of Freshdesk's integer codes")
    return table.get(int(code), f"{field} {int(code)}")
