"""Curation: names, statuses and notes people set, kept outside run folders, keyed by iceberg id."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.analysis.ranking import ranked
from pipeline.errors import ConfigError
from pipeline.schemas import IcebergCols as I
from pipeline.store.curation import Curation, CurationCols, with_curation


def icebergs() -> pd.DataFrame:
    return pd.DataFrame({I.iceberg_id: ["ICE-0001", "ICE-0002", "ICE-0003", "ICE-0004"],
                         I.label: ["pin · blocked", "transfer · late", "thanks", "card · declined"],
                         I.score: [9.0, 8.0, 7.0, 6.0], I.rank: [1, 2, 4, 3],
                         I.boilerplate: [False, False, True, False]})


def test_changes_fold_into_the_current_entry_and_keep_their_history(tmp_path):
    curation = Curation(tmp_path)
    assert curation.get("ICE-0001").status is None and curation.entries() == {}
    curation.set("ICE-0001", name="PIN lock-outs after 5.4", by="lead")
    curation.set("ICE-0001", status="acknowledged", ticket="PROB-123")
    entry = curation.set("ICE-0001", note="Fix in 5.5")
    assert (entry.name, entry.status, entry.ticket, entry.note) == (
        "PIN lock-outs after 5.4", "acknowledged", "PROB-123", "Fix in 5.5")
    curation.set("ICE-0001", status=None)            # reopened; the rest stays
    assert curation.get("ICE-0001").status is None and curation.get("ICE-0001").name
    assert len(curation.history("ICE-0001")) == 4
    assert not any(p.name.startswith("runs") for p in tmp_path.iterdir())   # never inside a run


def test_a_torn_last_line_is_skipped(tmp_path):
    curation = Curation(tmp_path)
    curation.set("ICE-0002", status="dismissed")
    with open(tmp_path / "curation.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"iceberg_id": "ICE-0001", "status": "ackno')      # killed mid-write
    assert curation.dismissed() == {"ICE-0002"}
    assert set(curation.entries()) == {"ICE-0002"}


@pytest.mark.parametrize("change, message", [
    ({"status": "closed"}, "status must be one of"),
    ({"ticket": "javascript:alert(1)"}, "ticket key"),
    ({"name": "x" * 121}, "keep it to 120"),
    ({"note": 5}, "must be text"),
])
def test_bad_values_are_refused_with_a_message(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        Curation(tmp_path).set("ICE-0001", **change)
    assert not (tmp_path / "curation.jsonl").exists()


def test_names_and_notes_are_redacted_before_they_are_stored(tmp_path):
    Curation(tmp_path).set("ICE-0001", name="Refunds for jane.doe@example.com",
                           note="Call +1 415-555-0100 about it")
    stored = (tmp_path / "curation.jsonl").read_text()
    assert "jane.doe@example.com" not in stored and "415-555-0100" not in stored
    assert "[EMAIL]" in Curation(tmp_path).get("ICE-0001").name


def test_dismissed_rank_after_every_other_problem_and_before_boilerplate(tmp_path):
    curation = Curation(tmp_path)
    curation.set("ICE-0001", status="dismissed")
    curation.set("ICE-0002", name="Transfers stuck in review")
    table = with_curation(icebergs(), curation.entries()).set_index(I.iceberg_id)
    assert table[I.rank].to_dict() == {"ICE-0002": 1, "ICE-0004": 2, "ICE-0001": 3, "ICE-0003": 4}
    assert table.loc["ICE-0002", CurationCols.name] == "Transfers stuck in review"
    assert table.loc["ICE-0004", CurationCols.name] == "card · declined"     # no curation: its label
    assert table.loc["ICE-0001", CurationCols.status] == "dismissed"
    assert table.loc["ICE-0001", CurationCols.run_rank] == 1
    assert ranked(icebergs())[I.iceberg_id].tolist() == ["ICE-0001", "ICE-0002", "ICE-0004", "ICE-0003"]
