"""The hostile-input corpus: every way an export can be broken or odd, and the outcome each must have.

Each ``Case`` holds a file's bytes (made here, from real text in the repository: Banking77
queries and CFPB narratives) and its documented outcome — the exit code and one-line
message, or the tickets and the exact quarantined rows with their reasons, plus a check
in words and in code. ``tests/test_hostile_inputs.py`` runs every case through the real
command line and checks it; ``docs/hostile_inputs.md`` is this table, rendered.

    python tests/hostile/make_corpus.py --write DIR    # write the files, to try them by hand
    python tests/hostile/make_corpus.py --docs         # regenerate docs/hostile_inputs.md
"""

from __future__ import annotations

import argparse
import codecs
import csv
import gzip
import io
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCS = ROOT / "docs" / "hostile_inputs.md"
sys.path.insert(0, str(HERE))

from bug_reports import bug_report_export  # noqa: E402
from real_exports import cases as real_export_cases  # noqa: E402

QUERIES = pd.read_csv(ROOT / "tests" / "data" / "banking77_slice.csv")["text"].tolist()
HEADER = ["ticket_id", "created_at", "subject", "body", "product"]
PRODUCTS = ("App", "Web", "Card")


@dataclass(frozen=True)
class Outcome:
    """What a run on the case leaves: its tickets, quarantine and manifest."""

    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    manifest: dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str                                   # the file's name; its extension picks the reader
    about: str                                  # what is hostile about it
    data: Callable[[], bytes] | None            # None: the file does not exist
    exit_code: int = 0
    message: str = ""                           # an error: the one line on stderr holds this
    tickets: int | None = None                  # a run: how many tickets it keeps…
    quarantined: tuple[tuple[int, str], ...] = ()   # …and each quarantined (source_row, reason)
    settings: tuple[str, ...] = ()              # --set assignments
    expect: str = ""                            # what else holds, in words…
    check: Callable[[Outcome], bool] | None = None  # …and in code (a predicate)


# --- building blocks ---------------------------------------------------------------------

def query(i: int) -> str:
    return QUERIES[(i * 37) % len(QUERIES)]


def rows(n: int, start: int = 1) -> list[list[str]]:
    return [[f"T{i}", f"2024-01-{(i - 1) % 28 + 1:02d}", query(i).split("?")[0][:40], query(i + 300),
             PRODUCTS[i % 3]] for i in range(start, start + n)]


def csv_bytes(data: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8", **fmt) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, **fmt)
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue().encode(encoding)


def jsonl(records: list[Any]) -> bytes:
    return ("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
            + "\n").encode()


def parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def text_of(outcome: Outcome, ticket_id: str) -> str:
    return outcome.tickets.set_index("ticket_id").loc[ticket_id, "text"]


def dates_of(outcome: Outcome) -> list[str]:
    return outcome.tickets.sort_values("source_row")["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()


def columns_report(outcome: Outcome) -> dict[str, Any]:
    return outcome.manifest["columns"]


# --- the files -----------------------------------------------------------------------------

MARKDOWN_BODY = ('Login fails after the update:\n\n```js\nconst r = await api.login("ann", \'pw\');\n'
                 'console.log(`status: ${r.status}, body="${r.body}"`);\n```\n\nSee "Steps", 1, 2, 3.')
NON_ENGLISH = ["ログインできません。パスワードをリセットしてもエラーが出ます", "Не могу войти в приложение после обновления",
               "لا أستطيع تسجيل الدخول إلى حسابي منذ أمس", "Ich kann mich seit dem Update nicht mehr anmelden, Grüße",
               "मेरा कार्ड ब्लॉक हो गया है, कृपया मदद करें", "No puedo iniciar sesión desde la actualización"]
HTML_EMAIL = ('<html><body><p>Hi team,</p><p>My <b>card payment</b> was declined twice today.</p>'
              '<p>Thanks,<br>Ann</p><blockquote>On Mon, 5 Feb 2024, Support wrote:<br>'
              '&gt; Have you tried restarting the app?</blockquote></body></html>')
FORMULAS = ['=HYPERLINK("http://example.com/x","click me") my card is blocked',
            "+SUM(A1:A9) the app crashes when I open statements", "@cmd|' /C calc'!A0 transfer failed",
            "-2+3 refund never arrived", "<script>alert('x')</script> login page is blank",
            "**bold** _markdown_ [link](http://example.com) cannot change my PIN"]


def mixed_encoding() -> bytes:
    good = csv_bytes(rows(4))
    extra = csv_bytes([["T5", "2024-01-05", "Facture", "Le café coûte 10 €, pas 12 €", "App"],
                       ["T6", "2024-01-06", "Gebühr", "Überweisung doppelt belastet, Grüße", "Web"]],
                      encoding="cp1252")
    return good + extra.split(b"\r\n", 1)[1] + "T7,2024-01-07,Naïve,ça marche très bien,Card\r\n".encode()


def unclosed_60() -> bytes:
    lines = ["id,body"] + [f"{i},{query(i).replace(',', '')}" for i in range(1, 61)]
    lines[16] = lines[16].replace(",", ',"', 1)          # row 16, on line 17, opens a quote it never closes
    return ("\n".join(lines) + "\n").encode()


def placeholder_dates() -> bytes:
    data = [[f"T{i}", f"2024-{(i % 6) + 1:02d}-{(i % 28) + 1:02d}", "", query(i), PRODUCTS[i % 3]]
            for i in range(1, 301)]
    data[99][1], data[199][1] = "9999-12-31", "1970-01-01"
    return csv_bytes(data)


def check_placeholders(o: Outcome) -> bool:
    created = o.tickets["created_at"]
    return (created.min() >= pd.Timestamp("2024-01-01", tz="UTC")
            and created.max() < pd.Timestamp("2025-01-01", tz="UTC")
            and o.manifest["columns"]["created_at"]["implausible"] == 2)


def check_mixed(o: Outcome) -> bool:
    return (o.manifest["inputs"][0]["decoded_by_fallback"] == {"encoding": "cp1252", "rows": 2}
            and text_of(o, "T5").endswith("Le café coûte 10 €, pas 12 €")
            and text_of(o, "T7").endswith("ça marche très bien"))


def check_nested(o: Outcome) -> bool:
    roles, dimensions = columns_report(o)["roles"], columns_report(o)["dimensions"]
    return (roles["customer"] == "requester.id" and roles["agent"] == "assignee.id"
            and "via.channel" in dimensions and "tags" not in dimensions
            and not o.tickets["requester.email"].str.contains("@").any()     # an ordinary column, redacted
            and o.tickets["tags"].iloc[1] == '["billing", "urgent"]')


NESTED = [{"id": 100 + i, "created_at": f"2024-02-{i + 1:02d}T10:00:00Z", "subject": query(i)[:30],
           "description": query(i + 200), "requester": {"id": 900 + i % 4, "email": f"user{i % 4}@example.com"},
           "assignee": {"id": 50 + i % 2}, "via": {"channel": ["email", "web"][i % 2]},
           "tags": ["billing", "urgent"] if i % 2 else ["login"]} for i in range(12)]

CASES: list[Case] = [
    # --- empty, or not a ticket export at all
    Case("zero_bytes.csv", "an empty file (0 bytes)", lambda: b"", 3, "is empty"),
    Case("blank_lines.csv", "only blank lines and spaces", lambda: b"\n  \n\t\n", 3, "is empty"),
    Case("header_only.csv", "a header and no rows", lambda: b"ticket_id,body\n", 3,
         "has a header but no data rows"),
    Case("missing.csv", "the file does not exist", None, 4, "not found"),
    Case("binary.csv", "random binary bytes named .csv",
         lambda: random.Random(3).randbytes(4096), 3, "holds binary data, not text"),
    Case("workbook.csv", "an .xlsx (ZIP) workbook renamed .csv", lambda: b"PK\x03\x04" + bytes(200), 3,
         "is a ZIP archive (an .xlsx or .docx file?)"),
    Case("workbook.xlsx", "an unsupported extension", lambda: b"PK\x03\x04" + bytes(200), 3,
         "unsupported input format '.xlsx'"),
    Case("truncated.csv.gz", "a gzip file cut in half",
         lambda: gzip.compress(csv_bytes(rows(200)))[:1500], 3, "looks gzip-compressed but cannot be decompressed"),
    Case("not_parquet.parquet", "CSV text named .parquet", lambda: csv_bytes(rows(3)), 3,
         "is not a readable Parquet file"),
    # --- columns
    Case("no_text_column.csv", "no column holds ticket text",
         lambda: b"id,comments,queue\n1,hello,IT\n2,again,Ops\n", 3, "no text column in no_text_column.csv"),
    Case("no_id_column.csv", "no id column", lambda: csv_bytes([r[1:] for r in rows(5)], HEADER[1:]),
         tickets=5, expect="ids generated from content (`row-…`); the manifest warns there is no id column",
         check=lambda o: (o.tickets["ticket_id"].str.startswith("row-").all()
                          and "no id column" in columns_report(o)["warnings"][0])),
    Case("case_number_export.csv", "a new user's export: Case Number, Opened, Customer Message, Owner",
         lambda: csv_bytes([[f"{1000 + i:08d}", f"{(i % 28) + 1:02d}/0{i % 9 + 1}/2024 09:{i:02d}", query(i),
                             ["Ann Smith", "Bob Jones", "Carl Weber"][i % 3], ["Billing", "Access"][i % 2]]
                            for i in range(1, 21)],
                           ["Case Number", "Opened", "Customer Message", "Owner", "Category"]),
         tickets=20, expect="id ← Case Number, created_at ← Opened (day-first), body ← Customer Message, "
                            "agent ← Owner; Category is the dimension",
         check=lambda o: (columns_report(o)["roles"] == {"id": "Case Number", "created_at": "Opened",
                                                         "body": ["Customer Message"], "agent": "Owner"}
                          and columns_report(o)["dimensions"] == ["Category"]
                          and columns_report(o)["created_at"]["order"] == "day-first")),
    Case("duplicate_ids.csv", "the same ticket id twice", lambda: csv_bytes(rows(3) + [rows(1)[0]]),
         tickets=3, quarantined=((4, "duplicate ticket id 'T1' (kept row 1)"),)),
    Case("empty_bodies.csv", "empty and whitespace-only texts",
         lambda: csv_bytes(rows(2) + [["T3", "2024-01-03", "", "", "App"], ["T4", "2024-01-04", "  ", " \t ", "Web"]]),
         tickets=2, quarantined=((3, "no text (subject and body are empty)"), (4, "no text (subject and body are empty)"))),
    Case("email_dimension.csv", "a dimension whose values are e-mail addresses",
         lambda: csv_bytes([r + [f"ops{i % 3}@example.com"] for i, r in enumerate(rows(12))], HEADER + ["cc"]),
         tickets=12, expect="the manifest warns that dimension `cc` holds e-mail addresses",
         check=lambda o: any("'cc' holds e-mail addresses" in w for w in columns_report(o)["warnings"])),
    Case("free_text_dimension.csv", "a long free-text column that qualifies as a dimension",
         lambda: csv_bytes([r + [["Customer was told to reinstall the app and log in again. It worked.",
                                  "Refund issued after the agent checked the card transactions twice."][i % 2]]
                            for i, r in enumerate(rows(12))], HEADER + ["notes"]),
         tickets=12, expect="the manifest warns that dimension `notes` looks like free text",
         check=lambda o: any("'notes' looks like free text" in w for w in columns_report(o)["warnings"])),
    # --- CSV structure
    Case("semicolon.csv", "semicolon-separated, commas inside texts",
         lambda: csv_bytes([r[:3] + [r[3] + ", really"] + r[4:] for r in rows(6)], delimiter=";"), tickets=6,
         expect="texts keep their commas", check=lambda o: text_of(o, "T1").endswith(", really")),
    Case("tabs.tsv", "tab-separated", lambda: csv_bytes(rows(5), delimiter="\t"), tickets=5),
    Case("wrong_delimiter.csv", "`input.delimiter` set to ',' on a semicolon file",
         lambda: csv_bytes(rows(3), delimiter=";"), 3, "set [input] delimiter to ';'",
         settings=("input.delimiter=,",)),
    Case("multiline_markdown.csv", "multi-line bodies with code fences, backticks, quotes and commas",
         lambda: csv_bytes(rows(2) + [["T3", "2024-01-03", "Login", MARKDOWN_BODY, "App"]] + rows(2, 4)),
         tickets=5, expect="the Markdown body comes back exactly",
         check=lambda o: text_of(o, "T3").endswith("See \"Steps\", 1, 2, 3.")),
    Case("bug_reports_300.csv", "300 real-text bug reports with code blocks, written by csv.writer",
         lambda: bug_report_export(300), tickets=300,
         expect="dimensions component, milestone, labels, comments intact; state and priority kept as "
                "handling attributes",
         check=lambda o: (columns_report(o)["dimensions"] == ["component", "milestone", "labels", "comments"]
                          and columns_report(o)["handling"] == ["state", "priority"]
                          and set(o.tickets["state"]) == {"open", "closed"})),
    Case("extra_and_short_rows.csv", "a row with an extra field, a short row, a trailing empty field",
         lambda: (b"ticket_id,subject,body,product\nT1,Card,my card is blocked,App\n"
                  b"T2,Card,card declined,Web,SURPLUS\nT3,Login,cannot log in\nT4,PIN,change my PIN,App,\n"),
         tickets=3, quarantined=((2, "expected 4 fields, found 5"),),
         expect="the short row is kept, its missing field empty"),
    Case("unclosed_quote_4.csv", "an unclosed quote in the first of 4 rows",
         lambda: b'id,body\n1,"my card is blocked\n2,cannot log in\n3,refund missing\n4,app crashes\n',
         tickets=3, quarantined=((1, "unclosed quote on line 2"),)),
    Case("unclosed_quote_60.csv", "an unclosed quote in row 16 of 60", unclosed_60, tickets=59,
         quarantined=((16, "unclosed quote on line 17"),)),
    Case("unclosed_quote_then_quoted.csv", "an unclosed quote followed by properly quoted fields",
         lambda: (b'id,body,product\n1,"my card is blocked,App\n2,"declined, twice",Web\n'
                  b'3,refund missing,App\n4,"app crashes, again",Web\n'),
         tickets=3, quarantined=((1, "unclosed quote on line 2"),)),
    Case("unclosed_quote_last.csv", "an unclosed quote on the last line",
         lambda: b'id,body\n1,my card is blocked\n2,"cannot log in\n', tickets=1,
         quarantined=((2, "unclosed quote on line 3: the quoted field runs to the end of the file"),)),
    Case("nul_byte.csv", "a NUL byte in an unquoted field",
         lambda: b"id,body\n1,my card\x00 is blocked\n2,cannot log in\n", tickets=2,
         expect="the NUL is removed (`my card is blocked`) and counted in the manifest's input",
         check=lambda o: (text_of(o, "1") == "my card is blocked"
                          and o.manifest["inputs"][0]["nul_bytes_removed"] == {"rows": 1, "fields": 1, "bytes": 1})),
    Case("cr_only.csv", "old-Mac CR-only line endings, a quoted field spanning lines",
         lambda: b'id,body\r1,my card is blocked\r2,"cannot log in\rsince Monday"\r3,refund missing\r',
         tickets=3, expect="the quoted field keeps its line break",
         check=lambda o: text_of(o, "2").replace("\r", "\n").startswith("cannot log in\nsince Monday")),
    Case("stray_cr.csv", "a bare CR inside an unquoted field of a LF file (as csv.writer leaves it)",
         lambda: b"id,body\n1,my card is blocked\n2,cannot\rlog in\n3,refund missing\n", tickets=3,
         expect="the CR is part of the field, not a line break",
         check=lambda o: text_of(o, "2").replace("\r", "\n") == "cannot\nlog in"),
    Case("dos_eof.csv", "a DOS end-of-file mark (Ctrl-Z) after the last row",
         lambda: csv_bytes(rows(3)) + b"\x1a", tickets=3),
    # --- encodings
    Case("bom_utf8.csv", "UTF-8 with a byte-order mark",
         lambda: codecs.BOM_UTF8 + csv_bytes(rows(2) + [["T3", "2024-01-03", "Café", "Le café coûte 10 €", "App"]]),
         tickets=3, expect="no BOM left in the first column's name",
         check=lambda o: columns_report(o)["roles"]["id"] == "ticket_id" and text_of(o, "T3").endswith("coûte 10 €")),
    Case("cp1252.csv", "Windows-1252 throughout",
         lambda: csv_bytes(rows(2) + [["T3", "2024-01-03", "Café", "Le café coûte 10 €, merci", "App"]], encoding="cp1252"),
         tickets=3, check=lambda o: text_of(o, "T3").endswith("coûte 10 €, merci")),
    Case("utf16_bom.csv", "UTF-16 with a byte-order mark",
         lambda: csv_bytes(rows(3) + [["T4", "2024-01-04", "Ärger", "Überweisung fehlt", "Web"]], encoding="utf-16"),
         tickets=4, check=lambda o: text_of(o, "T4").endswith("Überweisung fehlt")),
    Case("utf16le_no_bom.csv", "UTF-16 little-endian without a byte-order mark",
         lambda: csv_bytes(rows(3) + [["T4", "2024-01-04", "Ärger", "Überweisung fehlt", "Web"]], encoding="utf-16-le"),
         tickets=4, check=lambda o: text_of(o, "T4").endswith("Überweisung fehlt")),
    Case("mixed_utf8_cp1252.csv", "UTF-8 with two rows pasted in Windows-1252", mixed_encoding, tickets=7,
         expect="every row decoded; the manifest counts 2 rows read as cp1252", check=check_mixed),
    Case("stray_bytes.csv", "stray bytes that are no encoding's text in one row",
         lambda: csv_bytes(rows(2)) + b"T3,2024-01-03,Card,my card \x81\x8d is blocked,App\r\n", tickets=3,
         expect="the bytes become replacement characters (�); the manifest counts 1 row decoded so",
         check=lambda o: (o.manifest["inputs"][0]["decoded_by_fallback"] == {
             "encoding": "none (replacement characters)", "rows": 1} and "\ufffd" in text_of(o, "T3"))),
    Case("non_english.csv", "Japanese, Russian, Arabic, German, Hindi and Spanish tickets",
         lambda: csv_bytes([[f"T{i}", "2024-01-05", "", text, "App"] for i, text in enumerate(NON_ENGLISH, 1)]),
         tickets=6, check=lambda o: text_of(o, "T1") == NON_ENGLISH[0]),
    Case("emoji_only.csv", "texts that are only emoji",
         lambda: csv_bytes([["T1", "2024-01-05", "", "🔥🔥🔥", "App"], ["T2", "2024-01-05", "", "👍", "App"],
                            ["T3", "2024-01-05", "", "😡 card blocked 😡", "Web"]]),
         tickets=2, quarantined=((2, "no text left after cleaning"),)),
    Case("html_email.csv", "HTML e-mails with a quoted reply",
         lambda: csv_bytes([["T1", "2024-01-05", "Card", HTML_EMAIL, "App"]] + rows(2, 2)), tickets=3,
         expect="the HTML and the quoted reply are not in the text",
         check=lambda o: ("<b>" not in text_of(o, "T1") and "restarting" not in text_of(o, "T1"))),
    Case("formulas_and_markup.csv", "spreadsheet formulas, script tags and Markdown as texts",
         lambda: csv_bytes([[f"T{i}", "2024-01-05", "", text, "App"] for i, text in enumerate(FORMULAS, 1)]),
         tickets=6, expect="formulas are read as plain text, never evaluated",
         check=lambda o: text_of(o, "T2").startswith("+SUM(A1:A9)")),
    Case("huge_body.csv", "a 1 MB body",
         lambda: csv_bytes(rows(1) + [["T2", "2024-01-02", "Log", " ".join([query(i) for i in range(20000)])[:1_000_000], "App"]]),
         tickets=2, check=lambda o: len(text_of(o, "T2")) > 900_000),
    # --- dates
    Case("dates_day_first.csv", "05/01/2024 next to 13/01/2024 in one column",
         lambda: csv_bytes([["T1", "05/01/2024", "", query(1), "App"], ["T2", "13/01/2024", "", query(2), "Web"],
                            ["T3", "02/03/2024 14:30", "", query(3), "App"]]),
         tickets=3, expect="all day-first: 5 Jan, 13 Jan, 2 Mar (the manifest says what decided it)",
         check=lambda o: dates_of(o) == ["2024-01-05 00:00", "2024-01-13 00:00", "2024-03-02 14:30"]),
    Case("dates_month_first.csv", "05/01/2024 next to 01/13/2024 in one column",
         lambda: csv_bytes([["T1", "05/01/2024", "", query(1), "App"], ["T2", "01/13/2024", "", query(2), "Web"]]),
         tickets=2, expect="all month-first: 1 May, 13 Jan",
         check=lambda o: dates_of(o) == ["2024-05-01 00:00", "2024-01-13 00:00"]),
    Case("dates_undecided.csv", "only ambiguous numeric dates",
         lambda: csv_bytes([["T1", "05/01/2024", "", query(1), "App"], ["T2", "06/02/2024", "", query(2), "Web"]]),
         tickets=2, expect="read month-first, and the manifest says nothing decided it",
         check=lambda o: (dates_of(o) == ["2024-05-01 00:00", "2024-06-02 00:00"]
                          and columns_report(o)["created_at"]["order_decided_by"].startswith("nothing"))),
    Case("dates_contradicting.csv", "a month-first date among day-first ones",
         lambda: csv_bytes([["T1", "13/01/2024", "", query(1), "App"], ["T2", "20/01/2024", "", query(2), "Web"],
                            ["T3", "01/25/2024", "", query(3), "App"]]),
         tickets=2, quarantined=((3, "created_at '01/25/2024' cannot be day-first, as the column's other dates are"),)),
    Case("dates_epochs.csv", "epoch seconds and milliseconds",
         lambda: csv_bytes([["T1", "1704067200", "", query(1), "App"], ["T2", "1704153600000", "", query(2), "Web"],
                            ["T3", "2024-01-03T00:00:00Z", "", query(3), "App"]]),
         tickets=3, check=lambda o: dates_of(o) == ["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-03 00:00"]),
    Case("dates_placeholders.csv", "9999-12-31 and 1970-01-01 among 300 tickets", placeholder_dates,
         tickets=298, quarantined=((100, "implausible created_at: '9999-12-31' (more than 1 day after the run)"),
                                   (200, "implausible created_at: '1970-01-01' (before 1990)")),
         expect="the timeline spans 2024 only", check=check_placeholders),
    Case("dates_unparseable.csv", "a date no format reads",
         lambda: csv_bytes(rows(2) + [["T3", "yesterday", "", query(3), "App"]]),
         tickets=2, quarantined=((3, "unparseable created_at: 'yesterday'"),)),
    # --- JSON
    Case("broken_lines.jsonl", "a line of broken JSON among good ones",
         lambda: jsonl([{"id": 1, "body": query(1)}, {"id": 2, "body": query(2)}, '{"id": 3, "body": "cut',
                        {"id": 4, "body": query(4)}]),
         tickets=3, quarantined=((3, "invalid JSON on line 3: Unterminated string starting at (column 19)"),)),
    Case("not_objects.jsonl", "lines that are JSON, but not objects",
         lambda: jsonl([{"id": 1, "body": query(1)}, [1, 2], '"just text"', {"id": 4, "body": query(4)}]),
         tickets=2, quarantined=((2, "line 2 is a JSON list, not an object"), (3, "line 3 is a JSON str, not an object"))),
    Case("array.json", "a JSON array of tickets (not JSON Lines)",
         lambda: json.dumps([{"id": i, "body": query(i)} for i in range(1, 6)], indent=2).encode(), tickets=5),
    Case("truncated_array.json", "a JSON array cut off in its third item",
         lambda: json.dumps([{"id": i, "body": query(i)} for i in range(1, 6)], indent=2).encode()[:260],
         tickets=2, quarantined=((3, "invalid JSON in array item 3: Unterminated string starting at (line 12, "
                                     "column 13); the rest of the file could not be read"),)),
    Case("helpdesk_export.json", "an export object holding the tickets list ({\"tickets\": [...]})",
         lambda: json.dumps({"tickets": NESTED[:6], "count": 6}).encode(), tickets=6,
         check=lambda o: columns_report(o)["roles"]["customer"] == "requester.id"),
    Case("nested.jsonl", "nested objects (requester, assignee, via) and tag lists",
         lambda: jsonl(NESTED), tickets=12,
         expect="requester.id is the customer, assignee.id the agent, via.channel a dimension; "
                "requester.email an ordinary (redacted) column; tags kept as JSON text, not a dimension",
         check=check_nested),
    # --- Parquet
    Case("wrong_types.parquet", "float ids, epoch-second dates, a categorical, integer codes read through NaN",
         lambda: parquet(pd.DataFrame({"id": [1.0, 2.0, 3.0, 4.0],
                                       "created_at": [1704067200, 1704153600, 1704240000, 1704326400],
                                       "body": [query(1), query(2), query(3), query(4)],
                                       "product": pd.Categorical(["App", "Web", "App", "Web"]),
                                       "priority": [1.0, None, 2.0, 1.0]})),
         tickets=4, expect="ids 1-4 without '.0', dates from epochs",
         check=lambda o: (o.tickets["ticket_id"].tolist() == ["1", "2", "3", "4"]
                          and dates_of(o)[0] == "2024-01-01 00:00")),
    Case("struct_columns.parquet", "a struct column (nested requester)",
         lambda: parquet(pd.DataFrame({"id": [1, 2, 3], "body": [query(1), query(2), query(3)],
                                       "requester": [{"id": 7, "name": "x"}, {"id": 8, "name": "y"}, {"id": 7, "name": "x"}]})),
         tickets=3, check=lambda o: columns_report(o)["roles"]["customer"] == "requester.id"),
]
CASES += real_export_cases(Case)      # real helpdesk exports (tests/hostile/real_exports.py)


def outcome_text(case: Case) -> str:
    """The documented outcome, in words, for the docs table."""
    if case.exit_code:
        return f"exit {case.exit_code}: `{case.message}`"
    parts = [f"{case.tickets} ticket{'s' if case.tickets != 1 else ''}"]
    if case.quarantined:
        parts.append("quarantined: " + "; ".join(f"row {row} `{reason}`" for row, reason in case.quarantined))
    else:
        parts.append("0 quarantined")
    if case.expect:
        parts.append(case.expect)
    return "; ".join(parts)


def docs() -> str:
    lines = ["# Hostile inputs: what each one gives",
             "",
             "Every file below is generated by `tests/hostile/make_corpus.py` and run through the real",
             "command line (`iceberg run`) by `tests/test_hostile_inputs.py`, which checks the outcome",
             "shown: the exit code and one-line message, or the tickets kept and every quarantined row",
             "with its reason (and always `rows_read = tickets + rows_quarantined`, no traceback). This",
             "page is generated from the same table (`python tests/hostile/make_corpus.py --docs`); the",
             "test fails when it is out of date.",
             "",
             "| case | what is hostile | outcome |",
             "|---|---|---|"]
    for case in CASES:
        settings = f" (`--set {' '.join(case.settings)}`)" if case.settings else ""
        lines.append(f"| `{case.name}` | {case.about}{settings} | {outcome_text(case)} |".replace("\n", " "))
    lines += ["", "The 3,000-issue bug-report export (`tests/hostile/bug_reports.py`, checked by",
              "`test_a_3000_issue_bug_report_export_is_read_exactly`) is read with `rows_read` = 3,000 and 0",
              "quarantined; the corpus runs a 300-issue slice of it through the command line.", ""]
    return "\n".join(lines)


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        if case.data is not None:
            (folder / case.name).write_bytes(case.data())
            written.append(folder / case.name)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path, metavar="DIR", help="write the corpus files into DIR")
    parser.add_argument("--docs", action="store_true", help=f"regenerate {DOCS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write:
        print(f"{len(write(args.write))} files written to {args.write}")
    if args.docs:
        DOCS.write_text(docs(), encoding="utf-8")
        print(f"wrote {DOCS.relative_to(ROOT)} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
