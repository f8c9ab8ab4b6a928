"""Overview: the run in five figures, the top iceberg in words, and every iceberg ranked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui, views, words
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TimelineCols as TL
from pipeline.store.curation import CurationCols

shown = ui.shown_run()
ui.page_heading("Icebergs", shown)
manifest = data.manifest(shown.out, shown.run_id)
counts = manifest.counts
summary = manifest.changes or {}

tiles = st.columns(5)
tiles[0].metric("Tickets", f"{counts.tickets:,}")
tiles[1].metric("Icebergs", f"{counts.icebergs:,}")
tiles[2].metric("Tickets inside icebergs", words.pct(counts.in_icebergs / counts.tickets if counts.tickets else 0))
tiles[3].metric("New · growing since the previous run", f"{summary.get('new', 0)} · {summary.get('growing', 0)}",
                help="From changes.json: icebergs born in this run, and icebergs that grew.")
tiles[4].metric("Quarantined rows", f"{counts.rows_quarantined:,}",
                help="Input rows that could not be used as tickets; see Runs and changes.")

icebergs = data.curated_icebergs(shown.out, shown.run_id)
if icebergs.empty:
    st.info(f"This run found no icebergs: none of its {counts.tickets:,} tickets formed a group dense "
            "enough to be a recurring problem. With few tickets, a smaller cluster.min_cluster_size "
            "(e.g. `--set cluster.min_cluster_size=5`) finds smaller groups.")
    st.stop()

timeline = data.timeline(shown.out, shown.run_id)
attributes = data.attributes(shown.out, shown.run_id)
periods = pd.to_datetime(timeline[TL.period_start]) if len(timeline) else pd.Series(dtype="datetime64[ns]")

with st.expander("Filters", expanded=True):
    row = st.columns([2, 3, 1, 2])
    window = ()
    if len(periods):
        first, last = periods.min().date(), (periods.max() + pd.Timedelta(days=6)).date()
        window = row[0].date_input("Tickets between", value=(first, last), min_value=first, max_value=last,
                                   help="Icebergs with tickets in this window; the column 'in window' counts them.", key="f_window")
    options = [f"{d}={v}" for d, values in views.dimension_values(attributes).items() for v in values]
    picked = row[1].multiselect("With tickets where", options, placeholder="any dimension value", key="f_values",
                                help="Icebergs that have tickets with every value picked.")
    min_customers = row[2].number_input("Min customers", min_value=0, value=0, step=1, key="f_customers")
    trends = row[3].multiselect("Trend", ["new", "growing", "stable", "fading"], placeholder="any trend", key="f_trends")
    row = st.columns([3, 1, 1])
    search = row[0].text_input("Search names and keywords", placeholder="e.g. pin, transfer", key="f_search")
    show_dismissed = row[1].toggle("Show dismissed", value=True, key="f_dismissed")
    show_boilerplate = row[2].toggle("Show boilerplate", value=False,
                                     help="Courtesy-only groups (thanks, greetings, auto-replies).", key="f_boilerplate")

full_window = len(window) == 2 and len(periods) and (window[0], window[1]) == (
    periods.min().date(), (periods.max() + pd.Timedelta(days=6)).date())
filters = views.Filters(
    start=window[0] if len(window) == 2 and not full_window else None,
    end=window[1] if len(window) == 2 and not full_window else None,
    values=tuple(tuple(p.split("=", 1)) for p in picked), min_customers=int(min_customers),
    trends=tuple(trends), show_boilerplate=show_boilerplate, show_dismissed=show_dismissed, search=search)
table = views.filtered_icebergs(icebergs, timeline, attributes, filters)

if table.empty:
    st.warning("No iceberg passes these filters. Widen the date window or remove a filter.")
    st.stop()

top = table.iloc[0]
evidence = data.evidence(shown.out, shown.run_id)
top_evidence = evidence[evidence[A.iceberg_id] == top[I.iceberg_id]]
with st.container(border=True):
    st.subheader(f"#1 {ui.md(top[CurationCols.name])}")
    st.text(f"{top[I.iceberg_id]} · {words.trend_badge(top[I.trend])} · score {top[I.score]:.2f}")
    lines = [("Where", words.evidence_sentence(top_evidence.iloc[0])
              if len(top_evidence) else "No dimension value is over-represented."),
             ("When", words.when_sentence(top)),
             ("Who", words.who_sentence(top))]
    for label, sentence in lines:
        st.text(f"{label}: {sentence}")
    st.page_link(st.session_state["pages"]["detail"], label="Open its where / what caused / who",
                 icon=":material/search_insights:", query_params={"iceberg": top[I.iceberg_id], "run": shown.run_id})

st.subheader(f"{len(table):,} icebergs, most important first")
st.caption("Select a row to open its detail. Score = reach × (1 + concentration + emergence + fragmentation).")
rows = views.overview_rows(views.with_theme_names(table, data.themes(shown.out, shown.run_id)))
event = st.dataframe(
    rows, hide_index=True, on_select="rerun", selection_mode="single-row", key="ranked",
    height=min(38 + 35 * len(rows), 700),
    column_config={
        "weekly tickets": st.column_config.LineChartColumn("weekly tickets", width="small"),
        "score": st.column_config.NumberColumn(format="%.2f"),
        "reach": st.column_config.NumberColumn(format="%.2f", help="log(1 + distinct customers)"),
        "concentration": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="%.2f", help="1 − 1/lift of its most over-represented value"),
        "emergence": st.column_config.NumberColumn(format="%.0f", help="1 when new or growing"),
        "fragmentation": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="%.2f", help="share of its agents who saw ≤ 2 of its tickets"),
        "onset": st.column_config.DateColumn(),
    })
selected = event.selection.rows if event is not None else []
if selected:
    chosen = table.iloc[selected[0]][I.iceberg_id]
    st.switch_page(st.session_state["pages"]["detail"], query_params={"iceberg": chosen, "run": shown.run_id})
