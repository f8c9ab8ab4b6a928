"""Plain-text reports of a finished run (what ``iceberg show`` prints)."""

from __future__ import annotations

import textwrap

import pandas as pd

from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store import Run


def evidence(attributes: pd.DataFrame, iceberg_id: str, *, alpha: float, n: int = 3) -> pd.DataFrame:
    """The iceberg's most over-represented attribute values that pass the FDR threshold."""
    rows = attributes[(attributes[A.iceberg_id] == iceberg_id) & (attributes[A.q_value] <= alpha)
                      & (attributes[A.lift] > 1)]
    return rows.sort_values([A.lift, A.count], ascending=False).head(n)


def icebergs_summary(run: Run, *, top: int = 10) -> str:
    manifest = run.manifest
    counts = manifest["counts"]
    alpha = manifest["config"]["profile"]["fdr_alpha"]
    icebergs = run.icebergs.sort_values(I.rank).head(top)
    attributes = run.attributes
    tickets = run.tickets.set_index(T.ticket_id)
    lines = [
        f"Run {run.run_id} ({manifest['finished_at']}): {counts['tickets']:,} tickets, "
        f"{counts['icebergs']:,} icebergs, {counts['unclustered']:,} outside any iceberg, "
        f"{counts['rows_quarantined']:,} rows quarantined.",
        "",
    ]
    for row in icebergs.itertuples(index=False):
        r = row._asdict()
        who = f"{r[I.size]:,} tickets"
        if pd.notna(r[I.n_customers]):
            who += f", {r[I.n_customers]:,} customers"
        if pd.notna(r[I.n_agents]):
            who += f", {r[I.n_agents]:,} agents (at most {r[I.max_tickets_per_agent]} each)"
        since = f"since {r[I.onset]}" if pd.notna(r[I.onset]) else "no dates"
        trend = f", {r[I.trend]}" if pd.notna(r[I.trend]) else ""
        lines.append(f"#{r[I.rank]} {r[I.iceberg_id]}  {r[I.label]}   (score {r[I.score]:.2f})")
        lines.append(f"    who:   {who}")
        lines.append(f"    when:  {since}{trend}")
        where = [f"{e[A.dimension]}={e[A.value]} ({e[A.share]:.0%} vs {e[A.baseline_share]:.0%}, "
                 f"lift {e[A.lift]:.1f}, q={e[A.q_value]:.1g})"
                 for _, e in evidence(attributes, r[I.iceberg_id], alpha=alpha).iterrows()]
        lines.append(f"    where: {'; '.join(where) if where else 'no attribute over-represented'}")
        lines.append(f"    terms: {', '.join(r[I.keywords])}")
        example = r[I.representative_ticket_ids][0] if len(r[I.representative_ticket_ids]) else None
        if example is not None and example in tickets.index:
            text = " ".join(str(tickets.at[example, T.text]).split())
            lines.append(f"    e.g.:  {textwrap.shorten(text, 110, placeholder=' …')}")
        lines.append("")
    lines.append(f"Files: {run.folder}")
    return "\n".join(lines)
