"""Plain-text reports of a finished run (what ``iceberg show`` prints)."""

from __future__ import annotations

import textwrap

import pandas as pd

from pipeline.schemas import SEGMENT_CUSTOMERS
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store.reader import Run


def icebergs_summary(run: Run, *, top: int = 10) -> str:
    manifest = run.manifest
    counts = manifest.counts
    ranked = run.icebergs.sort_values(I.rank)
    boilerplate = (ranked[I.boilerplate].fillna(False).astype(bool) if I.boilerplate in ranked.columns
                   else pd.Series(False, index=ranked.index))
    icebergs = ranked[~boilerplate].head(top)
    evidence = run.evidence(n=3)
    tickets = run.tickets.set_index(T.ticket_id)
    lines = [
        f"Run {run.run_id} ({manifest.finished_at}): {counts.tickets:,} tickets, "
        f"{counts.icebergs:,} icebergs, {counts.unclustered:,} outside any iceberg, "
        f"{counts.rows_quarantined:,} rows quarantined.",
        "",
    ]
    for row in icebergs.itertuples(index=False):
        r = row._asdict()
        who = f"{r[I.size]:,} tickets"
        if pd.notna(r[I.n_customers]):
            who += f", {r[I.n_customers]:,} customers"
        if pd.notna(r.get(I.n_accounts)):
            who += f", {r[I.n_accounts]:,} accounts"
        if pd.notna(r[I.n_agents]):
            who += f", {r[I.n_agents]:,} agents (at most {r[I.max_tickets_per_agent]} each)"
        if pd.notna(r.get(I.value_at_risk)):
            who += f"; value at risk {r[I.value_at_risk]:,.0f}"
        since = f"since {r[I.onset]}" if pd.notna(r[I.onset]) else "no dates"
        trend = f", {r[I.trend]}" if pd.notna(r[I.trend]) else ""
        lines.append(f"#{r[I.rank]} {r[I.iceberg_id]}  {r[I.label]}   (score {r[I.score]:.2f})")
        lines.append(f"    who:   {who}")
        segments = r.get(I.segments)
        if segments is not None and len(segments):
            lines.append(f"    segments: {segment_breakdown(segments)}")
        lines.append(f"    when:  {since}{trend}")
        where = [f"{e[A.dimension]}={e[A.value]} ({e[A.share]:.0%} vs {e[A.baseline_share]:.0%}, "
                 f"lift {e[A.lift]:.1f}, q={e[A.q_value]:.1g})"
                 for _, e in evidence[evidence[A.iceberg_id] == r[I.iceberg_id]].iterrows()]
        lines.append(f"    where: {'; '.join(where) if where else 'no attribute over-represented'}")
        events = r.get(I.onset_events)
        if events is not None and len(events):
            flag = r.get(I.event_concentrated)
            concentrated = " (concentrated in an event's value)" if pd.notna(flag) and flag else ""
            lines.append(f"    events: {'; '.join(events)}{concentrated}")
        lines.append(f"    terms: {', '.join(r[I.keywords])}")
        example = r[I.representative_ticket_ids][0] if len(r[I.representative_ticket_ids]) else None
        if example is not None and example in tickets.index:
            text = " ".join(str(tickets.at[example, T.text]).split())
            lines.append(f"    e.g.:  {textwrap.shorten(text, 110, placeholder=' …')}")
        lines.append("")
    if boilerplate.any():
        skipped = ranked[boilerplate]
        names = ", ".join(f"{i} ({label})" for i, label in zip(skipped[I.iceberg_id], skipped[I.label]))
        lines.append(f"Not shown: {len(skipped):,} boilerplate iceberg(s), courtesy without a "
                     f"problem (thanks, greetings, auto-replies): {names}")
        lines.append("")
    lines.append(f"Files: {run.folder}")
    return "\n".join(lines)


def segment_breakdown(segments) -> str:
    """``segments`` (``IcebergCols.segments``) as text: "enterprise 12 · smb 30"."""
    return " · ".join(f"{s[T.segment]} {s[SEGMENT_CUSTOMERS]:,}" for s in segments)
