"""Day- or month-first, decided by evidence when no ``created_at`` value tells.

``05/01/2024`` reads two ways; ``pipeline.sources.dates`` settles the column's order by a
value only one order reads (``13/01/2024``). When there is none, ``evidence_order`` looks
at what else the export knows, in this order, and the first that tells decides:

1. **another date column** of the export (``Updated``, ``Resolved``…) written the same way
   has a value only one order reads;
2. **the export's end**: a created date cannot lie after the run, after the file's
   modification time, or after the latest date of another date column read unambiguously
   (ISO 8601) — the order that puts fewer created dates there wins;
3. **created ≤ resolved**: within a row, created comes before the export's later dates
   (``Updated``, ``Resolved``, ``Closed``) — the order with fewer rows against it wins;
4. **created rises with the key**: ``HELP-101`` was created before ``HELP-102`` — the order
   with clearly fewer steps back in key order wins (at most half the other's, and two fewer).

The decision names its evidence (``order_decided_by`` in the manifest and the log); when
nothing tells, the run warns, naming ``input.date_order``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pipeline.sources.dates import NUMERIC_DATE, UNDECIDED, created_timestamps
from pipeline.sources.values import stripped

ORDERS = ("day-first", "month-first")
LATER_WORDS = ("updated", "resolved", "closed", "modified", "solved", "completed", "done", "changed",
               "atualizado", "resolvido", "actualizado", "resuelto", "modifié", "résolu",
               "aktualisiert", "gelöst", "aggiornato", "risolto", "bijgewerkt", "opgelost")
DATE_SHARE = 0.8            # of a column's values that must be numeric dates for it to count
KEY_NUMBER = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class OrderEvidence:
    order: str | None            # None: nothing decided
    decided_by: str              # in words, for the log and the manifest


def evidence_order(raw: pd.DataFrame, created_column: str, id_column: str | None, *,
                   now: pd.Timestamp, modified: pd.Timestamp | None = None) -> OrderEvidence:
    """The order the export's other evidence supports for ``created_column`` (module docstring)."""
    created = raw[created_column]
    others = [c for c in raw.columns if c != created_column and _numeric_dates(raw[c])]
    for column in others:
        report = created_timestamps(raw[column], now=now).report
        if report.get("order") and not report["order_decided_by"].startswith("nothing"):
            return OrderEvidence(report["order"], f"the column {column!r}, written the same way: "
                                                  f"{report['order_decided_by']}")
    readings = {order: created_timestamps(created, order=order, now=now, max_days_ahead=36_500).timestamps
                for order in ORDERS}
    ends = [(now, "the run's time")]
    if modified is not None:
        ends.append((modified, f"the file's modification time ({modified:%Y-%m-%d})"))
    for column in raw.columns:
        if column == created_column or column in others:
            continue
        iso = _iso_dates(raw[column])
        if iso is not None:
            ends.append((iso.max(), f"the latest {column!r} ({iso.max():%Y-%m-%d})"))
    for end, what in sorted(ends, key=lambda e: e[0]):
        after = {o: int((t > end + pd.Timedelta(days=1)).sum()) for o, t in readings.items()}
        decided = _fewer(after, strict=True)
        if decided:
            return OrderEvidence(decided, f"{what}: {after[_other(decided)]} created date(s) read "
                                          f"{_other(decided)} would lie after it, {after[decided]} {decided}")
    later = [c for c in others if any(w in c.lower() for w in LATER_WORDS)]
    if later:
        against = {}
        for order in ORDERS:
            rows = pd.Series(False, index=raw.index)
            for column in later:
                other = created_timestamps(raw[column], order=order, now=now, max_days_ahead=36_500).timestamps
                rows |= readings[order] > other
            against[order] = int(rows.sum())
        decided = _fewer(against, strict=True)
        if decided:
            return OrderEvidence(decided, f"created ≤ {', '.join(map(repr, later))}: {against[_other(decided)]} "
                                          f"row(s) against it read {_other(decided)}, {against[decided]} {decided}")
    if id_column is not None:
        steps = {o: _steps_back(raw[id_column], t) for o, t in readings.items()}
        if all(s is not None for s in steps.values()):
            decided = _fewer(steps, strict=False)
            if decided:
                return OrderEvidence(decided, f"created rises with the key ({id_column!r}): "
                                              f"{steps[_other(decided)]} step(s) back read {_other(decided)}, "
                                              f"{steps[decided]} {decided}")
    return OrderEvidence(None, UNDECIDED)


def _fewer(violations: dict[str, int], strict: bool) -> str | None:
    """The order with fewer violations: any fewer (``strict``: impossible dates), else at
    most half the other's and two fewer (soft evidence); None when neither."""
    a, b = ORDERS
    for winner, loser in ((a, b), (b, a)):
        if strict and violations[winner] < violations[loser]:
            return winner
        if not strict and violations[winner] * 2 <= violations[loser] and violations[loser] - violations[winner] >= 2:
            return winner
    return None


def _other(order: str) -> str:
    return ORDERS[1] if order == ORDERS[0] else ORDERS[0]


def _numeric_dates(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return False
    present = stripped(values).dropna()
    return bool(len(present)) and present.str.match(NUMERIC_DATE).mean() >= DATE_SHARE


def _iso_dates(values: pd.Series) -> pd.Series | None:
    """A column of ISO 8601 dates (as Jira's reader writes its own formats) as UTC, else None."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    present = stripped(values).dropna()
    if not len(present) or not present.str.match(r"\d{4}-\d{2}-\d{2}").mean() >= DATE_SHARE:
        return None
    parsed = pd.to_datetime(present, utc=True, errors="coerce", format="ISO8601").dropna()
    return parsed if len(parsed) else None


def _steps_back(ids: pd.Series, created: pd.Series) -> int | None:
    """How often a created date falls back from one key to the next (``HELP-7`` → ``HELP-8``);
    None when the ids are no numbered keys."""
    parts = stripped(ids).str.extract(KEY_NUMBER)
    if parts[1].isna().mean() > 0.1:
        return None
    frame = pd.DataFrame({"prefix": parts[0], "number": pd.to_numeric(parts[1]), "created": created})
    frame = frame.dropna().sort_values(["prefix", "number"], kind="stable")
    back = frame.groupby("prefix")["created"].diff() < pd.Timedelta(0)
    return int(back.sum())
