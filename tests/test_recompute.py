"""Every number in icebergs.parquet and attributes.parquet, recomputed from tickets.parquet.

The output contract promises that a reader can check a run's figures with nothing but its
tickets table. These tests do so for a sample of the real sample run (``sample_run``),
independently of the pipeline's code: pandas group-bys for the who/when columns, scipy's
``fisher_exact`` on each row's 2×2 table within its time window, and Benjamini–Hochberg
written out below for the q-values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

N_ICEBERGS = 15          # icebergs sampled (the top ones and a random draw of the rest)
N_ATTRIBUTES = 120       # attribute rows sampled (every top evidence row and a random draw)


@pytest.fixture(scope="module")
def tables(sample_run):
    run = sample_run.run
    return run.tickets, run.icebergs, run.attributes, run.manifest.to_dict()


def _sample(frame: pd.DataFrame, n: int, always: pd.Index) -> pd.DataFrame:
    rest = frame.drop(index=always)
    drawn = rest.sample(n=min(n, len(rest)), random_state=0).index
    return frame.loc[always.union(drawn)]


def _bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg: q_(i) = min over j ≥ i of m·p_(j)/j, capped at 1."""
    m = len(p_values)
    order = np.argsort(p_values)
    ranked = p_values[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = q
    return out


def _fisher_greater(count: int, n_own: int, value_all: int, n_all: int) -> float:
    table = [[count, n_own - count], [value_all - count, (n_all - n_own) - (value_all - count)]]
    return fisher_exact(table, alternative="greater").pvalue


def test_iceberg_counts_recomputed(tables):
    tickets, icebergs, _, _ = tables
    sample = _sample(icebergs.set_index("iceberg_id"), N_ICEBERGS - 5,
                     icebergs.nsmallest(5, "rank")["iceberg_id"].pipe(pd.Index))
    members = tickets[tickets["iceberg_id"].notna()]
    assert set(icebergs["iceberg_id"]) == set(members["iceberg_id"])
    assert icebergs["size"].sum() == len(members)
    for iceberg_id, row in sample.iterrows():
        own = members[members["iceberg_id"] == iceberg_id]
        per_agent = own["agent_id"].value_counts()
        per_customer = own["customer_id"].value_counts()
        assert row["size"] == len(own), iceberg_id
        assert row["n_customers"] == own["customer_id"].nunique(), iceberg_id
        assert row["n_repeat_customers"] == int((per_customer >= 2).sum()), iceberg_id
        assert row["n_agents"] == own["agent_id"].nunique(), iceberg_id
        assert row["max_tickets_per_agent"] == per_agent.max(), iceberg_id
        assert row["first_seen"] == own["created_at"].min(), iceberg_id
        assert row["last_seen"] == own["created_at"].max(), iceberg_id
        assert pd.isna(row["onset"]) or row["first_seen"].date() <= row["onset"] <= row["last_seen"].date()
        assert row["representative_ticket_ids"] is not None
        assert set(row["representative_ticket_ids"]) <= set(own["ticket_id"]), iceberg_id


def test_score_recomputed(tables):
    tickets, icebergs, attributes, manifest = tables
    settings = manifest["config"]["profile"]
    members = tickets[tickets["iceberg_id"].notna()]
    # Evidence (docs/analytics.md): significant, over-represented, with minimum support.
    passes = ((attributes["q_value"] <= settings["fdr_alpha"]) & (attributes["lift"] > 1)
              & (attributes["count"] >= settings["min_evidence_count"])
              & (attributes["share"] >= settings["min_evidence_share"]))
    assert attributes["evidence"].tolist() == passes.tolist()
    evidence = attributes[passes & ~attributes["topical"]]
    for row in icebergs.itertuples(index=False):
        own = members[members["iceberg_id"] == row.iceberg_id]
        reach = math.log1p(own["customer_id"].nunique() + own["customer_id"].isna().sum())
        per_agent = own["agent_id"].value_counts()
        fragmentation = float((per_agent <= 2).mean())
        lifts = evidence.loc[evidence["iceberg_id"] == row.iceberg_id, "lift"]
        concentration = 1 - 1 / lifts.max() if len(lifts) else 0.0
        emergence = 1.0 if row.trend in ("new", "growing") else 0.0
        assert row.score_reach == pytest.approx(reach)
        assert row.score_fragmentation == pytest.approx(fragmentation)
        assert row.score_concentration == pytest.approx(concentration)
        assert row.score == pytest.approx(reach * (1 + concentration + emergence + fragmentation))
    # Boilerplate icebergs last; the rest by score, ties by id.
    ranked = icebergs.sort_values(["boilerplate", "score", "iceberg_id"], ascending=[True, False, True])
    assert ranked["rank"].tolist() == list(range(1, len(icebergs) + 1))


def test_boilerplate_recomputed(tables):
    from pipeline.analysis.courtesy import is_content_free

    tickets, icebergs, _, _ = tables
    assert icebergs["boilerplate"].dtype == bool
    members = tickets[tickets["iceberg_id"].notna()]
    share = members["text"].map(is_content_free).groupby(members["iceberg_id"]).mean()
    flagged = icebergs.set_index("iceberg_id")["boilerplate"]
    assert flagged.to_dict() == (share >= 0.5).reindex(flagged.index).to_dict()
    assert not flagged.any()          # the sample's icebergs are all real problems


def test_who_columns_need_their_input_columns(tables):
    # The sample has no account, segment or revenue column: those figures are unknown, not 0.
    tickets, icebergs, _, manifest = tables
    roles = manifest["columns"]["roles"]
    assert not {"account", "segment", "revenue"} & set(roles)
    assert not {"account_id", "segment", "revenue"} & set(tickets.columns)
    for column in ("n_accounts", "segments", "value_at_risk"):
        assert icebergs[column].isna().all(), column


def test_combination_columns_are_numbers(tables):
    _, icebergs, _, _ = tables
    for column in ("combination_support", "combination_share", "combination_baseline_share",
                   "combination_lift"):
        assert pd.api.types.is_numeric_dtype(icebergs[column]), (column, icebergs[column].dtype)


def test_attribute_windows_follow_the_onset(tables):
    tickets, icebergs, attributes, _ = tables
    members = tickets[tickets["iceberg_id"].notna()]
    windows = attributes.groupby("iceberg_id")[["window_start", "window_end"]].agg(["min", "max"])
    for row in icebergs.itertuples(index=False):
        own = members.loc[members["iceberg_id"] == row.iceberg_id, "created_at"]
        start = pd.Timestamp(row.onset, tz="UTC") if pd.notna(row.onset) else own.min().normalize()
        end = own.max().normalize() + pd.Timedelta(days=1)
        w = windows.loc[row.iceberg_id]
        assert w[("window_start", "min")] == w[("window_start", "max")] == start, row.iceberg_id
        assert w[("window_end", "min")] == w[("window_end", "max")] == end, row.iceberg_id


def test_attribute_statistics_recomputed(tables):
    tickets, _, attributes, manifest = tables
    alpha = manifest["config"]["profile"]["fdr_alpha"]
    top = attributes[(attributes["q_value"] <= alpha) & (attributes["lift"] > 1)]
    top = top.sort_values("lift", ascending=False).groupby("iceberg_id").head(1)
    sample = _sample(attributes, N_ATTRIBUTES - len(top), top.index)
    created = tickets["created_at"]
    for _, row in sample.iterrows():
        in_window = (created >= row["window_start"]) & (created < row["window_end"])
        known = in_window & tickets[row["dimension"]].notna()
        population = tickets[known]
        own = population[population["iceberg_id"] == row["iceberg_id"]]
        has_value = population[row["dimension"]] == row["value"]
        count, n_own = int((own[row["dimension"]] == row["value"]).sum()), len(own)
        value_all, n_all = int(has_value.sum()), len(population)
        key = (row["iceberg_id"], row["dimension"], row["value"])
        assert row["count"] == count, key
        assert row["baseline_count"] == value_all, key
        assert row["share"] == pytest.approx(count / n_own), key
        assert row["baseline_share"] == pytest.approx(value_all / n_all), key
        assert row["lift"] == pytest.approx((count / n_own) / (value_all / n_all)), key
        assert row["p_value"] == pytest.approx(_fisher_greater(count, n_own, value_all, n_all),
                                               rel=1e-6, abs=1e-300), key
        assert row["n_values"] == own[row["dimension"]].nunique(), key


def test_q_values_are_benjamini_hochberg_over_the_whole_table(tables):
    _, _, attributes, _ = tables
    np.testing.assert_allclose(attributes["q_value"], _bh(attributes["p_value"].to_numpy()),
                               rtol=1e-9)
