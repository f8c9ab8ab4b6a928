"""How an iceberg's figures read in words: the one-liners every report and ``iceberg show`` share.

Each function takes plain values (an icebergs row as a dict, attribute rows) and returns
text without markup; each format escapes it its own way (``pipeline.reports.safety``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from pipeline.analysis.profile import ScoreCols
from pipeline.schemas import SEGMENT_CUSTOMERS
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import CombinationCols as C
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import ThemeCols as TH
from pipeline.schemas import TicketCols as T

SCORE_FORMULA = "score = reach × (1 + concentration + emergence + fragmentation)"
LIFT_MEANS = ("lift: the share of the iceberg's tickets with the value divided by its share among "
              "all tickets of the same time window (onset to last ticket); 2.0 = twice as common")
Q_MEANS = ("q: the p-value of a one-sided Fisher exact test, corrected for the false-discovery "
           "rate over every test of the run (Benjamini–Hochberg); small = unlikely by chance")


def present(value: Any) -> bool:
    """True for a real value: not None, NaN or pandas NA."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):   # lists and arrays are values
        return True


def pct(share: float) -> str:
    return f"{share:.0%}"


def q_text(q: float) -> str:
    return f"{q:.1g}"


def attribute_text(row: Mapping) -> str:
    """``region=US (89% vs 18%, lift 5.0, q=5e-25)``."""
    return (f"{row[A.dimension]}={row[A.value]} ({pct(row[A.share])} vs {pct(row[A.baseline_share])}, "
            f"lift {row[A.lift]:.1f}, q={q_text(row[A.q_value])})")


def where_line(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "no attribute over-represented"
    return "; ".join(attribute_text(r) for _, r in rows.iterrows())


def handling_line(members: pd.DataFrame, columns: list[str]) -> str | None:
    """How an iceberg's tickets are handled, the most common value of each handling
    attribute: ``Status 80 % Open · Priority 30 % Critical``; None without any."""
    parts = []
    for column in columns:
        if column not in members:
            continue
        values = members[column].dropna().astype(str)
        values = values[values.str.strip() != ""]
        if len(values):
            shares = values.value_counts(normalize=True)
            parts.append(f"{column} {pct(shares.iloc[0])} {shares.index[0]}")
    return " · ".join(parts) or None


def who_line(r: Mapping) -> str:
    """``49 tickets, 44 customers, 24 agents (at most 5 each); value at risk 1,200``."""
    who = f"{r[I.size]:,} tickets"
    if present(r.get(I.n_customers)):
        who += f", {r[I.n_customers]:,} customers"
    if present(r.get(I.n_accounts)):
        who += f", {r[I.n_accounts]:,} accounts"
    if present(r.get(I.n_agents)):
        who += f", {r[I.n_agents]:,} agents (at most {r[I.max_tickets_per_agent]} each)"
    if present(r.get(I.value_at_risk)):
        who += f"; value at risk {r[I.value_at_risk]:,.0f}"
    return who


def segment_breakdown(segments) -> str:
    """``segments`` (``IcebergCols.segments``) as text: "enterprise 12 · smb 30"."""
    return " · ".join(f"{s[T.segment]} {s[SEGMENT_CUSTOMERS]:,}" for s in segments)


def when_line(r: Mapping) -> str:
    since = f"since {r[I.onset]}" if present(r.get(I.onset)) else "no dates"
    trend = f", {r[I.trend]}" if present(r.get(I.trend)) and r[I.trend] != "None" else ""
    spike = ", spiking last week" if present(r.get(I.spike)) and bool(r[I.spike]) else ""
    return f"{since}{trend}{spike}"


def events_line(r: Mapping) -> str | None:
    events = r.get(I.onset_events)
    if events is None or not len(events):
        return None
    flag = r.get(I.event_concentrated)
    concentrated = " (concentrated in an event's value)" if present(flag) and bool(flag) else ""
    return f"{'; '.join(events)}{concentrated}"


def combination_line(r: Mapping) -> str | None:
    """``plan=premium ∧ region=EU on 33 tickets (100% vs 8%, lift 13.1)``, or None."""
    if not present(r.get(C.combination)):
        return None
    return (f"{r[C.combination]} on {int(r[C.support]):,} tickets ({pct(r[C.share])} vs "
            f"{pct(r[C.baseline_share])}, lift {r[C.lift]:.1f})")


def theme_line(themes: pd.DataFrame | None, theme_id: Any, iceberg_id: str) -> str | None:
    """"TH-0009 (aws · region · endpoint): 6 icebergs, 180 tickets; also ICE-0012, …" — the
    theme an iceberg belongs to (``analysis.themes``); None when the run has no themes."""
    if themes is None or not present(theme_id) or themes.empty:
        return None
    rows = themes[themes[TH.theme_id] == theme_id]
    if rows.empty:
        return None
    theme = rows.iloc[0]
    others = [i for i in theme[TH.iceberg_ids] if i != iceberg_id]
    if not others:
        return f"{theme_id} ({theme[TH.label]}): no other iceberg"
    shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return (f"{theme_id} ({theme[TH.label]}): {theme[TH.n_icebergs]} icebergs, {theme[TH.size]:,} tickets; "
            f"also {shown}")


def reach_of(r: Mapping) -> int:
    """Distinct customers, or tickets when the input has no customer column."""
    return int(r[I.n_customers]) if present(r.get(I.n_customers)) else int(r[I.size])


def score_line(r: Mapping, top_value: str | None = None) -> str:
    """The score in its parts and what pushed it up, in one line (see ``analysis.profile``);
    ``top_value``: the non-topical evidence value whose lift gives the concentration."""
    if not present(r.get(ScoreCols.reach)):
        return f"score {r[I.score]:.2f} (this run did not record its components)"
    reach = r[ScoreCols.reach]
    parts = {"concentration": r[ScoreCols.concentration], "emergence": r[ScoreCols.emergence],
             "fragmentation": r[ScoreCols.fragmentation]}
    formula = " + ".join(f"{name} {value:.2f}" for name, value in parts.items())
    why = {
        "concentration": (f"concentration (lift {r[ScoreCols.max_lift]:.1f} on "
                          f"{top_value or 'a non-topical value'})"
                          if present(r.get(ScoreCols.max_lift)) else "concentration"),
        "emergence": f"emergence ({r[I.trend]})",
        "fragmentation": f"fragmentation ({parts['fragmentation']:.0%} of its agents saw at most 2)",
    }
    pushed = [why[name] for name, value in sorted(parts.items(), key=lambda kv: -kv[1]) if value > 0]
    unit = "customers" if present(r.get(I.n_customers)) else "tickets"
    line = (f"score {r[I.score]:.2f} = reach {reach:.2f} (log of 1 + {reach_of(r):,} {unit}) "
            f"× (1 + {formula})")
    return line + (f"; pushed up by {', '.join(pushed)}" if pushed else "; reach alone")


def top_cause(evidence: pd.DataFrame) -> Mapping | None:
    """The most over-represented evidence row on a non-topical dimension, or None."""
    causes = evidence[~evidence[A.topical].fillna(False).astype(bool)] if A.topical in evidence else evidence
    return None if causes.empty else causes.sort_values(A.lift, ascending=False, kind="stable").iloc[0]


def top_value(evidence: pd.DataFrame) -> str | None:
    top = top_cause(evidence)
    return None if top is None else f"{top[A.dimension]}={top[A.value]}"


def statement(r: Mapping, name: str, evidence: pd.DataFrame) -> str:
    """The one-line problem statement of a brief."""
    unit = "customers" if present(r.get(I.n_customers)) else None
    who = f"{r[I.size]:,} tickets" + (f" from {r[I.n_customers]:,} {unit}" if unit else "")
    since = f" since {r[I.onset]}" if present(r.get(I.onset)) else ""
    trend = f", {r[I.trend]}" if present(r.get(I.trend)) and r[I.trend] != "None" else ""
    line = f"{name}: {who}{since}{trend}"
    top = top_cause(evidence)
    if top is not None:
        line += (f"; concentrated in {top[A.dimension]}={top[A.value]} ({pct(top[A.share])} of its "
                 f"tickets vs {pct(top[A.baseline_share])} of all)")
    events = r.get(I.onset_events)
    if events is not None and len(events):
        line += f"; began near {events[0]}"
    return line + "."


def evidence_sentence(row: Mapping, onset) -> str:
    """One evidence row in words."""
    window = f" since {onset}" if present(onset) else ""
    topical = (" The dimension restates the topic, so it describes the problem rather than "
               "pointing at a cause." if present(row.get(A.topical)) and bool(row[A.topical]) else "")
    return (f"{pct(row[A.share])} of its tickets{window} have {row[A.dimension]}={row[A.value]}, "
            f"against {pct(row[A.baseline_share])} of all tickets in that time "
            f"(lift {row[A.lift]:.1f}, q={q_text(row[A.q_value])}).{topical}")


def finite(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
