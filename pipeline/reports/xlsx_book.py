"""``xlsx``: one formatted sheet per table (Overview, Evidence, Timeline, Tickets) and *About*.

Written with XlsxWriter with ``strings_to_formulas``, ``strings_to_urls`` and
``strings_to_numbers`` off — a text is always written as a string cell, never guessed
into a formula, link or number — and ``constant_memory`` on, so a sheet of 100,000
tickets streams row by row. Numbers and dates are real Excel numbers and dates, with
formats (shares as percentages, q-values in scientific notation); each sheet has a
frozen header, an autofilter and column widths. Text that would start like a formula is
marked with Excel's quote prefix (``safety`` module docstring); control characters that
Excel forbids are removed and a cell over 32,767 characters is cut and marked.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import pandas as pd
import xlsxwriter

from pipeline.reports import lines
from pipeline.reports.model import Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import starts_like_formula, xlsx_text
from pipeline.reports.tables import COLUMNS, column_meaning, plain_value, report_tables

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
           "constant_memory": True}
EXCEL_MAX_ROWS = 1_048_576
_NUMBER_FORMATS = {"share": "0.0%", "baseline_share": "0.0%", "lift": "0.00", "score": "0.00",
                   "p_value": "0.00E+00", "q_value": "0.00E+00", "membership": "0.000",
                   "value_at_risk": "#,##0", "score_reach": "0.00", "score_concentration": "0.00",
                   "score_emergence": "0", "score_fragmentation": "0.00"}
_WIDE = {"text": 100, "where": 70, "who": 50, "what": 45, "name": 40, "label": 32}


def render(report: Report, *, split: bool = False) -> Rendered:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, OPTIONS)
    styles = _Styles(book)
    notes = []
    for name, table in report_tables(report).items():
        if len(table) >= EXCEL_MAX_ROWS:
            notes.append(f"The {name} sheet holds the first {EXCEL_MAX_ROWS - 1:,} of {len(table):,} rows "
                         "(Excel's limit); the csv format has them all.")
            table = table.head(EXCEL_MAX_ROWS - 1)
        _write_table(book.add_worksheet(name.capitalize()), table, styles)
    _write_about(book.add_worksheet("About"), report, styles, notes)
    book.close()
    return Rendered({"icebergs.xlsx": buffer.getvalue()}, MIME, text=False)


class _Styles:
    def __init__(self, book):
        self.header = book.add_format({"bold": True, "bg_color": "#dde5f0", "border": 1, "text_wrap": True,
                                       "valign": "top"})
        self.text = book.add_format({"valign": "top"})
        self.quoted = book.add_format({"valign": "top", "quote_prefix": True})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True, "valign": "top"})
        self.numbers = {column: book.add_format({"num_format": fmt, "valign": "top"})
                        for column, fmt in _NUMBER_FORMATS.items()}
        self.number = book.add_format({"valign": "top"})


def _write_table(sheet, table: pd.DataFrame, styles: _Styles) -> None:
    columns = [str(c) for c in table.columns]
    for j, column in enumerate(columns):
        sheet.set_column(j, j, _width(column, table[column]))
    for j, column in enumerate(columns):
        _write(sheet, 0, j, column, styles, None, header=True)
    for i, row in enumerate(table.itertuples(index=False, name=None), start=1):
        for j, value in enumerate(row):
            _write(sheet, i, j, value, styles, columns[j])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(table), 1), max(len(columns) - 1, 0))


def _write(sheet, i: int, j: int, value, styles: _Styles, column: str | None, *, header: bool = False):
    value = plain_value(value)
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(i, j, value, styles.text)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return
        sheet.write_number(i, j, value, styles.numbers.get(column, styles.number))
    elif isinstance(value, datetime):
        sheet.write_datetime(i, j, value.replace(tzinfo=None), styles.datetime)
    elif isinstance(value, date):
        sheet.write_datetime(i, j, datetime(value.year, value.month, value.day), styles.date)
    else:
        text = xlsx_text(str(value))
        style = styles.header if header else (styles.quoted if starts_like_formula(text) else styles.text)
        sheet.write_string(i, j, text, style)


def _write_about(sheet, report: Report, styles: _Styles, notes: list[str]) -> None:
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 110)
    rows: list[tuple[str, object]] = [
        ("Iceberg report", None),
        ("", "Recurring problems found in support tickets, with where they happen, what points at "
             "a cause, and who is affected."),
        ("run id", report.run_id), ("finished at", report.finished_at), ("data window", report.window),
        ("counts", report.counts_line), ("embedding model", report.model),
        ("generated at", report.generated_at), ("Iceberg version", report.version),
    ]
    rows += [(f"setting {key}", str(value)) for key, value in report.settings.items()]
    rows += [(f"input {i + 1}", f"{item.get('path')} ({item.get('rows')} rows, sha256 {item.get('sha256')})")
             for i, item in enumerate(report.manifest.get("inputs", []))]
    rows += [("", None), ("Definitions", None), ("score", lines.SCORE_FORMULA), ("lift", lines.LIFT_MEANS),
             ("q", lines.Q_MEANS),
             ("evidence", f"a value counts as evidence when q ≤ {report.settings['profile.fdr_alpha']}, lift > 1, "
                          f"and at least {report.settings['profile.min_evidence_count']} of the iceberg's tickets "
                          f"({report.settings['profile.min_evidence_share']:.0%}) in its window carry it"),
             ("text cells", "ticket text is cleaned and redacted; a text starting with = + - @ is stored "
                            "as text with Excel's quote prefix; text over 32,767 characters is cut and marked")]
    rows += [("note", note) for note in notes]
    rows += [("", None), ("Columns", None)]
    for table, columns in COLUMNS.items():
        rows += [(f"{table.capitalize()}: {column}", column_meaning(table, column)) for column in columns]
    for i, (key, value) in enumerate(rows):
        heading = value is None and key
        if key:
            sheet.write_string(i, 0, xlsx_text(key), styles.title if i == 0 else
                               (styles.bold if heading else styles.text))
        if value is not None:
            _write(sheet, i, 1, value, styles, None)


def _width(column: str, values: pd.Series) -> float:
    if column in _WIDE:
        return _WIDE[column]
    sample = values.head(200).map(lambda v: len(str(v)) if lines.present(v) else 0)
    longest = max([len(column), *sample.tolist()]) if len(sample) else len(column)
    return min(max(longest + 2, 8), 40)

