"""Iceberg's dashboard for support leads: ``streamlit run dashboard/streamlit_app.py -- --out OUT``.

Started by ``iceberg dashboard`` (``pipeline/cli.py``). It reads finished runs through the
store's read API (``dashboard/data.py``) and writes nothing but curation. Pages live in
``dashboard/app_pages/``; ``/?iceberg=ICE-0042`` (``&run=RUN_ID`` for another run) opens
an iceberg's detail directly.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:   # the checkout's packages, also when not installed
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, data, ui  # noqa: E402
from pipeline.errors import IcebergError  # noqa: E402

st.set_page_config(page_title="Iceberg", page_icon=":material/ac_unit:", layout="wide")
st.session_state["user"] = auth.signed_in_user()   # stops here until signed in, when required

PAGES = {
    "overview": st.Page("app_pages/overview.py", title="Overview", icon=":material/leaderboard:", default=True),
    "detail": st.Page("app_pages/detail.py", title="Iceberg detail", icon=":material/search_insights:", url_path="iceberg"),
    "map": st.Page("app_pages/map.py", title="Ticket map", icon=":material/scatter_plot:", url_path="map"),
    "lookup": st.Page("app_pages/lookup.py", title="Is this a one-off?", icon=":material/help:", url_path="lookup"),
    "runs": st.Page("app_pages/runs.py", title="Runs and changes", icon=":material/history:", url_path="runs"),
}
st.session_state["pages"] = PAGES
page = st.navigation(list(PAGES.values()))

if page.url_path == "" and st.query_params.get("iceberg"):   # a deep link to an iceberg
    st.switch_page(PAGES["detail"], query_params=st.query_params.to_dict())


def _run_picker() -> None:
    out = ui.out_folder()
    try:
        runs = data.runs(out)
        current = data.resolved_run_id(out, ui.requested_run_id())
    except IcebergError:
        return
    finished = runs[runs["status"] == "succeeded"]["run_id"].tolist()[::-1] if len(runs) else []
    if current not in finished:
        finished.insert(0, current)
    latest = dict(zip(runs["run_id"], runs["latest"])) if len(runs) else {}
    picked = st.sidebar.selectbox("Run", finished, index=finished.index(current),
                                  format_func=lambda r: f"{r} (latest)" if latest.get(r) else r,
                                  help="Every page shows this run; the latest finished run by default.")
    if picked != current:
        st.session_state[ui.RUN_KEY] = picked
        st.query_params["run"] = picked
        st.rerun()


_run_picker()
page.run()
