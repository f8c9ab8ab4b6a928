"""Splitting emerging sub-problems off clusters (pipeline/groups/split.py).

The statistical checks are tested on constructed clusters whose answer is known — an old
request and, from one day on, a new problem with a region signature and its own wording —
and the whole step on the bundled sample, where text clustering puts a planted problem
inside a larger neighbour.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.groups.split import (Hypothesis, absorbed_hypotheses, emergent_splits, evidence_signatures,
                                split_labels, with_emergent_splits)
from pipeline.groups.split_search import change_starts
from pipeline.schemas import AttributeCols, CombinationCols, IcebergCols, TicketCols
from tests.conftest import ROOT

DIM = 64
MIN_SIZE = 8
START = pd.Timestamp("2024-01-01", tz="UTC")
ONSET_DAY = 100


def _cluster(rng: np.random.Generator, *, n_old: int = 150, n_new: int = 40,
             new_region_share: float = 0.9, new_wording: float = 1.5, emerging: bool = True,
             n_elsewhere: int = 600):
    """Tickets of one cluster (an old request all year; a new problem from ONSET_DAY with
    its own wording and a region signature) plus other tickets elsewhere, and the truth."""
    old_direction, new_direction = np.linalg.qr(rng.normal(size=(DIM, 2)))[0].T
    regions = np.array(["EU", "UK", "US", "APAC"])
    baseline = [0.4, 0.3, 0.2, 0.1]

    def tickets(n, days, direction, region_share):
        vectors = direction + rng.normal(scale=0.35, size=(n, DIM))
        region = np.where(rng.random(n) < region_share, "US", rng.choice(regions, n, p=baseline))
        return vectors, region, rng.choice(days, n)

    old = tickets(n_old, np.arange(200), old_direction, 0.0)
    new_days = np.arange(ONSET_DAY, 200) if emerging else np.arange(200)
    new = tickets(n_new, new_days, old_direction + new_wording * new_direction, new_region_share)
    other_direction = np.linalg.qr(rng.normal(size=(DIM, 1)))[0].T[0]
    other = tickets(n_elsewhere, np.arange(200), other_direction, 0.0)
    vectors = np.vstack([old[0], new[0], other[0]]).astype(np.float32)
    frame = pd.DataFrame({
        TicketCols.ticket_id: [f"T{i:05d}" for i in range(len(vectors))],
        TicketCols.created_at: START + pd.to_timedelta(np.concatenate([old[2], new[2], other[2]]), "D")
        + pd.to_timedelta(rng.integers(0, 86_400, len(vectors)), "s"),
        "region": np.concatenate([old[1], new[1], other[1]]),
        "channel": rng.choice(["email", "chat", "phone"], len(vectors)),
    })
    labels = np.array([0] * (n_old + n_new) + [1] * n_elsewhere)
    is_new = np.zeros(len(frame), dtype=bool)
    is_new[n_old:n_old + n_new] = True
    return frame, vectors, labels, is_new


def _splits(frame, vectors, labels, **overrides):
    settings = {"min_size": MIN_SIZE, "alpha": 0.05, "min_auc": 0.7, "join_similarity": 0.55}
    return emergent_splits(frame, vectors, labels, ["region", "channel"], **(settings | overrides))


def _f1(rows: np.ndarray, truth: np.ndarray) -> float:
    found = np.zeros(len(truth), dtype=bool)
    found[rows] = True
    return 2 * (found & truth).sum() / (found.sum() + truth.sum())


def test_an_emerging_problem_with_a_signature_and_its_own_wording_is_split_off():
    frame, vectors, labels, is_new = _cluster(np.random.default_rng(1))
    [split] = _splits(frame, vectors, labels)
    assert split.parents == (0,) and split.signature == ("region=US",)
    assert _f1(split.rows, is_new) >= 0.8
    assert abs((split.start - START).days - ONSET_DAY) <= 10
    assert split.p_value * split.tests <= 0.05 and split.change_p_value <= 0.01
    assert split.text_auc >= 0.7
    record = split.record()
    assert record["signature"] == "region=US" and record["size"] == len(split.rows)


def test_the_split_recruits_its_tickets_that_clustering_left_outside_when_they_carry_its_signature():
    frame, vectors, labels, is_new = _cluster(np.random.default_rng(1))
    us = (frame["region"] == "US").to_numpy()
    left_out = np.flatnonzero(is_new)[:8]          # text clustering left these outside
    labels = labels.copy()
    labels[left_out] = -1
    [split] = _splits(frame, vectors, labels)
    recruited = np.intersect1d(split.rows, left_out)
    assert us[recruited].all()                 # the signature is required…
    assert len(recruited) >= 3                 # …and the outliers alike enough to it join
    assert not (labels == 1)[split.rows].any()   # US tickets amid their own cluster stay
    # Far from every centroid (an outlier bar of 0.99), they still join: their nearest
    # tickets are the split's.
    far = _splits(frame, vectors, labels, join_similarity=0.99)[0]
    assert np.isin(left_out, far.rows).sum() >= 3


def test_a_growing_share_starts_at_its_earliest_plausible_change_not_only_its_likeliest():
    # 1 in 6 for 60 rows, then 2 in 3 for 9 rows, then every row: the likeliest single
    # step is after the ramp, but one at its beginning fits within χ²₁ at 95 %.
    carries = np.r_[np.tile([1, 0, 0, 0, 0, 0], 10), np.tile([1, 1, 0], 3), np.ones(30)]
    assert change_starts(carries.astype(bool), min_size=5) == (60, 69)
    step = np.r_[np.zeros(50), np.ones(50)].astype(bool)
    assert change_starts(step, min_size=5) == (50, 50)


@pytest.mark.parametrize("seed", range(5))
def test_a_cluster_without_an_emerging_part_is_left_alone(seed):
    """Region and channel drawn at baseline shares all year: chance enrichments at some
    start date must not pass the Bonferroni bound and the other two checks."""
    frame, vectors, labels, _ = _cluster(np.random.default_rng(seed), n_new=0)
    assert _splits(frame, vectors, labels) == []


def test_a_cluster_that_is_the_problem_from_its_first_ticket_is_not_split():
    """Signature share the same before and after any date: nothing emerged inside it."""
    rng = np.random.default_rng(2)
    frame, vectors, labels, is_new = _cluster(rng, n_old=0, n_new=60, emerging=False)
    assert _splits(frame, vectors, labels) == []


def test_a_signature_that_emerges_without_its_own_wording_is_not_split():
    """Customers of one region writing exactly like everyone else: the AUC check stops it."""
    frame, vectors, labels, _ = _cluster(np.random.default_rng(3), new_wording=0.0)
    assert _splits(frame, vectors, labels) == []
    assert _splits(frame, vectors, labels, min_auc=0.0) != []   # the signature alone passes


def test_row_order_does_not_change_the_split():
    frame, vectors, labels, _ = _cluster(np.random.default_rng(4))
    [split] = _splits(frame, vectors, labels)
    order = np.random.default_rng(0).permutation(len(frame))
    [shuffled] = _splits(frame.iloc[order].reset_index(drop=True), vectors[order], labels[order])
    ids = frame[TicketCols.ticket_id].to_numpy()
    assert set(ids[split.rows]) == set(ids[order][shuffled.rows])


def test_no_dates_or_no_dimensions_means_no_split():
    frame, vectors, labels, _ = _cluster(np.random.default_rng(5))
    assert _splits(frame.drop(columns=[TicketCols.created_at]), vectors, labels) == []
    assert emergent_splits(frame, vectors, labels, [], min_size=MIN_SIZE, alpha=0.05,
                           min_auc=0.7, join_similarity=0.55) == []


def test_splits_become_new_clusters_with_their_own_centroid_and_membership():
    frame, vectors, labels, is_new = _cluster(np.random.default_rng(6))
    splits = _splits(frame, vectors, labels)
    assert split_labels(labels, splits).max() == labels.max() + 1
    assignments = pd.DataFrame({TicketCols.ticket_id: frame[TicketCols.ticket_id],
                                "cluster": labels, TicketCols.membership: 0.5})
    centroids = np.eye(2, DIM, dtype=np.float32)
    updated, new_centroids = with_emergent_splits(assignments, centroids, vectors, splits)
    assert len(new_centroids) == 3
    moved = updated["cluster"].to_numpy() == 2
    assert moved.sum() == len(splits[0].rows)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(updated.loc[moved, TicketCols.membership],
                               np.clip(unit[moved] @ new_centroids[2], 0, 1), rtol=1e-5)
    assert (updated.loc[labels == 1, TicketCols.membership] == 0.5).all()   # untouched


def test_a_hypothesis_from_the_previous_run_is_held_to_its_own_bonferroni_family():
    """The same emerging part, at a level where the open search over every cluster ×
    signature does not reach it but one stated hypothesis does."""
    frame, vectors, labels, is_new = _cluster(np.random.default_rng(0), n_new=30,
                                              new_region_share=0.8)
    assert _splits(frame, vectors, labels, alpha=1e-3) == []
    stated = [Hypothesis(0, ("region=US",)), Hypothesis(1, ("channel=chat",))]
    [split] = _splits(frame, vectors, labels, alpha=1e-3, hypotheses=stated)
    assert split.signature == ("region=US",) and split.tests == 2
    assert _f1(split.rows, is_new) >= 0.7
    # A hypothesis naming a dimension the run no longer has is skipped, not an error.
    assert _splits(frame, vectors, labels, alpha=1e-3,
                   hypotheses=[Hypothesis(0, ("platform=Web",))]) == []


def test_a_stated_hypothesis_is_held_to_its_enrichment_and_change_not_to_its_wording():
    """Its wording was told apart when it was first split off; re-found among a dozen
    tickets, the AUC is noise. The open search still needs distinct wording."""
    frame, vectors, labels, is_new = _cluster(np.random.default_rng(3), new_wording=0.0)
    assert _splits(frame, vectors, labels) == []
    [split] = _splits(frame, vectors, labels, hypotheses=[Hypothesis(0, ("region=US",))])
    assert split.signature == ("region=US",) and split.text_auc < 0.7
    assert is_new[split.rows].sum() >= 0.75 * is_new.sum()      # most of the problem


@pytest.mark.parametrize("seed", range(5))
def test_a_hypothesis_about_a_cluster_where_nothing_emerged_splits_nothing(seed):
    frame, vectors, labels, _ = _cluster(np.random.default_rng(seed), n_new=0)
    stated = [Hypothesis(0, ("region=US",)), Hypothesis(0, ("channel=chat",))]
    assert _splits(frame, vectors, labels, hypotheses=stated) == []


def test_absorbed_icebergs_lend_their_signatures_to_the_cluster_that_absorbed_them():
    ids = [f"t{i}" for i in range(10)]
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, -1])
    members = {"ICE-0001": frozenset({"t0", "t1", "t9", "gone"}),   # 2 of its 3 here, in cluster 0 of 6
               "ICE-0002": frozenset({"t6", "t7", "t8"}),           # is cluster 1 itself
               "ICE-0003": frozenset({"t2", "t6", "t9"}),           # a third in each of clusters 0, 1
               "ICE-0004": frozenset({"t3", "t4", "t5", "t9"})}     # half of cluster 0: not absorbed
    signatures = {"ICE-0001": [("region=US",), ("platform=Android", "app_version=5.4.0")],
                  "ICE-0002": [("region=EU",)], "ICE-0003": [("plan=free",)], "ICE-0004": [("x=y",)]}
    assert absorbed_hypotheses(ids, labels, members, signatures) == [
        Hypothesis(0, ("region=US",)), Hypothesis(0, ("platform=Android", "app_version=5.4.0")),
        Hypothesis(0, ("plan=free",)), Hypothesis(1, ("plan=free",))]


def test_evidence_signatures_are_the_non_topical_evidence_and_the_top_pair():
    A = AttributeCols
    attributes = pd.DataFrame({A.iceberg_id: ["a", "a", "a", "b"],
                               A.dimension: ["region", "product", "plan", "region"],
                               A.value: ["US", "cards", "free", "EU"],
                               A.evidence: [True, True, False, False],
                               A.topical: [False, True, False, False]})
    icebergs = pd.DataFrame({IcebergCols.iceberg_id: ["a", "b"],
                             CombinationCols.combination: ["region=US ∧ plan=premium", None]})
    assert evidence_signatures(attributes, icebergs) == {
        "a": [("region=US",), ("region=US", "plan=premium")]}


def test_the_samples_planted_pin_problem_is_split_out_of_its_pin_neighbourhood(sample_run):
    """pin_blocked (region=US from 2024-03-09) reads much like change_pin; text clustering
    puts them together, and the split step takes the emerging part out again."""
    truth = json.loads((ROOT / "sample_data" / "helpdesk_tickets.truth.json").read_text())
    plant = next(p for p in truth["planted"] if p["intent"] == "pin_blocked")
    manifest = sample_run.run.manifest
    [stage] = [s for s in manifest.stages if s["name"] == "split"]
    records = [r for r in stage["splits"] if r["signature"] == "region=US"]
    assert len(records) == 1
    assert abs((pd.Timestamp(records[0]["start"]) - pd.Timestamp(plant["onset"], tz="UTC")).days) <= 21
    tickets = sample_run.run.tickets
    planted = set(plant["ticket_ids"])
    best = max(tickets.dropna(subset=[TicketCols.iceberg_id]).groupby(TicketCols.iceberg_id),
               key=lambda group: len(planted & set(group[1][TicketCols.ticket_id])))[1]
    members = set(best[TicketCols.ticket_id])
    assert 2 * len(members & planted) / (len(members) + len(planted)) >= 0.7
