"""Acceptance: personal data seeded everywhere an export can hold it never reaches the output.

A CSV of 616 real Banking77 queries, with e-mails, Luhn-valid cards (spaces, dashes, dots),
an IBAN of every SEPA country followed by a word, IPv4/IPv6 addresses and phones in many
national formats seeded into the text, the ticket ids, a dimension, kept columns, agent
names and rows that get quarantined (a bad raw ``created_at``, a duplicate id, a missing id).
Two real runs (real clustering and profiling; a small deterministic hashing embedder instead
of the model, to stay fast) and ``show`` / ``diff`` / ``runs`` follow. Then every file under
the output folder (Parquet decoded and raw, JSON, caches, logs) and every command's output
must be free of every seeded e-mail, card, IBAN and IP, and at least 95% of the phones.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from bench.pii_seeds import SEPA_COUNTRIES, pii_values
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.embed.embedder import EncodeResult
from pipeline.run import run
from pipeline.schemas import QuarantineCols, TicketCols
from tests.conftest import BANKING_SLICE

N_PHONES = 200


class HashingEmbedder:
    """Deterministic unit vectors from hashed word and bigram counts (no model to load)."""

    key = "test-hashing-256"
    dim = 256

    def __init__(self):
        self._vectorizer = HashingVectorizer(n_features=self.dim, ngram_range=(1, 2), alternate_sign=False,
                                             norm="l2")

    def encode(self, texts, *, progress=False):
        vectors = self._vectorizer.transform(list(texts)).toarray().astype("float32")
        vectors[np.linalg.norm(vectors, axis=1) == 0, 0] = 1.0
        return EncodeResult(vectors=vectors)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The seeded export, the values seeded, and the output folder after two runs."""
    rng = random.Random(20240515)
    queries = pd.read_csv(BANKING_SLICE)["text"].tolist()
    n = len(queries)
    values = {kind: [v for v, _ in pii_values(kind, count, rng)]
              for kind, count in (("email", 80), ("card", 60), ("iban", 2 * len(SEPA_COUNTRIES)),
                                  ("ip", 60), ("phone", N_PHONES))}
    phone_formats = {f for _, f in pii_values("phone", 400, random.Random(1))}
    assert len({f.split()[0] for f in phone_formats}) >= 5          # US, GB, DE, FR, ES, IN, BR…
    agents = ["Alice Martin", "Bob Okafor", "Chen Wei", "Dana Schulz", "Emma Rossi", "Farid Haddad"]
    owners = ["Grace Hopper", "Liam Byrne", "Sofia Garcia", "Noah Fischer", "Olivia Brown"]
    contacts = values["email"][:12]

    rows = []
    pii_in_text = [(k, v) for k in ("email", "card", "iban", "ip") for v in values[k]]
    for i, query in enumerate(queries):
        body = query
        if i < len(pii_in_text):
            kind, value = pii_in_text[i]
            body = f"{query} My {kind} is {value} please help."
        phone = values["phone"][i] if i < N_PHONES else None
        if phone:
            body += f"\nYou can reach me on {phone} today."
        rows.append({
            "ticket_id": f"T-{i:05d}",
            "created_at": f"2024-03-{1 + i % 28:02d}T10:00:00Z",
            "body": body,
            "customer_id": values["email"][i % 40] if i % 2 else f"+1 415-555-{i % 100:04d}",
            "agent": agents[i % len(agents)],
            "owner": owners[i % len(owners)],
            "contact": contacts[i % len(contacts)],
            "source_ip": values["ip"][i % 8],
            "requester.email": values["email"][(i + 7) % len(values["email"])],
            "requester.name": owners[(i + 2) % len(owners)],
            "notes": f"paid with {values['card'][i % len(values['card'])]} via {values['iban'][i % 20]} ok",
        })
    # Ticket ids that carry personal data, one of them duplicated.
    for i in range(0, 30, 3):
        rows[i]["ticket_id"] = f"{values['email'][i]}#{i}"
    rows[30]["ticket_id"] = rows[27]["ticket_id"]
    # Rows that get quarantined: a raw created_at with personal data, a missing id.
    rows[40]["created_at"] = f"sent by {values['email'][41]} on {values['card'][5]}"
    rows[41]["created_at"] = f"from {values['ip'][20]} iban {values['iban'][3]}"
    rows[42]["ticket_id"] = None
    rows[42]["body"] += f" {values['card'][6]} {values['iban'][4]}"
    rows[43]["created_at"] = "1700000000000000"     # an epoch-looking value in a reason

    tmp = tmp_path_factory.mktemp("seeded")
    csv = tmp / "seeded.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    out = tmp / "out"
    config = load_config()
    first = run(csv, out, config, embedder=HashingEmbedder(), progress=False)
    pd.DataFrame(rows[:-50]).to_csv(csv, index=False)
    second = run(csv, out, config, embedder=HashingEmbedder(), progress=False, mode="full")
    return {"values": values, "out": out, "runs": (first, second), "rows": rows, "n": n}


@pytest.fixture(scope="module")
def command_output(seeded):
    """What ``show``, ``diff`` and ``runs`` print about the two runs."""
    out = str(seeded["out"])
    first, second = seeded["runs"]
    printed = io.StringIO()
    for argv in (["show", "--out", out], ["diff", "--out", out], ["diff", first.run_id, second.run_id, "--out", out],
                 ["diff", "--json", "--out", out], ["runs", "list", "--out", out], ["runs", "show", "--out", out],
                 ["runs", "list", "--json", "--out", out]):
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            assert main(argv) == 0, argv
    return printed.getvalue()


def _file_strings(path: Path) -> list[str]:
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix != ".parquet":
        return [raw]
    table = pq.read_table(path)
    strings = [raw, table.schema.to_string(), str(table.schema.metadata)]
    for column in table.columns:
        strings += [str(v) for v in column.to_pylist() if v is not None]
    return strings


def _blob(seeded, command_output) -> str:
    files = [p for p in seeded["out"].rglob("*") if p.is_file()]
    assert any(p.name == "quarantine.parquet" for p in files)
    assert any("embeddings" in p.parts for p in files)
    return "\0".join([s for p in files for s in _file_strings(p)] + [command_output])


def _forms(kind: str, value: str) -> list[str]:
    """The forms in which ``value`` would be recognisable in the output."""
    if kind == "email":
        return [value.lower()]
    if kind in ("card", "iban"):
        return [re.sub(r"[ .-]", "", value).lower()]
    address = value.strip("[]").rsplit("]:", 1)[0] if value.startswith("[") else value
    if address.count(".") == 3:
        address = ".".join(str(int(o)) for o in address.split("."))
        return [value.lower(), address]
    parsed = ipaddress.IPv6Address(address)
    return [value.lower(), parsed.compressed, parsed.exploded]


def test_no_seeded_email_card_iban_or_ip_anywhere(seeded, command_output):
    blob = _blob(seeded, command_output).lower()
    compact = re.sub(r"[ .-]", "", blob)
    leaks = []
    for kind in ("email", "card", "iban", "ip"):
        for value in seeded["values"][kind]:
            for form in _forms(kind, value):
                haystack = compact if kind in ("card", "iban") else blob
                if form in haystack:
                    at = haystack.find(form)
                    leaks.append((kind, value, haystack[max(0, at - 80):at + len(form)]))
    assert leaks == []


def test_phone_recall_is_at_least_95_percent(seeded):
    run = seeded["runs"][0]
    tickets = pd.read_parquet(run.folder / "tickets.parquet")
    quarantine = pd.read_parquet(run.folder / "quarantine.parquet")
    by_row = dict(zip(tickets[TicketCols.source_row], tickets[TicketCols.text]))
    by_row.update(zip(quarantine[QuarantineCols.source_row], quarantine["body"]))
    survived = [phone for i, phone in enumerate(seeded["values"]["phone"])
                if re.sub(r"\D", "", phone)[-7:] in re.sub(r"\D", "", by_row[i + 1])]
    assert len(by_row) == seeded["n"]
    assert 1 - len(survived) / N_PHONES >= 0.95, survived


def test_ids_are_pseudonymised_unique_and_stable(seeded):
    first, second = seeded["runs"]
    a = pd.read_parquet(first.folder / "tickets.parquet")
    b = pd.read_parquet(second.folder / "tickets.parquet")
    assert a[TicketCols.ticket_id].is_unique
    personal = a[TicketCols.ticket_id].str.startswith("tkt-")
    assert personal.sum() == 10         # 10 ids carried an e-mail (the 11th, a duplicate, is quarantined)
    assert (a[TicketCols.ticket_id] == a[TicketCols.ticket_id].str.strip()).all()
    common = a.merge(b, on=TicketCols.source_row)
    assert (common[TicketCols.ticket_id + "_x"] == common[TicketCols.ticket_id + "_y"]).all()
    assert a.loc[~personal, TicketCols.ticket_id].str.fullmatch(r"T-\d{5}").all()


def test_people_columns_are_pseudonymised_not_profiled_as_names(seeded):
    run = seeded["runs"][0]
    tickets = pd.read_parquet(run.folder / "tickets.parquet")
    for column, prefix, distinct in ((TicketCols.agent_id, "agent-", 6), ("owner", "person-", 5),
                                     ("contact", "email-", 12), ("requester.name", "person-", 5),
                                     (TicketCols.customer_id, "cust-", None)):
        assert tickets[column].str.startswith(prefix).all(), column
        if distinct:
            assert tickets[column].nunique() == distinct, column     # distinct counts survive


def test_quarantine_keeps_meaningful_reasons(seeded):
    quarantine = pd.read_parquet(seeded["runs"][0].folder / "quarantine.parquet")
    reasons = quarantine[QuarantineCols.reason].tolist()
    assert any(r.startswith("unparseable created_at") and "[EMAIL]" in r and "[CARD]" in r for r in reasons)
    assert any("[IP]" in r and "[IBAN]" in r for r in reasons)
    assert any(r.startswith("duplicate ticket id") for r in reasons)
    assert "missing ticket id" in reasons
    assert any("1700000000000000" in r for r in reasons)             # not taken for a phone
