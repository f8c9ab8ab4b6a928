"""``html``: self-contained problem briefs that open offline, print cleanly and stay small.

One document (an overview table, then every brief, each starting a printed page), or
with ``split`` an ``index.html`` and one file per brief. Each file carries its CSS and its
charts (inline SVG, ``pipeline.reports.charts``): no script, no font, no request — its
Content-Security-Policy forbids them — so a brief is a few dozen kilobytes and can be
forwarded as it is. The template (``templates/``) is rendered by Jinja2 with autoescaping
on: no ticket text, value or curated name can inject markup.
"""

from __future__ import annotations

import textwrap

from jinja2 import Environment, PackageLoader

from pipeline.reports import lines
from pipeline.reports.charts import attributes_svg, timeline_svg
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import one_line
from pipeline.reports.text import method_lines
from pipeline.schemas import IcebergCols as I

MIME = "text/html"
QUOTE_CHARS = 600
MAX_IDS = 10_000      # ticket ids listed in a brief; the csv/xlsx reports list them all


def render(report: Report, *, split: bool = False) -> Rendered:
    page = _environment().get_template("page.html.j2")
    charts = {b.iceberg_id: _charts(report, b) for b in report.briefs}
    if not split:
        html = page.render(report=report, briefs=report.briefs, charts=charts, overview=True,
                           href=lambda b: f"#{b.iceberg_id}", title=f"Iceberg report · run {report.run_id}")
        return Rendered({"icebergs.html": html.encode("utf-8")}, MIME, text=True)
    files = {"index.html": page.render(report=report, briefs=[], charts=charts, overview=True,
                                       href=lambda b: f"{b.iceberg_id}.html",
                                       title=f"Iceberg report · run {report.run_id}").encode("utf-8")}
    for b in report.briefs:
        files[f"{b.iceberg_id}.html"] = page.render(
            report=report, briefs=[b], charts=charts, overview=False, href=None,
            title=f"{b.iceberg_id} · {one_line(b.name)}").encode("utf-8")
    return Rendered(files, MIME, text=True)


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.reports", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(pct=lines.pct, q_text=lines.q_text, figures=_figures, who_rows=_who_rows,
                       shorten=_shorten, ticket_ids=_ticket_ids, method_lines=method_lines,
                       where=_where, shown=_shown, is_true=lambda v: lines.present(v) and bool(v))
    return env


def _charts(report: Report, b: Brief) -> dict:
    onset = b.row.get(I.onset) if lines.present(b.row.get(I.onset)) else None
    return {"timeline": timeline_svg(b.timeline, onset, title=f"Tickets per {report.period_name}"),
            "attributes": attributes_svg(b.where) if len(b.where) else ""}


def _figures(b: Brief) -> list[tuple[str, str]]:
    r = b.row
    figures = [(f"{r[I.size]:,}", "tickets")]
    if lines.present(r.get(I.n_customers)):
        figures.append((f"{r[I.n_customers]:,}", "customers"))
    if lines.present(r.get(I.n_agents)):
        figures.append((f"{r[I.n_agents]:,}", f"agents, at most {r[I.max_tickets_per_agent]} each"))
    figures.append((str(r[I.onset]) if lines.present(r.get(I.onset)) else "—", "onset"))
    figures.append((_shown(r.get(I.trend)) or "—", "trend"))
    return figures


def _who_rows(b: Brief) -> list[tuple[str, str]]:
    r = b.row
    rows = [("Tickets", f"{r[I.size]:,}")]
    for column, label in ((I.n_customers, "Customers"), (I.n_repeat_customers, "Customers who wrote more than once"),
                          (I.n_accounts, "Accounts")):
        if lines.present(r.get(column)):
            rows.append((label, f"{r[column]:,}"))
    if b.segments:
        rows.append(("Customers per segment", b.segments))
    if lines.present(r.get(I.value_at_risk)):
        rows.append(("Value at risk", f"{r[I.value_at_risk]:,.0f}"))
    if lines.present(r.get(I.n_agents)):
        rows.append(("Agents", f"{r[I.n_agents]:,}; the most any one saw: {r[I.max_tickets_per_agent]:,}"))
    if b.handling:
        rows.append(("How it is handled", b.handling))
    return rows


def _where(b: Brief) -> str:
    return lines.where_line(b.where.head(2)) if b.where_is_evidence else "none significant"


def _shorten(text: str) -> str:
    return textwrap.shorten(one_line(text), QUOTE_CHARS, placeholder=" …")


def _ticket_ids(b: Brief) -> str:
    shown = ", ".join(b.ticket_ids[:MAX_IDS])
    more = len(b.ticket_ids) - MAX_IDS
    return shown + (f" … and {more:,} more (the csv and xlsx reports list every one)" if more > 0 else "")


def _shown(value) -> str:
    return str(value) if lines.present(value) else ""
