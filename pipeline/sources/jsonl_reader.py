"""``JsonlReader``: one JSON object per line (JSON Lines, NDJSON)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pandas as pd

from pipeline.errors import InputError
from pipeline.sources.decode import decoded_text
from pipeline.sources.files import FileReader
from pipeline.sources.protocol import RawBatch, rejected_record


class JsonlReader(FileReader):
    format = "jsonl"
    extensions = (".jsonl", ".ndjson")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        text, encoding = decoded_text(data, self.settings.encoding, self.name)
        self.details["encoding"] = encoding
        if not text.strip():
            raise InputError(f"{self.name} is empty; export at least one ticket, with a header row")
        records: list[dict[str, Any]] = []
        numbers: list[int] = []
        rejected: list[dict[str, Any]] = []
        # Split on "\n" only: str.splitlines would also break at U+2028 inside a JSON string.
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})"
            else:
                if isinstance(record, dict):
                    records.append({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                                    for k, v in record.items()})
                    numbers.append(number)
                    if len(records) >= self.batch_rows:
                        yield _batch(records, numbers, rejected)
                        records, numbers, rejected = [], [], []
                    continue
                reason = f"line {number} is a JSON {type(record).__name__}, not an object"
            rejected.append(rejected_record(line, reason, number))
        if records or rejected:
            yield _batch(records, numbers, rejected)


def _batch(records: list[dict[str, Any]], numbers: list[int], rejected: list[dict[str, Any]]) -> RawBatch:
    return RawBatch(pd.DataFrame.from_records(records, index=pd.Index(numbers, dtype="int64")), rejected)
