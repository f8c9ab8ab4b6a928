"""``JsonlReader``: JSON Lines (one object per line), or a JSON array of objects.

Nested objects are flattened to dotted columns (``{"requester": {"id": 9}}`` gives
``requester.id``), so every field reaches the roles, the dimensions and redaction as an
ordinary column; lists are kept as JSON text (``["billing", "urgent"]``), never as a
dimension. A JSON document that is one object holding a single list of objects (``{"tickets":
[...]}``, as helpdesk exports write) is read as that list.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pandas as pd

from pipeline.sources.files import FileReader
from pipeline.sources.protocol import RawBatch, rejected_record

MAX_RAW_CHARS = 10_000      # of an unreadable rest of an array kept in the quarantine
WHITESPACE = re.compile(r"\s*")


class JsonlReader(FileReader):
    format = "jsonl"
    extensions = (".jsonl", ".ndjson", ".json")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        text = self._text(data)
        values = _array_items(text)
        self.details["layout"] = "lines" if values is None else "array"
        records: list[dict[str, Any]] = []
        numbers: list[int] = []
        rejected: list[dict[str, Any]] = []
        for number, value, raw, reason in (_lines(text) if values is None else values):
            if isinstance(value, dict) and not reason:
                records.append(flattened(value))
                numbers.append(number)
                if len(records) >= self.batch_rows:
                    yield _batch(records, numbers, rejected)
                    records, numbers, rejected = [], [], []
            else:
                rejected.append(rejected_record(raw, reason, number))
        if records or rejected:
            yield _batch(records, numbers, rejected)


def flattened(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``record`` with nested objects as dotted keys, lists as JSON text, ``{}`` as missing."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            for inner, inner_value in flattened(value, name + ".").items():
                flat.setdefault(inner, inner_value)
        elif isinstance(value, list):
            flat.setdefault(name, json.dumps(value, ensure_ascii=False, default=str))
        else:
            flat.setdefault(name, None if isinstance(value, dict) else value)
    return flat


def _lines(text: str) -> Iterator[tuple[int, Any, str, str]]:
    """(line number, value, raw line, reason a line is not a ticket) for each non-blank line."""
    # Split on "\n" only: str.splitlines would also break at U+2028 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, line, f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})"
            continue
        reason = "" if isinstance(value, dict) else f"line {number} is a JSON {type(value).__name__}, not an object"
        yield number, value, line, reason


def _array_items(text: str) -> Iterator[tuple[int, Any, str, str]] | None:
    """The items of a JSON array (or of an object's only list), one at a time; None when
    ``text`` is not one JSON document holding an array (JSON Lines)."""
    start = WHITESPACE.match(text).end()
    if text.startswith("{", start):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return None                       # several objects: JSON Lines
        lists = [v for v in document.values() if isinstance(v, list)] if isinstance(document, dict) else []
        if len(lists) == 1 and all(isinstance(v, dict) for v in lists[0]):
            return ((i, v, "", "") for i, v in enumerate(lists[0], start=1))
        return iter([(1, document, "", "")])
    if not text.startswith("[", start):
        return None
    return _items(text, start + 1)


def _items(text: str, position: int) -> Iterator[tuple[int, Any, str, str]]:
    decoder = json.JSONDecoder()
    number = 0
    while True:
        position = WHITESPACE.match(text, position).end()
        if text.startswith("]", position):
            return
        number += 1
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            yield number, None, _rest(text, position), (
                f"invalid JSON in array item {number}: {exc.msg} (line {exc.lineno}, column "
                f"{exc.colno}); the rest of the file could not be read")
            return
        raw = text[position:end]
        reason = "" if isinstance(value, dict) else f"array item {number} is a JSON {type(value).__name__}, not an object"
        yield number, value, raw, reason
        position = WHITESPACE.match(text, end).end()
        if text.startswith(",", position):
            position += 1
        elif not text.startswith("]", position):
            line = text.count("\n", 0, position) + 1
            yield number + 1, None, _rest(text, position), (
                f"expected ',' or ']' after array item {number} (line {line}); the rest of the file "
                "could not be read")
            return


def _rest(text: str, position: int) -> str:
    rest = text[position:]
    return rest if len(rest) <= MAX_RAW_CHARS else rest[:MAX_RAW_CHARS] + "…"


def _batch(records: list[dict[str, Any]], numbers: list[int], rejected: list[dict[str, Any]]) -> RawBatch:
    return RawBatch(pd.DataFrame.from_records(records, index=pd.Index(numbers, dtype="int64")), rejected)
