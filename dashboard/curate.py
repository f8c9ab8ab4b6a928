"""Curation on the detail page: rename, acknowledge (with a ticket key or URL), dismiss, note.

Written through the store (``pipeline.store.curation.Curation``) to ``OUT/curation.jsonl``,
outside every run folder, keyed by iceberg id: the next run, ``iceberg show`` and this
dashboard show it. A value the store refuses comes back as its one-line message.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline.errors import IcebergError
from pipeline.schemas import IcebergCols as I
from pipeline.store.curation import ACKNOWLEDGED, DISMISSED, Curation, CurationCols

OPEN = "open"
STATUS_LABELS = {OPEN: "open", ACKNOWLEDGED: "acknowledged (someone owns it)",
                 DISMISSED: "dismissed (not a problem)"}


def _given(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def form(out: str, iceberg_id: str, row: pd.Series) -> None:
    status = row.get(CurationCols.status) or OPEN
    with st.expander("Curate: rename, acknowledge, dismiss, add a note", expanded=False):
        with st.form(f"curate-{iceberg_id}"):
            curated = row.get(CurationCols.name)
            name = st.text_input("Name", value=curated if curated != row[I.label] else "",
                                 placeholder=str(row[I.label]), max_chars=120, key=f"curate_name_{iceberg_id}")
            picked = st.radio("Status", list(STATUS_LABELS), index=list(STATUS_LABELS).index(status),
                              format_func=STATUS_LABELS.get, horizontal=True, key=f"curate_status_{iceberg_id}")
            ticket = st.text_input("Problem ticket", value=_given(row.get(CurationCols.ticket)),
                                   placeholder="PROB-123 or https://…", key=f"curate_ticket_{iceberg_id}")
            note = st.text_area("Note", value=_given(row.get(CurationCols.note)), max_chars=2000, key=f"curate_note_{iceberg_id}")
            saved = st.form_submit_button("Save")
        if saved:
            try:
                Curation(out).set(iceberg_id, name=name or None,
                                  status=None if picked == OPEN else picked,
                                  ticket=ticket or None, note=note or None,
                                  by=st.session_state.get("user"))
            except IcebergError as exc:
                st.error(str(exc))
            else:
                st.toast("Saved: the next run and iceberg show will use it too.")
                st.rerun()
