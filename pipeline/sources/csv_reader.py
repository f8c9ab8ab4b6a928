"""``CsvReader``: a delimited text export (CSV, TSV, semicolon- or pipe-separated).

The dialect is the standard one (RFC 4180: ``"`` quotes, doubled inside a field) with the
delimiter the header uses, whenever that reads the file consistently — every record with
the header's number of fields. Only when it does not is clevercsv's sniffed dialect tried,
and taken only if it reads the file more consistently. Records are split by
``pipeline.sources.csv_records``, which never lets an unclosed quote merge rows.
"""

from __future__ import annotations

import csv
import dataclasses
from typing import Any, Iterator

import clevercsv

from pipeline.errors import InputError
from pipeline.sources.csv_records import Record, physical_lines, records, without_bare_cr
from pipeline.sources.decode import decoded_text
from pipeline.sources.files import FileReader, text_frame
from pipeline.sources.protocol import RawBatch, rejected_record, unique_names

CSV_DELIMITERS = (",", ";", "\t", "|")
SINGLE_COLUMN = "\x1f"     # a delimiter no export uses: a file with one column
SNIFF_CHARS = 32_768
DOS_END_OF_FILE = "\x1a"


class CsvReader(FileReader):
    format = "csv"
    extensions = (".csv", ".tsv")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        decoded = decoded_text(data, self.settings.encoding, self.name)
        self.details["encoding"] = decoded.encoding
        text = decoded.text.removesuffix(DOS_END_OF_FILE)
        if not text.strip():
            raise InputError(f"{self.name} is empty; export at least one ticket, with a header row")
        # A narrative field can exceed the csv module's default 128 KiB limit.
        csv.field_size_limit(2**31 - 1)
        lines, stand_in = without_bare_cr(physical_lines(text)) if "\n" in text else (physical_lines(text), None)
        fmt, chosen, found = _dialect(lines, self.settings.delimiter, self.name)
        self.details["dialect"] = {"delimiter": fmt["delimiter"], "quotechar": fmt["quotechar"],
                                   "escapechar": fmt.get("escapechar"), "chosen": chosen}
        header = next((r for r in found if r.fields is not None), None)
        if not found or header is not found[0]:
            raise InputError(f"{self.name}: the header (line 1) cannot be split into column names "
                             f"({found[0].reason if found else 'no fields'}); fix the first line")
        written = _restored(header, stand_in).fields if stand_in else header.fields
        self.header = [name.strip() for name in written]     # as written, repeats and all
        names = unique_names(written)
        rows: list[list[str | None]] = []
        positions: list[int] = []
        rejected: list[dict[str, Any]] = []
        fallback_rows = 0
        for number, record in enumerate(found[1:], start=1):
            if stand_in:
                record = _restored(record, stand_in)
            if decoded.fallback_lines and any(n in decoded.fallback_lines
                                              for n in range(record.first_line, record.last_line + 1)):
                fallback_rows += 1
            reason = _rejection(record, len(names))
            if reason:
                raw = record.raw or fmt["delimiter"].join(record.fields or [])
                rejected.append(rejected_record(raw.replace("\x00", "\ufffd"), reason, number))
                continue
            rows.append(record.fields[:len(names)] + [None] * (len(names) - len(record.fields)))
            positions.append(number)
            if len(rows) >= self.batch_rows:
                yield RawBatch(text_frame(rows, positions, names), rejected)
                rows, positions, rejected = [], [], []
        if len(found) < 2:
            raise InputError(f"{self.name} has a header but no data rows; export at least one ticket")
        if decoded.fallback:
            self.details["decoded_by_fallback"] = {"encoding": decoded.fallback, "rows": fallback_rows}
        if rows or rejected:
            yield RawBatch(text_frame(rows, positions, names), rejected)


def _restored(record: Record, stand_in: str) -> Record:
    """``record`` with the bare carriage returns ``without_bare_cr`` replaced put back."""
    fields = None if record.fields is None else [f.replace(stand_in, "\r") for f in record.fields]
    return dataclasses.replace(record, fields=fields, raw=record.raw.replace(stand_in, "\r"))


def _rejection(record: Record, n_fields: int) -> str:
    """Why a record is not a row: unreadable, or fields beyond the header's; "" when fine.
    (A NUL byte inside a field is no reason: ``read_tickets`` removes and counts it.)"""
    if record.fields is None:
        return record.reason
    if len(record.fields) > n_fields and any(v.strip() for v in record.fields[n_fields:]):
        return f"expected {n_fields} fields, found {len(record.fields)}"
    return ""


def _dialect(lines: list[str], delimiter: str, name: str) -> tuple[dict[str, Any], str, list[Record]]:
    """csv.reader keyword arguments, how they were chosen, and the records they read."""
    header = lines[0]
    if delimiter != "auto":
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        if len(delimiter) != 1:
            raise InputError(f"[input] delimiter must be one character, \"tab\" or \"auto\"; "
                             f"got {delimiter!r}")
        fmt = _standard(delimiter)
        found = list(records(lines, fmt))
        others = [d for d in CSV_DELIMITERS if d != delimiter and d in header]
        if found and found[0].fields is not None and len(found[0].fields) == 1 and others:
            raise InputError(f"{name}: with [input] delimiter {delimiter!r} the header is one column, "
                             f"but it holds {others[0]!r}; set [input] delimiter to {others[0]!r} "
                             "or to \"auto\"")
        return fmt, "configured", found
    candidates = [d for d in CSV_DELIMITERS if d in header]
    if not candidates:
        fmt = _standard(SINGLE_COLUMN)
        return fmt, "single column", list(records(lines, fmt))
    best: tuple[tuple[int, int], dict[str, Any], list[Record]] | None = None
    for candidate in candidates:
        fmt = _standard(candidate)
        found = list(records(lines, fmt))
        score = _misfits(found)
        if best is None or score < best[0]:
            best = (score, fmt, found)
    if best[0][0] == 0:
        return best[1], "standard", best[2]
    sniffed = _sniffed(lines, candidates)
    if sniffed is not None and sniffed != best[1]:
        found = list(records(lines, sniffed))
        if _misfits(found) < best[0]:
            return sniffed, "sniffed", found
    return best[1], "standard", best[2]


def _misfits(found: list[Record]) -> tuple[int, int]:
    """(records that are rejected or lack the header's field count, minus the header's fields)."""
    head = next((r for r in found if r.fields is not None), None)
    if head is None:
        return len(found), 0
    n = len(head.fields)
    bad = sum(1 for r in found if r.fields is None or len(r.fields) != n)
    # One field is not a split: a delimiter seen in the header only inside quotes.
    return (bad if n > 1 else len(found)), -n


def _standard(delimiter: str) -> dict[str, Any]:
    return {"delimiter": delimiter, "quotechar": '"', "doublequote": True}


def _sniffed(lines: list[str], candidates: list[str]) -> dict[str, Any] | None:
    sample = "".join(lines)[:SNIFF_CHARS]
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample.rsplit("\n", 1)[0]
    try:
        dialect = clevercsv.Sniffer().sniff(sample, delimiters=candidates)
    except (clevercsv.exceptions.Error, csv.Error, ValueError):
        return None
    if dialect is None or dialect.delimiter not in candidates:
        return None
    fmt = {"delimiter": dialect.delimiter, "quotechar": dialect.quotechar or '"', "doublequote": True}
    if dialect.escapechar:
        fmt["escapechar"] = dialect.escapechar
    return fmt
