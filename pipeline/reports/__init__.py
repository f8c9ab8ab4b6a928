"""Reports for product managers and problem records for ops, read-only over a finished run.

Python API (what ``iceberg report`` and the dashboard's download buttons call)::

    from pipeline.store import load_run
    from pipeline.reports import render, tickets_csv, write_rendered

    run = load_run("out")
    rendered = render(run, "html")                      # the top 10 problems, one HTML file
    rendered = render(run, "xlsx", iceberg_ids=["ICE-0042"])
    rendered.files          # {"icebergs.html": b"<!doctype html>…"}: file name → bytes
    rendered.mime           # "text/html"
    name, data, mime = rendered.download()              # one file, or a ZIP of several
    write_rendered(rendered, "brief.html")              # or a folder; "-" for stdout (text formats)
    tickets_csv(run, "ICE-0042")                        # one iceberg's tickets as CSV bytes

``render(run, fmt, iceberg_ids=None, top=10, *, split=False) -> Rendered``

- ``fmt``: one of ``FORMATS``: ``csv`` (overview, evidence, timeline and tickets tables, one
  file each, UTF-8 with BOM), ``xlsx`` (one workbook: a sheet per table and *About*),
  ``md`` (GitHub-flavoured Markdown), ``html`` (self-contained briefs, inline SVG charts,
  print CSS), ``jira`` (CSV for Jira's issue importer, at most 250 rows a file),
  ``servicenow`` (JSON for the Table API: ``problem`` records and incident updates),
  ``zendesk`` (JSON: ``problem`` tickets and the ``problem_id`` updates of their incidents).
- ``iceberg_ids``: the icebergs to cover, in order (any status); default: the ``top``
  best-ranked icebergs that are neither boilerplate nor dismissed.
- ``dashboard_url``: every brief and problem record links to the iceberg's dashboard page
  (``dashboard.url``; default: the run's setting; no link when it is empty).
- ``split``: ``md`` and ``html`` only: an index plus one file per brief, instead of one
  document holding the overview and every brief.

An unknown format or iceberg id raises ``pipeline.errors.UsageError``. The report model
(``pipeline.reports.model.report_model``) is built once and every format lays it out;
only redacted text from the run and its curation appears, and every format is made
injection-safe for the program that opens it (``pipeline.reports.safety``). Nothing here
makes a network call: the import formats are files for ops to load.
"""

from __future__ import annotations

import importlib

from pipeline.errors import UsageError
from pipeline.reports.rendered import Rendered

FORMATS = {
    "csv": "csv_files", "xlsx": "xlsx_book", "md": "markdown_brief", "html": "html_brief",
    "jira": "jira_csv", "servicenow": "servicenow_json", "zendesk": "zendesk_json",
}
TEXT_FORMATS = ("md", "html", "jira", "servicenow", "zendesk")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def render(run, fmt: str, iceberg_ids: list[str] | None = None, top: int = 10, *,
           split: bool = False, dashboard_url: str | None = None) -> Rendered:
    """The report of ``run`` (a ``store.Run``) in format ``fmt`` (see the module docstring);
    each brief links to ``{dashboard_url}/?iceberg=ID&run=RUN_ID`` (None: the run's
    ``dashboard.url``; "": no links)."""
    from pipeline.reports.model import report_model

    module = importlib.import_module(f"pipeline.reports.{FORMATS[check_format(fmt)]}")
    return module.render(report_model(run, iceberg_ids, top, dashboard_url=dashboard_url), split=split)


def tickets_csv(run, iceberg_id: str) -> bytes:
    """Every ticket of one iceberg as CSV (UTF-8 with BOM, cells made safe for Excel)."""
    from pipeline.reports.csv_files import csv_bytes
    from pipeline.reports.model import report_model
    from pipeline.reports.tables import tickets_table

    return csv_bytes(tickets_table(report_model(run, [iceberg_id]), iceberg_id))


def write_rendered(rendered: Rendered, output: str, **kwargs) -> list[str]:
    """Write ``rendered`` to ``output`` (``pipeline.reports.output.write_rendered``)."""
    from pipeline.reports.output import write_rendered as write

    return write(rendered, output, **kwargs)


__all__ = ["FORMATS", "TEXT_FORMATS", "Rendered", "check_format", "render", "tickets_csv", "write_rendered"]
