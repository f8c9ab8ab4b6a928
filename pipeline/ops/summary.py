"""Plain-text reports of a finished run (what ``iceberg show`` prints).

``icebergs_summary``: the top icebergs, each with why it ranks where it does (its score
components, what pushed it up) and its curated name and status when people gave one;
``iceberg_detail``: one iceberg in full, the text form of its problem brief
(``pipeline.reports``), and optionally its tickets.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from pipeline.reports import lines
from pipeline.reports.lines import segment_breakdown
from pipeline.reports.safety import one_line
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store.curation import CurationCols as CU
from pipeline.store.reader import Run


def icebergs_summary(run: Run, *, top: int = 10) -> str:
    manifest = run.manifest
    counts = manifest.counts
    # Runs built in memory (tests, notebooks) have no curation to fold in.
    icebergs = run.curated_icebergs() if hasattr(run, "curated_icebergs") else run.icebergs
    ranked = icebergs.sort_values(I.rank)
    boilerplate = (ranked[I.boilerplate].fillna(False).astype(bool) if I.boilerplate in ranked.columns
                   else pd.Series(False, index=ranked.index))
    shown = ranked[~boilerplate].head(top)
    evidence = run.evidence()
    tickets = run.tickets.set_index(T.ticket_id)
    themes = run.themes if hasattr(run, "themes") else None
    out = [
        f"Run {run.run_id} ({manifest.finished_at}): {counts.tickets:,} tickets, "
        f"{counts.icebergs:,} icebergs, {counts.unclustered:,} outside any iceberg, "
        f"{counts.rows_quarantined:,} rows quarantined.",
        "",
    ]
    for r in shown.to_dict(orient="records"):
        name = r.get(CU.name) if lines.present(r.get(CU.name)) else r[I.label]
        status = r.get(CU.status)
        flag = f"  [{status}{_ticket(r)}]" if lines.present(status) and status != "open" else ""
        out.append(f"#{r[I.rank]} {r[I.iceberg_id]}  {one_line(name)}{flag}   (score {r[I.score]:.2f})")
        if name != r[I.label]:
            out.append(f"    label: {r[I.label]}")
        own = evidence[evidence[A.iceberg_id] == r[I.iceberg_id]]
        out.append(f"    rank:  {lines.score_line(r, lines.top_value(own))}")
        out.append(f"    who:   {lines.who_line(r)}")
        segments = r.get(I.segments)
        if segments is not None and len(segments):
            out.append(f"    segments: {segment_breakdown(segments)}")
        out.append(f"    when:  {lines.when_line(r)}")
        out.append(f"    where: {lines.where_line(own.head(3))}")
        events = lines.events_line(r)
        if events:
            out.append(f"    events: {events}")
        out.append(f"    terms: {', '.join(r[I.keywords])}")
        theme = lines.theme_line(themes, r.get(I.theme_id), r[I.iceberg_id])
        if theme:
            out.append(f"    theme: {theme}")
        example = r[I.representative_ticket_ids][0] if len(r[I.representative_ticket_ids]) else None
        if example is not None and example in tickets.index:
            text = one_line(str(tickets.at[example, T.text]))
            out.append(f"    e.g.:  {textwrap.shorten(text, 110, placeholder=' …')}")
        out.append("")
    if boilerplate.any():
        skipped = ranked[boilerplate]
        names = ", ".join(f"{i} ({label})" for i, label in zip(skipped[I.iceberg_id], skipped[I.label]))
        out.append(f"Not shown: {len(skipped):,} boilerplate iceberg(s), courtesy without a "
                   f"problem (thanks, greetings, auto-replies): {names}")
        out.append("")
    out.append(f"Files: {run.folder}")
    out.append("One iceberg in full: iceberg show --iceberg ID (add --tickets for its tickets)")
    return "\n".join(out)


def iceberg_detail(run: Run, iceberg_id: str, *, tickets: bool = False) -> str:
    """One iceberg in full: its brief as text, then (``tickets``) every one of its tickets."""
    from pipeline.reports.model import report_model
    from pipeline.reports.text import brief_text, tickets_text

    report = report_model(run, [iceberg_id])
    brief = report.briefs[0]
    text = brief_text(report, brief)
    return text + ("\n\n" + tickets_text(report, brief) if tickets else "")


def _ticket(r: dict) -> str:
    ticket = r.get(CU.ticket)
    return f" {one_line(ticket)}" if lines.present(ticket) else ""
