"""Chart builders: plain functions from a run's tables to plotly figures (no Streamlit).

Ticket text reaches a figure only as hover text, which plotly renders as text; the
hover template never takes HTML from the data (see ``hover_text``).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pipeline.schemas import AttributeCols as A
from pipeline.schemas import EventCols as E
from pipeline.schemas import TicketCols as T
from pipeline.schemas import TimelineCols as TL

OUTSIDE_COLOUR = "#c7c7c7"
BASELINE_COLOUR = "#9aa5b1"
ICEBERG_COLOUR = "#1f77b4"
SIGNIFICANT_COLOUR = "#d62728"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d")
HOVER_CHARS = 120
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")


def hover_text(text) -> str:
    """A ticket's text for a hover label: shortened, and HTML-escaped, because plotly reads
    a few tags (<b>, <br>, <a>) in hover labels; escaped, any markup shows literally."""
    text = " ".join(str(text).split())
    if len(text) > HOVER_CHARS:
        text = text[:HOVER_CHARS - 1] + "…"
    return html.escape(text)


def where_bars(rows: pd.DataFrame, dimension: str) -> go.Figure:
    """Share in the iceberg against baseline share, per value of one dimension; significant
    over-represented values (the run's ``evidence``) are marked in red."""
    rows = rows[rows[A.dimension] == dimension].sort_values(A.share, ascending=True).tail(12)
    values = rows[A.value].astype(str).map(html.escape)
    significant = rows["significant"].to_numpy() if "significant" in rows.columns else np.zeros(len(rows), bool)
    figure = go.Figure()
    figure.add_bar(y=values, x=rows[A.baseline_share], orientation="h", name="all tickets (same weeks)",
                   marker_color=BASELINE_COLOUR, hovertemplate="%{y}: %{x:.0%} of all tickets<extra></extra>")
    figure.add_bar(y=values, x=rows[A.share], orientation="h", name="this iceberg",
                   marker_color=[SIGNIFICANT_COLOUR if s else ICEBERG_COLOUR for s in significant],
                   customdata=np.column_stack([rows[A.lift], rows[A.q_value]]),
                   hovertemplate="%{y}: %{x:.0%} of its tickets, lift %{customdata[0]:.1f}, "
                                 "q %{customdata[1]:.1g}<extra></extra>")
    figure.update_layout(barmode="group", title=html.escape(dimension), xaxis_tickformat=".0%",
                         height=120 + 28 * len(rows), legend=dict(orientation="h", y=-0.15), **_LAYOUT)
    return figure


def timeline_chart(timeline: pd.DataFrame, onset=None, events: list[dict] | None = None,
                   title: str = "Tickets per week") -> go.Figure:
    """One iceberg's tickets per period, its onset as a dashed line, events as dotted ones."""
    periods = pd.to_datetime(timeline[TL.period_start])
    figure = go.Figure(go.Bar(x=periods, y=timeline[TL.count], marker_color=ICEBERG_COLOUR,
                              name="tickets", hovertemplate="week of %{x|%Y-%m-%d}: %{y}<extra></extra>"))
    if onset is not None and not pd.isna(onset):
        _vline(figure, pd.Timestamp(onset), "onset", SIGNIFICANT_COLOUR, "dash")
    for event in events or []:
        _vline(figure, pd.Timestamp(event[E.date]), html.escape(str(event[E.name])), BASELINE_COLOUR, "dot")
    figure.update_layout(title=title, height=300, showlegend=False, bargap=0.1, **_LAYOUT)
    return figure


def agents_histogram(per_agent: pd.Series) -> go.Figure:
    """How many agents handled 1, 2, 3 … of the iceberg's tickets."""
    counts = per_agent.value_counts().sort_index()
    figure = go.Figure(go.Bar(x=counts.index, y=counts.to_numpy(), marker_color=ICEBERG_COLOUR,
                              hovertemplate="%{y} agent(s) saw %{x} ticket(s)<extra></extra>"))
    figure.update_layout(title="Tickets per agent", xaxis_title="tickets handled by one agent",
                         yaxis_title="agents", height=260, xaxis=dict(dtick=1), **_LAYOUT)
    return figure


def ticket_map(points: pd.DataFrame, names: dict[str, str], highlight: str | None = None) -> go.Figure:
    """Every ticket of ``points`` (``map_x``, ``map_y``, ``iceberg_id``, ``ticket_id``, ``text``)
    as a WebGL point, one trace per iceberg (largest first), tickets outside any in grey.
    Each point's ``customdata`` is (ticket_id, iceberg_id) for click and lasso selection."""
    figure = go.Figure()
    inside = points[points[T.iceberg_id].notna()]
    order = inside[T.iceberg_id].value_counts().index.tolist()
    outside = points[points[T.iceberg_id].isna()]
    if len(outside):
        figure.add_trace(_points(outside, "outside any iceberg", OUTSIDE_COLOUR, 3))
    for i, iceberg_id in enumerate(order):
        group = inside[inside[T.iceberg_id] == iceberg_id]
        name = f"{iceberg_id} {names.get(iceberg_id, '')}".strip()
        colour = PALETTE[i % len(PALETTE)]
        dim = highlight is not None and iceberg_id != highlight
        figure.add_trace(_points(group, name, "#dddddd" if dim else colour, 5 if not dim else 3))
    figure.update_layout(height=650, dragmode="lasso", legend=dict(itemsizing="constant", font=dict(size=10)),
                         xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"), **_LAYOUT)
    return figure


def _points(group: pd.DataFrame, name: str, colour: str, size: int) -> go.Scattergl:
    label = html.escape(name)
    return go.Scattergl(
        x=group[T.map_x], y=group[T.map_y], mode="markers", name=label,
        marker=dict(color=colour, size=size, opacity=0.8),
        customdata=np.column_stack([group[T.ticket_id].astype(str),
                                    group[T.iceberg_id].astype(object).fillna("")]),
        hovertext=group[T.text].map(hover_text),
        hovertemplate=f"<b>{label}</b><br>%{{customdata[0]}}: %{{hovertext}}<extra></extra>")


def _vline(figure: go.Figure, when: pd.Timestamp, label: str, colour: str, dash: str) -> None:
    # add_vline's annotation arithmetic fails on Timestamps in some plotly versions: draw it.
    figure.add_shape(type="line", x0=when, x1=when, y0=0, y1=1, yref="paper",
                     line=dict(color=colour, dash=dash, width=1.5))
    figure.add_annotation(x=when, y=1, yref="paper", text=label, showarrow=False, yanchor="bottom",
                          font=dict(size=10, color=colour))
