"""Iceberg identity across runs, on hand-made clusters whose right answer is known."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.groups.identity import iceberg_identities
from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import LINEAGE, LINEAGE_EVENTS, LineageCols, TicketCols

DIM = 8


def direction(*axes: int) -> np.ndarray:
    """A unit vector along the sum of the given axes (orthogonal axes: cosine 0 between them)."""
    v = np.zeros(DIM, dtype=np.float32)
    v[list(axes)] = 1.0
    return v / np.linalg.norm(v)


def moved(v: np.ndarray, axis: int, by: float = 0.2) -> np.ndarray:
    """``v`` nudged towards another axis: the same problem, its centroid a little elsewhere."""
    w = v + by * direction(axis)
    return w / np.linalg.norm(w)


def tickets(prefix: str, n: int = 10) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def clusters(*groups: list[str], outside: list[str] = ()) -> pd.DataFrame:
    """Assignments: group k is cluster k; ``outside`` tickets are in the run but in no cluster."""
    rows = [(t, k) for k, group in enumerate(groups) for t in group] + [(t, -1) for t in outside]
    return pd.DataFrame(rows, columns=[TicketCols.ticket_id, "cluster"])


def identify(assignments, centroids, previous=None, run_id="run-1"):
    previous = previous if previous is not None else KnownIcebergs.none(DIM)
    result = iceberg_identities(assignments, np.stack(centroids) if len(centroids) else
                                np.zeros((0, DIM), np.float32), previous, run_id)
    LINEAGE.to_arrow(result.lineage)          # the lineage table fits the contract
    assert set(result.lineage[LineageCols.event]) <= set(LINEAGE_EVENTS)
    assert (result.lineage[LineageCols.run_id] == run_id).all()
    ids = result.assignments[TicketCols.iceberg_id]
    cluster_to_id = {int(c): ids[assignments["cluster"] == c].iloc[0]
                     for c in sorted(set(assignments["cluster"])) if c >= 0}
    assert all(ids[assignments["cluster"] == c].eq(i).all() for c, i in cluster_to_id.items())
    assert ids[assignments["cluster"] < 0].isna().all()
    return SimpleNamespace(lineage=result.lineage, known=result.known, cluster_to_id=cluster_to_id)


def events(result) -> dict[str, tuple[str, list[str]]]:
    lineage = result.lineage
    assert lineage[LineageCols.iceberg_id].is_unique
    return {row[LineageCols.iceberg_id]: (row[LineageCols.event], list(row[LineageCols.related_ids]))
            for _, row in lineage.iterrows()}


A, B, C, D = tickets("a"), tickets("b"), tickets("c"), tickets("d")


@pytest.fixture
def first():
    return identify(clusters(A, B, C), [direction(0), direction(1), direction(2)])


def test_first_run_all_born_with_sequential_ids(first):
    assert first.cluster_to_id == {0: "ICE-0001", 1: "ICE-0002", 2: "ICE-0003"}
    assert events(first) == {"ICE-0001": ("born", []), "ICE-0002": ("born", []),
                             "ICE-0003": ("born", [])}
    assert first.known.ids == ["ICE-0001", "ICE-0002", "ICE-0003"]
    assert first.known.active.all()
    assert first.known.members["ICE-0002"] == frozenset(B)


def test_same_clusters_again_all_continued_with_same_ids(first):
    # Same clusters, found in another order and with slightly moved centroids.
    again = identify(clusters(C, A, B), [moved(direction(2), 3), moved(direction(0), 4),
                                         direction(1)], first.known, "run-2")
    assert again.cluster_to_id == {0: "ICE-0003", 1: "ICE-0001", 2: "ICE-0002"}
    assert events(again) == {i: ("continued", []) for i in ("ICE-0001", "ICE-0002", "ICE-0003")}


def test_clusters_that_gained_new_tickets_keep_their_ids(first):
    grown = identify(clusters(A + tickets("a_new", 4), B, C[:8]),
                     [direction(0), direction(1), direction(2)], first.known, "run-2")
    assert grown.cluster_to_id == first.cluster_to_id
    assert {e for e, _ in events(grown).values()} == {"continued"}


def test_a_cluster_that_disappears_fades(first):
    # C's tickets are still in the data but no longer form a cluster.
    second = identify(clusters(A, B, outside=C), [direction(0), direction(1)], first.known, "run-2")
    assert second.cluster_to_id == {0: "ICE-0001", 1: "ICE-0002"}
    assert events(second)["ICE-0003"] == ("faded", [])
    registry = dict(zip(second.known.ids, second.known.active))
    assert registry == {"ICE-0001": True, "ICE-0002": True, "ICE-0003": False}
    # A faded id is reported once, not again in every later run.
    third = identify(clusters(A, B, outside=C), [direction(0), direction(1)], second.known, "run-3")
    assert "ICE-0003" not in events(third)


def test_two_clusters_now_together_merge(first):
    merged = identify(clusters(A + B, C), [direction(0, 1), direction(2)], first.known, "run-2")
    survivor = merged.cluster_to_id[0]
    assert survivor in ("ICE-0001", "ICE-0002")
    absorbed = ({"ICE-0001", "ICE-0002"} - {survivor}).pop()
    found = events(merged)
    assert found[survivor] == ("continued", [absorbed])
    assert found[absorbed] == ("merged", [survivor])
    assert found["ICE-0003"] == ("continued", [])
    assert absorbed not in merged.cluster_to_id.values()


def test_a_merge_keeps_the_older_id_even_when_the_younger_is_larger():
    """An assign night gave birth to ICE-0002 next to ICE-0001 (the same problem); the next
    full run puts them back together: the older id names the cluster, the younger merges."""
    small, large = tickets("s", 4), tickets("l", 12)
    before = identify(clusters(small, large), [direction(0), moved(direction(0), 1, 0.3)])
    assert before.cluster_to_id == {0: "ICE-0001", 1: "ICE-0002"}
    merged = identify(clusters(small + large), [moved(direction(0), 1, 0.2)], before.known, "run-2")
    assert merged.cluster_to_id == {0: "ICE-0001"}
    found = events(merged)
    assert found["ICE-0001"] == ("continued", ["ICE-0002"])
    assert found["ICE-0002"] == ("merged", ["ICE-0001"])


def test_a_cluster_split_in_two(first):
    halves = identify(clusters(A[:5], A[5:], B, C),
                      [direction(0, 4), direction(0, 5), direction(1), direction(2)],
                      first.known, "run-2")
    ids = halves.cluster_to_id
    assert {ids[2], ids[3]} == {"ICE-0002", "ICE-0003"}
    assert "ICE-0001" in (ids[0], ids[1])
    new = ids[1] if ids[0] == "ICE-0001" else ids[0]
    assert new == "ICE-0004"
    found = events(halves)
    assert found["ICE-0001"] == ("continued", [])
    assert found[new] == ("split", ["ICE-0001"])


def test_a_faded_id_comes_back_reborn_by_centroid(first):
    second = identify(clusters(A, B), [direction(0), direction(1)], first.known, "run-2")
    assert events(second)["ICE-0003"] == ("faded", [])
    # Later, entirely new tickets about the same problem (C's direction) cluster again.
    third = identify(clusters(A, B, D), [direction(0), direction(1), direction(2)],
                     second.known, "run-3")
    assert third.cluster_to_id[2] == "ICE-0003"
    assert events(third)["ICE-0003"] == ("reborn", [])
    assert dict(zip(third.known.ids, third.known.active))["ICE-0003"]


def test_an_unrelated_new_cluster_is_born_and_never_reuses_a_number(first):
    second = identify(clusters(A, B), [direction(0), direction(1)], first.known, "run-2")
    third = identify(clusters(A, B, D), [direction(0), direction(1), direction(6)],
                     second.known, "run-3")
    # ICE-0003 faded, but its number stays taken.
    assert third.cluster_to_id[2] == "ICE-0004"
    assert events(third)["ICE-0004"] == ("born", [])
    assert third.known.ids == ["ICE-0001", "ICE-0002", "ICE-0003", "ICE-0004"]
    fourth = identify(clusters(A, D, tickets("e")), [direction(0), direction(6), direction(7)],
                      third.known, "run-4")
    assert fourth.cluster_to_id == {0: "ICE-0001", 1: "ICE-0004", 2: "ICE-0005"}
    assert events(fourth)["ICE-0002"] == ("faded", [])


def test_a_centroid_alone_does_not_steal_an_id_with_member_evidence(first):
    """New tickets near an active iceberg's centroid, while its old members still form it."""
    second = identify(clusters(A, B, C, D), [direction(0), direction(1), direction(2),
                                             direction(0)], first.known, "run-2")
    assert [second.cluster_to_id[k] for k in range(3)] == ["ICE-0001", "ICE-0002", "ICE-0003"]
    assert second.cluster_to_id[3] == "ICE-0004"


def test_no_clusters_at_all(first):
    nothing = identify(clusters(outside=A + B + C), [], first.known, "run-2")
    assert nothing.cluster_to_id == {}
    assert {e for e, _ in events(nothing).values()} == {"faded"}
    empty = identify(clusters(outside=A), [], None, "run-1")
    assert empty.cluster_to_id == {} and empty.lineage.empty


def test_a_merged_id_comes_back_when_its_problem_splits_off_again():
    """A full run merged ICE-0002 into ICE-0001; a later one separates the two problems
    again: the split-off cluster takes back ICE-0002 (reborn), not a new id."""
    before = identify(clusters(A, B), [direction(0), direction(1)])
    merged = identify(clusters(A + B), [direction(0, 1)], before.known, "run-2")
    assert events(merged)["ICE-0002"] == ("merged", ["ICE-0001"])
    again = identify(clusters(A, B), [direction(0), moved(direction(1), 3, 0.1)],
                     merged.known, "run-3")
    assert again.cluster_to_id == {0: "ICE-0001", 1: "ICE-0002"}
    found = events(again)
    assert found["ICE-0002"] == ("reborn", [])
    assert found["ICE-0001"] == ("continued", [])
