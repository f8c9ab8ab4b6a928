"""Events file (releases, deploys) and the events around each iceberg's onset."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SAMPLE_TRUTH, profiled_run
from pipeline.config import ProfileConfig
from pipeline.analysis.events import onset_events
from pipeline.errors import InputError
from pipeline.sources import read_events
from pipeline.analysis.profile import profiles
from pipeline.ops.summary import icebergs_summary
from pipeline.schemas import ICEBERGS
from pipeline.schemas import EventCols as E
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

SAMPLE_EVENTS = ROOT / "sample_data" / "helpdesk_events.csv"


def test_sample_events_hold_every_release_of_the_truth():
    import json

    events = read_events(SAMPLE_EVENTS)
    releases = json.loads(SAMPLE_TRUTH.read_text())["releases"]
    tagged = events[events[E.dimension].notna()]
    assert sorted(zip(tagged[E.date].astype(str), tagged[E.value])) == sorted(
        (r["date"], r["version"]) for r in releases)
    assert set(tagged[E.dimension]) == {"app_version"}
    assert len(events) > len(tagged)                       # unrelated events, no dimension
    assert events[E.date].tolist() == sorted(events[E.date])
    assert isinstance(events[E.date].iloc[0], date)


@pytest.mark.parametrize("content, message", [
    ("when,name\n2024-01-01,x\n", "lacks column(s) ['date']"),
    ("date,name\n2024-13-45,x\n", "data row 1: a date"),
    ("date,name\n2024-01-01,x\n2024-01-02,\n", "data row 2: no name"),
    ("date,name,dimension,value\n2024-01-01,x,app_version,\n", "dimension without a value"),
])
def test_bad_events_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "events.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)):
        read_events(path)
    with pytest.raises(InputError, match="not found"):
        read_events(tmp_path / "missing.csv")


def _release_tickets() -> pd.DataFrame:
    # Background: 300 tickets over Feb–Mar, versions 5.3 then 5.4 (from 03-01 on, a third).
    # Iceberg a: 20 tickets from 03-03, 18 on 5.4. Iceberg b: 20 tickets all along, versions
    # like the background.
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")   # b starts a month in
    created = rng.choice(days, 300)
    version = np.where((created >= np.datetime64("2024-03-01")) & (rng.random(300) < 0.33), "5.4", "5.3")
    a_days = pd.date_range("2024-03-03", periods=20, freq="D")
    b_days = pd.date_range("2024-02-01", periods=20, freq="3D")
    frame = pd.DataFrame({
        T.ticket_id: [f"t{i:03d}" for i in range(340)],
        T.created_at: pd.to_datetime(np.r_[created, a_days, b_days], utc=True),
        T.text: ["other question"] * 300 + ["app crashes on login"] * 20 + ["card arrival late"] * 20,
        T.iceberg_id: pd.Series([None] * 300 + ["a"] * 20 + ["b"] * 20, dtype="string"),
        "app_version": np.r_[version, ["5.4"] * 18 + ["5.3"] * 2, ["5.3"] * 20],
    })
    return frame


def _events() -> pd.DataFrame:
    return pd.DataFrame({E.date: [date(2024, 1, 31), date(2024, 3, 1), date(2024, 3, 20)],
                         E.name: ["Pricing change", "Release 5.4", "Deploy"],
                         E.dimension: pd.array([None, "app_version", None], dtype="string"),
                         E.value: pd.array([None, "5.4", None], dtype="string")})


def test_onset_events_and_concentration():
    frame = _release_tickets()
    vectors = np.random.default_rng(0).normal(size=(len(frame), 8)).astype(np.float32)
    result = profiles(frame, vectors, ["app_version"], ProfileConfig(), _events())
    rows = result.icebergs.set_index(I.iceberg_id)
    assert rows.loc["a", I.onset] == date(2024, 3, 3)
    assert rows.loc["a", I.onset_events] == ["2024-03-01 Release 5.4 (app_version=5.4)"]
    assert bool(rows.loc["a", I.event_concentrated]) is True
    assert rows.loc["b", I.onset] == date(2024, 2, 1)
    assert rows.loc["b", I.onset_events] == ["2024-01-31 Pricing change"]
    assert bool(rows.loc["b", I.event_concentrated]) is False
    table = ICEBERGS.to_arrow(result.icebergs)
    assert str(table.schema.field(I.onset_events).type) == "list<item: string>"
    assert str(table.schema.field(I.event_concentrated).type) == "bool"

    without = profiles(frame, vectors, ["app_version"], ProfileConfig()).icebergs
    assert without[I.onset_events].isna().all() and without[I.event_concentrated].isna().all()
    table = ICEBERGS.to_arrow(without)                    # typed even when all null
    assert str(table.schema.field(I.onset_events).type) == "list<item: string>"


def test_concentration_needs_the_value_to_be_evidence():
    onsets = pd.Series([date(2024, 3, 3), None], index=pd.Index(["a", "b"], dtype="str"))
    attributes = pd.DataFrame({A.iceberg_id: ["a"], A.dimension: ["app_version"], A.value: ["5.4"],
                               A.evidence: [False]})
    near = onset_events(onsets, attributes, _events())
    assert near.loc["a", I.onset_events] == ["2024-03-01 Release 5.4 (app_version=5.4)"]
    assert not near.loc["a", I.event_concentrated]          # over-represented, but not evidence
    assert near.loc["b", I.onset_events] == [] and not near.loc["b", I.event_concentrated]
    assert onset_events(onsets, attributes, _events(), window_days=1).loc["a", I.onset_events] == []


def test_an_onset_at_the_start_of_the_data_is_matched_with_no_event():
    """An iceberg dated to the data's first days may be older than the data: a release two
    days before proves nothing about it."""
    onsets = pd.Series([date(2024, 3, 3)], index=pd.Index(["a"], dtype="str"))
    attributes = pd.DataFrame({A.iceberg_id: ["a"], A.dimension: ["app_version"], A.value: ["5.4"],
                               A.evidence: [True]})
    started_with_data = onset_events(onsets, attributes, _events(), data_start=date(2024, 3, 1))
    assert started_with_data.loc["a", I.onset_events] == []
    assert not started_with_data.loc["a", I.event_concentrated]
    later = onset_events(onsets, attributes, _events(), data_start=date(2024, 1, 1))
    assert later.loc["a", I.onset_events] == ["2024-03-01 Release 5.4 (app_version=5.4)"]


def test_show_lists_onset_events():
    frame = _release_tickets()
    vectors = np.random.default_rng(0).normal(size=(len(frame), 8)).astype(np.float32)
    result = profiles(frame, vectors, ["app_version"], ProfileConfig(), _events())
    text = icebergs_summary(profiled_run(result, frame))
    assert "events: 2024-03-01 Release 5.4 (app_version=5.4) (concentrated in an event's value)" in text
    assert "events: 2024-01-31 Pricing change\n" in text


def test_run_with_a_missing_events_file_exits_5_before_embedding(tmp_path, capsys):
    from conftest import SAMPLE_CSV
    from pipeline.cli import main
    from pipeline.errors import EXIT_CONFIG
    from pipeline.store import latest_run_id

    out = tmp_path / "out"
    code = main(["run", "--input", str(SAMPLE_CSV), "--out", str(out),
                 "--set", f"profile.events={tmp_path / 'nope.csv'}"])
    assert code == EXIT_CONFIG
    captured = capsys.readouterr()
    message = captured.err + captured.out
    assert "profile.events" in message and "existing file" in message and "nope.csv" in message, message
    assert latest_run_id(out) is None
