"""Problem-level results: subject-weighted vectors, names a lead reads, themes above icebergs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fakes import FakeEmbedder

from pipeline.analysis.label import iceberg_names
from pipeline.analysis.themes import iceberg_themes, theme_table
from pipeline.config import Config
from pipeline.embed import problem_embeddings, ticket_embeddings
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import ThemeCols as TH
from pipeline.schemas import TicketCols as T
from pipeline.text.prepare import prepared_tickets
from pipeline.text.templates import template_fragments


def test_the_subject_weighs_more_than_a_long_body():
    embedder = FakeEmbedder()
    subjects = ["Export to PDF hangs", "Export to PDF hangs", "Dark mode resets"]
    log = "\n".join(f"[INFO] step {i} of the nightly build finished fine" for i in range(30))
    texts = [f"{subjects[0]}\n{log}", f"{subjects[1]}\nIt hangs at 99 percent.", f"{subjects[2]}\n{log}"]
    plain = ticket_embeddings(texts, embedder, None, shard_name="t", model_name="fake").vectors
    weighted = problem_embeddings(texts, subjects, embedder, None, subject_weight=2.0,
                                  shard_name="t", model_name="fake")
    v = weighted.vectors
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert plain[0] @ plain[2] > plain[0] @ plain[1]          # by their bodies, the logs pair up
    assert v[0] @ v[1] > v[0] @ v[2]                          # by what they are about, the subjects do
    assert weighted.cache_misses == 3 and weighted.subjects == 3 and weighted.subject_cache_misses == 3


def test_without_a_subject_a_ticket_keeps_its_texts_vector():
    embedder = FakeEmbedder()
    texts = ["card declined at the shop", "refund never arrived"]
    plain = ticket_embeddings(texts, embedder, None, shard_name="t", model_name="fake").vectors
    for subjects, weight in ((["", "  "], 2.0), (None, 2.0), (["card", "refund"], 0.0)):
        got = problem_embeddings(texts, subjects, embedder, None, subject_weight=weight,
                                 shard_name="t", model_name="fake").vectors
        assert np.allclose(got, plain)


def _tickets(subjects: list[str], bodies: list[str]) -> pd.DataFrame:
    n = len(subjects)
    return pd.DataFrame({T.ticket_id: [f"T{i}" for i in range(n)],
                         T.created_at: pd.Timestamp("2024-01-01", tz="UTC"),
                         T.subject: subjects,
                         T.text: [f"{s}\n\n{b}" for s, b in zip(subjects, bodies)],
                         T.source_row: np.arange(n)})


def test_a_template_subject_is_not_what_the_reporter_named_the_problem():
    subjects = ["Chat conversation"] * 60 + [f"Card {i} declined at checkout" for i in range(60)]
    bodies = [f"my transfer number {i} has not arrived" for i in range(60)] + ["it failed twice"] * 60
    frame = _tickets(subjects, bodies)
    prepared = prepared_tickets(frame, frame.iloc[:0], Config().validate(), source="t")
    kept = prepared.problem_subjects
    assert (kept.iloc[:60] == "").all()
    assert kept.iloc[60] == "Card 0 declined at checkout"
    assert prepared.problem_texts.iloc[60].startswith("Card 0 declined at checkout")


def test_a_sentence_of_nothing_but_numbers_is_never_a_template_fragment():
    texts = pd.Series([f"Run CI for Ubuntu 18.04 please, job {i}" for i in range(40)]
                      + [f"Something else entirely number {i}" for i in range(40)])
    fragments = template_fragments(texts, min_share=0.05)
    assert not [k for k in fragments.keys if not any(c.isalpha() for c in k)]


def _grouped(labels: list[str | None]) -> pd.DataFrame:
    frame = pd.DataFrame({T.ticket_id: [f"T{i}" for i in range(len(labels))],
                          T.iceberg_id: pd.array(labels, dtype="string")})
    return frame


def test_an_iceberg_is_named_by_the_signature_most_of_its_tickets_share_else_its_typical_subject():
    tickets = _grouped(["ICE-0001"] * 4 + ["ICE-0002"] * 3 + ["ICE-0003"] * 2).assign(**{
        T.error_signature: pd.array(["IOException: Failed to rename <path>"] * 3 + [None]
                                    + ["KeyError"] + [None] * 4, dtype="string"),
        T.subject: ["a", "b", "c", "d", "", "NameNode fails to start after upgrade", "other", "", ""]})
    representatives = {"ICE-0001": ["T0"], "ICE-0002": ["T4", "T5"], "ICE-0003": ["T7"]}
    labels = {"ICE-0001": "rename · path", "ICE-0002": "namenode · start", "ICE-0003": "card · arrival"}
    names = iceberg_names(tickets, representatives, labels)
    assert names == {"ICE-0001": "IOException: Failed to rename <path>",
                     "ICE-0002": "NameNode fails to start after upgrade",   # 1 of 3 signed: not enough
                     "ICE-0003": "card · arrival"}                          # no subject: its keywords


def test_themes_join_alike_icebergs_and_keep_the_oldest_icebergs_number():
    rng = np.random.default_rng(0)
    area_a, area_b = rng.normal(size=64), rng.normal(size=64)
    labels, vectors = [], []
    for iceberg, base, spread in (("ICE-0007", area_a, 0.3), ("ICE-0002", area_a, 0.3),
                                  ("ICE-0005", area_b, 0.3)):
        offset = rng.normal(size=64) * spread
        for _ in range(5):
            labels.append(iceberg)
            vectors.append(base + offset + rng.normal(size=64) * 0.05)
    tickets = _grouped(labels).assign(**{T.text: ["disk full"] * 10 + ["login loop"] * 5})
    themes = iceberg_themes(tickets, np.array(vectors), threshold=0.6)
    assert themes == {"ICE-0002": "TH-0002", "ICE-0007": "TH-0002", "ICE-0005": "TH-0005"}
    icebergs = pd.DataFrame({I.iceberg_id: ["ICE-0007", "ICE-0005", "ICE-0002"], I.rank: [1, 2, 3],
                             I.size: [5, 5, 5]})
    table = theme_table(tickets, icebergs, themes, n_keywords=3)
    assert table[TH.theme_id].tolist() == ["TH-0002", "TH-0005"]
    first = table.iloc[0]
    assert first[TH.iceberg_ids] == ["ICE-0007", "ICE-0002"] and first[TH.size] == 10
    assert first[TH.best_rank] == 1 and first[TH.n_icebergs] == 2 and "disk" in first[TH.label]


def test_no_icebergs_no_themes():
    tickets = _grouped([None, None])
    assert iceberg_themes(tickets, np.eye(2), 0.6) == {}
    assert theme_table(tickets, pd.DataFrame(), {}, 3).empty
