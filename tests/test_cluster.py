"""Clustering real embeddings of real queries (the Banking77 slice: 616 queries, 77 intents)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import normalized_mutual_info_score

from pipeline.groups.cluster import OUTSIDE, IcebergClusterer, cluster_assignments
from pipeline.schemas import TicketCols


@pytest.fixture(scope="module")
def tickets(banking) -> pd.DataFrame:
    """The slice as tickets; ids are not in row order, so canonical ordering is exercised."""
    ids = [f"T{(i * 7919) % 100_000:05d}" for i in range(len(banking.queries))]
    assert len(set(ids)) == len(ids)
    return pd.DataFrame({TicketCols.ticket_id: ids, TicketCols.text: banking.queries["text"],
                         "intent": banking.queries["category"]})


@pytest.fixture(scope="module")
def fitted(banking) -> IcebergClusterer:
    return IcebergClusterer().fit(banking.vectors)


@pytest.fixture(scope="module")
def clustered(tickets, banking):
    assignments, centroids = cluster_assignments(tickets, banking.vectors, IcebergClusterer())
    return assignments, centroids


# --- the scikit-learn contract -------------------------------------------------------------

def test_init_stores_arguments_unchanged_and_clone_works():
    params = {"min_cluster_size": 7, "min_samples": 3, "reduce_dim": 0, "merge_threshold": 0.9,
              "assign_threshold": 0.6, "sample_size": 1000, "random_state": 42}
    model = IcebergClusterer(**params)
    assert model.get_params() == params
    copy = clone(model)
    assert copy is not model and copy.get_params() == params
    # Every constructor argument is a parameter, and the defaults are what get_params says.
    signature = inspect.signature(IcebergClusterer.__init__)
    defaults = {n: p.default for n, p in signature.parameters.items() if n != "self"}
    assert IcebergClusterer().get_params() == defaults


def test_fit_returns_self_learns_underscore_attributes_and_keeps_params(banking):
    model = IcebergClusterer(min_cluster_size=5, random_state=3)
    before = model.get_params()
    assert model.fit(banking.vectors) is model
    assert model.get_params() == before
    learned = {name for name in vars(model) if name not in before}
    assert learned, "fit learned nothing"
    assert all(name.endswith("_") for name in learned), learned
    assert {"labels_", "membership_", "centroids_", "n_clusters_"} <= learned
    assert model.labels_.shape == (len(banking.vectors),)
    assert model.centroids_.shape == (model.n_clusters_, banking.vectors.shape[1])
    np.testing.assert_allclose(np.linalg.norm(model.centroids_, axis=1), 1.0, atol=1e-5)
    assert set(np.unique(model.labels_)) == {OUTSIDE, *range(model.n_clusters_)}
    # Membership is the cosine to the own centroid: in (0, 1] inside, 0 outside.
    inside = model.labels_ >= 0
    assert np.all(model.membership_[~inside] == 0)
    assert np.all((model.membership_[inside] > 0) & (model.membership_[inside] <= 1))
    # A clone is unfitted and fits to the same result.
    again = clone(model).fit(banking.vectors)
    np.testing.assert_array_equal(again.labels_, model.labels_)


def test_passes_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(IcebergClusterer())


def test_invalid_thresholds_are_refused(banking):
    with pytest.raises(ValueError, match="merge_threshold"):
        IcebergClusterer(merge_threshold=1.5).fit(banking.vectors[:50])


# --- determinism -----------------------------------------------------------------------------

def test_row_order_does_not_change_any_cluster(tickets, banking, clustered):
    reference, reference_centroids = clustered
    by_id = reference.set_index(TicketCols.ticket_id)
    for seed in (1, 2, 3):
        order = np.random.default_rng(seed).permutation(len(tickets))
        shuffled = tickets.iloc[order].reset_index(drop=True)
        assignments, centroids = cluster_assignments(shuffled, banking.vectors[order], IcebergClusterer())
        assert assignments[TicketCols.ticket_id].tolist() == shuffled[TicketCols.ticket_id].tolist()
        got = assignments.set_index(TicketCols.ticket_id).loc[by_id.index]
        np.testing.assert_array_equal(got["cluster"].to_numpy(), by_id["cluster"].to_numpy())
        np.testing.assert_array_equal(got[TicketCols.membership].to_numpy(),
                                      by_id[TicketCols.membership].to_numpy())
        np.testing.assert_array_equal(centroids, reference_centroids)


def test_assignments_are_aligned_with_the_input_index(tickets, banking):
    reindexed = tickets.set_index(pd.Index(range(1000, 1000 + len(tickets))))
    assignments, _ = cluster_assignments(reindexed, banking.vectors, IcebergClusterer())
    assert assignments.index.equals(reindexed.index)
    assert assignments[TicketCols.ticket_id].tolist() == reindexed[TicketCols.ticket_id].tolist()


# --- quality ---------------------------------------------------------------------------------

def test_clusters_follow_the_intents(tickets, clustered):
    assignments, centroids = clustered
    labels = assignments["cluster"].to_numpy()
    intents = tickets["intent"].to_numpy()
    inside = labels >= 0
    # Measured on this slice with the default settings: 25 clusters, 80% of queries inside,
    # NMI 0.66 (outside counted as one more cluster), 0.75 among the clustered queries.
    assert 15 <= len(centroids) <= 77
    assert inside.mean() >= 0.7
    assert normalized_mutual_info_score(intents, labels) >= 0.6
    assert normalized_mutual_info_score(intents[inside], labels[inside]) >= 0.7
    # Far above what the same cluster sizes score against shuffled intents.
    shuffled = np.random.default_rng(0).permutation(intents)
    assert normalized_mutual_info_score(shuffled[inside], labels[inside]) < 0.55
    # An intent's queries stay together: on average most of its 8 share one cluster
    # (measured 0.67; related intents such as card_linking / activate_my_card may share it).
    together = []
    for intent in np.unique(intents):
        own = labels[intents == intent]
        counts = np.bincount(own[own >= 0]) if (own >= 0).any() else np.zeros(1)
        together.append(counts.max() / len(own))
    assert np.mean(together) >= 0.6


def test_predict_joins_a_near_query_and_leaves_a_far_one_outside(tickets, banking, fitted):
    model = fitted
    card_arrival = model.labels_[(tickets["intent"] == "card_arrival").to_numpy()]
    home = pd.Series(card_arrival[card_arrival >= 0]).mode()[0]
    near, far = banking.embedder.encode([
        "I ordered my card two weeks ago and it still has not arrived",
        "Photosynthesis turns sunlight, water and carbon dioxide into glucose in plant leaves",
    ]).vectors
    labels, similarity = model.predict_with_membership(np.stack([near, far]))
    assert labels[0] == home and similarity[0] >= model.assign_threshold
    assert labels[1] == OUTSIDE and similarity[1] == 0
    assert model.predict(np.stack([near, far])).tolist() == labels.tolist()
    # A centroid itself belongs to its own cluster; its opposite to none.
    assert model.predict(model.centroids_[[2]])[0] == 2
    assert model.predict(-model.centroids_[[2]])[0] == OUTSIDE


def test_predict_refuses_vectors_of_another_dimension(fitted):
    with pytest.raises(ValueError, match="384"):
        fitted.predict(np.ones((1, 10), dtype=np.float32))


# --- edge cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 4])
def test_fewer_tickets_than_min_cluster_size_are_all_outside(banking, n):
    model = IcebergClusterer(min_cluster_size=5).fit(banking.vectors[:n])
    assert model.labels_.tolist() == [OUTSIDE] * n
    assert model.n_clusters_ == 0 and model.centroids_.shape == (0, banking.vectors.shape[1])
    assert model.membership_.tolist() == [0.0] * n
    assert model.predict(banking.vectors[:3]).tolist() == [OUTSIDE] * 3


def test_few_tickets_through_cluster_assignments(tickets, banking):
    few = tickets.iloc[:3]
    assignments, centroids = cluster_assignments(few, banking.vectors[:3], IcebergClusterer())
    assert assignments["cluster"].tolist() == [OUTSIDE] * 3
    assert len(centroids) == 0


def test_identical_tickets_form_one_cluster(banking):
    X = np.repeat(banking.vectors[:1], 12, axis=0)
    X = np.vstack([X, banking.vectors[300:310]])
    model = IcebergClusterer(min_cluster_size=5).fit(X)
    assert len(set(model.labels_[:12])) == 1 and model.labels_[0] >= 0
    np.testing.assert_allclose(model.membership_[:12], 1.0, atol=1e-5)
