"""``md``: GitHub-flavoured Markdown that renders in GitHub, GitLab and Confluence.

One document (overview table, then every brief), or with ``split`` an ``index.md`` and one
file per brief. Every text from the run goes through ``safety.markdown_text``: one line per
cell, ``|``, backticks and every other Markdown character escaped, so ticket text cannot
break a table and ``<script>`` shows as text.
"""

from __future__ import annotations

import textwrap

from pipeline.reports import lines
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import markdown_text as md
from pipeline.reports.safety import one_line
from pipeline.reports.text import method_lines
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I

MIME = "text/markdown"
QUOTE_CHARS = 500
SPARKS = "▁▂▃▄▅▆▇█"


def render(report: Report, *, split: bool = False) -> Rendered:
    if not split:
        parts = [_overview(report, link=None)] + [_brief(report, b, level=2) for b in report.briefs]
        return Rendered({"icebergs.md": _bytes("\n\n".join(parts))}, MIME, text=True)
    files = {"index.md": _bytes(_overview(report, link=lambda b: f"{b.iceberg_id}.md"))}
    files.update({f"{b.iceberg_id}.md": _bytes(_brief(report, b, level=1)) for b in report.briefs})
    return Rendered(files, MIME, text=True)


def _overview(report: Report, link) -> str:
    out = [f"# Iceberg report: run {md(report.run_id)}", "",
           f"Tickets from {report.window}: {md(report.counts_line)}. Generated {md(report.generated_at)} "
           f"by Iceberg {md(report.version)}; every ticket text is redacted.", ""]
    if not report.briefs:
        return "\n".join(out + ["No iceberg in this report."])
    out += [_row(["Rank", "Iceberg", "Name", "Score", "Who", "Where", "What", "Onset", "Trend"]),
            "|---:|---|---|---:|---|---|---|---|---|"]
    for b in report.briefs:
        r = b.row
        iceberg = f"[{md(b.iceberg_id)}]({link(b)})" if link else md(b.iceberg_id)
        out.append(_row([str(b.rank), iceberg, md(b.name), f"{r[I.score]:.2f}", md(b.who),
                         md(lines.where_line(b.where) if b.where_is_evidence else "none significant"),
                         md(", ".join(b.terms[:5])), md(str(r[I.onset]) if lines.present(r[I.onset]) else ""),
                         md(str(r[I.trend]) if lines.present(r[I.trend]) else "")]))
    return "\n".join(out)


def _brief(report: Report, b: Brief, *, level: int) -> str:
    h = "#" * level
    out = [f"{h} {md(b.iceberg_id)}: {md(b.name)}", "",
           f"Rank {b.rank} of {report.n_icebergs} · status {md(b.status)}"
           + (f" · problem record {md(b.problem_ticket)}" if b.problem_ticket else "")
           + (f" · generated label: {md(b.label)}" if b.curated else ""), "",
           *([f"[Open {md(b.iceberg_id)} in the dashboard](<{b.url}>)", ""] if b.url else []),
           f"**Problem:** {md(b.statement)}", ""]
    if b.note:
        out += [f"**Note:** {md(b.note)}", ""]
    out += [f"*Why it ranks here:* {md(b.score)}", "", f"{h}# Who is affected", "", f"- {md(b.who)}"]
    if b.segments:
        out.append(f"- Segments: {md(b.segments)}")
    if b.handling:
        out.append(f"- How it is handled: {md(b.handling)}")
    out += ["", f"{h}# When", "", f"- {md(b.when.capitalize())}"]
    if b.events:
        out.append(f"- Events near the onset: {md(b.events)}")
    if len(b.timeline):
        counts = [int(c) for c in b.timeline["count"]]
        out.append(f"- Tickets per {report.period_name} from {b.timeline['period_start'].iloc[0]}: "
                   f"`{_sparkline(counts)}` ({' '.join(map(str, counts))})")
    out += ["", f"{h}# Where else", ""]
    if not b.where_is_evidence:
        out += ["No value is significantly over-represented; the most over-represented are:", ""]
    if len(b.where):
        out += [_row(["Dimension", "Value", "Share", "Baseline", "Lift", "q", "Topical"]),
                "|---|---|---:|---:|---:|---:|---|"]
        out += [_row([md(e[A.dimension]), md(e[A.value]), lines.pct(e[A.share]), lines.pct(e[A.baseline_share]),
                      f"{e[A.lift]:.1f}", lines.q_text(e[A.q_value]), "yes" if e.get(A.topical) else ""])
                for e in b.where.to_dict(orient="records")]
    else:
        out.append("No attribute over-represented.")
    if b.combination:
        out += ["", f"Top combination: {md(b.combination)}"]
    out += ["", f"{h}# What caused it", ""]
    out += [f"- {md(cause)}" for cause in b.causes] or ["- No attribute value counts as evidence."]
    out += [f"- Distinctive terms: {md(', '.join(b.terms))}"] + ([f"- Theme: {md(b.theme)}"] if b.theme else [])
    out += ["", f"{h}# Representative tickets", ""]
    for q in b.quotes:
        when = f"{q.created_at:%Y-%m-%d}" if q.created_at is not None else "no date"
        who = f", customer {md(q.customer_id)}" if q.customer_id else ""
        text = textwrap.shorten(one_line(q.text), QUOTE_CHARS, placeholder=" …")
        out += [f"> **{md(q.ticket_id)}** ({when}{who}): {md(text)}", ""]
    out += [f"{h}# Tickets ({len(b.ticket_ids):,})", "", md(", ".join(b.ticket_ids)), "",
            f"{h}# How it was computed", ""]
    out += [f"- {md(line)}" for line in method_lines(report)]
    return "\n".join(out)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _sparkline(counts: list[int]) -> str:
    peak = max(max(counts), 1)
    return "".join(SPARKS[min(int(c / peak * (len(SPARKS) - 1) + 0.5), len(SPARKS) - 1)] for c in counts)


def _bytes(text: str) -> bytes:
    return (text.rstrip("\n") + "\n").encode("utf-8")
