"""CSV text into records, honestly: every physical line ends up in exactly one record or one rejected record.

The csv module reads a quoted field across lines, which is right for a multi-line body and
wrong after an unclosed quote: there it swallows the following rows into one field, until
some later quote closes it. So a record spanning several lines is not trusted when it
comes out with the wrong number of fields, when its quote is still open at the end of the
file, or when its quote closes in the middle of a field (not RFC 4180) while some of its
lines read as rows of their own (``17,I just got a card…``, beginning like the rows do).
When the lines after its first one read as rows on their own, only that first line is
rejected (an unclosed quote) and reading resumes on the next line; otherwise the whole
span is rejected as one record. Either way nothing is merged silently and ``rows_read``
counts what the file holds. A well-formed multi-line field (RFC 4180 quoting) is never
suspected unless its field count is wrong.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Any, Iterator

LINE_BREAK = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
BARE_CR = re.compile(r"\r(?!\n)")
# A multi-line record is taken for rows merged by an unclosed quote when its quote closes
# in the middle of a field and at least this share of its lines read as rows of their own.
MERGED_SHARE = 0.25


@dataclass(frozen=True)
class Record:
    first_line: int                # 1-based physical line numbers, inclusive
    last_line: int
    fields: list[str] | None       # None: rejected
    reason: str = ""
    raw: str = ""                  # the lines as found, for a rejected record
    strict: bool = True            # read with strict RFC 4180 quoting


def physical_lines(text: str) -> list[str]:
    """``text`` split after each line break, breaks kept: ``\\n`` and ``\\r\\n``; ``\\r`` alone
    only in a file that has no ``\\n`` at all (old Mac line endings)."""
    if "\n" in text:
        lines = text.split("\n")
        lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    else:
        lines = [p for p in LINE_BREAK.split(text) if p]
    return lines


def without_bare_cr(lines: list[str]) -> tuple[list[str], str | None]:
    """``lines`` with each carriage return that is not a line break (in a file whose lines end
    in ``\n``, a ``\r`` not before ``\n``: writers leave it unquoted) replaced by a character
    the text does not hold, which the csv module takes as data; and that character."""
    text = "".join(lines)
    if "\r" not in text or not BARE_CR.search(text):
        return lines, None
    stand_in = next(c for c in map(chr, range(0xE000, 0xF900)) if c not in text)
    return [BARE_CR.sub(stand_in, line) for line in lines], stand_in


def records(lines: list[str], fmt: dict[str, Any], n_fields: int | None = None,
            start: int = 0) -> Iterator[Record]:
    """Every record of ``lines[start:]`` (blank lines skipped); see the module docstring.

    ``n_fields`` is the header's field count; None reads the first record as the header.
    """
    last_first = None              # the first field of the last record trusted
    while start < len(lines):
        resume = None
        for record in _plain_records(lines, fmt, start):
            if record.fields is not None and n_fields is None:
                n_fields = len(record.fields)
            suspect = _suspect(record, lines, fmt, n_fields, last_first)
            if suspect:
                if _reads_alone(lines, fmt, n_fields, record, last_first):
                    yield Record(record.first_line, record.first_line, None,
                                 f"unclosed quote on line {record.first_line}",
                                 lines[record.first_line - 1])
                    resume = record.first_line          # 0-based index of the next line
                else:
                    yield Record(record.first_line, record.last_line, None, suspect,
                                 "".join(lines[record.first_line - 1:record.last_line]))
                    resume = record.last_line
                break
            if record.fields:
                last_first = record.fields[0]
            yield record
        if resume is None:
            return
        start = resume


def _plain_records(lines: list[str], fmt: dict[str, Any], start: int) -> Iterator[Record]:
    """The csv module's records from ``lines[start]`` on. Each is read with strict RFC 4180
    quoting; one that is not (a quote closing in the middle of a field) is read leniently, as
    the csv module otherwise would, and marked ``strict=False``. A line it cannot split at all
    is rejected alone, and reading goes on after it."""
    while start < len(lines):
        reader = csv.reader(iter(lines[start:]), strict=True, **fmt)
        done = 0                                   # lines consumed by this reader so far
        try:
            for fields in reader:
                first, done = start + done + 1, reader.line_num
                if fields:
                    yield Record(first, start + done, fields)
            return
        except csv.Error:
            first = start + done + 1
        lenient = csv.reader(iter(lines[first - 1:]), **fmt)
        try:
            fields = next(lenient, None)
        except csv.Error as exc:
            problem = ("a carriage return inside an unquoted field" if "new-line character" in str(exc)
                       else str(exc))
            yield Record(first, first, None, f"line {first} cannot be split into fields ({problem})",
                         lines[first - 1])
            start = first
            continue
        if fields is None:
            return
        start = first - 1 + lenient.line_num
        if fields:
            yield Record(first, start, fields, strict=False)


def _suspect(record: Record, lines: list[str], fmt: dict[str, Any], n_fields: int | None,
             last_first: str | None) -> str:
    """Why a multi-line record (or the file's last one) may hold rows it should not; "" when fine."""
    if record.fields is None or n_fields is None:
        return ""
    span = lines[record.first_line - 1:record.last_line]
    where = f"lines {record.first_line}-{record.last_line}"
    if record.last_line == len(lines) and _open_quote(span, fmt):
        return f"unclosed quote on line {record.first_line}: the quoted field runs to the end of the file"
    if len(span) == 1:
        return ""
    if len(record.fields) != n_fields:
        return (f"{where} read as one record of {len(record.fields)} fields, expected {n_fields} "
                "(a quote not closed?)")
    if record.strict:
        return ""
    shape = _shape(last_first if last_first is not None else record.fields[0])
    rowlike = sum(_looks_like_row(line, fmt, n_fields, shape) for line in span[1:])
    if rowlike and rowlike >= MERGED_SHARE * (len(span) - 1):
        return (f"{where} read as one record, but {rowlike} of its lines read as rows of their own "
                "(a quote not closed?)")
    return ""


def _reads_alone(lines: list[str], fmt: dict[str, Any], n_fields: int | None, record: Record,
                 last_first: str | None) -> bool:
    """Whether the lines after ``record``'s first one, up to its last, read as rows on their
    own — none of them suspect, most with ``n_fields`` fields — so the first line's quote
    was the mistake."""
    if record.last_line == record.first_line:
        return False
    fitting = total = 0
    for other in _plain_records(lines, fmt, record.first_line):
        if other.fields is None or _suspect(other, lines, fmt, n_fields, last_first):
            return False
        total += 1
        fitting += len(other.fields) == n_fields
        if other.last_line >= record.last_line:
            break
    return fitting >= total / 2


def _looks_like_row(line: str, fmt: dict[str, Any], n_fields: int, shape: str) -> bool:
    """A line that, read alone, has a row's fields and begins like the rows do (``17,…``)."""
    try:
        fields = next(csv.reader([line], **fmt), [])
    except csv.Error:
        return False
    return len(fields) == n_fields and _shape(fields[0]) == shape


def _shape(value: str) -> str:
    """``T123`` -> ``a9``, ``2024-01-05`` -> ``9-9-9``: what a column's values have in common."""
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "9", value.strip()))


def _open_quote(lines: list[str], fmt: dict[str, Any]) -> bool:
    """Whether a quoted field is still open at the end of ``lines`` (read from a record's start)."""
    quote, delimiter, escape = fmt.get("quotechar", '"'), fmt["delimiter"], fmt.get("escapechar")
    text = "".join(lines)
    inside, field_start, i = False, True, 0
    while i < len(text):
        char = text[i]
        if inside:
            if escape and char == escape:
                i += 1
            elif char == quote:
                if text[i + 1:i + 2] == quote:
                    i += 1
                else:
                    inside = False
        elif char == quote and field_start:
            inside = True
        field_start = not inside and char in (delimiter, "\n", "\r")
        i += 1
    return inside
