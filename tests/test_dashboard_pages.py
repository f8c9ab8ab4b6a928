"""Every dashboard page in Streamlit's AppTest, on runs made by the real pipeline.

``dashboard_store`` (conftest.py, tests/dashboard_fixtures.py): the sample run, curated,
then an assign run with an XSS corpus. Each test starts the app from its entry point,
as ``streamlit run`` would, with ``ICEBERG_DASHBOARD_OUT`` naming the store.
"""

from __future__ import annotations

import io
import json
import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, SAMPLE_TRUTH
from dashboard_fixtures import RENAMED, XSS_NAME
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store import load_run
from pipeline.store.curation import Curation

APP = str(ROOT / "dashboard" / "streamlit_app.py")
TIMEOUT = 180


@pytest.fixture
def app(monkeypatch):
    def start(out, **query) -> AppTest:
        monkeypatch.setenv("ICEBERG_DASHBOARD_OUT", str(out))
        for name in ("ICEBERG_DASHBOARD_PASSWORD", "ICEBERG_DASHBOARD_USER_HEADER", "ICEBERG_DASHBOARD_RUN"):
            monkeypatch.delenv(name, raising=False)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.query_params.update(query)
        return at.run()
    return start


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return "\n".join([t.value for t in at.text] + [m.value for m in at.markdown] + [c.value for c in at.caption])


def _ranked(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "#" in d.value.columns)


def test_overview_shows_the_runs_figures_and_every_real_problem_ranked(app, dashboard_store):
    at = _ok(app(dashboard_store.out))
    run = load_run(dashboard_store.out)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Tickets"] == f"{run.manifest.counts.tickets:,}"
    assert tiles["Icebergs"] == f"{run.manifest.counts.icebergs:,}"
    assert tiles["Quarantined rows"] == f"{run.manifest.counts.rows_quarantined:,}"
    table = _ranked(at)
    curated = run.curated_icebergs().sort_values(I.rank)
    problems = curated[~curated[I.boilerplate].astype(bool)]
    assert table["id"].tolist() == problems[I.iceberg_id].tolist()
    assert table["#"].tolist() == list(range(1, len(table) + 1))
    assert table["iceberg"].iloc[0] == RENAMED                # the curated name, from before this run
    assert table["id"].iloc[-1] == dashboard_store.dismissed_id   # dismissed: after every other problem
    assert f"#1 {RENAMED}" in [s.value for s in at.subheader]


def test_filters_re_rank_without_recomputing(app, dashboard_store):
    at = _ok(app(dashboard_store.out))
    everything = _ranked(at)
    at.multiselect(key="f_trends").set_value(["stable"]).run()
    stable = _ranked(_ok(at))
    assert 0 < len(stable) < len(everything)
    assert set(stable["trend"]) == {"● stable"}
    assert stable["#"].tolist() == list(range(1, len(stable) + 1))
    order = everything[everything["trend"] == "● stable"]["id"].tolist()
    assert stable["id"].tolist() == order                      # the run's order, renumbered

    at.multiselect(key="f_trends").set_value([]).run()
    at.multiselect(key="f_values").set_value(["region=US"]).run()
    attributes = load_run(dashboard_store.out).attributes
    with_us = set(attributes[(attributes["dimension"] == "region") & (attributes["value"] == "US")
                             & (attributes["count"] > 0)]["iceberg_id"])
    assert set(_ranked(_ok(at))["id"]) <= with_us
    at.multiselect(key="f_values").set_value([]).run()
    at.number_input(key="f_customers").set_value(30).run()
    assert (_ranked(_ok(at))["customers"] >= 30).all()
    at.toggle(key="f_dismissed").set_value(False).run()
    assert dashboard_store.dismissed_id not in set(_ranked(_ok(at))["id"])


def test_a_deep_link_opens_that_icebergs_detail(app, dashboard_store):
    run = load_run(dashboard_store.out)
    row = run.icebergs.set_index(I.iceberg_id).loc[dashboard_store.renamed_id]
    at = _ok(app(dashboard_store.out, iceberg=dashboard_store.renamed_id, run=dashboard_store.second_run_id))
    assert at.title[0].value == RENAMED
    assert [h.value for h in at.header] == ["Where else does it happen?", "What caused it?", "Who is affected?",
                                            "Its tickets", "Lineage"]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Tickets"] == f"{row[I.size]:,}"
    assert tiles["Customers"] == f"{row[I.n_customers]:,}"
    text = _texts(at)
    assert f"Seen by {row[I.n_agents]} agents, none more than {row[I.max_tickets_per_agent]} times." in text
    evidence = run.evidence(dashboard_store.renamed_id).iloc[0]
    assert f"of its tickets have {evidence['dimension']}={evidence['value']}" in text
    assert f"started on {row[I.onset]}" in text
    assert "status: acknowledged · PROB-123" in text
    assert [b.label for b in at.download_button] == ["Its tickets (CSV)", "Brief (HTML)", "Brief (Excel)"]


def test_the_detail_downloads_are_the_reports_files(dashboard_store):
    from dashboard import data

    out, run_id, iceberg_id = dashboard_store.out, dashboard_store.second_run_id, dashboard_store.renamed_id
    run = load_run(out, run_id)
    members = run.tickets[run.tickets[T.iceberg_id] == iceberg_id]
    exported = pd.read_csv(io.BytesIO(data.tickets_csv(out, run_id, iceberg_id)), encoding="utf-8-sig", dtype=str)
    assert sorted(exported[T.ticket_id]) == sorted(members[T.ticket_id])
    name, mime = data.report_file("html", iceberg_id)
    assert (name, mime) == (f"{iceberg_id}.html", "text/html")
    html = data.report_bytes(out, run_id, iceberg_id, "html").decode("utf-8")
    assert RENAMED in html and html.lstrip().lower().startswith("<!doctype html>")
    assert data.report_file("xlsx", iceberg_id)[0] == f"{iceberg_id}.xlsx"
    assert data.report_bytes(out, run_id, iceberg_id, "xlsx")[:2] == b"PK"


def test_a_deep_link_into_an_earlier_run_reads_that_run(app, dashboard_store):
    first = load_run(dashboard_store.out, dashboard_store.first_run_id)
    iceberg_id = first.icebergs.sort_values(I.rank)[I.iceberg_id].iloc[5]
    at = _ok(app(dashboard_store.out, iceberg=iceberg_id, run=dashboard_store.first_run_id))
    assert _escaped(dashboard_store.first_run_id) in at.caption[0].value
    size = first.icebergs.set_index(I.iceberg_id).at[iceberg_id, I.size]
    assert {m.label: m.value for m in at.metric}["Tickets"] == f"{size:,}"


def test_a_deep_link_to_an_unknown_iceberg_says_so(app, dashboard_store):
    at = _ok(app(dashboard_store.out, iceberg="ICE-9999"))
    assert "There is no iceberg ICE\\-9999" in at.warning[0].value
    assert not at.header


def test_the_map_page_draws_every_ticket(app, dashboard_store):
    at = _ok(app(dashboard_store.out))
    at.switch_page("app_pages/map.py").run()
    _ok(at)
    chart = at.get("plotly_chart")[0]
    figure = json.loads(chart.proto.spec)
    drawn = sum(len(trace["hovertext"]) for trace in figure["data"])
    assert drawn == min(10_000, load_run(dashboard_store.out).manifest.counts.tickets)
    assert {trace["type"] for trace in figure["data"]} == {"scattergl"}


def test_the_lookup_finds_a_planted_problems_iceberg(app, dashboard_store):
    truth = json.loads(SAMPLE_TRUTH.read_text())
    planted = next(p for p in truth["planted"] if p["intent"] == "pin_blocked")
    run = load_run(dashboard_store.out)
    tickets = run.tickets.set_index(T.ticket_id)
    holder = tickets.loc[planted["ticket_ids"], T.iceberg_id].mode().iloc[0]
    probe = tickets.at[planted["ticket_ids"][-1], T.text]
    at = _ok(app(dashboard_store.out))
    at.switch_page("app_pages/lookup.py").run()
    at.text_area(key="lookup_text").set_value(probe)
    at.button[0].click().run()
    _ok(at)
    nearest = at.dataframe[0].value
    assert nearest[I.iceberg_id].iloc[0] == holder
    assert nearest["would join"].iloc[0]
    assert "Not a one-off" in at.success[0].value
    assert len(at.dataframe[1].value) == 10
    assert not list((dashboard_store.out).rglob("*lookup*"))


def test_the_lookup_shows_the_customers_history(app, dashboard_store):
    truth = json.loads(SAMPLE_TRUTH.read_text())
    planted = next(p for p in truth["planted"] if p["intent"] == "pin_blocked")
    tickets = load_run(dashboard_store.out).tickets.set_index(T.ticket_id)
    writer = tickets.at[planted["ticket_ids"][0], T.customer_id]
    at = _ok(app(dashboard_store.out))
    at.switch_page("app_pages/lookup.py").run()
    at.text_area(key="lookup_text").set_value(tickets.at[planted["ticket_ids"][-1], T.text])
    at.text_input(key="lookup_customer").set_value(writer)
    at.button[0].click().run()
    _ok(at)
    assert "They wrote about this problem before" in at.warning[0].value
    history = at.dataframe[2].value
    assert planted["ticket_ids"][0] in set(history[T.ticket_id]) and history["same problem"].any()


def test_the_runs_page_lists_both_runs_and_what_changed(app, dashboard_store):
    at = _ok(app(dashboard_store.out))
    at.switch_page("app_pages/runs.py").run()
    _ok(at)
    history = at.dataframe[0].value
    assert history["run_id"].tolist() == [dashboard_store.first_run_id, dashboard_store.second_run_id]
    assert "Quarantine" in [h.value for h in at.header]
    reasons = next(d.value for d in at.dataframe if "reason" in d.value.columns and "rows" in d.value.columns)
    assert reasons["rows"].sum() == load_run(dashboard_store.out).manifest.counts.rows_quarantined


def test_hostile_text_stays_text(app, dashboard_store):
    at = _ok(app(dashboard_store.out, iceberg=dashboard_store.xss_named_id))
    assert at.title[0].value == _escaped(XSS_NAME)      # escaped Markdown: shows literally
    at = _ok(app(dashboard_store.out))
    assert XSS_NAME in _ranked(at)["iceberg"].tolist()         # a dataframe cell: plain text


def test_curation_from_the_detail_page_is_stored_for_the_next_run(app, dashboard_store, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(dashboard_store.out, out)
    iceberg_id = load_run(out).icebergs.sort_values(I.rank)[I.iceberg_id].iloc[4]
    at = _ok(app(out, iceberg=iceberg_id))
    at.text_input(key=f"curate_name_{iceberg_id}").set_value("Refunds stuck")
    at.radio(key=f"curate_status_{iceberg_id}").set_value("acknowledged")
    at.text_input(key=f"curate_ticket_{iceberg_id}").set_value("not a key")
    at.button[0].click().run()
    assert "curation ticket must be a ticket key" in at.error[0].value
    at.text_input(key=f"curate_ticket_{iceberg_id}").set_value("https://jira.example/PROB-9")
    at.button[0].click().run()
    _ok(at)
    entry = Curation(out).get(iceberg_id)
    assert (entry.name, entry.status, entry.ticket) == ("Refunds stuck", "acknowledged", "https://jira.example/PROB-9")
    assert at.title[0].value == "Refunds stuck"


def test_empty_and_unreadable_stores_say_what_to_do(app, dashboard_store, tmp_path):
    at = _ok(app(tmp_path / "nothing"))
    assert "No run yet" in at.info[0].value
    assert "iceberg run --input tickets.csv" in at.code[0].value
    assert not at.dataframe

    out = tmp_path / "future"
    shutil.copytree(dashboard_store.out, out)
    manifest = out / "runs" / dashboard_store.second_run_id / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "schema_version": 99}))
    at = _ok(app(out))
    assert "It reads schema_version 1" in at.error[0].value and "99" in at.error[0].value

    at = _ok(app(dashboard_store.out, run="20990101T000000.000Z-000000"))
    assert "That run is not in" in at.warning[0].value


def test_a_run_without_icebergs_says_so(app, tmp_path, banking):
    from pipeline.config import Config
    from pipeline.run import run

    queries = banking.queries.drop_duplicates("category").head(6)
    path = tmp_path / "few.csv"
    pd.DataFrame({"ticket_id": [f"F{i}" for i in range(len(queries))], "text": queries["text"]}).to_csv(path, index=False)
    result = run(path, tmp_path / "out", Config(), embedder=banking.embedder)
    assert result.manifest.counts.icebergs == 0
    at = _ok(app(tmp_path / "out"))
    assert "This run found no icebergs" in at.info[0].value
    for page in ("app_pages/detail.py", "app_pages/map.py", "app_pages/lookup.py", "app_pages/runs.py"):
        _ok(at.switch_page(page).run())


def test_with_a_password_nothing_renders_before_sign_in(app, dashboard_store, monkeypatch):
    at = app(dashboard_store.out)   # resets the variables, then:
    monkeypatch.setenv("ICEBERG_DASHBOARD_PASSWORD", "s3cret")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.dataframe and not at.metric and not at.exception
    at.text_input[0].set_value("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong password." and not at.dataframe
    at.text_input[0].set_value("s3cret")
    at.button[0].click().run()
    _ok(at)
    assert at.metric and at.dataframe


def test_behind_a_proxy_a_request_without_its_header_is_refused(app, dashboard_store, monkeypatch):
    app(dashboard_store.out)
    monkeypatch.setenv("ICEBERG_DASHBOARD_USER_HEADER", "X-Forwarded-User")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "X-Forwarded-User header is missing" in at.error[0].value
    assert not at.dataframe and not at.metric


def _escaped(text: str) -> str:
    from dashboard.ui import md

    return md(text)
