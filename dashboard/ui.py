"""What every page shares: which run is shown, error states in words, text shown as text.

Ticket text and anything else that came from the data is shown with ``st.text``,
``st.code`` or inside dataframes — never through Markdown or ``unsafe_allow_html`` —
so a body such as ``<img src=x onerror=alert(1)>`` or ``[x](javascript:alert(1))`` shows
literally. ``md`` escapes data that must sit inside a Markdown sentence.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import streamlit as st

from dashboard import data
from dashboard.settings import source_from
from pipeline.errors import IcebergError, RunNotFound, RunUnreadable, UnsupportedSchema
from pipeline.schemas import SUPPORTED_SCHEMA_VERSIONS

RUN_KEY = "iceberg_run_id"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


@dataclass(frozen=True)
class Shown:
    """The run a page shows."""

    out: str
    run_id: str


def md(value) -> str:
    """``value`` escaped for use inside a Markdown string: every Markdown and HTML character
    is backslash-escaped, so nothing in it becomes a link, an image or a tag."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def out_folder() -> str:
    return str(source_from(sys.argv[1:]).out)


def requested_run_id() -> str | None:
    """The run asked for: ``?run=`` in the address, else the one picked on an earlier page,
    else ``--run`` on the command line; None for the latest."""
    asked = st.query_params.get("run")
    if asked:
        st.session_state[RUN_KEY] = asked
        return asked
    return st.session_state.get(RUN_KEY) or source_from(sys.argv[1:]).run_id


def shown_run() -> Shown:
    """The run to show, or a stopped page that says in words why there is none."""
    out = out_folder()
    try:
        run_id = data.resolved_run_id(out, requested_run_id())
        data.manifest(out, run_id)
    except IcebergError as exc:
        explain(exc, out)
        st.stop()
    return Shown(out, run_id)


def explain(exc: Exception, out: str) -> None:
    """An error state, in words, with what to do about it."""
    if isinstance(exc, RunNotFound) and not data.runs(out).shape[0]:
        st.info(f"No run yet in {md(out)}. Make one, then reload this page:")
        st.code(f"iceberg run --input tickets.csv --out {out}", language="bash")
    elif isinstance(exc, RunNotFound):
        st.warning(f"That run is not in {md(out)}: {md(exc)}")
        st.page_link(st.session_state.get("pages", {}).get("runs", "app_pages/runs.py"),
                     label="See the runs there")
    elif isinstance(exc, UnsupportedSchema):
        versions = ", ".join(map(str, sorted(SUPPORTED_SCHEMA_VERSIONS)))
        st.error(f"This run was written in a format this dashboard cannot read. It reads "
                 f"schema_version {versions}. {md(exc)}")
    elif isinstance(exc, RunUnreadable):
        st.error(f"The run cannot be read: {md(exc)}")
    else:
        st.error(md(exc))


def page_heading(title: str, shown: Shown) -> None:
    st.title(title)
    m = data.manifest(shown.out, shown.run_id)
    st.caption(md(f"Run {shown.run_id} · finished {m.finished_at or '–'} · {shown.out}"))


def ticket_text(text) -> None:
    """One ticket's text, shown as text."""
    st.text(str(text))
