"""Iceberg detail: where else it happens, what caused it, who is affected, its tickets.

Opened from the overview, or directly with ``/?iceberg=ICE-0042`` (``&run=RUN_ID``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, curate, data, ui, views, words
from pipeline.reports import lines
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store.curation import CurationCols

shown = ui.shown_run()
icebergs = data.curated_icebergs(shown.out, shown.run_id)
if icebergs.empty:
    ui.page_heading("Iceberg detail", shown)
    st.info("This run found no icebergs, so there is no detail to show.")
    st.stop()

names = data.names(icebergs)
ordered = icebergs.sort_values(I.rank)[I.iceberg_id].tolist()
asked = st.query_params.get("iceberg")
if asked and asked not in names:
    ui.page_heading("Iceberg detail", shown)
    lineage = data.lineage(shown.out, shown.run_id)
    related = lineage[lineage["related_ids"].map(lambda ids: ids is not None and asked in list(ids))]
    st.warning(f"There is no iceberg {ui.md(asked)} in run {ui.md(shown.run_id)}.")
    if len(related):
        into = ", ".join(f"{r.iceberg_id} ({r.event})" for r in related.itertuples())
        st.text(f"In this run it lives on in: {into}.")
    else:
        st.text("It may belong to another run (pick one in the sidebar), or the link is mistyped.")
    st.page_link(st.session_state["pages"]["overview"], label="Back to the ranked icebergs", icon=":material/leaderboard:")
    st.stop()

iceberg_id = st.sidebar.selectbox("Iceberg", ordered, index=ordered.index(asked) if asked else 0,
                                  format_func=lambda i: f"{i} {names[i]}")
if iceberg_id != asked:
    st.query_params["iceberg"] = iceberg_id
    st.query_params["run"] = shown.run_id
row = icebergs.set_index(I.iceberg_id).loc[iceberg_id]
row = pd.concat([pd.Series({I.iceberg_id: iceberg_id}), row])
config = data.manifest(shown.out, shown.run_id).config

# ---- header: name, keywords, score in words
st.title(ui.md(row[CurationCols.name]))
st.caption(ui.md(f"{iceberg_id} · rank {int(row[I.rank])} · run {shown.run_id}"))
status = row.get(CurationCols.status, "open")
st.text(f"{words.trend_badge(row[I.trend])} · status: {status}"
        + (f" · {row[CurationCols.ticket]}" if pd.notna(row.get(CurationCols.ticket)) else "")
        + (f" · generated label: {row[I.label]}" if row[CurationCols.name] != row[I.label] else ""))
st.text("Keywords: " + ", ".join(row[I.keywords]))
theme = lines.theme_line(data.themes(shown.out, shown.run_id), row.get(I.theme_id), iceberg_id)
if theme:
    st.text(f"Theme: {theme}")
if pd.notna(row.get(CurationCols.note)):
    st.text(f"Note: {row[CurationCols.note]}")
evidence = data.evidence(shown.out, shown.run_id)
evidence = evidence[evidence[A.iceberg_id] == iceberg_id]
with st.container(border=True):
    st.text("Where: " + (words.evidence_sentence(evidence.iloc[0]) if len(evidence)
                         else "no dimension value is over-represented."))
    st.text("What caused it: " + words.when_sentence(row))
    st.text("Who: " + words.who_sentence(row))
st.text(words.score_sentence(row))
st.dataframe(pd.DataFrame([{"component": name, "value": value, "what it means": why}
                           for name, value, why in words.score_parts(row)]),
             hide_index=True, column_config={"value": st.column_config.NumberColumn(format="%.2f")})
curate.form(shown.out, iceberg_id, row)

# ---- where else does it happen?
st.header("Where else does it happen?")
attributes = data.attributes(shown.out, shown.run_id)
where = views.where_table(attributes, iceberg_id, config["profile"]["fdr_alpha"])
if where.empty:
    st.text("The input has no dimension columns, so there is nothing to compare.")
else:
    combination = words.combination_sentence(row)
    if combination:
        st.text(combination)
    spans = views.dimension_spans(attributes, iceberg_id)
    st.text("Spans " + "; ".join(f"{r[A.dimension]}: {int(r['distinct values'])} value(s)"
                                 for _, r in spans.iterrows()))
    # Dimensions with evidence first (most over-represented first), then the others.
    dimensions = list(dict.fromkeys([*evidence[A.dimension], *where[A.dimension]]))
    columns = st.columns(2)
    for i, dimension in enumerate(dimensions):
        columns[i % 2].plotly_chart(charts.where_bars(where, dimension), key=f"where-{dimension}")
    with st.expander("Every value: share, baseline, lift and q-value"):
        st.dataframe(where[[A.dimension, A.value, A.count, A.share, A.baseline_share, A.lift, A.q_value,
                            "significant"]], hide_index=True, column_config={
            A.share: st.column_config.NumberColumn(format="percent"),
            A.baseline_share: st.column_config.NumberColumn(format="percent"),
            A.lift: st.column_config.NumberColumn(format="%.2f"),
            A.q_value: st.column_config.NumberColumn(format="%.1e")})

# ---- what caused it?
st.header("What caused it?")
if evidence.empty:
    st.text("No dimension value is over-represented enough to count as evidence "
            f"(q ≤ {config['profile']['fdr_alpha']}, with minimum support).")
for _, e in evidence.iterrows():
    st.text("• " + words.evidence_sentence(e))
st.text(words.when_sentence(row))
st.text("Distinctive terms: " + ", ".join(row[I.keywords]))
onset_events = row.get(I.onset_events)
if onset_events is not None and len(onset_events):
    st.text("Events around its onset: " + "; ".join(onset_events)
            + (" — its tickets concentrate in that event's value." if row.get(I.event_concentrated) is True else ""))
timeline = data.timeline(shown.out, shown.run_id)
events = data.events(shown.out, shown.run_id)
st.plotly_chart(charts.timeline_chart(
    timeline[timeline["iceberg_id"] == iceberg_id], row[I.onset],
    events.to_dict("records") if events is not None else None), key="timeline")

# ---- who is affected?
st.header("Who is affected?")
facts = words.who_facts(row)
for column, (label, value) in zip(st.columns(len(facts)), facts):
    column.metric(label.capitalize(), value)
segments = words.segments_text(row.get(I.segments))
if segments:
    st.text(f"Segments: {segments}")
st.text(words.agents_sentence(row))
its_tickets = data.iceberg_tickets(shown.out, shown.run_id, iceberg_id)
handling = data.manifest(shown.out, shown.run_id).columns.get("handling", [])
handled = words.handling_sentence(its_tickets, handling)
if handled:
    st.text(f"How it is handled: {handled}")
per_agent = views.tickets_per_agent(its_tickets)
if len(per_agent):
    st.plotly_chart(charts.agents_histogram(per_agent), key="agents")

# ---- tickets
st.header("Its tickets")
by_id = its_tickets.set_index(T.ticket_id)
st.subheader("Representative tickets")
for ticket_id in row[I.representative_ticket_ids]:
    if ticket_id in by_id.index:
        with st.container(border=True):
            st.caption(ticket_id)
            ui.ticket_text(by_id.at[ticket_id, T.text])
dimensions = data.manifest(shown.out, shown.run_id).columns.get("dimensions", [])
search = st.text_input("Search its tickets", placeholder="words or a ticket id")
table = views.tickets_table(its_tickets, dimensions + [h for h in handling if h not in dimensions], search)
st.caption(f"{len(table):,} of {len(its_tickets):,} tickets · click a column heading to sort")
st.dataframe(table, hide_index=True, column_config={
    T.membership: st.column_config.NumberColumn("similarity", format="%.2f"),
    T.text: st.column_config.TextColumn(width="large")})
# The same files as `iceberg report`, made only when a button is pressed.
downloads = st.columns(3)
downloads[0].download_button("Its tickets (CSV)", lambda: data.tickets_csv(shown.out, shown.run_id, iceberg_id),
                             file_name=f"{iceberg_id}-tickets.csv", mime="text/csv", on_click="ignore")
for column, (fmt, label) in zip(downloads[1:], [("html", "Brief (HTML)"), ("xlsx", "Brief (Excel)")]):
    name, mime = data.report_file(fmt, iceberg_id)
    column.download_button(label, lambda fmt=fmt: data.report_bytes(shown.out, shown.run_id, iceberg_id, fmt),
                           file_name=name, mime=mime, on_click="ignore")

# ---- lineage
st.header("Lineage")
history = data.lineage_history(shown.out, shown.run_id, iceberg_id)
if history.empty:
    st.text("No identity events recorded for it.")
else:
    st.dataframe(history, hide_index=True)
