import csv
import gzip
import hashlib
import io
import json

import pandas as pd
import pytest

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from pipeline.sources.ingest import InputError, read_tickets
from pipeline.schemas import QUARANTINE, TICKETS, QuarantineCols, TicketCols

HEADER = ["ticket_id", "created_at", "subject", "body", "product", "region", "customer_id", "agent_id"]
ROWS = [
    ["T1", "2024-01-05T10:00:00Z", "Login fails", "I cannot log in;\nit says, \"error 403\" | again",
     "App", "EU", "c1", "a1"],
    ["T2", "2024-01-06", "Export broken", "CSV export times out", "Web", "EU", "c2", "a1"],
    ["T3", "2024-01-07 09:30:00+02:00", "Login fails", "Password reset mail never arrives",
     "App", "US", "c3", "a2"],
    ["T4", "2024-01-08", "Crash", "App crashes at start", "App", "US", "c1", "a2"],
    ["T5", "2024-01-09", "Sync", "Sync stops at 99%", "Web", "EU", "c4", "a1"],
    ["T6", "2024-01-10", "Billing", "Charged twice", "App", "US", "c5", "a3"],
]


def csv_text(rows=ROWS, header=HEADER, delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def assert_accounted(result):
    assert result.rows_read == len(result.tickets) + len(result.quarantine)
    assert result.source["rows"] == result.rows_read


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_reads_each_csv_dialect_with_quoted_multiline_fields(tmp_path, delimiter):
    result = read_tickets(write(tmp_path, "t.csv", csv_text(delimiter=delimiter)), Config())
    tickets = result.tickets
    assert tickets[TicketCols.ticket_id].tolist() == [r[0] for r in ROWS]
    assert tickets[TicketCols.text][0] == "Login fails\n\nI cannot log in;\nit says, \"error 403\" | again"
    assert tickets["product"].tolist() == [r[4] for r in ROWS]
    assert result.quarantine.empty
    assert_accounted(result)


def test_zero_config_maps_conventional_names_and_types(tmp_path):
    result = read_tickets(write(tmp_path, "t.csv", csv_text()), Config())
    assert result.roles == {"id": "ticket_id", "created_at": "created_at", "subject": "subject",
                            "body": ["body"], "customer": "customer_id", "agent": "agent_id"}
    tickets = result.tickets
    assert str(tickets[TicketCols.created_at].dtype) == "datetime64[us, UTC]"
    assert tickets[TicketCols.created_at][2] == pd.Timestamp("2024-01-07 07:30", tz="UTC")
    assert tickets[TicketCols.source_row].tolist() == [1, 2, 3, 4, 5, 6]
    assert tickets[TicketCols.customer_id][0] == "c1" and tickets[TicketCols.agent_id][0] == "a1"
    assert "body" not in tickets.columns   # consumed into text
    TICKETS.validate(tickets.assign(**{TicketCols.iceberg_id: None, TicketCols.membership: 0.0}))


def test_detects_names_ignoring_case_and_separators(tmp_path):
    header = ["Complaint ID", "Date Received", "Title", "Consumer-Complaint-Narrative",
              "Requester_ID", "Assignee"]
    rows = [["1", "2019-09-24", "Fees", "I was charged a fee", "r1", "x"],
            ["2", "2019-09-25", "Fees", "Another fee", "r2", "y"]]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows, header)), Config())
    assert result.roles == {"id": "Complaint ID", "created_at": "Date Received", "subject": "Title",
                            "body": ["Consumer-Complaint-Narrative"], "customer": "Requester_ID",
                            "agent": "Assignee"}
    assert result.tickets[TicketCols.text].tolist() == ["Fees\n\nI was charged a fee", "Fees\n\nAnother fee"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_detects_the_encoding(tmp_path, encoding):
    rows = [["1", "2024-01-05", "Facture erronée", "Le café coûte 10 €, pas 12 €", "App", "EU", "c1", "a1"],
            ["2", "2024-01-06", "Réponse", "Très bien, merci à vous", "Web", "EU", "c2", "a1"]]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows), encoding), Config())
    assert result.tickets[TicketCols.subject].tolist() == ["Facture erronée", "Réponse"]
    assert result.tickets[TicketCols.text][0].endswith("Le café coûte 10 €, pas 12 €")
    assert list(result.tickets.columns)[0] == TicketCols.ticket_id   # no BOM left in a name


def test_configured_encoding_and_delimiter_override_detection(tmp_path):
    path = write(tmp_path, "t.csv", csv_text(delimiter=";"), "latin-1")
    config = Config()
    config.input.encoding, config.input.delimiter = "latin-1", ";"
    assert len(read_tickets(path, config).tickets) == len(ROWS)
    config.input.delimiter = "||"
    with pytest.raises(InputError, match="delimiter must be one character"):
        read_tickets(path, config)
    config.input.delimiter, config.input.encoding = ";", "no-such-codec"
    with pytest.raises(InputError, match="no-such-codec.*set \\[input\\] encoding"):
        read_tickets(path, config)


def test_reads_gzip_compressed_csv_and_hashes_the_file(tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(csv_text().encode()))
    result = read_tickets(path, Config())
    assert len(result.tickets) == len(ROWS)
    assert result.source == {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                             "rows": len(ROWS), "kind": "file", "format": "csv", "compression": "gzip",
                             "encoding": "utf-8",
                             "dialect": {"delimiter": ",", "quotechar": '"', "escapechar": None,
                                         "chosen": "standard"}}


def test_jsonl_quarantines_a_bad_line_with_its_number(tmp_path):
    lines = [json.dumps({"id": 1, "title": "Crash", "description": "App crashes", "tags": ["a", "b"]}),
             json.dumps({"id": 2, "title": "Login", "description": "Cannot log in"}),
             '{"id": 3, "title": "broken',
             "",
             json.dumps({"id": 4, "title": "Export", "description": "Export fails\u2028badly"})]
    result = read_tickets(write(tmp_path, "t.jsonl", "\n".join(lines) + "\n"), Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "2", "4"]
    assert result.tickets[TicketCols.source_row].tolist() == [1, 2, 5]
    assert result.tickets["tags"][0] == '["a", "b"]'
    bad = result.quarantine.iloc[0]
    assert bad[QuarantineCols.source_row] == 3
    assert bad[QuarantineCols.reason].startswith("invalid JSON on line 3")
    assert bad["raw_line"] == '{"id": 3, "title": "broken'
    assert result.rows_read == 4
    assert_accounted(result)


def test_reads_parquet_with_native_types(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({
        "id": [1, 2, 3, 4],
        "created": pd.to_datetime(["2024-01-01 10:00", "2024-01-02", "2024-01-03", "2024-01-04"],
                                  format="ISO8601"),
        "body": ["a crash", "a login issue", "an export issue", "a crash again"],
        "channel": ["email", "chat", "email", "chat"],
        "csat": [1.5, 2.0, 4.5, 3.0],
    }).to_parquet(path)
    result = read_tickets(path, Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "2", "3", "4"]
    assert result.tickets[TicketCols.created_at][0] == pd.Timestamp("2024-01-01 10:00", tz="UTC")
    assert result.dimensions == ["channel"]           # a float measurement is not a dimension
    assert result.tickets["csat"].tolist() == [1.5, 2.0, 4.5, 3.0]
    assert_accounted(result)


def test_dates_in_several_formats_and_epochs(tmp_path):
    text = ("id,date,body\n1,2024-01-05T10:00:00+01:00,a\n2,2024-01-06,b\n3,\"Jan 7, 2024\",c\n"
            "4,2024-01-08 09:00:00,d\n")
    created = read_tickets(write(tmp_path, "t.csv", text), Config()).tickets[TicketCols.created_at]
    assert created.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-01-05 09:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-08 09:00"]
    lines = [json.dumps({"id": i, "created_at": 1704067200 + i * 86400, "body": "x"}) for i in range(2)]
    jsonl = read_tickets(write(tmp_path, "t.jsonl", "\n".join(lines)), Config())
    assert jsonl.tickets[TicketCols.created_at].tolist() == [
        pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC")]


def test_integer_codes_with_gaps_are_still_dimensions(tmp_path):
    lines = [json.dumps({"id": i, "body": f"text {i}", "tier": [1, 2, None][i % 3]}) for i in range(12)]
    result = read_tickets(write(tmp_path, "t.jsonl", "\n".join(lines)), Config())
    assert result.dimensions == ["tier"]
    assert result.tickets["tier"].dropna().unique().tolist() == ["1", "2"]


def test_columns_mapped_by_a_toml_config(tmp_path):
    header = ["Case Number", "Opened", "Short", "Long 1", "Long 2", "Category"]
    rows = [["C-1", "2024-02-01", "VPN", "Drops every hour", "on Windows", "IT"],
            ["C-2", "2024-02-02", "VPN", "Drops again", "", "IT"],
            ["C-3", "2024-02-03", "Mail", "Quota full", "", "Ops"],
            ["C-4", "2024-02-04", "Mail", "Cannot send", "", "Ops"]]
    path = write(tmp_path, "export.csv", csv_text(rows, header))
    toml = tmp_path / "iceberg.toml"
    toml.write_text('[columns]\nid = "Case Number"\ncreated_at = "Opened"\nsubject = "Short"\n'
                    'body = ["Long 1", "Long 2"]\n')
    result = read_tickets(path, load_config(toml, environ={}))
    assert result.roles == {"id": "Case Number", "created_at": "Opened", "subject": "Short",
                            "body": ["Long 1", "Long 2"]}
    assert result.tickets[TicketCols.text][0] == "VPN\n\nDrops every hour\n\non Windows"
    assert result.tickets[TicketCols.ticket_id].tolist() == ["C-1", "C-2", "C-3", "C-4"]
    assert result.dimensions == ["Category"]


def test_a_configured_column_missing_from_the_file_is_named(tmp_path):
    config = Config()
    config.columns.body = ["narrative_text"]
    with pytest.raises(InputError) as error:
        read_tickets(write(tmp_path, "t.csv", csv_text()), config)
    message = str(error.value)
    assert "'narrative_text'" in message and "columns.body" in message
    assert "available columns: ticket_id, created_at, subject, body" in message


def test_dimension_auto_detection(tmp_path):
    header = ["id", "body", "product", "region", "notes", "severity", "constant", "internal"]
    rows = [[str(i), f"text {i}", ["App", "Web"][i % 2], ["EU", "US", "APAC"][i % 3], f"note {i}",
             str(i % 5), "same", ["x", "y"][i % 2]] for i in range(20)]
    path = write(tmp_path, "t.csv", csv_text(rows, header))
    config = Config()
    config.columns.exclude = ["internal"]
    config.columns.max_dimension_values = 4
    result = read_tickets(path, config)
    # notes: unique per row; severity: 5 values > 4; constant: one value; internal: excluded
    assert result.dimensions == ["product", "region"]
    assert {"notes", "severity", "constant", "internal"} <= set(result.tickets.columns)

    config.columns.dimensions = ["severity", "notes"]
    assert read_tickets(path, config).dimensions == ["severity", "notes"]


WHO_HEADER = ["id", "created_at", "body", "customer_id", "Organization", "Segment", "plan", "tier", "mrr"]
WHO_ROWS = [[str(i), f"2024-01-{i + 1:02d}", f"text {i}", f"c{i % 4}", ["acme", "globex"][i % 2],
             ["enterprise", "smb"][i % 2], ["free", "pro"][i % 2], ["1", "2"][i % 2], f"{i * 10}.5"]
            for i in range(10)]


def test_account_and_segment_are_detected_and_revenue_is_not(tmp_path):
    result = read_tickets(write(tmp_path, "t.csv", csv_text(WHO_ROWS, WHO_HEADER)), Config())
    assert result.roles == {"id": "id", "created_at": "created_at", "body": ["body"],
                            "customer": "customer_id", "account": "Organization", "segment": "Segment"}
    tickets = result.tickets
    assert tickets[TicketCols.account_id].tolist()[:2] == ["acme", "globex"]
    # The segment stays a dimension, under its role's name; plan and tier are dimensions only.
    assert result.dimensions == ["segment", "plan", "tier"]
    assert tickets[TicketCols.segment].tolist()[:2] == ["enterprise", "smb"]
    assert "Segment" not in tickets.columns and TicketCols.revenue not in tickets.columns
    assert tickets["mrr"].tolist()[0] == "0.5"                     # an ordinary kept column


def test_an_input_whose_only_id_is_account_id_keeps_it_as_the_customer(tmp_path):
    header = ["id", "body", "account_id", "organisation"]
    rows = [["1", "a", "u1", "acme"], ["2", "b", "u2", "acme"]]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows, header)), Config())
    assert result.roles["customer"] == "account_id" and result.roles["account"] == "organisation"


def test_configured_segment_and_revenue(tmp_path):
    header = [c for c in WHO_HEADER if c != "Segment"]
    rows = [row[:5] + row[6:8] + [value] for row, value in zip(WHO_ROWS, [
        "10", "$1,200.50", "€ 99", "", "n/a", "12.5", "1,5", "-3", "7", "abc"])]
    config = Config()
    config.columns.segment = "plan"
    config.columns.revenue = "MRR"
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows, header)), config)
    assert result.roles["segment"] == "plan" and result.roles["revenue"] == "mrr"
    assert result.dimensions == ["segment", "tier"]                 # plan, profiled as "segment"
    tickets = result.tickets
    assert tickets[TicketCols.segment].tolist()[:2] == ["free", "pro"] and "plan" not in tickets.columns
    assert str(tickets[TicketCols.revenue].dtype) == "float64"
    assert tickets[TicketCols.revenue].fillna(-1).tolist() == [10.0, 1200.5, 99.0, -1, -1, 12.5, -3.0, 7.0]
    # A value that is not a number quarantines its ticket, like an unparseable date.
    assert result.quarantine[QuarantineCols.reason].tolist() == [
        "unparseable revenue (mrr): '1,5'", "unparseable revenue (mrr): 'abc'"]
    assert_accounted(result)


def test_kept_columns_never_shadow_output_columns(tmp_path):
    header = ["id", "description", "text", "source", "reason"]
    rows = [["1", "real body", "other", "email", "bug"], ["2", "", "", "chat", "bug"]]
    config = Config()
    config.columns.body = ["description"]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows, header)), config)
    assert result.tickets[TicketCols.text].tolist() == ["real body"]
    assert result.tickets["input_text"].tolist() == ["other"]
    assert result.quarantine["input_reason"].tolist() == ["bug"]
    assert result.quarantine[QuarantineCols.reason].tolist() == ["no text (subject and body are empty)"]


def test_quarantine_reasons_and_accounting(tmp_path):
    rows = [
        ["T1", "2024-01-05", "Login", "fails", "App", "EU", "c1", "a1"],
        ["", "2024-01-05", "Login", "fails", "App", "EU", "c1", "a1"],           # 2: no id
        ["T3", "2024-01-05", "", "  ", "App", "EU", "c1", "a1"],                 # 3: no text
        ["T4", "yesterday", "Login", "fails", "App", "EU", "c1", "a1"],          # 4: bad date
        ["T1", "2024-01-06", "Login", "again", "App", "EU", "c1", "a1"],         # 5: duplicate
        ["T6", "", "Export", "fails", "Web", "US", "c2", "a2"],                  # no date: fine
        ["T7", "2024-01-07", "Extra", "fields", "Web", "US", "c2", "a2", "surplus"],  # 7: too many
    ]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows)), Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["T1", "T6"]
    assert result.tickets[TicketCols.created_at].isna().tolist() == [False, True]
    quarantine = result.quarantine
    assert quarantine[QuarantineCols.source_row].tolist() == [2, 3, 4, 5, 7]
    assert quarantine[QuarantineCols.reason].tolist() == [
        "missing ticket id",
        "no text (subject and body are empty)",
        "unparseable created_at: 'yesterday'",
        "duplicate ticket id 'T1' (kept row 1)",
        "expected 8 fields, found 9",
    ]
    assert (quarantine[QuarantineCols.source] == str(tmp_path / "t.csv")).all()
    assert quarantine["created_at"][2] == "yesterday"                  # raw fields kept as text
    QUARANTINE.to_arrow(quarantine)
    assert_accounted(result)


def test_duplicate_keeps_the_first_valid_occurrence(tmp_path):
    rows = [["T1", "2024-01-05", "", "", "App", "EU", "c1", "a1"],
            ["T1", "2024-01-06", "Login", "fails", "App", "EU", "c1", "a1"],
            ["T1", "2024-01-07", "Login", "fails again", "App", "EU", "c1", "a1"]]
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows)), Config())
    assert result.tickets[TicketCols.source_row].tolist() == [2]
    assert result.quarantine[QuarantineCols.reason].tolist() == [
        "no text (subject and body are empty)", "duplicate ticket id 'T1' (kept row 2)"]


def test_without_id_or_date_columns_ids_are_stable_hashes(tmp_path):
    text = "body,product\nApp crashes,App\nLogin fails,Web\nApp crashes,App\n"
    result = read_tickets(write(tmp_path, "t.csv", text), Config())
    ids = result.tickets[TicketCols.ticket_id].tolist()
    assert len(ids) == 2 and all(i.startswith("row-") for i in ids)
    assert result.tickets[TicketCols.created_at].isna().all()
    assert result.quarantine[QuarantineCols.reason][0].startswith("duplicate ticket id 'row-")
    reordered = write(tmp_path, "r.csv", "body,product\nLogin fails,Web\nApp crashes,App\n")
    assert sorted(read_tickets(reordered, Config()).tickets[TicketCols.ticket_id]) == sorted(ids)


def test_single_column_file(tmp_path):
    result = read_tickets(write(tmp_path, "t.csv", 'text\nhello, world\n"two\nlines"\n'), Config())
    assert result.tickets[TicketCols.text].tolist() == ["hello, world", "two\nlines"]


def test_missing_file_error(tmp_path):
    with pytest.raises(InputError, match="'.*nope.csv' not found; pass an existing CSV, JSONL or Parquet"):
        read_tickets(tmp_path / "nope.csv", Config())


def test_unsupported_format_error(tmp_path):
    with pytest.raises(InputError) as error:
        read_tickets(write(tmp_path, "t.xlsx", "x"), Config())
    assert "unsupported input format '.xlsx'" in str(error.value)
    assert ".csv" in str(error.value) and ".jsonl" in str(error.value) and ".parquet" in str(error.value)
    assert "[input] format" in str(error.value)


def test_configured_format_overrides_the_extension(tmp_path):
    config = Config()
    config.input.format = "csv"
    assert len(read_tickets(write(tmp_path, "t.txt", csv_text()), config).tickets) == len(ROWS)
    config.input.format = "xml"
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        read_tickets(write(tmp_path, "t.csv", csv_text()), config)


@pytest.mark.parametrize("name, text, message", [
    ("empty.csv", "", "is empty"),
    ("blank.jsonl", "\n\n", "is empty"),
    ("header.csv", "id,body\n", "has a header but no data rows"),
])
def test_empty_input_errors(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message):
        read_tickets(write(tmp_path, name, text), Config())


def test_unreadable_rows_only_error(tmp_path):
    with pytest.raises(InputError, match="none of the 2 rows .* could be read .*invalid JSON on line 1"):
        read_tickets(write(tmp_path, "t.jsonl", "id,body\n1,hello\n"), Config())


def test_empty_parquet_error(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"id": pd.Series([], dtype="str"), "body": pd.Series([], dtype="str")}).to_parquet(path)
    with pytest.raises(InputError, match="no data rows"):
        read_tickets(path, Config())


def test_no_text_column_error_says_how_to_map_one(tmp_path):
    with pytest.raises(InputError) as error:
        read_tickets(write(tmp_path, "t.csv", "id,comments,queue\n1,hello,IT\n"), Config())
    message = str(error.value)
    assert "no text column" in message and "['id', 'comments', 'queue']" in message
    assert '[columns] body = ["..."]' in message and "--set columns.body=" in message


def test_batches_do_not_change_what_is_read(tmp_path):
    from pipeline.sources import CsvReader, JsonlReader

    rows = [[f"T{i}", f"2024-01-{i % 28 + 1:02d}", "Login", f"fails {i}", ["App", "Web"][i % 2], "EU",
             f"c{i % 3}", "a1"] for i in range(23)] + [["T3", "2024-01-05", "Login", "again", "App", "EU", "c1", "a1"]]
    csv_path = write(tmp_path, "t.csv", csv_text(rows))
    lines = [json.dumps({"id": i, "body": f"text {i}", "tier": [1, 2, None][i % 3]}) for i in range(23)]
    jsonl_path = write(tmp_path, "t.jsonl", "\n".join(lines[:5] + ["{broken"] + lines[5:]))
    for reader in (CsvReader, JsonlReader):
        path = csv_path if reader is CsvReader else jsonl_path
        whole, batched = read_tickets(path, Config()), read_tickets(reader(path, batch_rows=4), Config())
        pd.testing.assert_frame_equal(whole.tickets, batched.tickets)
        pd.testing.assert_frame_equal(whole.quarantine, batched.quarantine)
        assert (whole.roles, whole.dimensions, whole.source) == (batched.roles, batched.dimensions, batched.source)
        assert_accounted(batched)


class _InMemoryReader:
    """A source that is not a file: what a helpdesk or SQL reader gives ``read_tickets``."""

    name = "memory://tickets"

    def fingerprint(self):
        return None

    def batches(self):
        from pipeline.sources import RawBatch

        yield RawBatch(pd.DataFrame({"id": ["1", "2"], "body": ["App crashes", None]}, index=[1, 2]))
        yield RawBatch(pd.DataFrame({"id": ["3"], "body": ["Login fails"]}, index=[3]),
                       [{"raw_line": "??", "reason": "not a ticket", "source_row": 4}])

    def description(self):
        return {"kind": "memory", "uri": self.name, "rows": 4}


def test_read_tickets_is_pure_over_any_reader():
    from pipeline.sources import Reader, reader_for

    reader = _InMemoryReader()
    assert isinstance(reader, Reader) and reader_for(reader) is reader
    result = read_tickets(reader, Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "3"]
    assert result.quarantine[QuarantineCols.reason].tolist() == [
        "no text (subject and body are empty)", "not a ticket"]
    assert (result.quarantine[QuarantineCols.source] == "memory://tickets").all()
    assert result.source == {"kind": "memory", "uri": "memory://tickets", "rows": 4}
    assert_accounted(result)


NEW_USER_HEADER = ["Case Number", "Opened", "Customer Message", "Owner", "Category"]
NEW_USER_ROWS = [[f"{1000 + i:08d}", f"{i + 10}/01/2024 09:00", f"My card was declined, attempt {i}",
                  ["Ann Smith", "Bob Jones"][i % 2], ["Billing", "Access"][i % 2]] for i in range(8)]


def test_a_new_users_export_is_mapped_and_the_dry_run_says_so(tmp_path, capsys):
    from pipeline.cli import main

    path = write(tmp_path, "cases.csv", csv_text(NEW_USER_ROWS, NEW_USER_HEADER))
    result = read_tickets(path, Config())
    assert result.roles == {"id": "Case Number", "created_at": "Opened", "body": ["Customer Message"],
                            "agent": "Owner"}
    assert result.dimensions == ["Category"] and result.warnings == []
    assert result.dates["order"] == "day-first" and result.dates["formats"] == {"day-first": 8}
    assert main(["run", "--input", str(path), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "Columns: id ← 'Case Number'; created_at ← 'Opened'; body ← 'Customer Message'; agent ← 'Owner'." in printed
    assert "Dimensions: Category." in printed
    assert any(line.startswith("Dates ('Opened'): 8 day-first; day-first (decided by 5 value(s) such as '13/01/2024 09:00')") for line in printed)


def test_likely_misses_are_warned_with_their_fix(tmp_path):
    header = ["Reference", "Logged", "Message", "cc", "handler"]
    rows = [[f"R-{i}", f"2024-01-{i + 1:02d}", f"text {i}", f"ops{i % 2}@example.com",
             ["Ann Smith", "Bob Jones", "Cara Lee"][i % 3]] for i in range(9)]
    config = Config()
    config.columns.id, config.columns.created_at = "", ""
    result = read_tickets(write(tmp_path, "t.csv", csv_text(rows, header)), config)
    assert result.roles == {"body": ["Message"]}
    warnings = result.warnings
    assert warnings[0] == ("no id column: ticket ids are generated from each row's content; 'Reference' "
                           "looks like one: set [columns] id = 'Reference'")
    assert warnings[1].startswith("no created_at column") and "set [columns] created_at = 'Logged'" in warnings[1]
    assert any("dimension 'cc' holds e-mail addresses" in w for w in warnings)
    assert any("dimension 'handler' looks like person names" in w for w in warnings)


@pytest.mark.parametrize("setting, value, dates", [
    ("date_order", "day-first", ["2024-01-05", "2024-02-06"]),
    ("date_order", "month-first", ["2024-05-01", "2024-06-02"]),
])
def test_date_order_setting_reads_ambiguous_columns(tmp_path, setting, value, dates):
    config = Config()
    setattr(config.input, setting, value)
    result = read_tickets(write(tmp_path, "t.csv", "id,date,body\n1,05/01/2024,a\n2,06/02/2024,b\n"), config)
    assert result.tickets[TicketCols.created_at].dt.strftime("%Y-%m-%d").tolist() == dates
    assert result.dates["order_decided_by"] == "input.date_order"


def test_the_plausible_window_is_configurable(tmp_path):
    text = "id,date,body\n1,1995-06-01,a\n2,2024-03-01,b\n3,2024-03-09,c\n"
    config = Config()
    config.input.min_year, config.input.max_days_ahead = 2000, 3
    result = read_tickets(write(tmp_path, "t.csv", text), config, now=pd.Timestamp("2024-03-05", tz="UTC"))
    assert result.quarantine[QuarantineCols.reason].tolist() == [
        "implausible created_at: '1995-06-01' (before 2000)",
        "implausible created_at: '2024-03-09' (more than 3 days after the run)"]
    assert result.dates["window"] == ["2000-01-01", "2024-03-08"]
    config.input.date_order = "yearly"
    with pytest.raises(ConfigError, match="input.date_order must be one of auto, day-first, month-first"):
        read_tickets(write(tmp_path, "t.csv", text), config)


def test_nested_json_becomes_dotted_columns(tmp_path):
    lines = [json.dumps({"id": i, "subject": "Card", "description": f"declined {i}",
                         "requester": {"id": 9 + i % 2, "email": "ann@example.com", "org": {"name": "acme"}},
                         "via": {"channel": ["email", "web"][i % 2]}, "tags": ["a", "b"], "custom": {}})
             for i in range(6)]
    result = read_tickets(write(tmp_path, "t.jsonl", "\n".join(lines)), Config())
    assert result.roles["customer"] == "requester.id"
    assert {"requester.email", "requester.org.name", "via.channel", "tags", "custom"} <= set(result.tickets.columns)
    assert "via.channel" in result.dimensions and "tags" not in result.dimensions
    assert result.tickets["tags"][0] == '["a", "b"]' and result.tickets["custom"].isna().all()
    assert any("'tags' holds lists" in w for w in result.warnings)


def test_a_json_array_file_and_a_named_index_in_parquet(tmp_path):
    records = [{"id": i, "body": f"text {i}"} for i in range(1, 4)]
    result = read_tickets(write(tmp_path, "t.json", json.dumps(records)), Config())
    assert result.tickets[TicketCols.ticket_id].tolist() == ["1", "2", "3"]
    assert result.source["layout"] == "array"
    path = tmp_path / "t.parquet"
    pd.DataFrame({"ticket_id": ["A", "B"], "body": ["x y", "z w"]}).set_index("ticket_id").to_parquet(path)
    assert read_tickets(path, Config()).tickets[TicketCols.ticket_id].tolist() == ["A", "B"]
