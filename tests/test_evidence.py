"""Evidence statistics against hand-computed values: time windows, topical dimensions, pairs."""

import numpy as np
import pandas as pd
import pytest

from pipeline.evidence import (attribute_table, iceberg_windows, top_combinations,
                               topical_dimensions)
from pipeline.profile import is_spike
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
