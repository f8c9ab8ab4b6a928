""""Is this a one-off?": where a pasted ticket would land among a finished run's icebergs.

One computation for the dashboard's look-up page, ``iceberg lookup`` and ``iceberg serve``.

The text goes through the pipeline's own preparation — ``pipeline.text.clean.clean_text``
and ``pipeline.text.redact.redacted_texts`` with the run's settings — and is embedded by
the run's model and backend, so it is compared with the run's tickets exactly as the
next assign night would compare it. The rule is the run's assign rule: the most similar
iceberg's centroid at ``incremental.assign_threshold`` or more (``cluster.assign_threshold``
when that is -1). Plain functions; nothing pasted is stored anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

SIMILARITY = "similarity"
WOULD_JOIN = "would join"


@dataclass(frozen=True)
class LookupResult:
    text: str                 # the pasted text as cleaned and redacted (what was embedded)
    threshold: float          # the run's assign rule
    icebergs: pd.DataFrame    # nearest icebergs: iceberg_id, name, similarity, would join
    tickets: pd.DataFrame     # most similar past tickets: ticket_id, similarity, iceberg_id, name, text
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)   # its embedding

    @property
    def placed_in(self) -> str | None:
        """The iceberg the assign rule would put it in, or None (it would stay outside)."""
        table = self.icebergs              # only the most similar one can be joined
        return str(table[I.iceberg_id].iat[0]) if len(table) and bool(table[WOULD_JOIN].iat[0]) else None


def prepared_text(text: str, config: Config) -> str:
    """``text`` cleaned and redacted as the run prepared its tickets, without machine text."""
    from pipeline.text.clean import clean_text
    from pipeline.text.redact import redacted_texts

    from pipeline.text.structure import ticket_structure

    cleaned = clean_text(text or "", config.clean)
    redacted, _ = redacted_texts(pd.Series([cleaned], dtype="string"), config.redact)
    # the reporter's words, as the run embedded its tickets' (machine text, a pasted stack
    # trace or log, left out); the whole text when that is all there is
    words = ticket_structure(redacted.astype(str)).reporter.iloc[0]
    return words if words.strip() else str(redacted.iloc[0])


def assign_threshold(config: Config) -> float:
    own = config.incremental.assign_threshold
    return config.cluster.assign_threshold if own < 0 else own


def nearest_icebergs(vector: np.ndarray, known, icebergs: pd.DataFrame, names: dict[str, str],
                     threshold: float, n: int = 5) -> pd.DataFrame:
    """The ``n`` icebergs of the run whose registry centroid is most similar to ``vector``;
    only the most similar one can be joined, when it reaches ``threshold``."""
    in_run_ids = icebergs[I.iceberg_id].tolist()
    in_run = set(in_run_ids)
    rows = [i for i, iceberg_id in enumerate(known.ids) if iceberg_id in in_run]
    if not rows:
        return pd.DataFrame(columns=[I.iceberg_id, "name", SIMILARITY, WOULD_JOIN])
    sims = known.centroids[rows] @ vector
    order = np.argsort(-sims, kind="stable")[:n]
    ids = [known.ids[rows[i]] for i in order]
    rank_of = dict(zip(in_run_ids, icebergs[I.rank].tolist()))
    size_of = dict(zip(in_run_ids, icebergs[I.size].tolist()))
    best = sims[order].astype(float)
    return pd.DataFrame({I.iceberg_id: ids, "name": [names.get(i, "") for i in ids], SIMILARITY: best,
                         WOULD_JOIN: (np.arange(len(ids)) == 0) & (best >= threshold),
                         I.rank: [rank_of.get(i) for i in ids], I.size: [size_of.get(i) for i in ids]})


def nearest_tickets(vector: np.ndarray, vectors: np.ndarray, found: np.ndarray, tickets: pd.DataFrame,
                    names: dict[str, str], n: int = 10) -> pd.DataFrame:
    """The ``n`` past tickets most similar to ``vector`` (of those whose vector is cached)."""
    sims = np.where(found, vectors @ vector, -np.inf)
    n = min(n, int(found.sum()))
    top = np.argpartition(-sims, n - 1)[:n] if 0 < n < len(sims) else np.flatnonzero(found)
    top = top[np.argsort(-sims[top], kind="stable")]
    picked = tickets.iloc[top]
    iceberg_ids = picked[T.iceberg_id].to_numpy(dtype=object)
    return pd.DataFrame({
        T.ticket_id: picked[T.ticket_id].to_numpy(dtype=object), SIMILARITY: sims[top].astype(float),
        T.iceberg_id: iceberg_ids,
        "name": [names.get(i, "outside any iceberg") if isinstance(i, str) else "outside any iceberg"
                 for i in iceberg_ids],
        T.text: picked[T.text].to_numpy(dtype=object)})


def looked_up(text: str, config: Config, embedder, known, icebergs: pd.DataFrame, names: dict[str, str],
              vectors: np.ndarray, found: np.ndarray, tickets: pd.DataFrame, *,
              n_icebergs: int = 5, n_tickets: int = 10) -> LookupResult:
    """Prepare, embed and compare one pasted ticket with the run."""
    prepared = prepared_text(text, config)
    vector = embedder.encode([prepared]).vectors[0]
    threshold = assign_threshold(config)
    return LookupResult(prepared, threshold,
                        nearest_icebergs(vector, known, icebergs, names, threshold, n=n_icebergs),
                        nearest_tickets(vector, vectors, found, tickets, names, n=n_tickets), vector)


def ticket_vectors(run, tickets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The vectors ``run`` gave its ``tickets`` (its stored tickets, in order) from the
    embedding cache — their problem texts and subjects (``pipeline.text.prepare.problem_inputs``)
    — and a mask of the tickets found there (a cache pruned since the run lacks some; their
    rows are zeros)."""
    from pipeline.embed.stage import cached_problem_vectors
    from pipeline.store.embedding_cache import embedding_cache
    from pipeline.text.prepare import problem_inputs

    key = run.manifest.embedding.get("key")
    if not key:
        return np.zeros((len(tickets), 1), dtype=np.float32), np.zeros(len(tickets), dtype=bool)
    config = run.config
    texts, subjects = problem_inputs(tickets, config, run.manifest.columns.get("dimensions", []))
    return cached_problem_vectors(embedding_cache(run.out, key), texts.tolist(),
                                  None if subjects is None else subjects.tolist(), config.cluster.subject_weight)
