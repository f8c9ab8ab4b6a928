"""Real helpdesk exports, as other people produce them (issue 17): ids stay ids, NULs are
dropped not the ticket, deleted tickets are set aside, names are never in clear, date order
by evidence, Jira in other languages, where-dimensions apart from handling fields.

The exports are built by ``tests/hostile/real_exports.py`` from the products' formats."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from hostile.real_exports import (AGENTS, freshdesk_v2, github_issue_with_nul, jira_day_first, jira_plain,
                                  jira_portuguese, query, zendesk_incremental)
from pipeline.config import Config, RedactConfig, load_config
from pipeline.schemas import TicketCols
from pipeline.errors import InputError
from pipeline.sources import read_tickets, reader_for
from pipeline.sources.attributes import is_handling
from pipeline.sources.jira import jira_date
from pipeline.text.prepare import prepared_tickets
from pipeline.text.redact_columns import column_treatment, redacted_columns

PLACEHOLDER = r"\[(?:PHONE|CARD|IBAN|IP|EMAIL|URL)\]"


def prepared(path, config: Config | None = None):
    config = config or Config()
    ingested = read_tickets(path, config)
    return ingested, prepared_tickets(ingested.tickets, ingested.quarantine, config, source=ingested.name)


def no_placeholders(frame: pd.DataFrame, columns) -> None:
    for column in columns:
        text = frame[column].dropna().astype(str)
        assert not text.str.contains(PLACEHOLDER).any(), (column, text[text.str.contains(PLACEHOLDER)].tolist())


# --- 1. ids stay ids ----------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", [
    ("id", "id"), ("brand_id", "id"), ("via.source.id", "id"), ("Ticket id", "id"), ("ticketFormId", "id"),
    ("group_id", "id"), ("organization_id", "id"), ("ticket_form_id", "id"),
    ("Assignee", "people"), ("reporter_name", "people"), ("Watchers", "people"), ("submitter_id", "people"),
    ("Created by", "people"), ("requester.email", "people"), ("agent_id", "people"), ("customer_id", "people"),
    ("paid", "text"), ("Android", "text"), ("user_agent", "text"), ("customer_segment", "text"),
    ("Created", "text"), ("product", "text"),
])
def test_column_treatment_by_name(name, kind):
    assert column_treatment(name, pd.Series(["x"], dtype=str)) == kind


def test_helpdesk_ids_are_never_phone_or_card_numbers():
    # Zendesk's 12-digit 36… ids and Freshdesk's 10-digit ones read as phones in DE / US.
    tickets = pd.DataFrame({
        "ticket_id": ["360000358316", "5004272351", "360000358318", "4"],
        "created_at": pd.to_datetime(["2024-03-01"] * 4, utc=True),
        "text": ["the app crashes"] * 4, "source_row": [1, 2, 3, 4],
        "customer_id": ["5527111815439", "360839922496", "5004272351", "360839922496"],
        "account_id": ["360021847631", "360021847632", "360021847631", "360021847632"],
        "brand_id": ["360000071234", "360000071235", "360000071234", "360000071234"],
        "group_id": ["360000358316", "360000358317", "360000358316", "5004272351"],
        "submitter_id": [360839922496, 5527111815439, 360839922496, 360839922496],
        "ticket_form_id": [360000083451] * 4,
        "custom_360005599811": ["360000358316", "360000358317", "360000358319", "17"],   # digits: ids
        "Phone": ["+1 415-555-2671", "020 7946 0958", "+49 30 12345678", None],
        "notes": ["call me on 020 7946 0958", "ok", "card 4111 1111 1111 1111", "fine"],
    })
    redacted, counts = redacted_columns(tickets, RedactConfig())
    for column in ("customer_id", "account_id", "brand_id", "group_id", "custom_360005599811"):
        assert redacted[column].tolist() == tickets[column].tolist(), column
    assert redacted["submitter_id"].tolist() == tickets["submitter_id"].tolist()
    assert redacted["ticket_form_id"].tolist() == tickets["ticket_form_id"].tolist()
    assert redacted["Phone"][:3].str.startswith("phone-").all()                  # phone columns still caught
    assert redacted["notes"].tolist() == ["call me on [PHONE]", "ok", "card [CARD]", "fine"]  # and phones in text
    assert "id_pseudonymised" not in counts


def test_a_person_id_column_is_pseudonymised_whole_or_kept_whole():
    tickets = pd.DataFrame({
        "ticket_id": ["1", "2", "3", "4"], "created_at": pd.to_datetime(["2024-03-01"] * 4, utc=True),
        "text": ["x y z"] * 4, "source_row": [1, 2, 3, 4],
        "customer_id": ["5527111815439", "360839922496", "jane@example.com", "C-1"],
        "account_id": ["Acme", "Globex", "Acme", "Initech"],
    })
    redacted, _ = redacted_columns(tickets, RedactConfig())
    assert redacted["customer_id"].str.startswith("cust-").all()      # one e-mail: the whole column
    assert redacted["customer_id"].nunique() == 4
    assert redacted["account_id"].tolist() == ["Acme", "Globex", "Acme", "Initech"]


def test_a_zendesk_incremental_export_keeps_its_ids(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_bytes(zendesk_incremental(40, deleted_every=0))
    ingested, prep = prepared(path)
    t = prep.tickets
    assert len(t) == 40
    assert "brand_id" in ingested.dimensions and "group_id" in ingested.handling
    assert set(t["brand_id"]) == {"360000071234", "360000071235"}
    assert set(t["group_id"]) == {"360000358316", "360000358317"}
    assert set(t[TicketCols.customer_id]) == {"5527111815439", "360839922496", "361234567890", "1900012345"}
    assert set(t["submitter_id"].astype(str)) == {"360839922496", "5527111815439"}
    no_placeholders(t, [c for c in t.columns if c not in (TicketCols.text, TicketCols.subject)])


def test_freshdesk_ten_digit_ids_stay_ids(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_bytes(freshdesk_v2(12))
    ingested, prep = prepared(path)
    t = prep.tickets
    assert set(t[TicketCols.agent_id]) == {"5004111111", "5004222222"}
    assert set(t["group_id"].astype(str)) == {"5000338811", "5000338812"}
    no_placeholders(t, [c for c in t.columns if c not in (TicketCols.text, TicketCols.subject)])


# --- 2. NUL bytes -------------------------------------------------------------------------

def test_a_nul_byte_inside_a_field_is_removed_and_counted_and_the_ticket_kept(tmp_path):
    path = tmp_path / "issues.csv"
    path.write_bytes(github_issue_with_nul())
    ingested = read_tickets(path, Config())
    assert len(ingested.tickets) == 4 and ingested.quarantine.empty
    text = ingested.tickets.set_index(TicketCols.ticket_id).loc["2", TicketCols.text]
    assert "\x00" not in text and "[ERROR] compile  javac exited with 1" in text
    assert ingested.source["nul_bytes_removed"] == {"rows": 1, "fields": 1, "bytes": 3}
    assert any("3 NUL byte(s) removed" in line for line in ingested.understood())


def test_nul_bytes_in_json_strings_are_removed_too(tmp_path):
    path = tmp_path / "tickets.jsonl"
    path.write_text('{"id": 1, "body": "log \\u0000\\u0000 here"}\n{"id": 2, "body": "fine text"}\n')
    ingested = read_tickets(path, Config())
    assert ingested.tickets[TicketCols.text].tolist() == ["log  here", "fine text"]
    assert ingested.source["nul_bytes_removed"]["bytes"] == 2


# --- 3. deleted, spam and scrubbed tickets ------------------------------------------------------

def test_deleted_and_scrubbed_zendesk_tickets_are_set_aside_not_counted(tmp_path):
    path = tmp_path / "incremental.json"
    path.write_bytes(zendesk_incremental(40, deleted_every=2))      # 20 deleted, 10 of them scrubbed
    ingested = read_tickets(path, Config())
    assert len(ingested.tickets) == 20 and ingested.set_aside == 20
    assert (ingested.tickets["status"] != "deleted").all()
    assert not ingested.tickets[TicketCols.subject].eq("SCRUBBED").any()
    reasons = ingested.quarantine["reason"]
    assert reasons.eq("set aside: deleted ticket (status = 'deleted')").sum() == 20
    assert ingested.rows_read == len(ingested.tickets) + len(ingested.quarantine)
    kept = read_tickets(path, load_config(overrides={"input.keep_deleted": "true"}))
    assert len(kept.tickets) == 40 and kept.set_aside == 0


def test_freshdesk_spam_and_plain_file_deleted_status_are_set_aside(tmp_path):
    records = json.loads(freshdesk_v2(6))
    records[1]["spam"] = True
    records[2]["deleted"] = True
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(records))
    ingested = read_tickets(path, Config())
    assert len(ingested.tickets) == 4 and ingested.set_aside == 2
    assert sorted(ingested.quarantine["reason"]) == ["set aside: deleted ticket (deleted = 'True')",
                                                     "set aside: spam ticket (spam = 'True')"]
    plain = tmp_path / "plain.csv"
    plain.write_text("id,body,Status\n1,card blocked,Open\n2,spam offer,Spam\n3,app crash,Deleted\n")
    ingested = read_tickets(plain, Config())
    assert ingested.tickets[TicketCols.ticket_id].tolist() == ["1"] and ingested.set_aside == 2


# --- 4. names ------------------------------------------------------------------------------

def test_people_columns_are_pseudonymised_by_role_the_same_way_in_every_column(tmp_path):
    path = tmp_path / "jira.csv"
    path.write_bytes(jira_day_first(24))
    ingested, prep = prepared(path, load_config(overrides={"input.date_order": "day-first"}))
    t = prep.tickets
    assert ingested.roles["agent"] == "Assignee" and ingested.roles["customer"] == "Reporter"
    assert t[TicketCols.agent_id].str.fullmatch(r"agent-[0-9a-f]{12}").all()
    assert t[TicketCols.customer_id].str.fullmatch(r"cust-[0-9a-f]{12}").all()
    hexes = lambda column: set(t[column].str.split("-").str[1])       # noqa: E731
    assert hexes(TicketCols.agent_id) == hexes(TicketCols.customer_id)   # the same people, the same hash
    cells = t.drop(columns=[TicketCols.text, TicketCols.subject]).astype(str)
    for name in AGENTS:
        assert not cells.apply(lambda c: c.str.contains(name, regex=False)).any().any(), name


def test_watchers_and_other_people_columns_are_pseudonymised_value_by_value():
    tickets = pd.DataFrame({
        "ticket_id": ["1", "2", "3"], "created_at": pd.to_datetime(["2024-03-01"] * 3, utc=True),
        "text": ["x y z"] * 3, "source_row": [1, 2, 3],
        "agent_id": ["Esther", "Jo", "Mansi Patel"],
        "Watchers": ['["Esther", "Tunde Bakare"]', '["Jo"]', None],
        "Creator": ["Jo", "Jo", "Xiaoling Wu"],
        "Sprint": ["Sprint 1", "Sprint 2", "Sprint 1"],
    })
    redacted, _ = redacted_columns(tickets, RedactConfig())
    assert redacted["agent_id"].str.startswith("agent-").all()
    watchers = json.loads(redacted["Watchers"][0])
    assert [w.startswith("person-") for w in watchers] == [True, True]
    assert watchers[0].split("-")[1] == redacted["agent_id"][0].split("-")[1]      # Esther, both columns
    assert redacted["Creator"][0].split("-")[1] == redacted["agent_id"][1].split("-")[1]   # Jo
    assert redacted["Sprint"].tolist() == ["Sprint 1", "Sprint 2", "Sprint 1"]


# --- 5. date order by evidence ------------------------------------------------------------------

def _dates(path, **overrides):
    ingested = read_tickets(path, load_config(overrides=overrides) if overrides else Config(),
                            now=pd.Timestamp("2026-12-07", tz="UTC"))
    return ingested, ingested.tickets[TicketCols.created_at]


def test_day_first_decided_by_the_files_modification_time(tmp_path):
    import os

    path = tmp_path / "jira.csv"
    path.write_bytes(jira_day_first(44))                   # 01/01/2023 … 10/01/2023
    committed = pd.Timestamp("2023-01-12 12:00", tz="UTC").timestamp()
    os.utime(path, (committed, committed))
    ingested, created = _dates(path)
    assert created.max() <= pd.Timestamp("2023-01-12", tz="UTC") and created.min() >= pd.Timestamp("2023-01-01", tz="UTC")
    assert ingested.dates["order"] == "day-first"
    assert "file's modification time" in ingested.dates["order_decided_by"]
    assert not any("input.date_order" in w for w in ingested.warnings)


def test_day_first_decided_by_the_key_order(tmp_path):
    path = tmp_path / "jira.csv"
    path.write_bytes(jira_day_first(60, start="2023-11-01 08:00", hours=24))   # Nov 2023 – Jan 2024
    ingested, created = _dates(path)
    assert ingested.dates["order"] == "day-first"
    assert ingested.dates["order_decided_by"].startswith("evidence: created rises with the key ('Issue key')")
    assert created.is_monotonic_increasing


def test_day_first_decided_by_created_before_resolved(tmp_path):
    path = tmp_path / "jira.csv"
    path.write_bytes(jira_day_first(10, start="2024-01-05 08:00", hours=1, resolved=True))
    ingested, created = _dates(path)
    assert ingested.dates["order"] == "day-first"
    assert "created ≤ 'Updated', 'Resolved'" in ingested.dates["order_decided_by"]


def test_another_date_column_written_the_same_way_decides(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,Created,Updated,body\n1,05/01/2024,13/01/2024,card blocked\n2,06/01/2024,06/01/2024,app crash\n")
    ingested, created = _dates(path)
    assert ingested.dates["order"] == "day-first" and "the column 'Updated'" in ingested.dates["order_decided_by"]
    assert created.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05", "2024-01-06"]


def test_undecided_order_warns_loudly_naming_the_setting(tmp_path, capsys):
    from pipeline.cli import main

    path = tmp_path / "jira.csv"
    path.write_bytes(jira_day_first(44))                   # fresh file: its mtime is now
    ingested, _ = _dates(path)
    warning = next(w for w in ingested.warnings if "input.date_order" in w)
    assert "nothing decided it" in warning and '"day-first"' in warning
    assert main(["run", "--input", str(path), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    printed = capsys.readouterr()
    assert "Warning: created_at dates such as" in printed.out + printed.err
    assert _dates(path, **{"input.date_order": "day-first"})[0].warnings == []


# --- 6. Jira in any language --------------------------------------------------------------------

def test_a_portuguese_jira_export_reads_every_request_with_its_date(tmp_path):
    path = tmp_path / "jira_pt.csv"
    path.write_bytes(jira_portuguese(25, comments=38))
    assert reader_for(path).format == "jira"                 # detected by its (Portuguese) header
    ingested = read_tickets(path, Config(), now=pd.Timestamp("2024-01-01", tz="UTC"))
    assert len(ingested.tickets) == 25 and ingested.quarantine.empty
    assert ingested.roles["id"] == "Issue key" and ingested.roles["created_at"] == "Created"
    assert ingested.roles["body"] == ["Description"] and ingested.roles["subject"] == "Summary"
    created = ingested.tickets.set_index(TicketCols.ticket_id)[TicketCols.created_at]
    assert created["SUP-100"] == pd.Timestamp("2023-06-01 13:00", tz="UTC")     # 01/jun/23 1:00 PM
    assert sorted(created.dt.month.unique()) == [6, 7, 8, 9, 10, 11]             # set/23, out/23 … read
    assert "Request Type" in ingested.dimensions
    comments = ingested.tickets.set_index(TicketCols.ticket_id).loc["SUP-101", "comments"]
    assert json.loads(comments) == [query(601)]           # Jira's date and author dropped


@pytest.mark.parametrize("text, iso", [
    ("05/set/23 9:50 AM", "2023-09-05T09:50:00"), ("12/déc./23 14:05", "2023-12-12T14:05:00"),
    ("3/Mär/24 9:15 AM", "2024-03-03T09:15:00"), ("12/dic/23 9:05 PM", "2023-12-12T21:05:00"),
    ("01/mrt/24 10:00", "2024-03-01T10:00:00"), ("05/ott/23", "2023-10-05T00:00:00"),
    ("12/Mar/24 9:15 AM", "2024-03-12T09:15:00"), ("some day", "some day"),
])
def test_jira_dates_with_localised_months(text, iso):
    assert jira_date(text) == iso


def test_a_jira_export_in_an_unknown_language_gives_todays_clear_message(tmp_path):
    path = tmp_path / "jira_xx.csv"
    path.write_text("Yhteenveto,Avain,Luotu\nVPN drops,HELP-1,12/Mar/24 9:15 AM\n")
    with pytest.raises(InputError, match=r"no text column .* Map the column holding the ticket text"):
        read_tickets(path, Config())


# --- 7. where-dimensions vs handling attributes ------------------------------------------------

def test_a_plain_jira_csv_profiles_versions_not_its_workflow_fields(tmp_path):
    frame = pd.read_csv(io.BytesIO(jira_plain(60)), dtype=str, keep_default_na=False)
    path = tmp_path / "hadoop_bugs.csv"          # the shape of gitbugs' Hadoop export: no Issue key
    frame.drop(columns=["Issue key", "Issue Type", "Assignee", "Reporter"]).to_csv(path, index=False)
    ingested = read_tickets(path, Config())
    assert ingested.source["format"] == "csv"
    assert ingested.dimensions == ["Affects Version/s", "Fix Version/s", "Component/s"]
    assert ingested.multi_valued == ingested.dimensions
    assert ingested.handling == ["Status", "Priority", "Resolution"]
    t = ingested.tickets.set_index(TicketCols.ticket_id)
    assert json.loads(t.loc["1200001", "Affects Version/s"]) == ["2.7.0", "2.8.0"]
    assert t.loc["1200000", "Status"] == "Resolved"              # still a column
    assert "Handling (kept as columns, not where-else evidence): Status, Priority, Resolution." in ingested.understood()


def test_the_jira_reader_makes_versions_dimensions_and_workflow_fields_handling(tmp_path):
    path = tmp_path / "jira.csv"
    path.write_bytes(jira_plain(30))
    ingested = read_tickets(path, Config())
    assert {"affects_versions", "fix_versions", "components"} <= set(ingested.multi_valued)
    assert {"Priority", "Status", "Resolution"} == set(ingested.handling)
    assert not {"Priority", "Status", "Resolution"} & set(ingested.dimensions)


def test_the_handling_rule_is_overridable_in_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,body,Priority,platform,team\n" + "".join(
        f"{i},text {i},{('Low', 'High')[i % 2]},{('iOS', 'Web')[i % 2]},{('A', 'B')[i % 2]}\n" for i in range(8)))
    assert read_tickets(path, Config()).handling == ["Priority"]
    config = load_config(overrides={"columns.dimensions": '["Priority", "platform"]', "columns.handling": '["team"]'})
    ingested = read_tickets(path, config)
    assert ingested.dimensions == ["Priority", "platform"] and ingested.handling == ["team"]


@pytest.mark.parametrize("column, values, handling", [
    ("Status", ["Open", "Closed"], True), ("Resolution", ["Fixed", "Won't Fix"], True),
    ("ticket_priority", ["1", "2"], True), ("SLA breach", ["yes", "no"], True), ("Queue", ["IT", "Ops"], True),
    ("State", ["CA", "NY", "TX"], False), ("State", ["open", "closed"], True), ("Prioridade", ["Alta"], True),
    ("severity_level", ["S1", "S2"], True), ("sev", ["P1", "P2"], True), ("platform", ["iOS", "Web"], False),
    ("Affects Version/s", ["2.7.0"], False), ("channel", ["email", "web"], False),
])
def test_the_handling_rule(column, values, handling):
    assert is_handling(column, pd.Series(values)) is handling


def test_freshdesk_ticket_type_is_type(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_bytes(freshdesk_v2(6))
    ingested = read_tickets(path, Config())
    assert "type" in ingested.dimensions and "ticket_type" not in ingested.tickets
    assert set(ingested.tickets["type"]) == {"Question", "Incident", "Problem"}


def test_sentences_say_nothing_of_customers_when_there_are_none():
    from dashboard.words import who_sentence
    from pipeline.schemas import IcebergCols as I

    row = pd.Series({I.size: 99, I.n_customers: None, I.n_agents: None, I.max_tickets_per_agent: None})
    assert who_sentence(row) == "99 tickets. The tickets name no agent."
    assert "from 40 customers" in who_sentence(row.copy().set_axis(row.index).fillna({I.n_customers: 40}))


def test_the_handling_line_of_a_brief():
    from pipeline.reports.lines import handling_line

    members = pd.DataFrame({"Status": ["Open"] * 4 + ["Closed"], "Priority": ["Critical", "Low", "Low", None, "Low"]})
    assert handling_line(members, ["Status", "Priority", "missing"]) == "Status 80% Open · Priority 75% Low"
    assert handling_line(members, []) is None


def test_a_jira_export_is_recognised_by_its_shape_in_any_language(tmp_path):
    path = tmp_path / "jira_fi.csv"
    path.write_text("Yhteenveto,Avain,Kommentti,Kommentti,Kommentti,Luotu\nVPN drops,HELP-1,a,b,,12/Mar/24 9:15 AM\n")
    assert reader_for(path).format == "jira"
    with pytest.raises(InputError, match=r"no text column"):      # …and its unknown names: today's message
        read_tickets(path, Config())
