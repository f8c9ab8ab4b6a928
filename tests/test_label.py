import math

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from pipeline.analysis.label import (class_tf_idf, iceberg_keywords, iceberg_labels, iceberg_members,
                            representative_ticket_ids)
from pipeline.schemas import TicketCols

CARD = ["My card has not arrived yet, card arrival is late [EMAIL]",
        "When will my new card arrive? card arrival status on date",
        "card arrival tracking, please send [CARD] amount"]
REFUND = ["I want a refund for the duplicate charge",
          "refund not received after the return",
          "requesting a refund of the amount charged twice"]
REST = ["How do I change my address", "the app crashes on login", "reset my password please"]


def tickets_of(texts: list[str], icebergs: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame({
        TicketCols.ticket_id: [f"t{i}" for i in range(len(texts))],
        TicketCols.text: texts,
        TicketCols.iceberg_id: pd.Series(icebergs, dtype="str"),
    })


@pytest.fixture
def two_clusters() -> pd.DataFrame:
    return tickets_of(CARD + REFUND + REST, ["a"] * 3 + ["b"] * 3 + [None] * 3)


def test_keywords_name_what_each_cluster_is_about(two_clusters):
    keywords = iceberg_keywords(two_clusters, n_keywords=5)
    assert set(keywords) == {"a", "b"}
    assert keywords["a"][0] == "card arrival"
    assert keywords["b"][0] == "refund"
    assert all(len(terms) <= 5 for terms in keywords.values())


def test_keywords_leave_out_placeholders_masks_and_shared_words(two_clusters):
    for terms in iceberg_keywords(two_clusters, n_keywords=20).values():
        words = [word for term in terms for word in term.split()]
        assert not {"email", "date", "amount", "please"} & set(words)
        assert len(words) == len(set(words)), terms        # no word in two keywords


def test_keywords_are_distinctive_against_the_rest():
    # "account" is in every ticket, the iceberg's and the rest's alike: not distinctive.
    tickets = tickets_of(["account locked out", "locked account again", "account email change",
                          "account address change"], ["a", "a", None, None])
    assert iceberg_keywords(tickets, 1) == {"a": ["locked"]}


def test_keywords_without_icebergs_or_usable_words(two_clusters):
    assert iceberg_keywords(two_clusters.assign(**{TicketCols.iceberg_id: None}), 5) == {}
    empty = tickets_of(["[EMAIL]", "the and", None], ["a", "a", None])
    assert iceberg_keywords(empty, 5) == {"a": []}


def test_class_tf_idf_by_hand():
    # Two classes, two terms: counts [[2, 0], [1, 1]]; A = 4 / 2 = 2, f = (3, 1).
    scores = class_tf_idf(sparse.csr_matrix([[2, 0], [1, 1]])).toarray()
    expected = [[1.0 * math.log(1 + 2 / 3), 0.0],
                [0.5 * math.log(1 + 2 / 3), 0.5 * math.log(1 + 2 / 1)]]
    np.testing.assert_allclose(scores, expected)


def test_labels_take_the_leading_keywords_within_three_terms_and_four_words():
    labels = iceberg_labels({"a": ["card arrival", "delivery", "late", "fee"],
                             "b": ["card arrival", "delivery time", "late"],
                             "c": ["refund"],
                             "d": []})
    assert labels == {"a": "card arrival · delivery · late",
                      "b": "card arrival · delivery time",
                      "c": "refund",
                      "d": "iceberg d"}


def unit(*vector: float) -> list[float]:
    return list(np.asarray(vector) / np.linalg.norm(vector))


def test_representatives_closest_to_centroid_first():
    tickets = tickets_of(["x"] * 5, ["a", "a", "a", None, "b"])
    embeddings = np.array([unit(1, 0.2), unit(1, 0), unit(0.2, 1), unit(0, 1), unit(1, 1)],
                          dtype=np.float32)
    # Centroid of a leans towards x; t1 (1, 0) and t0 (1, .2) both lie close, t0 closest.
    assert representative_ticket_ids(tickets, embeddings, 2) == {"a": ["t0", "t1"], "b": ["t4"]}
    assert representative_ticket_ids(tickets, embeddings, 10)["a"] == ["t0", "t1", "t2"]


def test_representatives_break_ties_by_ticket_id():
    tickets = tickets_of(["x"] * 3, ["a"] * 3).assign(**{TicketCols.ticket_id: ["z", "m", "b"]})
    embeddings = np.array([unit(1, 0), unit(0, 1), unit(1, 0)], dtype=np.float32)
    assert representative_ticket_ids(tickets, embeddings, 3) == {"a": ["b", "z", "m"]}


def test_representatives_need_one_embedding_per_ticket(two_clusters):
    with pytest.raises(ValueError, match="9"):
        representative_ticket_ids(two_clusters, np.zeros((4, 2), dtype=np.float32), 2)


def test_members_by_position_whatever_the_index(two_clusters):
    shuffled = two_clusters.set_axis(range(100, 109))
    members = iceberg_members(shuffled)
    assert list(members) == ["a", "b"]
    assert members["b"].tolist() == [3, 4, 5]
