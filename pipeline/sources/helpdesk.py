"""``HelpdeskReader``: what the helpdesk export readers (Zendesk, Freshdesk, Jira) share.

A helpdesk export is read record by record — a JSON ticket object (``json_records``: an
array, pages, concatenated pages, JSON Lines) or a CSV row, whose columns of the same
name (Jira's several ``Labels``) are collected into one list — and each record becomes one
row through the subclass's ``_row``, which names the fields after the ticket contract's
roles and dimensions. A record that cannot be a ticket (not an object, a field of the
wrong shape) raises ``Malformed`` and is quarantined with its reason; missing ids, texts or
dates are left to ``read_tickets``, which quarantines them like any file's. The reader's
``mapping()`` then says which columns play which role and which are dimensions.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Iterator

import pandas as pd

from pipeline.sources.csv_reader import CsvReader
from pipeline.sources.files import FileReader
from pipeline.sources.json_records import MAX_RAW_CHARS, json_records
from pipeline.sources.protocol import RawBatch, SourceMapping, rejected_record
from pipeline.sources.roles import name_key
from pipeline.schemas import multi_value_text


class Malformed(ValueError):
    """A record that cannot be a ticket; its message is the quarantine reason."""


class HelpdeskReader(FileReader):
    """A helpdesk's ticket export (``MappedReader`` protocol). Subclasses set ``format`` (the
    ``[input] source`` name), implement ``_row`` and declare their contract mapping."""

    extensions: ClassVar[tuple[str, ...]] = (".json", ".jsonl", ".ndjson", ".csv")
    roles: ClassVar[dict[str, str | list[str]]] = {}     # role -> the column ``_row`` names it
    dimensions: ClassVar[tuple[str, ...]] = ()
    multi_valued: ClassVar[tuple[str, ...]] = ()
    set_aside: ClassVar[dict[str, tuple[str, ...]]] = {}   # field -> values of a deleted / spam ticket
    handling: ClassVar[tuple[str, ...]] = ()      # of the dimensions: how a ticket is handled

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._columns: dict[str, None] = {}
        self._extra_dimensions: dict[str, bool] = {}     # custom fields found: name -> multi-valued

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        text = self._text(data)
        self._columns, self._extra_dimensions = {}, {}
        is_json = text.lstrip()[:1] in ("{", "[")
        self.details["layout"] = "json" if is_json else "csv"
        records = self._json_records(text) if is_json else self._csv_records(data)
        rows: list[dict[str, Any]] = []
        positions: list[int] = []
        rejected: list[dict[str, Any]] = []
        for position, record, raw, reason in records:
            if not reason:
                try:
                    row = self._row(record)
                except Malformed as exc:
                    reason = f"{self.format} record {position}: {exc}"
                    raw = raw or _raw(record)
                else:
                    rows.append(row)
                    positions.append(position)
                    self._columns.update(dict.fromkeys(row))
            if reason:
                rejected.append(rejected_record(raw, reason, position))
            if len(rows) >= self.batch_rows:
                yield self._batch(rows, positions, rejected)
                rows, positions, rejected = [], [], []
        if rows or rejected:
            yield self._batch(rows, positions, rejected)

    def mapping(self) -> SourceMapping:
        present = self._columns
        roles = {role: column for role, column in self.roles.items()
                 if all(c in present for c in (column if isinstance(column, list) else [column]))}
        dimensions = [d for d in self.dimensions if d in present] + list(self._extra_dimensions)
        multi = [d for d in self.multi_valued if d in present] + [
            d for d, multi in self._extra_dimensions.items() if multi]
        return SourceMapping(roles=roles, dimensions=dimensions, multi_valued=multi,
                             handling=[d for d in self.handling if d in present],
                             set_aside={c: v for c, v in self.set_aside.items() if c in present})

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def custom_field(self, row: dict[str, Any], key: Any, value: Any) -> None:
        """Put a custom field's value in ``row`` under its configured name (``[input]
        custom_fields``), else ``custom_<key>``; a list value is multi-valued."""
        key = str(key)
        name = self.settings.custom_fields.get(key) or (key if key.startswith("cf_") else f"custom_{key}")
        is_list = isinstance(value, list)
        if isinstance(value, dict):
            raise Malformed(f"custom field {key} holds an object, not a value")
        row[name] = multi_value_text(value) if is_list else value
        self._extra_dimensions[name] = self._extra_dimensions.get(name, False) or is_list

    def _json_records(self, text: str) -> Iterator[tuple[int, Any, str, str]]:
        return iter(json_records(text))

    def _csv_records(self, data: bytes) -> Iterator[tuple[int, Any, str, str]]:
        """CSV rows as dicts keyed by the header as written; a repeated column's values as a list."""
        reader = CsvReader(self.path, self.settings, batch_rows=self.batch_rows)
        for batch in reader._batches(data):      # its dialect, decoding and record splitting
            self.details.update(reader.details)
            header = reader.header
            repeated = {n for n in header if header.count(n) > 1}
            for position, values in zip(batch.rows.index, batch.rows.itertuples(index=False)):
                record: dict[str, Any] = {}
                for name, value in zip(header, values):
                    value = None if pd.isna(value) else value
                    if name in repeated:
                        record.setdefault(name, [])
                        if value is not None:
                            record[name].append(value)
                    else:
                        record[name] = value
                yield int(position), record, "", ""
            for item in batch.rejected:
                yield item["source_row"], None, item["raw_line"], item["reason"]

    def _batch(self, rows: list[dict[str, Any]], positions: list[int],
               rejected: list[dict[str, Any]]) -> RawBatch:
        return RawBatch(pd.DataFrame.from_records(rows, index=pd.Index(positions, dtype="int64")), rejected)


def _raw(record: Any) -> str:
    """A rejected record as the quarantine keeps it: its JSON text, cut like an unreadable line's."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"


def field_of(record: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` the (CSV) record has, ignoring case and separators; None if none."""
    keys = {name_key(k): k for k in record}
    for name in names:
        if name_key(name) in keys:
            return record[keys[name_key(name)]]
    return None


def listed(value: Any, field: str) -> list[Any]:
    """A field that must be a list (None: empty); anything else is ``Malformed``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{field} is a JSON {type(value).__name__}, not a list")
    return value
