"""What the run found, said in sentences: plain functions of one row, testable without Streamlit.

Every figure comes from the run's tables as written (``icebergs``, ``attributes``); this
module only words them.
"""

from __future__ import annotations

import math

import pandas as pd

from pipeline.analysis.profile import ScoreCols
from pipeline.reports.lines import handling_line
from pipeline.schemas import SEGMENT_CUSTOMERS, CombinationCols, TicketCols
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I

TREND_BADGES = {"new": "★ new", "growing": "▲ growing", "stable": "● stable", "fading": "▼ fading"}


def trend_badge(trend) -> str:
    return TREND_BADGES.get(trend, str(trend)) if _given(trend) else "–"


def q_text(q: float) -> str:
    """``5e-25`` for tiny q-values, ``0.04`` otherwise."""
    if not _given(q):
        return "–"
    return f"{q:.0e}".replace("e-0", "e-") if q < 0.001 else f"{q:.2g}"


def pct(share: float) -> str:
    return "–" if not _given(share) else f"{share:.0%}" if share >= 0.01 or share == 0 else f"{share:.1%}"


def evidence_sentence(row) -> str:
    """'89 % of its tickets come from region=US, against 18 % of all tickets in the same weeks; q = 5e-25'."""
    return (f"{pct(row[A.share])} of its tickets have {row[A.dimension]}={row[A.value]}, against "
            f"{pct(row[A.baseline_share])} of all tickets in the same weeks "
            f"(lift {row[A.lift]:.1f}; q = {q_text(row[A.q_value])}).")


def score_parts(row) -> list[tuple[str, float, str]]:
    """(component, value, what it means) for the score's parts (docs/analytics.md, Score)."""
    customers = row.get(I.n_customers)
    reach_why = (f"log(1 + {int(customers):,} distinct customers)" if _given(customers)
                 else f"log(1 + {int(row[I.size]):,} tickets)")
    lift = row.get(ScoreCols.max_lift)
    concentration_why = (f"1 − 1/lift, the largest significant lift being {lift:.1f}"
                         if _given(lift) and lift > 0 else "no over-represented value that is not the topic")
    trend = row.get(I.trend)
    emergence_why = f"it is {trend}" if trend in ("new", "growing") else f"it is {trend or 'undated'}: 0 unless new or growing"
    return [
        ("reach", row.get(ScoreCols.reach), reach_why),
        ("concentration", row.get(ScoreCols.concentration), concentration_why),
        ("emergence", row.get(ScoreCols.emergence), emergence_why),
        ("fragmentation", row.get(ScoreCols.fragmentation), "share of its agents who saw at most 2 of its tickets"),
    ]


def score_sentence(row) -> str:
    parts = {name: value for name, value, _ in score_parts(row)}
    if not all(_given(v) for v in parts.values()):
        return f"Score {row[I.score]:.2f}."
    return (f"Score {row[I.score]:.2f} = reach {parts['reach']:.2f} × (1 + concentration "
            f"{parts['concentration']:.2f} + emergence {parts['emergence']:.2f} + fragmentation "
            f"{parts['fragmentation']:.2f}).")


def agents_sentence(row) -> str:
    """'Seen by 24 agents, none more than 5 times.'"""
    n_agents, most = row.get(I.n_agents), row.get(I.max_tickets_per_agent)
    if not _given(n_agents):
        return "The tickets name no agent."
    if int(n_agents) == 1:
        return f"Seen by a single agent ({int(row[I.size]):,} tickets)."
    return f"Seen by {int(n_agents):,} agents, none more than {int(most):,} time{'s' if int(most) != 1 else ''}."


def who_sentence(row) -> str:
    """'99 tickets from 40 customers. Seen by …' — no word about customers when the export has none."""
    customers = row.get(I.n_customers)
    who = f"{int(row[I.size]):,} tickets" + (f" from {int(customers):,} customers" if _given(customers) else "")
    return f"{who}. {agents_sentence(row)}"


def handling_sentence(tickets: pd.DataFrame, columns: list[str]) -> str | None:
    """How an iceberg's tickets are handled (status, priority…), as the briefs say it."""
    return handling_line(tickets, columns)


def who_facts(row) -> list[tuple[str, str]]:
    """(label, value) tiles for the 'who is affected' part; absent figures are left out."""
    facts = [("tickets", f"{int(row[I.size]):,}")]
    for label, column in (("customers", I.n_customers), ("accounts", I.n_accounts),
                          ("repeat customers", I.n_repeat_customers)):
        if _given(row.get(column)):
            facts.append((label, f"{int(row[column]):,}"))
    if _given(row.get(I.value_at_risk)):
        facts.append(("value at risk", f"{row[I.value_at_risk]:,.0f}"))
    return facts


def segments_text(segments) -> str | None:
    if segments is None or not len(segments):
        return None
    return " · ".join(f"{s[TicketCols.segment]}: {int(s[SEGMENT_CUSTOMERS]):,} customers" for s in segments)


def when_sentence(row) -> str:
    onset = row.get(I.onset)
    first, last = row.get(I.first_seen), row.get(I.last_seen)
    span = (f"tickets from {pd.Timestamp(first):%Y-%m-%d} to {pd.Timestamp(last):%Y-%m-%d}"
            if _given(first) and _given(last) else "no ticket dates")
    started = f"started on {onset}" if _given(onset) else "no onset found"
    return f"It {started}; {span}; trend: {row.get(I.trend) or '–'}."


def combination_sentence(row) -> str | None:
    combo = row.get(CombinationCols.combination)
    if not _given(combo):
        return None
    return (f"Top combination: {combo} — {pct(row.get(CombinationCols.share))} of its tickets against "
            f"{pct(row.get(CombinationCols.baseline_share))} of all (lift {row.get(CombinationCols.lift):.1f}).")


def _given(value) -> bool:
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        return True
    return not (isinstance(value, float) and math.isnan(value))
