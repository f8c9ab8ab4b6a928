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
    clustered = cluster_assignments(tickets, banking.vectors, IcebergClusterer())
    assignments, centroids = clustered.assignments, clustered.centroids
    return assignments, centroids


# --- the scikit-learn contract -------------------------------------------------------------

def test_init_stores_arguments_unchanged_and_clone_works():
    params = {"min_cluster_size": 7, "min_samples": 3, "reduce_dim": 0, "merge_threshold": 0.9,
              "assign_threshold": 0.6, "sample_size": 1000, "random_state": 42, "max_share": 0.5,
              "selection": "leaf"}
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
        # By design a weight is not a repeated row: HDBSCAN sees each distinct text once, so
        # copies cannot collapse its density estimate (see pipeline/groups/cluster.py).
        check_estimator(IcebergClusterer(), expected_failed_checks={
            "check_sample_weight_equivalence_on_dense_data":
                "sample_weight counts copies of a distinct row, which are deliberately not repeated"})


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
        clustered = cluster_assignments(shuffled, banking.vectors[order], IcebergClusterer())
        assignments, centroids = clustered.assignments, clustered.centroids
        assert assignments[TicketCols.ticket_id].tolist() == shuffled[TicketCols.ticket_id].tolist()
        got = assignments.set_index(TicketCols.ticket_id).loc[by_id.index]
        np.testing.assert_array_equal(got["cluster"].to_numpy(), by_id["cluster"].to_numpy())
        np.testing.assert_array_equal(got[TicketCols.membership].to_numpy(),
                                      by_id[TicketCols.membership].to_numpy())
        np.testing.assert_array_equal(centroids, reference_centroids)


def test_assignments_are_aligned_with_the_input_index(tickets, banking):
    reindexed = tickets.set_index(pd.Index(range(1000, 1000 + len(tickets))))
    clustered = cluster_assignments(reindexed, banking.vectors, IcebergClusterer())
    assignments, _ = clustered.assignments, clustered.centroids
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
    clustered = cluster_assignments(few, banking.vectors[:3], IcebergClusterer())
    assignments, centroids = clustered.assignments, clustered.centroids
    assert assignments["cluster"].tolist() == [OUTSIDE] * 3
    assert len(centroids) == 0


def test_identical_tickets_form_one_cluster(banking):
    X = np.repeat(banking.vectors[:1], 12, axis=0)
    X = np.vstack([X, banking.vectors[300:310]])
    model = IcebergClusterer(min_cluster_size=5).fit(X)
    assert len(set(model.labels_[:12])) == 1 and model.labels_[0] >= 0
    np.testing.assert_allclose(model.membership_[:12], 1.0, atol=1e-5)


# --- duplicates and oversized clusters -------------------------------------------------------

def test_identical_tickets_form_their_own_iceberg_and_do_not_collapse_the_rest(tickets, banking):
    """60 identical tickets alone make one iceberg; 40 of them among ordinary tickets leave the
    ordinary clustering as it was, and every copy lands in one cluster."""
    copies = 60
    alone = pd.DataFrame({TicketCols.ticket_id: [f"D{i:03d}" for i in range(copies)],
                          TicketCols.text: ["My card payment was declined twice today"] * copies})
    vector = np.repeat(banking.vectors[:1], copies, axis=0)
    clustered = cluster_assignments(alone, vector, IcebergClusterer())
    assert clustered.assignments["cluster"].nunique() == 1 and (clustered.assignments["cluster"] == 0).all()
    assert clustered.stats["duplicate_tickets"] == copies - 1

    base = cluster_assignments(tickets, banking.vectors, IcebergClusterer())
    extra = tickets.iloc[[0] * 40].assign(**{TicketCols.ticket_id: [f"Z{i:03d}" for i in range(40)]})
    mixed = pd.concat([tickets, extra], ignore_index=True)
    with_copies = cluster_assignments(mixed, np.vstack([banking.vectors, banking.vectors[[0] * 40]]),
                                      IcebergClusterer())
    labels = with_copies.assignments["cluster"].to_numpy()
    assert len(set(labels[-40:])) == 1 and labels[-1] == labels[0]
    assert len(with_copies.centroids) >= len(base.centroids) - 1
    largest = np.bincount(labels[labels >= 0]).max()
    assert largest <= np.bincount(base.assignments["cluster"][base.assignments["cluster"] >= 0]).max() + 41


def test_a_cluster_holding_an_implausible_share_is_clustered_again(banking):
    """The same sentences appended to every query pull them together: clusters of over a
    quarter of the tickets appear, and max_share sends each back to HDBSCAN for its parts."""
    texts = [f"{t} Order 482913. Sent from my iPhone. Customer portal ticket." for t in banking.queries["text"]]
    X = banking.embedder.encode(texts).vectors
    # HDBSCAN's larger clusters (eom, denser cores) show the blob; leaf selection hides it
    blob = {"selection": "eom", "min_cluster_size": 5, "min_samples": 5, "assign_threshold": 0.55}
    unsplit = IcebergClusterer(max_share=1.0, **blob).fit(X)
    largest = np.bincount(unsplit.labels_[unsplit.labels_ >= 0]).max() / len(X)
    assert largest > 0.25 and unsplit.resplit_ == []
    model = IcebergClusterer(max_share=0.25, **blob).fit(X)
    assert model.resplit_ and all(r["share"] > 0.25 and r["parts"] >= 2 for r in model.resplit_)
    assert model.n_clusters_ > unsplit.n_clusters_
    assert np.bincount(model.labels_[model.labels_ >= 0]).max() / len(X) < largest
