"""The brief as terminal text (``iceberg show --iceberg ID``) and an iceberg's ticket list
(``--tickets``). Plain text: control characters are removed, each ticket on one line."""

from __future__ import annotations

import textwrap
from functools import partial

import pandas as pd

from pipeline.reports import lines
from pipeline.reports.model import Brief, Report
from pipeline.reports.safety import one_line, without_controls
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import TicketCols as T

WIDTH = 100


def brief_text(report: Report, brief: Brief, *, width: int | None = WIDTH, ticket_ids: bool = True,
               method: bool = True) -> str:
    """The brief as text, wrapped at ``width`` (None: one line per statement); without the
    ticket list or the method when ``ticket_ids`` / ``method`` is False."""
    _wrapped = partial(wrapped, width=width)
    r = brief.row
    out = [f"{brief.iceberg_id}  {one_line(brief.name)}",
           f"rank {brief.rank} of {report.n_icebergs} · status {brief.status}"
           + (f" · problem record {one_line(brief.problem_ticket)}" if brief.problem_ticket else "")
           + ("" if not brief.curated else f" · generated label: {one_line(brief.label)}"),
           *([f"dashboard: {brief.url}"] if brief.url else []),
           "", *_wrapped(brief.statement)]
    if brief.note:
        out += ["", *_wrapped(f"Note: {brief.note}")]
    out += ["", "Why it ranks here", *_wrapped(brief.score, indent="  ")]
    out += ["", "Who is affected", f"  {brief.who}"]
    if lines.present(r.get("n_repeat_customers")) and r["n_repeat_customers"] > 0:
        out.append(f"  {r['n_repeat_customers']:,} customers wrote more than once")
    if brief.segments:
        out.append(f"  segments: {brief.segments}")
    if brief.handling:
        out.append(f"  handled: {brief.handling}")
    out += ["", "When", f"  {brief.when}"]
    if brief.events:
        out += _wrapped(f"events: {brief.events}", indent="  ")
    if len(brief.timeline):
        counts = " ".join(str(int(c)) for c in brief.timeline["count"])
        first = pd.Timestamp(brief.timeline["period_start"].iloc[0])
        out += _wrapped(f"tickets per {report.period_name} from {first:%Y-%m-%d}: {counts}", indent="  ")
    out += ["", "Where else" + ("" if brief.where_is_evidence else " (no value is significant; the most "
                                "over-represented)")]
    out += [f"  {lines.attribute_text(row)}" + ("  [topical]" if row.get(A.topical) else "")
            for row in brief.where.to_dict(orient="records")] or ["  no attribute over-represented"]
    if brief.combination:
        out.append(f"  top combination: {brief.combination}")
    out += ["", "What caused it"]
    for cause in brief.causes or ["No attribute value counts as evidence."]:
        out += _wrapped(f"- {cause}", indent="  ", subsequent="    ")
    out += _wrapped(f"terms: {', '.join(brief.terms)}", indent="  ")
    if brief.theme:
        out += _wrapped(f"theme: {brief.theme}", indent="  ")
    out += ["", f"Representative tickets ({len(brief.quotes)}, from different customers where known)"]
    for quote in brief.quotes:
        when = f"{quote.created_at:%Y-%m-%d}" if quote.created_at is not None else "no date"
        who = f", {quote.customer_id}" if quote.customer_id else ""
        out.append(f"  {quote.ticket_id} ({when}{who}): {textwrap.shorten(one_line(quote.text), 300, placeholder=' …')}")
    if ticket_ids:
        out += ["", f"Tickets ({len(brief.ticket_ids):,})", *_wrapped(", ".join(brief.ticket_ids), indent="  ")]
    if method:
        out += ["", "How it was computed"]
        out += [line for statement in method_lines(report) for line in _wrapped(statement, indent="  ")]
    return "\n".join(without_controls(line) for line in out)


def tickets_text(report: Report, brief: Brief) -> str:
    """One line per ticket of the iceberg: id, created, customer, membership, text."""
    tickets = report.tickets[report.tickets[T.iceberg_id] == brief.iceberg_id]
    out = [f"{brief.iceberg_id}  {one_line(brief.name)}: {len(tickets):,} tickets, oldest first"]
    for r in tickets.to_dict(orient="records"):
        created = f"{r[T.created_at]:%Y-%m-%d %H:%M}" if lines.present(r[T.created_at]) else "no date"
        customer = r.get(T.customer_id)
        customer = f"  {customer}" if lines.present(customer) else ""
        membership = f"  {r[T.membership]:.2f}" if lines.present(r[T.membership]) else ""
        out.append(f"{r[T.ticket_id]}  {created}{customer}{membership}  "
                   f"{textwrap.shorten(one_line(str(r[T.text])), 160, placeholder=' …')}")
    return "\n".join(out)


def method_lines(report: Report) -> list[str]:
    """How the brief was computed, one statement a line."""
    settings = ", ".join(f"{key} = {value}" for key, value in report.settings.items())
    return [f"run {report.run_id} (finished {report.finished_at}), tickets from {report.window}",
            f"{report.counts_line}",
            f"embedding model: {report.model}",
            f"settings: {settings}",
            lines.SCORE_FORMULA, lines.LIFT_MEANS, lines.Q_MEANS,
            f"evidence: q ≤ {report.settings['profile.fdr_alpha']}, lift > 1, at least "
            f"{report.settings['profile.min_evidence_count']} tickets and "
            f"{report.settings['profile.min_evidence_share']:.0%} of the iceberg's tickets in its window",
            f"Iceberg {report.version}, report generated {report.generated_at}"]


def wrapped(text: str, *, width: int | None, indent: str = "", subsequent: str | None = None) -> list[str]:
    if width is None:
        return [indent + one_line(text)]
    return textwrap.wrap(one_line(text), width, initial_indent=indent,
                         subsequent_indent=indent if subsequent is None else subsequent,
                         break_long_words=False, break_on_hyphens=False) or [indent]
