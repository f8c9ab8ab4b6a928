"""``jira``: a CSV in the layout of Jira's issue importer, one Problem per iceberg.

Columns: ``Summary`` (``[Iceberg ICE-0042] …``, ≤ 255 characters), ``Issue Type``
(``Problem``), ``Priority`` (``problem`` module's rule), ``Description`` (the brief in Jira
wiki markup, ≤ 32,767 characters), ``Labels`` repeated once per label (Jira's importer
takes one label per column; labels are safe tokens without spaces), ``Iceberg ID`` and
``Linked tickets`` (the source ticket ids, comma-separated). At most 250 rows a file:
more icebergs make ``jira-problems-1.csv``, ``-2.csv``…

Values are built safe rather than escaped, because Jira stores what it imports: every
cell starts with a letter, digit or ``[`` (``safety.import_text``), ticket text sits in
``{noformat}`` blocks it cannot close, and other free text has its markup characters
backslash-escaped as wiki markup itself defines. No BOM: the importer asks for the encoding.
"""

from __future__ import annotations

import csv
import io
import textwrap

from pipeline.reports import lines, problem
from pipeline.reports.model import Brief, Report
from pipeline.reports.rendered import Rendered
from pipeline.reports.safety import import_text, one_line, wiki_literal_block
from pipeline.reports.safety import wiki_text as w
from pipeline.reports.text import method_lines
from pipeline.schemas import AttributeCols as A

MIME = "text/csv"
MAX_ROWS = 250
SUMMARY_CHARS = 255
DESCRIPTION_CHARS = 32_767
QUOTE_CHARS = 500
FIXED = ["Summary", "Issue Type", "Priority", "Description"]
TRAILING = ["Iceberg ID", "Linked tickets"]


def render(report: Report, *, split: bool = False) -> Rendered:
    rows = [_row(report, b) for b in report.briefs]
    n_labels = max((len(r["labels"]) for r in rows), default=1) or 1
    chunks = [rows[i:i + MAX_ROWS] for i in range(0, len(rows), MAX_ROWS)] or [[]]
    if len(chunks) == 1:
        return Rendered({"jira-problems.csv": _csv(chunks[0], n_labels)}, MIME, text=True)
    return Rendered({f"jira-problems-{i}.csv": _csv(chunk, n_labels) for i, chunk in enumerate(chunks, 1)},
                    MIME, text=True, numbered=True)


def header(n_labels: int) -> list[str]:
    return FIXED + ["Labels"] * n_labels + TRAILING


def _csv(rows: list[dict], n_labels: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header(n_labels))
    for r in rows:
        labels = r["labels"] + [""] * (n_labels - len(r["labels"]))
        writer.writerow([r["summary"], "Problem", r["priority"], r["description"], *labels,
                         r["iceberg_id"], r["linked"]])
    return buffer.getvalue().encode("utf-8")


def _row(report: Report, b: Brief) -> dict:
    return {"summary": problem.summary(b, SUMMARY_CHARS),
            "priority": problem.JIRA_PRIORITIES[problem.priority_level(report, b)],
            "description": description(report, b), "labels": problem.labels(b),
            "iceberg_id": b.iceberg_id, "linked": import_text(", ".join(b.ticket_ids))}


def description(report: Report, b: Brief) -> str:
    """The brief in Jira wiki markup; the ticket list is shortened to fit 32,767 characters."""
    head = _description_head(report, b)
    tail = ["", "h3. How this was computed", *[f"* {w(line)}" for line in method_lines(report)]]
    fixed = len("\n".join(head + tail)) + 200
    ids, listed = [], 0
    for ticket_id in b.ticket_ids:
        if fixed + sum(len(i) + 2 for i in ids) + len(ticket_id) > DESCRIPTION_CHARS:
            break
        ids.append(w(ticket_id))
        listed += 1
    more = f" … and {len(b.ticket_ids) - listed:,} more (see Linked tickets)" if listed < len(b.ticket_ids) else ""
    body = head + ["", f"h3. Linked tickets ({len(b.ticket_ids):,})", ", ".join(ids) + more] + tail
    return "\n".join(body)[:DESCRIPTION_CHARS]


def _description_head(report: Report, b: Brief) -> list[str]:
    out = ["h2. Problem", w(b.statement), "", f"*Rank* {b.rank} of {report.n_icebergs}, status {w(b.status)}. "
           f"*Why it ranks here:* {w(b.score)}"]
    if b.url:
        out += ["", f"[Open {w(b.iceberg_id)} in the dashboard|{b.url}]"]
    if b.note:
        out += ["", f"*Note:* {w(b.note)}"]
    out += ["", "h3. Who is affected", f"* {w(b.who)}"]
    if b.segments:
        out.append(f"* Segments: {w(b.segments)}")
    out += ["", "h3. When", f"* {w(b.when.capitalize())}"]
    if b.events:
        out.append(f"* Events near the onset: {w(b.events)}")
    if len(b.timeline):
        counts = " ".join(str(int(c)) for c in b.timeline["count"])
        out.append(f"* Tickets per {report.period_name} from {b.timeline['period_start'].iloc[0]}: {counts}")
    out += ["", "h3. Where else"]
    if len(b.where):
        out.append("||Dimension||Value||Share||Baseline||Lift||q||Topical||")
        out += [f"|{w(e[A.dimension]) or ' '}|{w(e[A.value]) or ' '}|{lines.pct(e[A.share])}|"
                f"{lines.pct(e[A.baseline_share])}|{e[A.lift]:.1f}|{lines.q_text(e[A.q_value])}|"
                f"{'yes' if lines.present(e.get(A.topical)) and e[A.topical] else ' '}|"
                for e in b.where.to_dict(orient="records")]
    else:
        out.append("No attribute over-represented.")
    if b.combination:
        out.append(f"Top combination: {w(b.combination)}")
    out += ["", "h3. What caused it", *[f"* {w(c)}" for c in b.causes],
            f"* Distinctive terms: {w(', '.join(b.terms))}",
            *([f"* Theme: {w(b.theme)}"] if b.theme else []), "", "h3. Representative tickets"]
    for q in b.quotes:
        when = f"{q.created_at:%Y-%m-%d}" if q.created_at is not None else "no date"
        who = f", customer {w(q.customer_id)}" if q.customer_id else ""
        out += [f"*{w(q.ticket_id)}* ({when}{who})",
                wiki_literal_block(textwrap.shorten(one_line(q.text), QUOTE_CHARS, placeholder=" …"))]
    return out
