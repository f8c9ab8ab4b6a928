"""When an iceberg started: change-point detection on its daily ticket counts.

``onset_date`` is the one entry point (``pipeline.analysis.profile`` calls it per iceberg); its
docstring states the method. ``bench/onset_bench.py`` measures it against planted onsets.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import ruptures as rpt

ONSET_MIN_DAYS = 7          # a segment's rate spans a week: every weekday once at least
ONSET_PLAUSIBLE = 3.84      # χ²₁ at 95 %: a step fitting this close to the best is as plausible


class PoissonRateCost(rpt.base.BaseCost):
    """A ``ruptures`` segment cost: −2 log-likelihood of one Poisson rate over the segment.

    A segment of exposure L (days, or days weighted by the day's ticket volume) holding S
    tickets costs 2·S·log(L/S) (0 when S = 0): the −2 log-likelihood at the fitted rate
    S/L, less 2·S + 2·Σ log x! which every segmentation of the series shares. Prefix sums
    make each cost O(1). ``exposure``: the cumulative exposure, one more entry than days.
    """

    model = "poisson"
    min_size = 1

    def __init__(self, exposure: np.ndarray):
        self.exposure = exposure

    def fit(self, signal: np.ndarray) -> PoissonRateCost:
        # ruptures' searches read the signal's shape from here
        self.signal = np.asarray(signal, dtype=np.float64).reshape(-1, 1)
        self.cumsum_ = np.concatenate([[0.0], np.cumsum(self.signal[:, 0])])
        return self

    def error(self, start: int, end: int) -> float:
        return float(_poisson_cost(self.cumsum_[end] - self.cumsum_[start],
                                   self.exposure[end] - self.exposure[start]))


def onset_date(daily_counts: pd.Series, daily_volume: pd.Series | None = None) -> date | None:
    """The day the iceberg became an ongoing problem, or None when it has no dated ticket.

    ``daily_counts``: tickets per day, indexed by day — over the whole data period, zeros
    included, as ``timing_table`` builds it. ``daily_volume``: all tickets per day over the
    same days, when known: then rates are per unit of the day's volume (each day's
    exposure is its volume over the mean volume), so an iceberg that keeps its share of
    a growing, shrinking or weekly-swinging ticket flow has no rise, and one that
    outgrows the flow does. Change-point detection on those daily counts (weekly bins
    would cost up to six days of precision), with ``ruptures``:

    - **Model and search.** Tickets arrive at a Poisson rate that is constant between
      change points (counts: mostly 0 or 1 a day for a small iceberg, so no Gaussian
      cost). A segment costs its −2 log-likelihood (``PoissonRateCost``), and binary
      segmentation (``ruptures.Binseg``) splits the series while a split lowers the total
      cost by more than the penalty. Segments last at least ``ONSET_MIN_DAYS`` days, so
      every rate averages a whole week's weekday/weekend mix, and change points lie on
      that week grid. (PELT, the exact search, found the same onsets on the CFPB slice
      and within a day's median on the planted benchmark, but its quadratic search in
      pure Python took 2 s per iceberg over ten years of days; binary segmentation 30 ms.)
      The onset itself is placed to the day, below.
    - **Penalty.** BIC: a change adds two parameters (where, and the new rate), so
      2·log n for n days — times φ, the counts' dispersion (variance over mean, at least
      1), a quasi-Poisson likelihood. φ comes from the series itself: day-to-day
      differences have E[(x_t − x_{t−1})²] = 2·φ·mean where the rate holds, and the few
      changes barely add to that. At a few tickets a day φ is about 1 and the Poisson
      variance is the noise; a busy iceberg's weekday/weekend swing (weekends at 0.6×)
      or bursts make φ larger, where an unscaled Poisson penalty reads the swing as
      changes and dates a steady iceberg mid-period (at 200 tickets a day, most times).
    - **Which change is the onset.** The start of the earliest segment after which
      every segment runs clearly above the rate before it (the tickets before it over
      its days; clearly: the segment's deviance from that rate exceeds the penalty),
      segments at the end that fall back excepted: a problem that stopped keeps its
      onset. So stray early tickets followed by silence are not the start, and a
      steady iceberg — no such rise — starts at its first ticket.
    - **Where in that rise.** The change is then placed to the day, by one step fitted
      from the segment before the rise to a week past the rise's segment (local: a
      longer stretch of a growing problem pulls the step later). A growing problem's
      first days are its quietest, so even there the best-fitting step sits late on a
      ramp; the onset is the earliest ticket day at which a step fits within
      φ·``ONSET_PLAUSIBLE`` (χ²₁ at 95 %) of the best step's −2 log-likelihood — the
      earliest start the data cannot tell from the best one.

    ``bench/onset_bench.py`` measures it against the planted benchmark's onsets.
    """
    counts = daily_counts.to_numpy(dtype=np.float64)
    if not counts.sum() > 0:
        return None
    exposure = _cumulative_exposure(daily_volume, len(counts))
    dispersion = _dispersion(counts, exposure)
    penalty = dispersion * 2 * np.log(len(counts))
    bounds = _rate_change_points(counts, exposure, penalty)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    rise = _rise(bounds, cumulative, exposure, penalty)
    day = (int(np.flatnonzero(counts)[0]) if rise is None
           else _earliest_plausible_step(counts, cumulative, exposure, *rise,
                                         dispersion * ONSET_PLAUSIBLE))
    return pd.Timestamp(daily_counts.index[day]).date()


def _cumulative_exposure(daily_volume: pd.Series | None, n_days: int) -> np.ndarray:
    """0, then the running sum of each day's exposure: 1 a day without a volume, else the
    day's volume over the mean daily volume."""
    if daily_volume is None:
        return np.arange(n_days + 1, dtype=np.float64)
    volume = daily_volume.to_numpy(dtype=np.float64)
    return np.concatenate([[0.0], np.cumsum(volume / volume.mean())])


def _poisson_cost(total: np.ndarray | float, length: np.ndarray | float) -> np.ndarray:
    """``PoissonRateCost`` of segments of exposure ``length`` holding ``total`` tickets."""
    total = np.asarray(total, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):   # the empty segments' branch, unused
        return np.where(total > 0, 2 * total * np.log(length / np.where(total > 0, total, 1.0)), 0.0)


def _dispersion(counts: np.ndarray, exposure: np.ndarray) -> float:
    """φ of ``onset_date``, at least 1, from day-to-day differences of the counts per unit
    of exposure: where the rate μ holds, x/w has variance φ·μ/w, so consecutive days'
    difference d has E[d²] = φ·μ·(1/w_t + 1/w_{t−1}). Days without exposure are skipped."""
    weights = np.diff(exposure)
    kept = weights > 0
    if kept.sum() < 2:
        return 1.0
    x, w = counts[kept], weights[kept]
    rate = x.sum() / w.sum()
    expected = rate * (1 / w[1:] + 1 / w[:-1])
    return max(1.0, float(np.mean(np.diff(x / w) ** 2) / np.mean(expected)))


def _rate_change_points(counts: np.ndarray, exposure: np.ndarray, penalty: float) -> list[int]:
    """0, the change points, len(counts): the bounds of the constant-rate segments."""
    if len(counts) < 2 * ONSET_MIN_DAYS:
        return [0, len(counts)]
    search = rpt.Binseg(custom_cost=PoissonRateCost(exposure), min_size=ONSET_MIN_DAYS,
                      jump=ONSET_MIN_DAYS)
    return [0, *search.fit_predict(counts, pen=penalty)]


def _rise(bounds: list[int], cumulative: np.ndarray, exposure: np.ndarray,
          penalty: float) -> tuple[int, int] | None:
    """Where the onset's step is sought: from the start of the segment before the onset
    segment (as ``onset_date`` picks it) to a week past that segment's end, as the week
    grid can split a step between its points off as a segment of its own; None when no
    segment rises."""
    totals, lengths = np.diff(cumulative[bounds]), np.diff(exposure[bounds])
    for j in range(1, len(lengths)):
        if exposure[bounds[j]] == 0:      # no ticket at all before: nothing to rise from
            continue
        before = cumulative[bounds[j]] / exposure[bounds[j]]
        above = np.array([total > before * length and _deviance(total, length, before) > penalty
                          for total, length in zip(totals[j:], lengths[j:])])
        last = np.flatnonzero(above)[-1] if above.any() else -1   # later ones fell back: it stopped
        if last >= 0 and above[:last + 1].all():
            return bounds[j - 1], min(bounds[j + 1] + ONSET_MIN_DAYS, bounds[j + last + 1])
    return None


def _deviance(total: float, length: float, rate: float) -> float:
    """Poisson deviance of ``total`` tickets in exposure ``length`` from ``rate`` per unit."""
    expected = rate * length
    if expected == 0:
        return np.inf if total > 0 else 0.0
    return 2 * ((total * np.log(total / expected) if total > 0 else 0.0) - (total - expected))


def _earliest_plausible_step(counts: np.ndarray, cumulative: np.ndarray, exposure: np.ndarray,
                             start: int, end: int, tolerance: float) -> int:
    """The earliest ticket day in (start, end) where one step fits within ``tolerance`` of
    the best one, in −2 log-likelihood over [start, end)."""
    days = start + 1 + np.flatnonzero(counts[start + 1:end])
    cost = (_poisson_cost(cumulative[days] - cumulative[start], exposure[days] - exposure[start])
            + _poisson_cost(cumulative[end] - cumulative[days], exposure[end] - exposure[days]))
    return int(days[np.argmax(cost <= cost.min() + tolerance)])
