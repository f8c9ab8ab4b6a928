"""The bundled sample data, and the generator that plants icebergs in it.

Only repository files are read: the committed samples and their answer key, and a small
committed slice of Banking77 (tests/data/banking77_slice.csv) to run the generator on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.planted import COLUMNS, DIMENSIONS, add_malformed_rows, planted_helpdesk  # noqa: E402
from bench.ticket_text import luhn_valid  # noqa: E402
from pipeline.config import load_config  # noqa: E402

SAMPLE = ROOT / "sample_data"
SLICE = ROOT / "tests" / "data" / "banking77_slice.csv"
CFPB_COLUMNS = ["Date received", "Product", "Sub-product", "Issue", "Sub-issue",
                "Consumer complaint narrative", "Company", "State", "Tags", "Submitted via",
                "Company response to consumer", "Timely response?", "Complaint ID"]


@pytest.fixture(scope="module")
def queries() -> pd.DataFrame:
    return pd.read_csv(SLICE)


def _small(queries: pd.DataFrame, seed: int):
    return planted_helpdesk(queries, seed=seed, n_tickets=3000, start=date(2024, 1, 1),
                            days=120, n_planted=3, n_decoys=2)


@pytest.fixture(scope="module")
def generated(queries):
    return add_malformed_rows(_small(queries, seed=3), seed=3)


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, dict]:
    tickets = pd.read_csv(SAMPLE / "helpdesk_tickets.csv", dtype=str, keep_default_na=False)
    truth = json.loads((SAMPLE / "helpdesk_tickets.truth.json").read_text(encoding="utf-8"))
    return tickets, truth


def _datasets(generated, sample) -> list[tuple[pd.DataFrame, dict]]:
    return [(generated.tickets, generated.truth), sample]


def _well_formed(tickets: pd.DataFrame, truth: dict) -> pd.DataFrame:
    malformed = {m["row"] for m in truth["malformed"]}
    return tickets[~tickets.index.isin(malformed)]


# --- the generator ------------------------------------------------------------------

def test_same_seed_same_data_other_seed_other_data(queries):
    first, again, other = _small(queries, 11), _small(queries, 11), _small(queries, 12)
    pd.testing.assert_frame_equal(first.tickets, again.tickets)
    assert first.truth == again.truth
    assert not first.tickets["body"].equals(other.tickets["body"])
    json.dumps(first.truth)   # the answer key is plain JSON


def test_cli_writes_byte_identical_files(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_helpdesk",
                                                  SAMPLE / "generate_helpdesk.py")
    cli: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name / "tickets.csv"
        assert cli.main(["--queries", str(SLICE), "--tickets", "600", "--out", str(out)]) == 0
        outputs.append((out.read_bytes(), cli.truth_path(out).read_bytes()))
    assert outputs[0] == outputs[1]


def test_missing_query_columns_are_named(queries):
    with pytest.raises(ValueError, match="category"):
        planted_helpdesk(queries.rename(columns={"category": "label"}), seed=1)


# --- properties claimed for every planted dataset -----------------------------------

def test_planted_icebergs_have_the_claimed_shape(generated, sample):
    for tickets, truth in _datasets(generated, sample):
        rows_of = _well_formed(tickets, truth).set_index("ticket_id")
        end = truth["period"]["end"]
        for plant in truth["planted"]:
            rows = rows_of.loc[plant["ticket_ids"]]
            size, onset = len(rows), plant["onset"]
            assert size == plant["size"] <= truth["flat"]["median_size"], plant["intent"]
            assert 1 <= len(plant["signature"]) <= 2 and set(plant["signature"]) <= set(DIMENSIONS)
            before = rows["created_at"] < onset
            assert before.sum() <= max(2, 0.1 * size), plant["intent"]
            after = rows[~before]
            share = (after[list(plant["signature"])] == pd.Series(plant["signature"])).all(axis=1).mean()
            assert 0.7 <= share <= 0.97 and share == pytest.approx(plant["signature_share"], abs=1e-4)
            assert rows.index.nunique() == size
            assert rows["customer_id"].nunique() >= 0.8 * size
            assert rows["agent_id"].value_counts().max() <= max(5, 0.2 * size)
            midpoint = date.fromordinal((date.fromisoformat(onset).toordinal()
                                         + date.fromisoformat(end).toordinal()) // 2)
            assert (after["created_at"] >= midpoint.isoformat()).mean() >= 0.5   # growing


def test_decoys_are_large_and_flat(generated, sample):
    for tickets, truth in _datasets(generated, sample):
        rows_of = _well_formed(tickets, truth).set_index("ticket_id")
        start = date.fromisoformat(truth["period"]["start"])
        end = date.fromisoformat(truth["period"]["end"])
        midpoint = date.fromordinal((start.toordinal() + end.toordinal()) // 2).isoformat()
        for decoy in truth["decoys"]:
            assert decoy["size"] >= 2 * truth["flat"]["median_size"]
            first_half = (rows_of.loc[decoy["ticket_ids"], "created_at"] < midpoint).mean()
            assert 0.35 <= first_half <= 0.65, decoy["intent"]


def test_background_has_repeat_customers(generated, sample):
    for tickets, truth in _datasets(generated, sample):
        assert _well_formed(tickets, truth)["customer_id"].value_counts().max() >= 5


def test_planted_personal_data_and_look_alikes(generated, sample):
    for tickets, truth in _datasets(generated, sample):
        body_of = _well_formed(tickets, truth).set_index("ticket_id")["body"]
        assert {p["kind"] for p in truth["pii"]} == {"email", "phone", "card", "iban", "ip"}
        for planted in truth["pii"] + truth["not_pii"]:
            assert planted["value"] in body_of[planted["ticket_id"]]
        assert all(luhn_valid(p["value"]) for p in truth["pii"] if p["kind"] == "card")
        for order in truth["not_pii"]:
            assert len(order["value"]) == 16 and not luhn_valid(order["value"])


def test_malformed_rows_are_where_the_truth_says(generated, sample):
    for tickets, truth in _datasets(generated, sample):
        assert sorted(m["kind"] for m in truth["malformed"]) == [
            "bad_date", "duplicate_id", "empty_text", "missing_id"]
        for bad in truth["malformed"]:
            row = tickets.iloc[bad["row"]]
            assert row["ticket_id"] == bad["ticket_id"]
            if bad["kind"] == "missing_id":
                assert row["ticket_id"] == ""
            elif bad["kind"] == "empty_text":
                assert row["subject"] == row["body"] == ""
            elif bad["kind"] == "duplicate_id":
                assert tickets.index[tickets["ticket_id"] == row["ticket_id"]].min() < bad["row"]
            else:
                with pytest.raises(ValueError):
                    datetime.fromisoformat(row["created_at"])
        good = _well_formed(tickets, truth)
        assert good["ticket_id"].is_unique and (good["body"] != "").all()
        assert set(good["ticket_id"]) == set(truth["labels"])


# --- the committed sample ------------------------------------------------------------

def test_committed_sample_matches_its_truth(sample):
    tickets, truth = sample
    assert list(tickets.columns) == list(COLUMNS)
    assert len(tickets) == truth["n_tickets"] + len(truth["malformed"])
    assert 3500 <= truth["n_tickets"] <= 4500 and len(truth["malformed"]) == 4
    assert 3 <= len(truth["planted"]) <= 4 and 2 <= len(truth["decoys"]) <= 3
    assert len({p["onset"][:7] for p in truth["planted"]}) == len(truth["planted"])
    created = pd.to_datetime(_well_formed(tickets, truth)["created_at"], format="%Y-%m-%dT%H:%M:%SZ",
                             utc=True)
    assert created.min().date().isoformat() >= truth["period"]["start"]
    assert created.max().date().isoformat() <= truth["period"]["end"]
    assert (SAMPLE / "helpdesk_tickets.csv").stat().st_size < 2_000_000


def test_cfpb_slice_and_its_config():
    path = SAMPLE / "cfpb_complaints.csv.gz"
    assert path.read_bytes()[4:8] == b"\0\0\0\0"   # gzip mtime 0: reproducible bytes
    complaints = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(complaints.columns) == CFPB_COLUMNS
    assert len(complaints) == 2683 and complaints["Complaint ID"].is_unique
    assert (complaints["Consumer complaint narrative"].str.strip() != "").all()
    columns = tomllib.loads((SAMPLE / "cfpb.toml").read_text(encoding="utf-8"))["columns"]
    named = [columns["id"], columns["created_at"], *columns["body"], *columns["dimensions"]]
    assert set(named) <= set(complaints.columns)
    assert load_config(SAMPLE / "cfpb.toml").columns.dimensions == columns["dimensions"]
