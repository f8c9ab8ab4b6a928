""""Is this a one-off?": paste a ticket, see which iceberg it belongs to, if any.

The text is cleaned, redacted and embedded exactly as the run's tickets were
(``pipeline.lookup``, as ``iceberg lookup`` and ``iceberg serve`` do); nothing pasted is stored.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui, views, words
from pipeline import lookup
from pipeline.errors import IcebergError
from pipeline.lookup.service import dimension_shares
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

shown = ui.shown_run()
ui.page_heading("Is this a one-off?", shown)
st.caption("Paste a ticket: it is compared with this run's icebergs and tickets. Nothing you paste is stored.")
icebergs = data.curated_icebergs(shown.out, shown.run_id)
if icebergs.empty:
    st.info("This run found no icebergs, so there is nothing to compare a ticket with.")
    st.stop()

attributes = data.attributes(shown.out, shown.run_id)
choices = views.dimension_values(attributes)
with st.form("lookup"):
    text = st.text_area("Ticket text", height=140, placeholder="e.g. My card was declined again in the app",
                        key="lookup_text")
    customer = st.text_input("Customer id (optional)", key="lookup_customer",
                             placeholder="as the helpdesk shows it, an e-mail address too")
    given = {}
    if choices:
        columns = st.columns(min(len(choices), 4))
        for i, (dimension, values) in enumerate(choices.items()):
            given[dimension] = columns[i % len(columns)].selectbox(dimension, [None, *values],
                                                                   format_func=lambda v: "–" if v is None else v)
    asked = st.form_submit_button("Look it up", type="primary")

if not asked:
    st.stop()
if not text.strip():
    st.warning("Paste a ticket's text first.")
    st.stop()

run_config = data.config(shown.out, shown.run_id)
try:
    with st.spinner("Embedding it with the run's model…"):
        embedder = data.embedder(tuple(sorted(vars(run_config.embedding).items())))
        vectors, found = data.ticket_vectors(shown.out, shown.run_id)   # also for the customer's history
        result = lookup.looked_up(text, run_config, embedder, data.known_icebergs(shown.out, shown.run_id),
                                  icebergs, data.names(icebergs), vectors, found,
                                  data.tickets(shown.out, shown.run_id))
except IcebergError as exc:
    st.error(f"The run's embedding model cannot be loaded: {ui.md(exc)}")
    st.stop()

st.text(f"As the pipeline prepared it: {result.text}")
if result.placed_in:
    best = result.icebergs.iloc[0]
    st.success(f"Not a one-off: the run's assign rule would put it in {ui.md(best[I.iceberg_id])} "
               f"{ui.md(best['name'])} (similarity {best[lookup.SIMILARITY]:.2f} ≥ {result.threshold:.2f}).")
    st.page_link(st.session_state["pages"]["detail"], label=f"Open {ui.md(best[I.iceberg_id])}", icon=":material/search_insights:",
                 query_params={"iceberg": str(best[I.iceberg_id]), "run": shown.run_id})
else:
    best = result.icebergs.iloc[0] if len(result.icebergs) else None
    nearest = (f" The nearest is {ui.md(best[I.iceberg_id])} at similarity {best[lookup.SIMILARITY]:.2f}."
               if best is not None else "")
    st.info(f"Looks like a one-off for now: no iceberg reaches the run's assign rule "
            f"(similarity ≥ {result.threshold:.2f}).{nearest}")

st.subheader("Nearest icebergs")
st.dataframe(result.icebergs, hide_index=True, column_config={
    lookup.SIMILARITY: st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
    lookup.WOULD_JOIN: st.column_config.CheckboxColumn()})

picked = {d: v for d, v in given.items() if v is not None}
if picked and len(result.icebergs):
    for share in dimension_shares(attributes, result.icebergs.iloc[0][I.iceberg_id], picked):
        st.text(f"{share.dimension}={share.value}: {words.pct(share.share)} of {share.iceberg_id}'s tickets"
                + (f", against {words.pct(share.baseline_share)} of all tickets."
                   if share.baseline_share is not None else "."))

st.subheader("The ten most similar past tickets")
st.dataframe(result.tickets, hide_index=True, column_config={
    lookup.SIMILARITY: st.column_config.NumberColumn(format="%.2f"),
    T.text: st.column_config.TextColumn(width="large")})

if customer and customer.strip():
    from pipeline.lookup import customer_history, customer_keys

    index = data.customer_index(shown.out, shown.run_id)
    given_id = customer.strip()
    keys = [given_id] if given_id in index else customer_keys(given_id, run_config.redact)
    history = customer_history(given_id, keys, index, data.tickets(shown.out, shown.run_id), result.vector,
                               vectors, found, data.names(icebergs), result.placed_in, result.threshold)
    st.subheader("This customer's history")
    if history.customer_id is None:
        st.info("No earlier ticket of this customer in this run.")
    else:
        if history.same_problem:
            st.warning(f"They wrote about this problem before: "
                       f"{int(history.tickets['same problem'].sum())} of their tickets are the same problem.")
        else:
            st.info("None of their earlier tickets is the same problem.")
        st.dataframe(history.tickets, hide_index=True, column_config={
            "similarity": st.column_config.NumberColumn(format="%.2f"),
            T.text: st.column_config.TextColumn(width="large")})
