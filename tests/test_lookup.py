"""``iceberg lookup`` and ``pipeline.lookup``: the dashboard's look-up outside the dashboard,
plus the customer's history.

The acceptance checks run the real CLI on the sample run (real model, real HDBSCAN); the
pseudonymisation checks a run whose customer ids are e-mail addresses, embedded by
``tests/fakes.FakeEmbedder``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import BANKING_SLICE, SAMPLE_TRUTH, iceberg
from fakes import FakeEmbedder
from pipeline.cli import main
from pipeline.config import RedactConfig
from pipeline.errors import EXIT_OK, EXIT_USAGE, UsageError
from pipeline.lookup import customer_keys, open_lookup
from pipeline.schemas import TicketCols as T
from pipeline.store import load_run

PIN_TEXT = "my PIN got blocked after three wrong tries"


@pytest.fixture(scope="module")
def pin(sample_run):
    """The iceberg holding the sample's planted "PIN blocked" tickets, and a customer with one of them."""
    truth = json.loads(SAMPLE_TRUTH.read_text())
    planted = next(p for p in truth["planted"] if p["intent"] == "pin_blocked")
    tickets = sample_run.run.tickets
    members = tickets[tickets[T.ticket_id].isin(planted["ticket_ids"])]
    holder = members[T.iceberg_id].mode().iloc[0]
    writer = members[members[T.iceberg_id] == holder][T.customer_id].iloc[0]
    own = tickets[(tickets[T.customer_id] == writer) & (tickets[T.iceberg_id] == holder)][T.ticket_id]
    return holder, writer, own.tolist()


def test_the_cli_names_the_pin_iceberg(sample_run, pin):
    holder, _, _ = pin
    process = iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT)
    assert process.returncode == EXIT_OK, process.stderr
    assert f"Not a one-off: the run's assign rule would put it in {holder}" in process.stdout
    assert "Most similar past tickets:" in process.stdout


def test_the_customer_who_wrote_about_it_before_is_told_with_their_tickets(sample_run, pin):
    holder, writer, own = pin
    process = iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT, "--customer", writer,
                      "--set", "platform=iOS", "--json")
    assert process.returncode == EXIT_OK, process.stderr
    answer = json.loads(process.stdout)
    assert answer["placed_in"] == holder and not answer["one_off"]
    customer = answer["customer"]
    assert customer["found"] and customer["same_problem"] and holder in customer["icebergs"]
    same = {t["ticket_id"] for t in customer["tickets"] if t["same_problem"]}
    assert set(own) <= same
    history = sample_run.run.tickets
    assert {t["ticket_id"] for t in customer["tickets"]} <= set(
        history[history[T.customer_id] == writer][T.ticket_id])
    [share] = answer["dimensions"]
    assert share["dimension"] == "platform" and share["iceberg_id"] == holder and 0 <= share["share"] <= 1
    text = iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT, "--customer", writer).stdout
    assert "They wrote in about this problem before: " in text and all(t in text for t in own)


def test_a_customer_unknown_to_the_run_has_no_history(sample_run):
    answer = json.loads(iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT,
                                "--customer", "nobody-here", "--json").stdout)
    assert answer["customer"] == {"given": "nobody-here", "customer_id": None, "found": False,
                                  "same_problem": False, "icebergs": [], "tickets": []}


def test_the_ticket_file_and_standard_input(sample_run, tmp_path, monkeypatch, capsys):
    path = tmp_path / "ticket.txt"
    path.write_text(PIN_TEXT, encoding="utf-8")
    assert main(["lookup", "--out", str(sample_run.out), "--ticket-file", str(path), "--json"]) == EXIT_OK
    from_file = json.loads(capsys.readouterr().out)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PIN_TEXT))
    assert main(["lookup", "--out", str(sample_run.out), "--ticket-file", "-", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["placed_in"] == from_file["placed_in"] is not None


@pytest.mark.parametrize("args, says", [
    ([], "--text TEXT or --ticket-file FILE"),
    (["--text", "x", "--ticket-file", "f.txt"], "--text TEXT or --ticket-file FILE"),
    (["--text", PIN_TEXT, "--set", "platform"], "DIMENSION=VALUE"),
    (["--text", PIN_TEXT, "--set", "colour=red"], "unknown dimension 'colour'"),
    (["--text", "   "], "the ticket text is empty"),
])
def test_usage_errors_name_the_fix(sample_run, args, says):
    process = iceberg("lookup", "--out", str(sample_run.out), *args)
    assert process.returncode == EXIT_USAGE and says in process.stderr, process.stderr


def test_dashboard_url_gives_links_and_nothing_without_it(sample_run, tmp_path):
    config = tmp_path / "iceberg.toml"
    config.write_text('[dashboard]\nurl = "https://iceberg.example.com/"\n', encoding="utf-8")
    answer = json.loads(iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT, "--json",
                                "--config", str(config)).stdout)
    top = answer["icebergs"][0]
    assert top["url"] == (f"https://iceberg.example.com/?iceberg={top['iceberg_id']}"
                          f"&run={answer['run_id']}")
    plain = json.loads(iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT, "--json").stdout)
    assert all(i["url"] is None for i in plain["icebergs"])


# The customer id as the helpdesk shows it, matched after the run's pseudonymisation.

@pytest.fixture(scope="module")
def email_run(tmp_path_factory):
    """The Banking77 slice with e-mail customer ids (one customer per intent), run with the fake model."""
    from pipeline.config import load_config
    from pipeline.run import run

    queries = pd.read_csv(BANKING_SLICE)
    codes = {c: i for i, c in enumerate(sorted(queries["category"].unique()))}
    frame = pd.DataFrame({"ticket_id": [f"T{i:04d}" for i in range(len(queries))],
                          "created_at": pd.date_range("2024-01-01", periods=len(queries), freq="h",
                                                      tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "text": queries["text"],
                          "customer_id": [f"Person{codes[c]}@Example.com" for c in queries["category"]]})
    folder = tmp_path_factory.mktemp("email_run")
    frame.to_csv(folder / "tickets.csv", index=False)
    run(folder / "tickets.csv", folder / "out", load_config(), embedder=FakeEmbedder(), progress=False)
    return folder / "out", frame


def test_an_email_customer_id_is_found_under_its_pseudonym(email_run):
    out, frame = email_run
    lookup = open_lookup(out, embedder=FakeEmbedder())
    stored = load_run(out).tickets
    assert not stored[T.customer_id].str.contains("@").any()      # the run pseudonymised them
    row = frame.iloc[5]
    answer = lookup(row["text"], customer=row["customer_id"].upper())
    history = answer.customer
    assert history.customer_id.startswith("cust-") and history.customer_id != row["customer_id"]
    expected = set(frame[frame["customer_id"] == row["customer_id"]]["ticket_id"])
    assert set(history.tickets[T.ticket_id]) == expected
    assert history.same_problem             # the very text is among their tickets
    same = history.tickets[history.tickets["same problem"]]
    assert row["ticket_id"] in set(same[T.ticket_id])
    assert row["customer_id"] not in json.dumps(answer.to_dict()).replace(row["customer_id"].upper(), "")


def test_customer_keys_are_the_id_and_its_pseudonym():
    keys = customer_keys(" jane@example.com ", RedactConfig())
    assert keys[0] == "jane@example.com" and keys[1].startswith("cust-")
    assert customer_keys("C123456", RedactConfig()) == ["C123456"]
    assert customer_keys("jane@example.com", RedactConfig(enabled=False)) == ["jane@example.com"]
    assert customer_keys("  ", RedactConfig()) == []


def test_the_lookup_keeps_nothing(email_run):
    out, frame = email_run
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    lookup = open_lookup(out, embedder=FakeEmbedder())
    lookup("a brand new ticket text that nobody wrote", customer="someone@example.com")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    with pytest.raises(UsageError, match="unknown dimension"):
        lookup("x y z", dimensions={"nope": "1"})
