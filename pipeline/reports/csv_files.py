"""``csv``: one tidy table per file — overview, evidence, timeline, tickets — UTF-8 with a BOM.

The BOM makes Excel read the files as UTF-8. Every text cell that would start like a
formula gets a leading ``'`` and cells are cut at Excel's 32,767 characters
(``safety.spreadsheet_value``); numbers are written as numbers, dates as ISO dates and
times as ``YYYY-MM-DD HH:MM:SS`` in UTC.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from pipeline.reports.model import Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import spreadsheet_value
from pipeline.reports.tables import plain_value, report_tables

MIME = "text/csv"


def csv_bytes(table: pd.DataFrame) -> bytes:
    """``table`` as CSV for Excel: BOM, header, every cell made safe, all text quoted."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([spreadsheet_value(str(c)) for c in table.columns])
    for row in table.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render(report: Report, *, split: bool = False) -> Rendered:
    files = {f"{name}.csv": csv_bytes(table) for name, table in report_tables(report).items()}
    return Rendered(files, MIME, text=False)


def _cell(value):
    value = spreadsheet_value(plain_value(value))
    # QUOTE_NONNUMERIC quotes every str: numbers stay numbers; booleans read as Excel's.
    return ("TRUE" if value else "FALSE") if isinstance(value, bool) else value

