"""Ticket map: every ticket placed by the run's map (``map_x``, ``map_y``), coloured by iceberg.

Click a point of an iceberg to open it; lasso or box-select points to list their tickets.
Large runs are sampled (every iceberg keeps its share) and drawn with WebGL.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from pipeline.schemas import TicketCols as T

DEFAULT_POINTS = 10_000

shown = ui.shown_run()
ui.page_heading("Ticket map", shown)
n_tickets = data.manifest(shown.out, shown.run_id).counts.tickets
icebergs = data.curated_icebergs(shown.out, shown.run_id)
names = data.names(icebergs)

controls = st.columns([2, 3])
limit = n_tickets
if n_tickets > 1_000:
    limit = controls[0].slider("Tickets drawn", min_value=1_000, max_value=n_tickets, step=1_000,
                               value=min(DEFAULT_POINTS, n_tickets),
                               help="A sample: every iceberg keeps the same share of its tickets.")
ordered = icebergs.sort_values("rank")["iceberg_id"].tolist()
highlight = controls[1].selectbox("Highlight", [None, *ordered], placeholder="every iceberg in colour",
                                  format_func=lambda i: "every iceberg in colour" if i is None else f"{i} {names[i]}")

points = data.map_points(shown.out, shown.run_id, int(limit))
if points is None:
    st.info("This run has no map: it was written before the map existed, or with map.enabled = false. "
            "The next `iceberg run` with map.enabled = true (the default) adds map_x and map_y.")
    st.stop()
st.caption(f"{len(points):,} of {n_tickets:,} tickets drawn · similar tickets lie close together · "
           "grey: outside any iceberg")
event = st.plotly_chart(charts.ticket_map(points, names, highlight), key="ticket-map", on_select="rerun",
                        selection_mode=("points", "box", "lasso"), config={"scrollZoom": True})


def picked(selection) -> pd.DataFrame:
    """(ticket_id, iceberg_id) of the selected points, from their ``customdata``."""
    rows = [p.get("customdata") for p in (selection or {}).get("points", []) if p.get("customdata")]
    return pd.DataFrame([r[:2] for r in rows], columns=[T.ticket_id, T.iceberg_id]).drop_duplicates()


selection = picked(event.selection if event is not None else None)
clicked = len(selection) == 1 and selection[T.iceberg_id].iloc[0]
if clicked:
    st.switch_page(st.session_state["pages"]["detail"],
                   query_params={"iceberg": selection[T.iceberg_id].iloc[0], "run": shown.run_id})
if selection.empty:
    st.caption("Lasso or box-select points to list their tickets here.")
else:
    chosen = data.tickets(shown.out, shown.run_id)
    chosen = chosen[chosen[T.ticket_id].isin(set(selection[T.ticket_id]))]
    by_iceberg = chosen[T.iceberg_id].fillna("outside").value_counts()
    st.subheader(f"{len(chosen):,} selected tickets")
    st.text("; ".join(f"{i} {names.get(i, '')}: {n}".strip() for i, n in by_iceberg.items()))
    st.dataframe(chosen[[T.ticket_id, T.created_at, T.iceberg_id, T.text]], hide_index=True,
                 column_config={T.text: st.column_config.TextColumn(width="large")})
