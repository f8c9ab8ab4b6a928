"""``CsvReader``: a delimited text export (CSV, TSV, semicolon- or pipe-separated)."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

import clevercsv

from pipeline.errors import InputError
from pipeline.sources.decode import decoded_text
from pipeline.sources.files import FileReader, text_frame
from pipeline.sources.protocol import RawBatch, rejected_record, unique_names

CSV_DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 32_768


class CsvReader(FileReader):
    format = "csv"
    extensions = (".csv", ".tsv")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        text, encoding = decoded_text(data, self.settings.encoding, self.name)
        self.details["encoding"] = encoding
        if not text.strip():
            raise InputError(f"{self.name} is empty; export at least one ticket, with a header row")
        # A narrative field can exceed the csv module's default 128 KiB limit.
        csv.field_size_limit(2**31 - 1)
        fmt = csv_format(text, self.settings.delimiter)
        self.details["dialect"] = {"delimiter": fmt["delimiter"], "quotechar": fmt["quotechar"],
                                   "escapechar": fmt.get("escapechar")}
        records = (r for r in csv.reader(io.StringIO(text), **fmt) if r)
        names = unique_names(next(records))
        rows: list[list[str | None]] = []
        positions: list[int] = []
        rejected: list[dict[str, Any]] = []
        read = number = 0
        try:
            for number, record in enumerate(records, start=1):
                read += 1
                if len(record) > len(names) and any(v.strip() for v in record[len(names):]):
                    rejected.append(rejected_record(fmt["delimiter"].join(record),
                                                    f"expected {len(names)} fields, found {len(record)}",
                                                    number))
                    continue
                rows.append(record[:len(names)] + [None] * (len(names) - len(record)))
                positions.append(number)
                if len(rows) >= self.batch_rows:
                    yield RawBatch(text_frame(rows, positions, names), rejected)
                    rows, positions, rejected = [], [], []
        except csv.Error as exc:
            raise InputError(f"{self.name}: cannot split data row {number + 1} into fields ({exc}); "
                             "check its quoting, or set [input] delimiter") from exc
        if not read:
            raise InputError(f"{self.name} has a header but no data rows; export at least one ticket")
        if rows or rejected:
            yield RawBatch(text_frame(rows, positions, names), rejected)


def csv_format(text: str, delimiter: str) -> dict[str, Any]:
    """csv.reader keyword arguments: the configured delimiter, else clevercsv's sniffed dialect."""
    if delimiter != "auto":
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        if len(delimiter) != 1:
            raise InputError(f"[input] delimiter must be one character, \"tab\" or \"auto\"; "
                             f"got {delimiter!r}")
        return {"delimiter": delimiter, "quotechar": '"'}
    header = text.split("\n", 1)[0]
    candidates = [d for d in CSV_DELIMITERS if d in header]
    if not candidates:      # a single column; no character will split it
        return {"delimiter": "\x1f", "quotechar": '"'}
    sample = text[:SNIFF_CHARS].rsplit("\n", 1)[0] if len(text) > SNIFF_CHARS else text
    dialect = clevercsv.Sniffer().sniff(sample, delimiters=candidates)
    if dialect is None or dialect.delimiter not in candidates:
        return {"delimiter": max(candidates, key=header.count), "quotechar": '"'}
    return {"delimiter": dialect.delimiter, "quotechar": dialect.quotechar or '"',
            "escapechar": dialect.escapechar or None}
