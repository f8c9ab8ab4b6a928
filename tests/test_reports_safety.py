"""Reports are inert and private: an injection corpus stays data in every format, and seeded
personal data appears in none.

Both run the real pipeline (``report_runs``) on generated tickets: the injection corpus with
redaction off, so every payload reaches the run as written (a phone-like ``+1-555-0100``,
a URL inside ``=HYPERLINK(…)``), the personal data with redaction on, as a user would run it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import jsonschema
import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from report_runs import helpdesk_tickets, real_run

from pipeline.config import Config, RedactConfig
from pipeline.ops.summary import iceberg_detail
from pipeline.reports import FORMATS, render, servicenow_json, tickets_csv, zendesk_json
from pipeline.reports.safety import (
    CUT_MARK,
    EXCEL_MAX_CHARS,
    cut,
    import_text,
    markdown_text,
    safe_token,
    spreadsheet_text,
    wiki_literal_block,
    wiki_text,
)
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store import load_run
from pipeline.store.curation import Curation

HYPERLINK = '=HYPERLINK("http://x/?"&A1,"click")'
CONTROLS = "bell\x07 nul\x00 esc\x1b[31m vt\x0b c1\x85 end"
TEXT_PAYLOADS = [HYPERLINK, "+1-555-0100", "-2+3", "@SUM(1)", "\t=1+1", "<script>alert(1)</script>",
                 "| a | b |", CONTROLS, "{noformat} h1. big ----"]
MARKUP = "`code` **bold** [x](javascript:alert(1)) $x$ ~~s~~"
IMG = "<img src=x onerror=alert(1)>"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LONG_CHARS = 40_000


# --- the corpus through the real pipeline ------------------------------------------------------

@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    tickets = helpdesk_tickets(ids="plain", seed=1)
    declined = tickets.index[tickets["problem"] == "declined"]
    for k, i in enumerate(declined):
        tickets.loc[i, "body"] = f"{TEXT_PAYLOADS[k % len(TEXT_PAYLOADS)]} {tickets.loc[i, 'body']}"
    long_ticket = declined[3]
    body = tickets.loc[long_ticket, "body"] + " "
    tickets.loc[long_ticket, "body"] = (body * (LONG_CHARS // len(body) + 1))[:LONG_CHARS]
    tickets.loc[tickets["problem"] == "declined", "platform"] = IMG
    tickets.loc[tickets["problem"] == "crash", "region"] = HYPERLINK
    tickets["channel"] = "chat"
    tickets.loc[tickets["problem"] == "reset", "channel"] = "| a | b |"
    tickets.loc[tickets["problem"] == "crash", "channel"] = "@SUM(1)"
    tickets.loc[tickets["problem"] == "declined", "channel"] = "-2+3"
    folder = tmp_path_factory.mktemp("injected")
    run = real_run(tickets, folder, Config(redact=RedactConfig(enabled=False)), input_name="tickets.jsonl")
    ranked = run.curated_icebergs().sort_values(I.rank)[I.iceberg_id].tolist()
    Curation(run.out).set(ranked[0], name=HYPERLINK, note=f"{IMG} | a | b | {MARKUP} <script>alert(1)</script>")
    Curation(run.out).set(ranked[1], name="@SUM(1) -2+3")
    run = load_run(run.out)
    ids = run.icebergs[I.iceberg_id].tolist()
    return run, ids, tickets.loc[long_ticket, "ticket_id"]


@pytest.fixture(scope="module")
def outputs(injected):
    run, ids, _ = injected
    rendered = {fmt: render(run, fmt, iceberg_ids=ids) for fmt in FORMATS}
    rendered.update({f"{fmt}-split": render(run, fmt, iceberg_ids=ids, split=True) for fmt in ("md", "html")})
    return rendered


def test_the_corpus_reaches_the_run(injected):
    run, ids, long_ticket = injected
    tickets = run.tickets
    clustered = tickets[tickets[T.iceberg_id].notna()]
    texts = " ".join(clustered[T.text])
    for payload in TEXT_PAYLOADS:
        assert payload.strip()[:8] in texts, payload
    assert any(t.startswith(HYPERLINK) for t in clustered[T.text])
    assert "\x07" in texts and "\x1b" in texts
    assert tickets.set_index(T.ticket_id).at[long_ticket, T.iceberg_id] in ids
    assert len(tickets.set_index(T.ticket_id).at[long_ticket, T.text]) > 32_767
    assert {IMG, HYPERLINK, "| a | b |", "@SUM(1)", "-2+3"} <= set(tickets[["platform", "region", "channel"]]
                                                                    .stack().unique())
    evidence = set(run.evidence()["value"])
    assert {IMG, HYPERLINK, "| a | b |"} <= evidence


def _csv_cells(content: bytes) -> list[list]:
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), quoting=csv.QUOTE_NONNUMERIC))


def test_csv_cells_never_start_like_a_formula(outputs, injected):
    cells = [c for name, content in outputs["csv"].files.items() for row in _csv_cells(content) for c in row]
    text = [c for c in cells if isinstance(c, str)]
    assert not [c for c in text if c.startswith(TRIGGERS)]
    assert not [c for c in text if FORBIDDEN.search(c)]
    assert max(len(c) for c in text) <= EXCEL_MAX_CHARS
    for neutralised in ("'" + HYPERLINK, "'+1-555-0100", "'-2+3", "'@SUM(1)", "'=1+1"):
        assert any(c.startswith(neutralised) for c in text), neutralised
    assert any(c.endswith("characters]") and "[cut:" in c for c in text)
    assert any(isinstance(c, float) for c in cells)            # numbers stay numbers
    tickets = pd.read_csv(io.BytesIO(outputs["csv"].files["tickets.csv"]), encoding="utf-8-sig", dtype=str)
    run, ids, _ = injected
    assert len(tickets) == int(run.tickets[T.iceberg_id].isin(ids).sum())
    _, content, _ = outputs["csv"].download()
    assert zipfile.ZipFile(io.BytesIO(content)).namelist() == list(outputs["csv"].files)
    single = _csv_cells(tickets_csv(run, ids[0]))
    assert not [c for row in single for c in row if isinstance(c, str) and c.startswith(TRIGGERS)]


def test_xlsx_text_is_strings_never_formulas(outputs, tmp_path):
    path = tmp_path / "injected.xlsx"
    path.write_bytes(outputs["xlsx"].files["icebergs.xlsx"])
    book = openpyxl.load_workbook(path)
    strings = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                    assert not FORBIDDEN.search(cell.value), cell.coordinate
                    assert len(cell.value) <= EXCEL_MAX_CHARS
                    if cell.value.startswith(TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value[:30])
    assert HYPERLINK in strings and "@SUM(1)" in strings and "-2+3" in strings
    assert any(s.startswith("=1+1") for s in strings) and any(s.startswith("+1-555-0100") for s in strings)
    assert any("[cut:" in s for s in strings)
    with zipfile.ZipFile(path) as archive:       # no formula element anywhere in the package
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in archive.namelist())


def _markdown_html(text: str) -> BeautifulSoup:
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)
    return BeautifulSoup(html, "html.parser")


@pytest.mark.parametrize("key", ["md", "md-split"])
def test_markdown_cannot_break_a_table_or_pass_markup(outputs, key):
    for name, content in outputs[key].files.items():
        text = content.decode("utf-8")
        assert not FORBIDDEN.search(text)
        table = []
        for line in text.splitlines() + [""]:
            if line.startswith("|"):
                table.append(len(re.split(r"(?<!\\)\|", line)) - 2)
            elif table:
                assert len(set(table)) == 1, (name, table)
                table = []
        soup = _markdown_html(text)
        assert not soup.find_all(["script", "img", "iframe"]), name
        assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")]
        assert not [a for a in soup.find_all("a") if a.get("href", "").startswith("javascript")]
    whole = " ".join(_markdown_html(c.decode()).get_text(" ") for c in outputs[key].files.values())
    for literal in ("<script>alert(1)</script>", IMG, "| a | b |", MARKUP):
        assert literal in whole, literal


@pytest.mark.parametrize("key", ["html", "html-split"])
def test_html_escapes_every_text(outputs, key):
    shown = []
    for name, content in outputs[key].files.items():
        soup = BeautifulSoup(content, "html.parser")
        assert not soup.find_all(["script", "img", "iframe", "object", "embed"]), name
        assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.lower().startswith("on")], name
        assert not FORBIDDEN.search(content.decode())
        shown.append(soup.get_text(" "))
    text = " ".join(shown)
    for literal in ("<script>alert(1)</script>", IMG, "| a | b |", HYPERLINK):
        assert literal in text, literal


def test_jira_values_are_built_safe(outputs):
    for content in outputs["jira"].files.values():
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
        header = rows[0]
        assert all(len(r) == len(header) for r in rows)
        for row in rows[1:]:
            for column, value in zip(header, row):
                assert not value.startswith(TRIGGERS), (column, value[:40])
                assert not FORBIDDEN.search(value), column
            description = row[header.index("Description")]
            assert description.count("{noformat}") % 2 == 0 and len(description) <= 32_767
            assert all(re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", v) for c, v in zip(header, row) if c == "Labels" and v)
    notes = [r[header.index("Description")] for r in rows[1:] if "*Note:*" in r[header.index("Description")]]
    assert notes and "\\[x\\](javascript:alert(1))" in notes[0] and "\\|" in notes[0]


@pytest.mark.parametrize("fmt, schema, key, title", [
    ("servicenow", servicenow_json.SCHEMA, "record", "short_description"),
    ("zendesk", zendesk_json.SCHEMA, "ticket", "subject"),
])
def test_problem_record_json_is_valid_and_clean(outputs, fmt, schema, key, title):
    (content,) = outputs[fmt].files.values()
    document = json.loads(content)
    jsonschema.validate(document, schema)

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    for problem in document["problems"]:
        for value in strings(problem):
            assert not FORBIDDEN.search(value)
            assert not value.startswith(TRIGGERS), value[:40]
        assert problem[key][title].startswith("[Iceberg ")


def test_text_form_has_no_control_characters(injected):
    run, ids, _ = injected
    for iceberg_id in ids[:3]:
        assert not FORBIDDEN.search(iceberg_detail(run, iceberg_id, tickets=True))


# --- safety functions --------------------------------------------------------------------------

def test_cut_marks_what_it_cuts():
    text = "x" * 40_000
    cut_text = cut(text)
    assert len(cut_text) <= EXCEL_MAX_CHARS and cut_text.endswith(CUT_MARK.format(n=40_000 - cut_text.index(" …")))
    assert cut("short") == "short"


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1-555", "'+1-555"), ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1", "'\r=1"), ("\n=1", "'\n=1"), ("a=1", "a=1"), ("bell\x07", "bell"),
])
def test_spreadsheet_text(value, expected):
    assert spreadsheet_text(value) == expected


def test_import_and_markup_values():
    assert import_text("=HYPERLINK(1)") == "HYPERLINK(1)" and import_text("\t-@2+3\x07") == "2+3"
    assert import_text("a\r\nb", multiline=True) == "a\nb" and import_text("a\nb") == "a b"
    assert safe_token("Region=US ") == "region-us" and safe_token("<script>") == "script"
    assert safe_token("=@") == ""
    assert wiki_text("*a* [b|c] {d} -e- x-y") == "\\*a\\* \\[b\\|c\\] \\{d\\} \\-e\\- x-y"
    assert wiki_literal_block("x {noformat} y") == "{noformat}\nx (noformat) y\n{noformat}"
    assert markdown_text("a|b\n<i>`c`</i> &amp; $x$") == "a\\|b \\<i\\>\\`c\\`\\</i\\> \\&amp; \\$x\\$"


# --- personal data -----------------------------------------------------------------------------

SEEDED = {
    "email": ["jane.doe@example.com", "j.smith+bank@mail.example.org"],
    "card": ["4111 1111 1111 1111", "5500-0000-0000-0004"],
    "iban": ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"],
    "phone": ["+44 20 7946 0958", "(415) 555-2671", "07700 900123"],
}


def _forms(value: str) -> set[str]:
    """A seeded value as it may appear: as written, and without spaces or dashes."""
    compact = re.sub(r"[\s\-()]", "", value)
    return {value, compact} | ({compact.lstrip("+")} if compact.startswith("+") else set())


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tickets = helpdesk_tickets(ids="plain", seed=2)
    values = [v for kind in SEEDED.values() for v in kind]
    members = tickets.index[tickets["problem"].notna()]
    for k, i in enumerate(members):
        tickets.loc[i, "body"] = f"{tickets.loc[i, 'body']} reach me via {values[k % len(values)]}"
    tickets["contact"] = "none"
    tickets.loc[members[::3], "contact"] = "call +44 20 7946 0958"
    tickets.loc[members[1::3], "contact"] = "mail jane.doe@example.com"
    tickets.loc[members[::5], "customer_id"] = "jane.doe@example.com"
    tickets.loc[members[1::5], "agent_id"] = "j.smith+bank@mail.example.org"
    folder = tmp_path_factory.mktemp("seeded")
    run = real_run(tickets, folder)
    raw = (folder / "tickets.csv").read_text(encoding="utf-8")
    assert all(v in raw for v in values)           # the input does carry them
    return run, values


def _contents(rendered) -> list[str]:
    out = []
    for name, content in rendered.files.items():
        if name.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                out += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        else:
            out.append(content.decode("utf-8-sig"))
    return out


def test_no_seeded_personal_data_in_any_export(seeded):
    run, values = seeded
    ids = run.icebergs[I.iceberg_id].tolist()
    texts = []
    for fmt in FORMATS:
        texts += _contents(render(run, fmt, iceberg_ids=ids))
    texts += _contents(render(run, "html", iceberg_ids=ids, split=True))
    texts += [tickets_csv(run, i).decode("utf-8-sig") for i in ids]
    texts += [iceberg_detail(run, i, tickets=True) for i in ids]
    everything = "\n".join(texts)
    assert "[EMAIL]" in everything and "[CARD]" in everything and "[IBAN]" in everything
    assert "[PHONE]" in everything and "cust-" in everything
    leaks = sorted({form for v in values for form in _forms(v) if form in everything})
    assert not leaks, leaks
