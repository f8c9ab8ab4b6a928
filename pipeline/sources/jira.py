"""``JiraReader``: a Jira Service Management CSV export ("Export Excel CSV (all fields)").

Jira writes a list as repeated columns — one ``Labels`` column per label, one
``Component/s`` or ``Comment`` per value — which a dict reader would collapse to the last
one; here every repeated column is collected into one list (a cell of comma-separated values
too). Mapped: ``Issue key`` → id,
``Summary`` → subject, ``Description`` → body, ``Reporter`` → customer, ``Assignee`` →
agent, ``Created`` → created_at, ``Organizations`` (or ``Custom field (Organizations)``) →
account; dimensions ``tags`` (the labels), ``components``, ``affects_versions``,
``fix_versions``, ``Issue Type``, ``Request Type`` (or ``Customer Request Type``, as a custom
field too), ``Project key``; handling attributes ``Priority``, ``Status``, ``Resolution``
(``pipeline.sources.attributes``). Dates in Jira's formats (``12/Mar/24 9:15 AM``,
``2024-03-12 09:15``) are read exactly and passed on as ISO 8601; other dates are read
by ``pipeline.sources.dates`` like any column's. Comments (``12/Mar/24 9:15 AM;jsmith;text``)
keep their text only, as a JSON list in ``comments``. An export in another UI language
(Portuguese ``Resumo``, ``Chave da item``, ``Criado``, dates ``05/set/23 9:50 AM``) is read
the same way: its header and months are put in English by ``pipeline.sources.jira_locales``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.errors import InputError
from pipeline.schemas import multi_value_text
from pipeline.sources.helpdesk import HelpdeskReader, field_of
from pipeline.sources.jira_locales import english_date, english_header
from pipeline.sources.roles import name_key

JIRA_DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%Y-%m-%d %H:%M",
                     "%Y-%m-%d %H:%M:%S", "%d/%b/%y")
DATE_COLUMNS = ("Created", "Updated", "Resolved", "Last Viewed", "Due Date")
FIELDS = {   # our name -> Jira's column names (compared ignoring case and separators)
    "Issue key": ("Issue key",), "Summary": ("Summary",), "Description": ("Description",),
    "Reporter": ("Reporter",), "Assignee": ("Assignee",), "Created": ("Created",),
    "Organizations": ("Organizations", "Custom field (Organizations)"),
    "Request Type": ("Request Type", "Customer Request Type", "Custom field (Request Type)",
                     "Custom field (Customer Request Type)"),
    "Issue Type": ("Issue Type",), "Priority": ("Priority",), "Status": ("Status",),
    "Resolution": ("Resolution",), "Project key": ("Project key",),
}
LISTS = {"tags": ("Labels",), "components": ("Component/s", "Components"),
         "affects_versions": ("Affects Version/s", "Affects Versions"), "fix_versions": ("Fix Version/s", "Fix Versions")}


class JiraReader(HelpdeskReader):
    format = "jira"
    extensions = (".csv",)
    roles = {"id": "Issue key", "created_at": "Created", "subject": "Summary", "body": ["Description"],
             "customer": "Reporter", "agent": "Assignee", "account": "Organizations"}
    dimensions = ("tags", "components", "affects_versions", "fix_versions", "Issue Type", "Request Type",
                  "Priority", "Status", "Resolution", "Project key")
    multi_valued = ("tags", "components", "affects_versions", "fix_versions")
    handling = ("Priority", "Status", "Resolution")

    def _json_records(self, text: str):
        raise InputError(f"{self.name} is not CSV: the jira source reads Jira's CSV export; read a "
                         "JSON export with [input] source = \"file\"")

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        record = english_record(record)
        row: dict[str, Any] = {}
        taken: set[str] = set()
        for name, columns in {**FIELDS, **LISTS}.items():
            keys = [k for k in record if any(name_key(k) == name_key(c) for c in columns)]
            if not keys:
                continue
            taken.update(keys)
            value = field_of(record, *columns)
            if name in LISTS:     # repeated columns, or one cell of comma-separated values
                values = value if isinstance(value, list) else [value]
                row[name] = multi_value_text([v.strip() for item in values if item is not None
                                              for v in str(item).split(",")])
            else:
                row[name] = ", ".join(map(str, value)) if isinstance(value, list) else value
        comments = [k for k in record if name_key(k) == "comment"]
        if comments:
            values = record[comments[0]]
            row["comments"] = multi_value_text([_comment_text(v) for v in
                                                (values if isinstance(values, list) else [values])])
            taken.update(comments)
        for name, value in record.items():
            if name not in taken:
                row[name] = multi_value_text(value) if isinstance(value, list) else value
        for column in DATE_COLUMNS:
            if isinstance(row.get(column), str):
                row[column] = jira_date(row[column])
        return row


def english_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record of a localised export with its columns under Jira's English names
    (``pipeline.sources.jira_locales``); a name taken already keeps its own."""
    renamed: dict[str, Any] = {}
    for name, value in record.items():
        english = english_header(name)
        taken = english in renamed or (english != name and english in record)
        renamed[name if taken else english] = value
    return renamed


def jira_date(text: str) -> str:
    """A date in one of Jira's export formats, its month in English or in the export's
    language (``05/set/23 9:50 AM``), as ISO 8601; any other text as it is."""
    for value in dict.fromkeys((" ".join(text.split()), english_date(text))):
        for fmt in JIRA_DATE_FORMATS:
            try:
                return datetime.strptime(value, fmt).isoformat()
            except ValueError:
                continue
    return text


def _comment_text(value: Any) -> str | None:
    """``12/Mar/24 9:15 AM;jsmith;The text`` → ``The text``: Jira's date and author dropped."""
    if value is None:
        return None
    parts = str(value).split(";", 2)
    if len(parts) == 3 and jira_date(parts[0].strip()) != parts[0].strip():
        return parts[2]
    return str(value)
