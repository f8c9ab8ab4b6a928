"""Evidence statistics against hand-computed values: time windows, topical dimensions, pairs."""

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pipeline.analysis.evidence import (attribute_table, iceberg_windows, top_combinations,
                               topical_dimensions)
from pipeline.analysis.timing import is_spike
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import CombinationCols as C
from pipeline.schemas import TicketCols as T


def tickets(icebergs, created, **columns) -> pd.DataFrame:
    return pd.DataFrame({
        T.ticket_id: [f"t{i:03d}" for i in range(len(icebergs))],
        T.created_at: pd.to_datetime(pd.Series(created), utc=True),
        T.iceberg_id: pd.Series(icebergs, dtype="str"),
        **{k: pd.Series(v, dtype="str") for k, v in columns.items()},
    })


def test_baseline_is_the_iceberg_time_window():
    # Version "2" exists only from March; the iceberg starts in March. Against all tickets
    # "2" looks over-represented (4/4 vs 6/10); within the window it is 4/4 vs 6/6: lift 1.
    frame = tickets([None] * 4 + [None] * 2 + ["a"] * 4,
                    ["2024-01-05"] * 4 + ["2024-03-02"] * 2 + ["2024-03-01"] * 4,
                    version=["1"] * 4 + ["2"] * 6)
    windows = iceberg_windows(frame, {"a": pd.Timestamp("2024-03-01").date()})
    assert windows.loc["a", A.window_start] == pd.Timestamp("2024-03-01", tz="UTC")
    assert windows.loc["a", A.window_end] == pd.Timestamp("2024-03-02", tz="UTC")
    whole = attribute_table(frame, ["version"]).set_index(A.value)
    assert whole.loc["2", A.lift] == pytest.approx(1 / (6 / 10))
    windowed = attribute_table(frame, ["version"], windows).set_index(A.value)
    # window [03-01, 03-02): the four iceberg tickets only
    assert windowed.loc["2", [A.count, A.baseline_count]].tolist() == [4, 4]
    assert windowed.loc["2", A.lift] == pytest.approx(1.0)
    assert windowed.loc["2", A.n_values] == 1


def test_topical_dimensions_restate_the_clustering():
    ids = ["a"] * 10 + ["b"] * 10
    frame = tickets(ids, ["2024-01-01"] * 20,
                    product=["cards"] * 10 + ["loans"] * 10,       # follows the iceberg
                    region=["UK", "EU"] * 10)                       # cuts across
    assert topical_dimensions(frame, ["product", "region"]) == ["product"]


def test_top_combination_support_share_and_lift_by_hand():
    # a: 6 tickets, 5 with Android ∧ 5.2; others: 14, 1 with the pair.
    platform = ["Android"] * 5 + ["iOS"] + ["Android"] * 4 + ["iOS"] * 10
    version = ["5.2"] * 5 + ["5.1"] + ["5.2"] + ["5.1"] * 13
    frame = tickets(["a"] * 6 + [None] * 14, ["2024-01-01"] * 20, platform=platform, version=version)
    attributes = attribute_table(frame, ["platform", "version"])
    best = top_combinations(frame, attributes, alpha=1.0, exclude=[]).loc["a"]
    assert best[C.combination] == "platform=Android ∧ version=5.2"
    assert best[C.support] == 5
    assert best[C.share] == pytest.approx(5 / 6)
    assert best[C.baseline_share] == pytest.approx(6 / 20)
    assert best[C.lift] == pytest.approx((5 / 6) / (6 / 20))
    assert top_combinations(frame, attributes, alpha=1.0, exclude=["version"]).empty


def test_spike_against_own_history():
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    steady = pd.Series(np.r_[np.ones(63, int), np.ones(7, int)], index=days)
    assert is_spike(steady) is False
    burst = pd.Series(np.r_[np.ones(63, int), np.full(7, 6)], index=days)
    assert is_spike(burst) is True          # 42 in a week against 7 a week before
    assert is_spike(pd.Series(np.ones(5, int), index=days[:5])) is None


# --- minimum support for evidence ---------------------------------------------------

def _rare_state_tickets():
    # a: 25 tickets in one day, 2 from NM, 23 from CA; 775 others that day, 1 from NM.
    # NM: 2/25 = 8% vs 3/800 — lift 21, significant, but two tickets: no evidence.
    # CA: 23/25 vs 400/800 — lift 1.84 on 23 tickets: evidence.
    state = ["NM"] * 2 + ["CA"] * 23 + ["NM"] + ["CA"] * 377 + ["TX"] * 397
    return tickets(["a"] * 25 + [None] * 775, ["2024-03-01"] * 800, state=state)


def test_evidence_needs_minimum_support():
    from pipeline.analysis.evidence import is_evidence

    table = attribute_table(_rare_state_tickets(), ["state"]).set_index(A.value)
    assert table.loc["NM", A.lift] == pytest.approx((2 / 25) / (3 / 800))
    assert table.loc["NM", A.p_value] < 0.01
    flags = is_evidence(table, alpha=0.05, min_count=5, min_share=0.10)
    assert flags.to_dict() == {"CA": True, "NM": False}
    assert is_evidence(table, alpha=0.05, min_count=2, min_share=0.05).to_dict() == {"CA": True, "NM": True}
    assert not is_evidence(table, alpha=0.05, min_count=2, min_share=0.10)["NM"]   # 8% < 10%


def test_concentration_and_show_ignore_values_without_support():
    from pipeline.config import ProfileConfig
    from pipeline.analysis.profile import ScoreCols, profiles
    from pipeline.config import Config
    from pipeline.store import Manifest, Run

    def evidence(attributes, iceberg_id, *, profile):
        manifest = Manifest(run_id="r1", status="succeeded", started_at="", finished_at="",
                            config=Config(profile=profile).to_dict())
        return Run(ROOT, manifest).evidence(iceberg_id, n=3, attributes=attributes)

    frame = _rare_state_tickets()
    frame[T.text] = "card arrival late"
    vectors = np.random.default_rng(0).normal(size=(len(frame), 8)).astype(np.float32)
    result = profiles(frame, vectors, ["state"], ProfileConfig())
    rows = result.attributes.set_index(A.value)
    assert rows[A.evidence].to_dict() == {"CA": True, "NM": False}
    assert result.icebergs[ScoreCols.max_lift].tolist() == pytest.approx([(23 / 25) / (400 / 800)])
    shown = evidence(result.attributes, "a", profile=ProfileConfig())
    assert shown[A.value].tolist() == ["CA"]
    # A run written before the column existed: recomputed from its settings.
    old = result.attributes.drop(columns=[A.evidence])
    assert evidence(old, "a", profile=ProfileConfig())[A.value].tolist() == ["CA"]
    lax = ProfileConfig(min_evidence_count=1, min_evidence_share=0.0)
    assert evidence(old, "a", profile=lax)[A.value].tolist() == ["NM", "CA"]
    relaxed = profiles(frame, vectors, ["state"], lax)
    assert relaxed.icebergs[ScoreCols.max_lift].tolist() == pytest.approx([(2 / 25) / (3 / 800)])
