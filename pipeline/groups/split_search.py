"""The split stage's search: candidate signatures per cluster and the three checks that
confirm a sub-problem — enrichment, change and wording (``pipeline.groups.split`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, hypergeom
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from pipeline.analysis.evidence import PAIR_SEPARATOR, topical_dimensions
from pipeline.analysis.onset import ONSET_PLAUSIBLE
CHANGE_ALPHA = 0.01     # the share after the start must exceed the share before at this level


CV_FOLDS = 5


EXACT_STARTS = 8        # starts at which the enrichment's exact p-value is computed


@dataclass(frozen=True)
class EmergentSplit:
    """One sub-problem split off a cluster: its rows, and why."""

    parents: tuple[int, ...]       # the cluster(s) it was split from
    rows: np.ndarray               # row positions of its tickets
    signature: tuple[str, ...]     # "dimension=value", one or two
    start: pd.Timestamp            # the first ticket of the change (not yet the onset)
    p_value: float                 # enrichment, before Bonferroni
    tests: int                     # the Bonferroni factor
    change_p_value: float
    text_auc: float

    def record(self) -> dict:
        return {"parents": [int(p) for p in self.parents], "size": int(len(self.rows)),
                "signature": PAIR_SEPARATOR.join(self.signature), "start": self.start.isoformat(),
                "p_value": float(self.p_value), "tests": int(self.tests),
                "change_p_value": float(self.change_p_value),
                "text_auc": round(float(self.text_auc), 3)}


@dataclass(frozen=True)
class Hypothesis:
    """A signature stated before this run's clusters were seen — a previous iceberg's
    evidence — to test in the cluster that has absorbed that iceberg's tickets."""

    cluster: int
    signature: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    """A cluster's best signature: the one with the smallest enrichment p-value."""

    cluster: int
    rows: np.ndarray       # the cluster's rows in time order
    signature: tuple[str, ...]
    carries: np.ndarray    # per row of ``rows``: has the signature
    p_value: float
    share_since: float     # the signature's share among all tickets since the best start
    tests: int             # signatures tested in this cluster


def signature_values(tickets: pd.DataFrame, labels: np.ndarray,
                      dimensions: list[str]) -> pd.DataFrame:
    """The non-topical dimensions as strings ("" = missing); topical ones restate clusters."""
    topical = set(topical_dimensions(tickets, dimensions, clusters=labels))
    return pd.DataFrame({d: tickets[d].astype("string").fillna("").to_numpy(dtype=object)
                         for d in dimensions if d not in topical}, index=tickets.index)


def best_candidate(cluster: int, rows: np.ndarray, values: pd.DataFrame, times: np.ndarray,
                    order: np.ndarray, min_size: int) -> _Candidate | None:
    """The cluster's signature and start with the smallest enrichment p-value."""
    if len(rows) < 3 * min_size:
        return None
    best, tests = None, 0
    for signature, carries_all in _signatures(values, rows, min_size):
        p_value, share_since = _enrichment(rows, carries_all, times, order, min_size)
        tests += 1
        if best is None or p_value < best[0]:
            best = (p_value, signature, carries_all[rows], share_since)
    if best is None:
        return None
    p_value, signature, carries, share_since = best
    return _Candidate(cluster, rows, signature, carries, p_value, share_since, tests)


def stated_candidate(hypotheses: list[Hypothesis], rows: np.ndarray, values: pd.DataFrame,
                      times: np.ndarray, order: np.ndarray, min_size: int,
                      family: int) -> _Candidate | None:
    """Of the hypotheses about one cluster, the one with the smallest enrichment p-value
    (``tests`` = ``family``, every hypothesis of the run)."""
    if len(rows) < 3 * min_size:
        return None
    best = None
    for hypothesis in hypotheses:
        carries_all = signature_mask(values, hypothesis.signature)
        if carries_all is None or carries_all[rows].sum() < min_size:
            continue
        p_value, share_since = _enrichment(rows, carries_all, times, order, min_size)
        if best is None or p_value < best.p_value:
            best = _Candidate(hypothesis.cluster, rows, hypothesis.signature, carries_all[rows],
                              p_value, share_since, family)
    return best


def _enrichment(rows: np.ndarray, carries_all: np.ndarray, times: np.ndarray, order: np.ndarray,
                min_size: int) -> tuple[float, float]:
    """The smallest one-sided Fisher p-value, over every start, of the signature's count
    among the cluster's ``rows`` (in time order) since the start against its share among all
    tickets since then — and that share. Exact at the ``EXACT_STARTS`` starts whose normal
    approximation is strongest, which is where the smallest exact p-value lies."""
    n = len(rows)
    starts = np.arange(min_size, n - min_size + 1)        # the cluster's tickets rows[k:]
    since = len(order) - np.searchsorted(times[order], times[rows[starts]], side="left")
    in_corpus = np.concatenate([[0], np.cumsum(carries_all[order])])
    corpus_since = in_corpus[-1] - in_corpus[len(order) - since]
    count_since = np.cumsum(carries_all[rows][::-1])[::-1][starts]
    draws = n - starts
    # The exact tail is costly (scipy sums it term by term): it is computed at the starts
    # the normal approximation of the hypergeometric ranks best.
    share = corpus_since / since
    variance = draws * share * (1 - share) * (since - draws) / np.maximum(since - 1, 1)
    z = (count_since - draws * share) / np.sqrt(np.where(variance > 0, variance, np.inf))
    best = np.argsort(-z, kind="stable")[:EXACT_STARTS]
    p = hypergeom.sf(count_since[best] - 1, since[best], corpus_since[best], draws[best])
    j = best[int(np.argmin(p))]
    return float(p.min()), float(share[j])


def signature_mask(values: pd.DataFrame, signature: tuple[str, ...]) -> np.ndarray | None:
    """Which tickets carry ``signature`` ("dimension=value" parts); None when one of its
    dimensions is not among ``values`` (gone, or topical now)."""
    mask = np.ones(len(values), dtype=bool)
    for part in signature:
        dimension, _, value = part.partition("=")
        if dimension not in values.columns:
            return None
        mask &= values[dimension].to_numpy(dtype=object) == value
    return mask


def _signatures(values: pd.DataFrame, rows: np.ndarray, min_size: int):
    """(signature, mask over all tickets) for every value and pair of values of different
    dimensions held by at least ``min_size`` of ``rows``."""
    singles = []
    for dimension in values.columns:
        column = values[dimension].to_numpy(dtype=object)
        counts = pd.Series(column[rows]).value_counts()
        for value, count in counts.items():
            if value != "" and count >= min_size:
                singles.append((dimension, f"{dimension}={value}", column == value))
    for _, name, mask in singles:
        yield (name,), mask
    for (dim_a, name_a, mask_a), (dim_b, name_b, mask_b) in combinations(singles, 2):
        both = mask_a & mask_b
        if dim_a != dim_b and both[rows].sum() >= min_size:
            yield (name_a, name_b), both


def change_starts(carries: np.ndarray, min_size: int) -> tuple[int, int]:
    """The two-segment Bernoulli change point of ``carries`` (the share rising), as the
    index of the first row after it: the earliest whose likelihood is as plausible as the
    maximum's (within ``ONSET_PLAUSIBLE``, χ²₁ at 95 %), and the most likely. A problem
    that grows is likeliest to have "started" once it is big, but its first tickets came
    before that."""
    n = len(carries)
    starts = np.arange(min_size, n - min_size + 1)
    cumulative = np.concatenate([[0], np.cumsum(carries)])
    before, after = cumulative[starts], cumulative[-1] - cumulative[starts]
    loglik = _bernoulli_loglik(before, starts) + _bernoulli_loglik(after, n - starts)
    loglik[after / (n - starts) <= before / starts] = -np.inf
    plausible = 2 * loglik >= 2 * loglik.max() - ONSET_PLAUSIBLE
    return int(starts[int(np.argmax(plausible))]), int(starts[int(np.argmax(loglik))])


def _signature_share(share_since: float, baseline: float) -> float:
    """The signature's share within the sub-problem: the excess of its share since the
    start over the baseline, (share − b) / (1 − b), an underestimate when the sub-problem
    is only part of those tickets, so kept within [½, 0.95] — it was found by its
    signature, so most of it carries it, but not all — and no lower than the baseline."""
    excess = (share_since - baseline) / (1 - baseline)
    return max(float(np.clip(excess, 0.5, 0.95)), baseline)


def _members(log_odds: np.ndarray, carries: np.ndarray, since: np.ndarray, share: float,
             baseline: float) -> np.ndarray:
    """Tickets since the start whose wording and signature together favour the split."""
    signature = np.where(carries, np.log(share / baseline), np.log((1 - share) / (1 - baseline)))
    return since & (log_odds + signature > 0)


def _wording_log_odds(X: np.ndarray, positive: np.ndarray, trained: np.ndarray,
                      random_state: int) -> tuple[np.ndarray, float]:
    """A logistic regression's log-odds of ``positive`` for every row — out-of-fold for the
    ``trained`` rows, from the model fitted on all of them for the rest — and the
    out-of-fold ROC AUC."""
    model = LogisticRegression(class_weight="balanced", max_iter=2000)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=random_state)
    log_odds = np.zeros(len(X))
    log_odds[trained] = cross_val_predict(model, X[trained], positive[trained], cv=folds,
                                          method="decision_function")
    if (~trained).any():
        log_odds[~trained] = model.fit(X[trained], positive[trained]).decision_function(X[~trained])
    return log_odds, float(roc_auc_score(positive[trained], log_odds[trained]))


def _bernoulli_loglik(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    share = successes / trials
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.nan_to_num(successes * np.log(share))
                + np.nan_to_num((trials - successes) * np.log1p(-share)))


def confirmed_split(candidate: _Candidate, embeddings: np.ndarray, times: np.ndarray, min_size: int,
               min_auc: float, tests: int, random_state: int) -> EmergentSplit | None:
    """The split, when the change and the wording checks agree; else None."""
    carries, rows = candidate.carries, candidate.rows
    earliest, start = change_starts(carries, min_size)
    since = np.arange(len(rows)) >= start
    table = [[carries[since].sum(), (~carries[since]).sum()],
             [carries[~since].sum(), (~carries[~since]).sum()]]
    change_p = float(fisher_exact(table, alternative="greater")[1])
    if change_p > CHANGE_ALPHA:
        return None
    positive, negative = since & carries, ~since
    if positive.sum() < CV_FOLDS or negative.sum() < CV_FOLDS:
        return None
    X = embeddings[rows]
    log_odds, auc = _wording_log_odds(X, positive, positive | negative, random_state)
    if auc < min_auc:
        return None
    baseline = float(np.clip(candidate.share_since, 1e-6, 1 - 1e-6))
    share = _signature_share(carries[since].mean(), baseline)
    members = _members(log_odds, carries, since, share, baseline)
    # A growing problem's first tickets may come before its likeliest start: those since
    # the earliest plausible one join when their signature and their wording both say so.
    members |= (np.arange(len(rows)) >= earliest) & ~since & carries & (log_odds > 0)
    if members.sum() < min_size:
        return None
    return EmergentSplit(parents=(candidate.cluster,), rows=np.sort(rows[members]),
                         signature=candidate.signature,
                         start=pd.Timestamp(times[rows[start]], tz="UTC"),
                         p_value=candidate.p_value, tests=tests, change_p_value=change_p,
                         text_auc=auc)
