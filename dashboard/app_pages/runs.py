"""Runs and changes: the run history, what changed in the shown run, its stages, its quarantine."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from pipeline.schemas import QuarantineCols as Q

shown = ui.shown_run()
ui.page_heading("Runs and changes", shown)

st.header("Run history")
history = data.runs(shown.out)
st.dataframe(history, hide_index=True, column_config={
    "latest": st.column_config.CheckboxColumn(), "seconds": st.column_config.NumberColumn(format="%.1f")})

st.header(f"What changed in run {ui.md(shown.run_id)}")
changes = data.changes(shown.out, shown.run_id)
if changes is None:
    st.text("This run has no changes.json (it was written before changes were recorded).")
else:
    summary = changes.summary
    previous = changes.previous_run_id or "none: this is the first run"
    st.text(f"Compared with the previous run ({previous}); mode {changes.mode or '–'}.")
    kinds = ["new", "growing", "fading", "faded", "merged", "split", "alerts"]
    for column, kind in zip(st.columns(len(kinds)), kinds):
        column.metric(kind.capitalize(), summary.get(kind, len(getattr(changes, kind))))
    for kind in kinds:
        entries = getattr(changes, kind)
        if entries:
            with st.expander(f"{kind.capitalize()} ({len(entries)})", expanded=kind == "alerts"):
                st.dataframe(pd.json_normalize(entries).astype(str), hide_index=True)

st.header("Stages")
manifest = data.manifest(shown.out, shown.run_id)
stages = pd.DataFrame([{k: s.get(k) for k in ("name", "seconds", "rows_in", "rows_out")} for s in manifest.stages])
if len(stages):
    st.caption(f"{stages['seconds'].sum():.1f} s in all")
    st.dataframe(stages, hide_index=True, column_config={"seconds": st.column_config.NumberColumn(format="%.2f")})
embedding = manifest.embedding
if embedding:
    st.text(f"Embedding: {embedding.get('model')} ({embedding.get('key')}); "
            f"{embedding.get('cache_hits', 0):,} from the cache, {embedding.get('cache_misses', 0):,} embedded.")

st.header("Quarantine")
quarantine = data.quarantine(shown.out, shown.run_id)
if quarantine.empty:
    st.text("No input row was quarantined: every row became a ticket.")
else:
    st.caption("Rows that could not be used as tickets, with why; their fields are redacted.")
    reasons = quarantine[Q.reason].map(lambda r: str(r).split(":")[0].split("(")[0].strip())
    st.dataframe(reasons.value_counts().rename_axis("reason").reset_index(name="rows"), hide_index=True)
    st.dataframe(quarantine.astype("string"), hide_index=True)
