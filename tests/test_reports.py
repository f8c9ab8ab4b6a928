"""Reports: every format opens with a standard reader and gives back the run's figures.

The run is real (the whole pipeline, HDBSCAN included) on generated tickets, with a hashing
stand-in for the embedding model (``report_runs``), so these tests take seconds. The
browser checks of the HTML brief are in ``test_reports_browser.py``, injection and
personal data in ``test_reports_safety.py``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from dataclasses import replace

import jsonschema
import numpy as np
import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from report_runs import helpdesk_tickets, real_run

from pipeline.cli import main
from pipeline.errors import EXIT_NO_RUN, EXIT_OUTPUT, EXIT_USAGE, UsageError
from pipeline.reports import FORMATS, jira_csv, problem, render, servicenow_json, tickets_csv, zendesk_json
from pipeline.reports.model import report_model
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store import load_run
from pipeline.store.curation import Curation

LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return real_run(helpdesk_tickets(), tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def chosen(run) -> pd.DataFrame:
    """What a default report covers: the top 10 that are neither boilerplate nor dismissed."""
    icebergs = run.curated_icebergs().sort_values(I.rank)
    return icebergs[~icebergs[I.boilerplate] & (icebergs["status"] != "dismissed")].head(10)


def test_the_run_has_what_the_reports_need(run, chosen):
    eligible = run.curated_icebergs()
    eligible = eligible[~eligible[I.boilerplate] & (eligible["status"] != "dismissed")]
    assert len(chosen) == min(10, len(eligible)) and len(chosen) >= 5
    assert run.evidence(attributes=run.attributes[run.attributes[A.iceberg_id].isin(chosen[I.iceberg_id])]).shape[0]


# --- csv ---------------------------------------------------------------------------------------

def test_csv_is_one_tidy_table_per_file_with_a_bom(run, chosen):
    rendered = render(run, "csv")
    assert list(rendered.files) == ["overview.csv", "evidence.csv", "timeline.csv", "tickets.csv"]
    assert all(content.startswith("\ufeff".encode()) for content in rendered.files.values())
    overview = pd.read_csv(io.BytesIO(rendered.files["overview.csv"]), encoding="utf-8-sig")
    assert overview["iceberg_id"].tolist() == chosen[I.iceberg_id].tolist()
    assert overview["rank"].tolist() == chosen[I.rank].tolist()
    assert np.allclose(overview["score"], chosen[I.score])
    assert overview["tickets"].tolist() == chosen[I.size].tolist()
    assert overview["customers"].tolist() == chosen[I.n_customers].tolist()
    assert pd.api.types.is_float_dtype(overview["score"]) and pd.api.types.is_integer_dtype(overview["tickets"])
    assert overview["onset"].tolist() == [str(d) for d in chosen[I.onset]]

    evidence = pd.read_csv(io.BytesIO(rendered.files["evidence.csv"]), encoding="utf-8-sig")
    expected = run.evidence(attributes=run.attributes[run.attributes[A.iceberg_id].isin(chosen[I.iceberg_id])])
    merged = evidence.merge(expected, on=[A.iceberg_id, A.dimension, A.value], suffixes=("", "_run"))
    assert len(merged) == len(expected) == len(evidence) > 0
    for column in (A.count, A.share, A.baseline_share, A.lift, A.p_value, A.q_value):
        assert np.allclose(merged[column], merged[f"{column}_run"], rtol=1e-12), column

    timeline = pd.read_csv(io.BytesIO(rendered.files["timeline.csv"]), encoding="utf-8-sig")
    sums = timeline.groupby("iceberg_id")["count"].sum()
    assert sums.reindex(chosen[I.iceberg_id]).tolist() == chosen[I.size].tolist()

    tickets = pd.read_csv(io.BytesIO(rendered.files["tickets.csv"]), encoding="utf-8-sig",
                          dtype={T.ticket_id: str, T.text: str, T.customer_id: str})
    assert tickets.groupby(T.iceberg_id).size().reindex(chosen[I.iceberg_id]).tolist() == chosen[I.size].tolist()
    source = run.tickets.set_index(T.ticket_id)
    assert (tickets[T.text].to_numpy() == source.loc[tickets[T.ticket_id], T.text].to_numpy()).all()
    assert set(tickets.columns) >= {T.ticket_id, T.iceberg_id, T.created_at, T.customer_id, T.agent_id,
                                    "platform", "region", T.text}


def test_tickets_csv_holds_one_icebergs_tickets(run, chosen):
    iceberg_id = chosen[I.iceberg_id].iloc[1]
    table = pd.read_csv(io.BytesIO(tickets_csv(run, iceberg_id)), encoding="utf-8-sig", dtype=str)
    members = run.tickets[run.tickets[T.iceberg_id] == iceberg_id]
    assert sorted(table[T.ticket_id]) == sorted(members[T.ticket_id])
    assert set(table[T.iceberg_id]) == {iceberg_id}


# --- xlsx --------------------------------------------------------------------------------------

def test_xlsx_has_typed_formatted_sheets_and_an_about_sheet(run, chosen, tmp_path):
    rendered = render(run, "xlsx")
    path = tmp_path / "icebergs.xlsx"
    path.write_bytes(rendered.files["icebergs.xlsx"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Overview", "Evidence", "Timeline", "Tickets", "About"]
    for sheet in book.worksheets[:4]:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), sheet.title
    overview = book["Overview"]
    header = [c.value for c in overview[1]]
    score, onset, first_seen = (header.index(c) + 1 for c in ("score", "onset", "first_seen"))
    assert [overview.cell(i + 2, score).value for i in range(len(chosen))] == pytest.approx(chosen[I.score].tolist())
    assert overview.cell(2, onset).is_date and overview.cell(2, first_seen).is_date
    assert overview.cell(2, onset).value.date() == chosen[I.onset].iloc[0]
    assert overview.cell(2, score).number_format == "0.00"
    evidence = book["Evidence"]
    share = [c.value for c in evidence[1]].index("share") + 1
    assert evidence.cell(2, share).number_format == "0.0%" and isinstance(evidence.cell(2, share).value, (int, float))
    tickets = book["Tickets"]
    columns = [c.value for c in tickets[1]]
    text = columns.index(T.text) + 1
    assert tickets.max_row - 1 == int(chosen[I.size].sum())
    assert all(tickets.cell(i, text).data_type == "s" for i in range(2, tickets.max_row + 1))
    assert tickets.column_dimensions[openpyxl.utils.get_column_letter(text)].width >= 80
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert about["run id"] == run.run_id and "lift" in about and "Overview: score" in about
    frame = pd.read_excel(path, sheet_name="Overview")
    assert frame["iceberg_id"].tolist() == chosen[I.iceberg_id].tolist()
    assert frame["tickets"].tolist() == chosen[I.size].tolist()


# --- md ----------------------------------------------------------------------------------------

def _tables(markdown: str) -> list[list[str]]:
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _cells(line: str) -> int:
    return len(re.split(r"(?<!\\)\|", line)) - 2


def test_markdown_tables_keep_one_cell_count_and_render(run, chosen):
    text = render(run, "md").files["icebergs.md"].decode("utf-8")
    tables = _tables(text)
    assert len(tables) == 1 + len(chosen)         # the overview and each brief's where-else table
    for table in tables:
        assert len({_cells(line) for line in table}) == 1, table
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)
    soup = BeautifulSoup(html, "html.parser")
    rendered = soup.find_all("table")
    assert len(rendered) == len(tables)
    overview = rendered[0]
    rows = overview.find_all("tr")
    assert [r.find_all("td")[1].get_text() for r in rows[1:]] == chosen[I.iceberg_id].tolist()
    assert [float(r.find_all("td")[3].get_text()) for r in rows[1:]] == pytest.approx(
        chosen[I.score].round(2).tolist())
    split = render(run, "md", split=True)
    assert list(split.files) == ["index.md", *[f"{i}.md" for i in chosen[I.iceberg_id]]]


# --- html --------------------------------------------------------------------------------------

def test_html_is_self_contained_and_holds_the_figures(run, chosen):
    html = render(run, "html").files["icebergs.html"].decode("utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["script", "link", "iframe", "img", "object"])
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in csp["content"]
    assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.lower().startswith("on")]
    assert all(a["href"].startswith("#") for a in soup.find_all("a"))
    sections = soup.select("section.brief")
    assert [s["id"] for s in sections] == chosen[I.iceberg_id].tolist()
    for section, (_, row) in zip(sections, chosen.iterrows()):
        assert section.select("svg.chart"), row[I.iceberg_id]
        figures = [f.get_text(" ", strip=True) for f in section.select(".figure")]
        assert f"{row[I.size]:,} tickets" in figures and f"{row[I.n_customers]:,} customers" in figures
        assert f"score {row[I.score]:.2f}" in section.get_text(" ")
        ids = section.select_one(".ids").get_text()
        assert ids.split(", ") == run.tickets[run.tickets[T.iceberg_id] == row[I.iceberg_id]] \
            .sort_values([T.created_at, T.ticket_id])[T.ticket_id].tolist()


def test_html_split_gives_an_index_and_one_small_file_per_brief(run, chosen):
    rendered = render(run, "html", split=True)
    assert list(rendered.files) == ["index.html", *[f"{i}.html" for i in chosen[I.iceberg_id]]]
    index = BeautifulSoup(rendered.files["index.html"], "html.parser")
    assert [a["href"] for a in index.select("table.overview a")] == [f"{i}.html" for i in chosen[I.iceberg_id]]
    for name, content in rendered.files.items():
        assert len(content) <= 1_000_000, name


# --- problem records ---------------------------------------------------------------------------

def test_jira_csv_has_the_importers_layout_with_repeated_labels(run, chosen):
    content = render(run, "jira").files["jira-problems.csv"].decode("utf-8")
    rows = list(csv.reader(io.StringIO(content)))
    header, body = rows[0], rows[1:]
    n_labels = header.count("Labels")
    assert header == ["Summary", "Issue Type", "Priority", "Description"] + ["Labels"] * n_labels + \
        ["Iceberg ID", "Linked tickets"] and n_labels >= 3
    assert len(body) == len(chosen) and all(len(r) == len(header) for r in body)
    report = report_model(run)
    for r, brief in zip(body, report.briefs):
        assert r[0].startswith(f"[Iceberg {brief.iceberg_id}] ") and len(r[0]) <= 255
        assert r[1] == "Problem"
        assert r[2] == problem.JIRA_PRIORITIES[problem.priority_level(report, brief)]
        assert r[3].startswith("h2. Problem") and "||Dimension||Value||" in r[3]
        labels = [v for v in r[4:4 + n_labels] if v]
        assert labels[:2] == ["iceberg", brief.iceberg_id.lower()] and all(LABEL.match(v) for v in labels)
        assert r[-2] == brief.iceberg_id
        assert r[-1].split(", ") == brief.ticket_ids


def test_jira_csv_holds_at_most_250_rows_a_file(run):
    report = report_model(run)
    copies = -(-260 // len(report.briefs))
    many = replace(report, briefs=report.briefs * copies)      # at least 260 problems
    rendered = jira_csv.render(many)
    assert list(rendered.files) == ["jira-problems-1.csv", "jira-problems-2.csv"] and rendered.numbered
    sizes = [len(list(csv.reader(io.StringIO(c.decode())))) - 1 for c in rendered.files.values()]
    assert sizes == [250, len(many.briefs) - 250]


def _expected_impact(run, row) -> int:
    reach = row[I.n_customers]
    share = reach / run.tickets[T.customer_id].nunique()
    return 1 if reach >= 100 or share >= 0.05 else 2 if reach >= 20 or share >= 0.01 else 3


def _expected_urgency(row) -> int:
    return 1 if row[I.trend] in ("new", "growing") or row[I.spike] else 2 if row[I.trend] == "stable" else 3


def test_servicenow_json_has_problem_records_and_incident_updates(run, chosen):
    document = json.loads(render(run, "servicenow").files["servicenow-problems.json"])
    jsonschema.validate(document, servicenow_json.SCHEMA)
    assert [p["iceberg_id"] for p in document["problems"]] == chosen[I.iceberg_id].tolist()
    linked = 0
    for entry, (_, row) in zip(document["problems"], chosen.iterrows()):
        record = entry["record"]
        assert "priority" not in record and record["category"] == "software"
        assert record["short_description"].startswith(f"[Iceberg {row[I.iceberg_id]}]")
        assert record["impact"] == str(_expected_impact(run, row))
        assert record["urgency"] == str(_expected_urgency(row))
        ids = run.tickets.loc[run.tickets[T.iceberg_id] == row[I.iceberg_id], T.ticket_id]
        numbers = sorted(i for i in ids if i.startswith("INC"))
        assert sorted(u["number"] for u in entry["incident_updates"]) == numbers
        assert entry["tickets_without_incident_number"] == len(ids) - len(numbers)
        linked += len(numbers)
    assert linked > 0


def test_zendesk_json_has_problem_tickets_and_problem_id_updates(run, chosen):
    document = json.loads(render(run, "zendesk").files["zendesk-problems.json"])
    jsonschema.validate(document, zendesk_json.SCHEMA)
    linked = 0
    for entry, (_, row) in zip(document["problems"], chosen.iterrows()):
        ticket = entry["ticket"]
        assert ticket["type"] == "problem" and ticket["external_id"] == f"iceberg:{row[I.iceberg_id]}"
        level = _expected_impact(run, row) + _expected_urgency(row) - 1
        assert ticket["priority"] == {1: "urgent", 2: "high", 3: "normal"}.get(level, "low")
        ids = run.tickets.loc[run.tickets[T.iceberg_id] == row[I.iceberg_id], T.ticket_id]
        numeric = sorted(int(i) for i in ids if i.isdigit())
        updates = entry["incident_updates"]
        assert sorted(i for u in updates for i in u["ids"]) == numeric
        assert all(len(u["ids"]) <= 100 and u["ticket"] == {"type": "incident", "problem_id": None} for u in updates)
        linked += len(numeric)
    assert linked > 0


# --- curation ----------------------------------------------------------------------------------

@pytest.fixture()
def curated(run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(run.out, out)
    ids = run.curated_icebergs().sort_values(I.rank)[I.iceberg_id].tolist()
    curation = Curation(out)
    curation.set(ids[0], name="Card payments declined on Android", status="acknowledged",
                 ticket="https://acme.service-now.com/nav_to.do?uri=problem.do?sys_id=0123456789abcdef0123456789abcdef",
                 note="Payments team is on it")
    curation.set(ids[1], status="dismissed", note="expected after the March change")
    curation.set(ids[2], ticket="https://acme.zendesk.com/agent/tickets/4321")
    return load_run(out), ids


def test_reports_show_curated_names_and_leave_dismissed_icebergs_out(curated):
    run, ids = curated
    report = report_model(run)
    assert ids[1] not in [b.iceberg_id for b in report.briefs]
    first = report.briefs[0]
    assert first.iceberg_id == ids[0] and first.name == "Card payments declined on Android"
    assert first.status == "acknowledged" and first.note == "Payments team is on it"
    html = render(run, "html").files["icebergs.html"].decode()
    assert "Card payments declined on Android" in html and "Payments team is on it" in html
    sn = json.loads(render(run, "servicenow", iceberg_ids=[ids[0]]).files["servicenow-problems.json"])
    assert {u["problem_id"] for u in sn["problems"][0]["incident_updates"]} <= {"0123456789abcdef0123456789abcdef"}
    zd = json.loads(render(run, "zendesk", iceberg_ids=[ids[2]]).files["zendesk-problems.json"])
    assert all(u["ticket"]["problem_id"] == 4321 for u in zd["problems"][0]["incident_updates"])
    assert [b.iceberg_id for b in report_model(run, [ids[1]]).briefs] == [ids[1]]   # named: any status


def test_show_explains_the_rank_and_shows_curation(curated, capsys):
    run, ids = curated
    assert main(["show", "--out", str(run.out), "--top", "3"]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith(f"#1 {ids[0]}"))
    assert "Card payments declined on Android" in header and "[acknowledged https://acme" in header
    assert re.search(r"    rank:  score \d+\.\d\d = reach \d\.\d\d \(log of 1 \+ \d+ customers\) × \(1 \+ "
                     r"concentration \d\.\d\d \+ emergence \d\.\d\d \+ fragmentation \d\.\d\d\)", text)
    assert "pushed up by" in text and "    label: " in text


def test_show_one_iceberg_in_full_and_its_tickets(run, chosen, capsys):
    iceberg_id = chosen[I.iceberg_id].iloc[0]
    assert main(["show", "--out", str(run.out), "--iceberg", iceberg_id, "--tickets"]) == 0
    text = capsys.readouterr().out
    for heading in ("Why it ranks here", "Who is affected", "When", "Where else", "What caused it",
                    "Representative tickets", "How it was computed"):
        assert f"\n{heading}" in text
    members = run.tickets[run.tickets[T.iceberg_id] == iceberg_id]
    listing = text.split(f"{len(members):,} tickets, oldest first\n")[1].splitlines()
    assert [line.split()[0] for line in listing] == members.sort_values([T.created_at, T.ticket_id])[
        T.ticket_id].tolist()


def test_representative_tickets_come_from_different_customers(run, chosen):
    for brief in report_model(run).briefs:
        customers = [q.customer_id for q in brief.quotes]
        assert 3 <= len(brief.quotes) <= 5 or len(brief.quotes) == brief.row[I.size]
        assert len(set(customers)) == len(customers), brief.iceberg_id


# --- command line and API ----------------------------------------------------------------------

def test_report_writes_files_folders_zips_and_stdout(run, tmp_path, capsysbinary):
    out = str(run.out)
    assert main(["report", "--out", out, "--format", "html", "-o", str(tmp_path / "brief.html")]) == 0
    assert (tmp_path / "brief.html").read_bytes().startswith(b"<!doctype html>")
    assert main(["report", "--out", out, "--format", "csv", "-o", str(tmp_path / "tables")]) == 0
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "evidence.csv", "overview.csv", "tickets.csv", "timeline.csv"]
    assert main(["report", "--out", out, "--format", "md", "-o", str(tmp_path / "md.zip")]) == 0
    assert zipfile.ZipFile(tmp_path / "md.zip").namelist()[0] == "index.md"
    capsysbinary.readouterr()
    assert main(["report", "--out", out, "--format", "servicenow", "--iceberg", "ICE-0001", "-o", "-"]) == 0
    document = json.loads(capsysbinary.readouterr().out)
    assert [p["iceberg_id"] for p in document["problems"]] == ["ICE-0001"]


@pytest.mark.parametrize("args, code, message", [
    (["--format", "pdf"], EXIT_USAGE, "unknown report format 'pdf'; choose one of csv, xlsx, md"),
    (["--format", "html", "--iceberg", "ICE-9999"], EXIT_USAGE, "unknown iceberg id 'ICE-9999'"),
    (["--format", "xlsx", "-o", "-"], EXIT_USAGE, "--output - (standard output) cannot take"),
    (["--format", "csv", "-o", "tables.csv"], EXIT_USAGE, "give a folder"),
])
def test_report_errors_are_one_line(run, tmp_path, capsys, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    argv = ["report", "--out", str(run.out), *args]
    assert main(argv + ([] if "-o" in args else ["-o", "x.html"])) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("iceberg: error: ") and message in err, err


def test_report_without_a_run_or_a_writable_output(run, tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "none"), "--format", "md", "-o", "x.md"]) == EXIT_NO_RUN
    (tmp_path / "blocker").write_text("a file where a folder should be")
    assert main(["report", "--out", str(run.out), "--format", "csv", "-o",
                 str(tmp_path / "blocker" / "tables") + "/"]) == EXIT_OUTPUT
    assert "pass a writable file or folder as --output" in capsys.readouterr().err
    assert main(["show", "--out", str(run.out), "--iceberg", "nope"]) == EXIT_USAGE


def test_render_api_for_the_dashboard(run):
    for fmt in FORMATS:
        rendered = render(run, fmt, top=2)
        name, data, mime = rendered.download()
        assert data and mime and name
        if len(rendered.files) > 1:
            assert name.endswith(".zip") and zipfile.ZipFile(io.BytesIO(data)).namelist() == list(rendered.files)
    with pytest.raises(UsageError, match="unknown report format"):
        render(run, "docx")
    with pytest.raises(UsageError, match="top must be at least 1"):
        render(run, "md", top=0)
