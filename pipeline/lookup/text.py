"""A look-up's answer as ``iceberg lookup`` prints it: plain text for a terminal."""

from __future__ import annotations

import pandas as pd

from pipeline.lookup.customer import SAME_PROBLEM
from pipeline.lookup.nearest import SIMILARITY, WOULD_JOIN
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

QUOTE_CHARS = 90


def _quote(text: str, width: int = QUOTE_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _day(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d") if pd.notna(value) else "?"


def verdict(answer) -> str:
    """"Not a one-off: …" or "Looks like a one-off for now: …"."""
    result = answer.result
    if result.placed_in:
        best = result.icebergs.iloc[0]
        return (f"Not a one-off: the run's assign rule would put it in {best[I.iceberg_id]} "
                f"\"{best['name']}\" (similarity {best[SIMILARITY]:.2f} ≥ {result.threshold:.2f}).")
    nearest = ""
    if len(result.icebergs):
        best = result.icebergs.iloc[0]
        nearest = f" The nearest is {best[I.iceberg_id]} at similarity {best[SIMILARITY]:.2f}."
    return (f"Looks like a one-off for now: no iceberg reaches the run's assign rule "
            f"(similarity ≥ {result.threshold:.2f}).{nearest}")


def customer_text(history) -> list[str]:
    if history.customer_id is None:
        return [f"Customer {history.given}: no earlier ticket in this run."]
    shown = history.given if history.customer_id == history.given else f"{history.given} ({history.customer_id})"
    tickets = history.tickets
    head = (f"Customer {shown}: {len(tickets)} earlier ticket(s)"
            + (f", in {', '.join(history.icebergs)}" if history.icebergs else ", in no iceberg") + ".")
    same = tickets[tickets[SAME_PROBLEM]]
    lines = [head, ("They wrote in about this problem before: "
                    + ", ".join(f"{r[T.ticket_id]} ({_day(r[T.created_at])})" for _, r in same.iterrows()) + "."
                    if history.same_problem else "None of them is the same problem.")]
    for _, row in tickets.iterrows():
        when = _day(row[T.created_at])
        mark = "SAME PROBLEM" if row[SAME_PROBLEM] else "            "
        where = row[T.iceberg_id] if isinstance(row[T.iceberg_id], str) else "–"
        lines.append(f"  {when}  {row[T.ticket_id]}  {mark}  {where:<9}  {_quote(row[T.text], 70)}")
    return lines


def answer_text(answer) -> str:
    result = answer.result
    lines = [f"Run {answer.run_id}", f"As the pipeline prepared it: {_quote(result.text, 200)}", "",
             verdict(answer)]
    if answer.placed_in and answer.links.get(answer.placed_in):
        lines.append(f"Dashboard: {answer.links[answer.placed_in]}")
    lines += ["", "Nearest icebergs:"]
    for _, row in result.icebergs.iterrows():
        joins = "joins" if row[WOULD_JOIN] else "     "
        lines.append(f"  {row[I.iceberg_id]}  {row[SIMILARITY]:.2f}  {joins}  {row['name']}  "
                     f"(#{int(row[I.rank]) if pd.notna(row[I.rank]) else '?'}, {int(row[I.size]):,} tickets)")
    for share in answer.dimensions:
        lines.append(f"  {share.text()}")
    lines += ["", "Most similar past tickets:"]
    for _, row in result.tickets.iterrows():
        where = row[T.iceberg_id] if isinstance(row[T.iceberg_id], str) else "–"
        lines.append(f"  {row[T.ticket_id]}  {row[SIMILARITY]:.2f}  {where:<9}  {_quote(row[T.text])}")
    if answer.customer is not None:
        lines += ["", *customer_text(answer.customer)]
    return "\n".join(lines)
