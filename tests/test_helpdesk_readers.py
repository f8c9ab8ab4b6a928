"""Helpdesk export readers (Zendesk, Freshdesk, Jira) and the SQL reader, through ``read_tickets``.

The fixtures under tests/fixtures/helpdesk/ are small exports written from each product's
public field documentation, each with malformed records that must be quarantined with a
reason; one end-to-end CLI run on a generated Zendesk export shows the ``tags`` and
``via.channel`` dimensions reach ``attributes.parquet``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from conftest import iceberg
from pipeline.analysis.evidence import attribute_table, topical_dimensions
from pipeline.cli import main
from pipeline.config import Config, load_config
from pipeline.errors import EXIT_CONFIG, EXIT_MISSING_INPUT, EXIT_USAGE, ConfigError, InputError, InputNotFound
from pipeline.schemas import AttributeCols as A, QuarantineCols, TicketCols, multi_value_text, multi_values
from pipeline.sources import (FreshdeskReader, JiraReader, JsonlReader, SqlReader, ZendeskReader,
                              read_tickets, reader_for)

FIXTURES = Path(__file__).parent / "fixtures" / "helpdesk"


def accounted(result) -> None:
    assert result.rows_read == len(result.tickets) + len(result.quarantine)
    assert result.quarantine[QuarantineCols.reason].str.len().gt(0).all()


def reasons(result) -> dict[int, str]:
    q = result.quarantine
    return dict(zip(q[QuarantineCols.source_row], q[QuarantineCols.reason]))


# --- Zendesk ---------------------------------------------------------------------------------

def test_zendesk_pages_map_onto_the_ticket_contract():
    config = load_config(overrides={"input.custom_fields": '{"360001" = "product"}'})
    path = FIXTURES / "zendesk_tickets.json"
    assert isinstance(reader_for(path, config.input), ZendeskReader)       # detected: via + requester_id
    result = read_tickets(path, config)
    assert result.roles == {"id": "id", "created_at": "created_at", "subject": "subject",
                            "body": ["description"], "customer": "requester_id",
                            "account": "organization_id", "agent": "assignee_id"}
    assert result.dimensions == ["via.channel", "brand_id", "type", "tags", "product", "custom_360002",
                                 "custom_360003"]
    # How a ticket is handled is kept, never where-else evidence (pipeline.sources.attributes).
    assert result.handling == ["group_id", "priority", "status", "satisfaction_rating.score"]
    assert result.multi_valued == ["tags", "custom_360003"]
    t = result.tickets.set_index(TicketCols.ticket_id)
    assert t.loc["101", "via.channel"] == "email" and t.loc["102", "via.channel"] == "web"
    assert multi_values(t.loc["103", "tags"]) == ["login", "crash", "android"]
    assert t.loc["101", "product"] == "pro_plan" and t.loc["101", "custom_360002"] == "5.4.0"
    assert multi_values(t.loc["101", "custom_360003"]) == ["android", "ios"]
    assert t.loc["102", "satisfaction_rating.score"] == "good"
    assert t.loc["101", TicketCols.customer_id] == "9001" and t.loc["101", TicketCols.account_id] == "77"
    assert t.loc["101", "requester.email"] == "ann.lee@example.com"   # pseudonymised by prepare
    assert not {"url", "fields", "raw_subject", "collaborator_ids", "custom_fields"} & set(t.columns)
    assert not [c for c in t.columns if t[c].astype(str).str.startswith("{").any()]  # no JSON objects
    assert reasons(result) == {4: "zendesk record 4: tags is a JSON str, not a list",
                               5: "item 3 of the page on line 23 is a JSON str, not a ticket object",
                               6: "missing ticket id"}
    assert json.loads(result.quarantine["raw_line"][0])["tags"] == "billing urgent"   # the record as found
    assert result.source["format"] == "zendesk" and result.source["rows"] == 6
    accounted(result)


def test_zendesk_incremental_export_lines_and_a_bad_line(tmp_path):
    ticket = {"id": 1, "created_at": "2024-03-11T08:15:00Z", "subject": "Card declined",
              "description": "declined", "requester_id": 5, "via": {"channel": "api"}, "tags": ["a"]}
    lines = [json.dumps(ticket), "{not json", json.dumps({"tickets": [{**ticket, "id": 2}, {**ticket, "id": 3}],
                                                          "end_of_stream": True}), json.dumps([{**ticket, "id": 4}])]
    path = tmp_path / "incremental.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_tickets(path, Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "2", "3", "4"]
    assert list(reasons(result).values()) == ["invalid JSON on line 2: Expecting property name enclosed in "
                                              "double quotes (column 2)"]
    accounted(result)


def test_zendesk_csv_export(tmp_path):
    result = read_tickets(FIXTURES / "zendesk_export.csv", Config())
    assert result.roles["customer"] == "requester_id" and result.roles["agent"] == "assignee"
    assert result.roles["account"] == "organization"
    assert {"via.channel", "type", "tags"} <= set(result.dimensions)
    assert {"group", "satisfaction_rating.score"} <= set(result.handling)
    t = result.tickets.set_index(TicketCols.ticket_id)
    assert multi_values(t.loc["301", "tags"]) == ["billing", "card_declined"]
    assert t.loc["302", "via.channel"] == "Web form"
    assert reasons(result) == {4: "no text (subject and body are empty)"}
    accounted(result)


def test_a_generic_json_export_stays_a_file(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": 1, "body": "x", "via": {"channel": "web"}, "tags": ["a"]}), encoding="utf-8")
    assert isinstance(reader_for(path, Config().input), JsonlReader)
    zendesk = FIXTURES / "zendesk_tickets.json"
    assert isinstance(reader_for(zendesk, load_config(overrides={"input.source": "file"}).input), JsonlReader)


# --- Freshdesk -------------------------------------------------------------------------------

def test_freshdesk_codes_are_decoded_and_html_becomes_text():
    path = FIXTURES / "freshdesk_tickets.json"
    assert isinstance(reader_for(path, Config().input), FreshdeskReader)
    result = read_tickets(path, Config())
    assert result.roles["customer"] == "requester_id" and result.roles["agent"] == "responder_id"
    assert result.roles["account"] == "company_id" and result.roles["body"] == ["description_text"]
    t = result.tickets.set_index(TicketCols.ticket_id)
    assert t[["source", "status", "priority"]].loc["2001"].tolist() == ["Portal", "Open", "High"]
    assert t[["source", "status", "priority"]].loc["2002"].tolist() == ["Email", "Resolved", "Low"]
    assert t.loc["2003", "status"] == "status 6"              # a custom status keeps its code
    assert t.loc["2002", TicketCols.text] == ("Invoice shows wrong VAT\n\nThe invoice for March shows the "
                                              "wrong VAT rate.\n\nPlease fix it.")
    assert t.loc["2001", TicketCols.text].endswith("I cannot reset my password.")
    assert t.loc["2001", "cf_plan"] == "Pro" and "cf_plan" in result.dimensions
    assert result.multi_valued == ["tags"]
    assert reasons(result) == {4: "freshdesk record 4: status is 'open', not one of Freshdesk's integer codes",
                               5: "freshdesk record 5: custom_fields is a JSON list, not an object",
                               6: "unparseable created_at: 'yesterday-ish'"}
    accounted(result)


def test_freshdesk_names_custom_fields_from_the_config_and_refuses_csv(tmp_path):
    config = load_config(overrides={"input.custom_fields": '{"cf_plan" = "plan"}'})
    result = read_tickets(FIXTURES / "freshdesk_tickets.json", config)
    assert "plan" in result.dimensions and "cf_plan" not in result.tickets.columns
    path = tmp_path / "t.csv"
    path.write_text("id,subject\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="the freshdesk source reads the tickets as Freshdesk's API"):
        read_tickets(path, load_config(overrides={"input.source": "freshdesk"}))


# --- Jira ------------------------------------------------------------------------------------

def test_jira_repeated_columns_become_lists_and_dates_are_read():
    path = FIXTURES / "jira_export.csv"
    assert isinstance(reader_for(path, Config().input), JiraReader)
    result = read_tickets(path, Config())
    assert result.roles == {"id": "Issue key", "created_at": "Created", "subject": "Summary",
                            "body": ["Description"], "customer": "Reporter", "agent": "Assignee",
                            "account": "Organizations"}
    assert result.multi_valued == ["tags", "components"]
    assert {"Issue Type", "Request Type"} <= set(result.dimensions)
    assert {"Priority", "Status"} <= set(result.handling) and not {"Priority", "Status"} & set(result.dimensions)
    t = result.tickets.set_index(TicketCols.ticket_id)
    assert multi_values(t.loc["HELP-103", "tags"]) == ["access", "network", "vpn"]   # 3 Labels columns
    assert multi_values(t.loc["HELP-101", "components"]) == ["Network", "Remote access"]
    assert t.loc["HELP-101", TicketCols.created_at] == pd.Timestamp("2024-03-12 09:15", tz="UTC")
    assert t.loc["HELP-102", TicketCols.created_at] == pd.Timestamp("2024-03-12 09:40", tz="UTC")
    assert t.loc["HELP-103", TicketCols.created_at] == pd.Timestamp("2024-03-13 14:05", tz="UTC")
    assert multi_values(t.loc["HELP-101", "comments"]) == [
        "Can you send the client log?", "Log attached, it fails at 10:00 again."]   # no author, no date
    assert t.loc["HELP-101", TicketCols.account_id] == "Acme Corp"
    assert t.loc["HELP-101", "Request Type"] == "Get IT help"
    assert not [c for c in t.columns if c.startswith("Labels")]
    assert reasons(result) == {4: "unparseable created_at: 'sometime in March'"}
    accounted(result)


# --- multi-valued dimensions -----------------------------------------------------------------

def test_a_multi_valued_dimension_counts_a_ticket_under_each_value():
    tags = [["vpn", "network"], ["vpn"], ["network"], [], ["billing"], ["billing", "vpn"]]
    tickets = pd.DataFrame({TicketCols.iceberg_id: ["ICE-1", "ICE-1", "ICE-1", "ICE-1", None, None],
                            TicketCols.created_at: pd.NaT, "tags": [multi_value_text(t) for t in tags]})
    table = attribute_table(tickets, ["tags"], multi_valued={"tags"}).set_index(A.value)
    # ICE-1 has 3 tickets with tags (the 4th has none); 2 of them carry vpn, 2 network.
    assert table.loc["vpn", A.count] == 2 and table.loc["network", A.count] == 2
    assert table.loc["vpn", A.share] == pytest.approx(2 / 3)
    assert table.loc["vpn", A.baseline_share] == pytest.approx(3 / 5)   # 5 tickets have tags
    assert "billing" not in table.index
    as_text = attribute_table(tickets, ["tags"])             # not declared: the JSON text is one value
    assert '["vpn", "network"]' in set(as_text[A.value])
    assert topical_dimensions(tickets.assign(**{TicketCols.iceberg_id: ["a", "a", "b", "b", "a", "b"]}),
                              ["tags"], multi_valued={"tags"}) in ([], ["tags"])


def test_the_multi_value_text_form():
    assert multi_value_text([" vpn", "vpn", None, "", "net"]) == '["vpn", "net"]'
    assert multi_value_text([]) is None
    assert multi_values(None) == [] and multi_values("[EMAIL] tag") == ["[EMAIL] tag"]


# --- SQL -------------------------------------------------------------------------------------

def sqlite_tickets(tmp_path: Path, n: int = 5) -> str:
    path = tmp_path / "helpdesk.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, created_at TEXT, subject TEXT, body TEXT, "
                   "requester_id INTEGER, channel TEXT)")
        db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?)",
                       [(i, f"2024-03-{1 + i % 28:02d}T10:00:00Z", *((f"Subject {i}", f"Body of ticket {i}") if i != 3
                         else (None, None)), 100 + i % 3, ["email", "web"][i % 2]) for i in range(1, n + 1)])
    return f"sqlite:///{path}"


def sql_config(url: str, **settings: str):
    return load_config(overrides={"input.source": "sql", "input.sql_url": url, **settings})


def test_sql_table_streamed_in_batches(tmp_path):
    config = sql_config(sqlite_tickets(tmp_path), **{"input.sql_table": "tickets", "input.sql_batch_rows": "2"})
    reader = reader_for(None, config.input)
    assert isinstance(reader, SqlReader) and reader.fingerprint() is None
    assert [len(b.rows) for b in reader.batches()] == [2, 2, 1]
    result = read_tickets(None, config)
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "2", "4", "5"]
    assert reasons(result) == {3: "no text (subject and body are empty)"}
    assert result.source["kind"] == "sql" and result.source["rows"] == 5 and result.source["table"] == "tickets"
    assert "channel" in result.dimensions and result.roles["customer"] == "requester_id"
    accounted(result)


def test_sql_query_and_a_masked_password(tmp_path, monkeypatch):
    config = sql_config(sqlite_tickets(tmp_path), **{"input.sql_query": "SELECT * FROM tickets WHERE id > 3"})
    assert read_tickets(None, config).tickets[TicketCols.ticket_id].tolist() == ["4", "5"]
    monkeypatch.setenv("ICEBERG_TEST_DB_PASSWORD", "s3cret")
    config = sql_config("postgresql+psycopg://iceberg@db.example.com/helpdesk",
                        **{"input.sql_table": "tickets", "input.sql_password_env": "ICEBERG_TEST_DB_PASSWORD"})
    description = SqlReader(config.input).description()
    assert description["uri"] == "postgresql+psycopg://iceberg:***@db.example.com/helpdesk"
    assert "s3cret" not in json.dumps(description) and "s3cret" not in json.dumps(config.to_dict())


@pytest.mark.parametrize("settings, error, message", [
    ({"input.sql_table": "no_such_table"}, InputNotFound, "table 'no_such_table' not found in sqlite:///"),
    ({"input.sql_query": "SELECT * FROM nowhere"}, InputError, "no such table: nowhere"),
    ({"input.sql_table": "tickets", "input.sql_query": "SELECT 1"}, ConfigError, "set exactly one of"),
])
def test_sql_mistakes_are_one_line_errors(tmp_path, settings, error, message):
    with pytest.raises(error, match=message) as raised:
        read_tickets(None, sql_config(sqlite_tickets(tmp_path), **settings))
    assert "\n" not in str(raised.value)


def test_sql_url_mistakes_are_configuration_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="without a password"):
        sql_config("postgresql://iceberg:hunter2@db/helpdesk", **{"input.sql_table": "t"})
    with pytest.raises(ConfigError, match="input.sql_url"):
        load_config(overrides={"input.source": "sql"})
    with pytest.raises(ConfigError, match="no SQLAlchemy dialect or driver"):
        read_tickets(None, sql_config("nosuchdb://u@h/db", **{"input.sql_table": "t"}))
    with pytest.raises(ConfigError, match="is not installed; pip install"):
        read_tickets(None, sql_config("mysql+mysqldb://u@localhost/db", **{"input.sql_table": "t"}))
    with pytest.raises(ConfigError, match="ICEBERG_UNSET_PASSWORD', which is not set"):
        read_tickets(None, sql_config("sqlite:///x.db", **{"input.sql_table": "t",
                                                          "input.sql_password_env": "ICEBERG_UNSET_PASSWORD"}))


def test_cli_reads_sql_without_input_and_refuses_an_input_with_it(tmp_path, capsys):
    url = sqlite_tickets(tmp_path)
    args = ["run", "--source", "sql", "--set", f"input.sql_url={url}", "--out", str(tmp_path / "out")]
    assert main([*args, "--set", "input.sql_table=tickets", "--dry-run"]) == 0
    assert "5 rows → 4 tickets" in capsys.readouterr().out
    assert main([*args, "--set", "input.sql_table=missing", "--dry-run"]) == EXIT_MISSING_INPUT
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("iceberg: error: table 'missing' not found")
    assert main([*args, "--set", "input.sql_table=tickets", "--input", "x.csv", "--dry-run"]) == EXIT_USAGE
    assert main(["run", "--out", str(tmp_path / "out"), "--dry-run"]) == EXIT_USAGE
    assert main(["run", "--source", "sql", "--out", str(tmp_path / "out")]) == EXIT_CONFIG


# --- one end-to-end run ----------------------------------------------------------------------

PROBLEMS = [("Card declined at checkout", "My card was declined at the checkout page again", ["billing", "card"]),
            ("App crashes on login", "The app crashes every time I try to log in after the update", ["login", "crash"]),
            ("Refund not received", "I asked for a refund two weeks ago and nothing has arrived", ["billing", "refund"])]


def zendesk_export(n: int = 90) -> str:
    pages = []
    for start in range(0, n, 30):
        tickets = []
        for i in range(start, min(start + 30, n)):
            subject, body, tags = PROBLEMS[i % 3]
            tickets.append({"id": 1000 + i, "created_at": f"2024-03-{1 + i % 28:02d}T{8 + i % 9:02d}:00:00Z",
                            "subject": subject, "description": f"{body} (order {i}).",
                            "requester_id": 5000 + i, "assignee_id": 700 + i % 4, "organization_id": 40 + i % 5,
                            "via": {"channel": "email" if i % 3 == 1 else ["web", "chat"][i % 2]},
                            "tags": tags + (["vip"] if i % 4 == 0 else []), "priority": ["low", "high"][i % 2],
                            "custom_fields": [{"id": 360001, "value": ["pro", "basic"][i % 2]}],
                            "requester": {"id": 5000 + i, "email": f"user{i}@example.com"}})
        pages.append(json.dumps({"tickets": tickets, "next_page": None}))
    return "\n".join(pages)


def test_zendesk_export_end_to_end_profiles_tags_and_channels(tmp_path):
    path = tmp_path / "zendesk.json"
    path.write_text(zendesk_export(), encoding="utf-8")
    out = tmp_path / "out"
    process = iceberg("run", "--input", str(path), "--out", str(out), "--quiet",
                      "--set", 'input.custom_fields={"360001" = "plan"}', "--set", "cluster.min_cluster_size=5")
    assert process.returncode == 0, process.stderr
    run = out / "runs" / (out / "latest").read_text().strip()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["inputs"][0]["format"] == "zendesk" and manifest["counts"]["rows_read"] == 90
    assert manifest["columns"]["multi_valued"] == ["tags"]
    attributes = pd.read_parquet(run / "attributes.parquet")
    assert {"tags", "via.channel", "plan"} <= set(attributes[A.dimension])
    assert "priority" not in set(attributes[A.dimension])          # handling, not where-else evidence
    assert {"billing", "login", "vip"} <= set(attributes.loc[attributes[A.dimension] == "tags", A.value])
    tickets = pd.read_parquet(run / "tickets.parquet")
    assert not tickets["requester.email"].str.contains("@").any()       # pseudonymised
