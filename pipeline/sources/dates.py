"""``created_at`` read per column: one reading of ambiguous dates, epochs, a plausible window.

``05/01/2024`` is 5 January or 1 May depending on the export; the column decides, not the
value: a value such as ``13/01/2024`` (only day-first reads it) or ``01/13/2024`` (only
month-first) settles the order for every value of the column, and a column with no such
value is read as ``[input] date_order`` says (month-first when "auto"; the report says it
was a guess; ``pipeline.sources.date_order`` then looks for other evidence). Values that contradict the column's order are rejected, not read the other
way. Epoch seconds and milliseconds are recognised by their magnitude. A date before
``input.min_year`` or more than ``input.max_days_ahead`` days after the run is implausible
(``9999-12-31``, ``1970-01-01`` placeholders) and rejected with a reason, so the timeline
never spans more than the plausible window.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError
from pipeline.sources.values import stripped

DATE_ORDERS = ("auto", "day-first", "month-first")
NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:(?:[ T]|, ?)(.+))?$")
EPOCH = re.compile(r"\d{9,13}(?:\.\d+)?")
MILLISECONDS = 1e11       # an epoch above this in seconds would be after the year 5138
LEADING_YEAR = re.compile(r"[+-]?(\d{4,})-")
UNDECIDED = "nothing: no value tells (month-first assumed)"   # see pipeline.sources.date_order
SHOWN_CHARS = 120          # a reason quotes this much of the raw value, cut between words


@dataclass(frozen=True)
class ParsedDates:
    timestamps: pd.Series                  # UTC; NaT where missing or rejected
    problems: pd.Series                    # why a given value was rejected; None elsewhere
    report: dict[str, Any] = field(default_factory=dict)


def created_timestamps(values: pd.Series, *, order: str = "auto", min_year: int = 1990,
                       max_days_ahead: int = 1, now: pd.Timestamp | None = None) -> ParsedDates:
    """``values`` as UTC timestamps, read as one column (see the module docstring); ``now``
    (default: the current time) is the run's time."""
    if order not in DATE_ORDERS:
        raise ConfigError(f"input.date_order must be one of {', '.join(DATE_ORDERS)}, got {order!r}")
    earliest = pd.Timestamp(year=min_year, month=1, day=1, tz="UTC")
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    latest = now + pd.Timedelta(days=max_days_ahead)
    problems = pd.Series(None, index=values.index, dtype=object)
    report: dict[str, Any] = {"formats": {}}
    if pd.api.types.is_datetime64_any_dtype(values):
        timestamps = pd.to_datetime(values, utc=True)
        report["formats"]["timestamp"] = int(timestamps.notna().sum())
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        timestamps = _epochs(values.astype("float64"), report)
    else:
        timestamps = _text_dates(stripped(values), order, problems, report)
    timestamps = timestamps.astype("datetime64[us, UTC]")
    given = stripped(values).notna() if not pd.api.types.is_datetime64_any_dtype(values) else values.notna()
    beyond = problems.isna() & timestamps.isna() & given
    if beyond.any():
        beyond[beyond] = _out_of_range_year(values[beyond])
    early = timestamps.notna() & (timestamps < earliest)
    if beyond.any():
        early[beyond] = _early_year(values[beyond])
    late = (timestamps.notna() & (timestamps > latest)) | (beyond & ~early)
    ahead = f"more than {max_days_ahead} day{'s' if max_days_ahead != 1 else ''} after the run"
    for mask, window in ((early, f"before {min_year}"), (late, ahead)):
        problems[mask] = [f"implausible created_at: {_shown(v)} ({window})" for v in values[mask]]
    implausible = early | late
    unparseable = problems.isna() & timestamps.isna() & given
    problems[unparseable] = [f"unparseable created_at: {_shown(v)}" for v in values[unparseable]]
    report.update(implausible=int(implausible.sum()), unparseable=int(unparseable.sum()),
                  window=[f"{earliest:%Y-%m-%d}", f"{latest:%Y-%m-%d}"])
    timestamps = timestamps.where(problems.isna())
    return ParsedDates(timestamps, problems, report)


def _epochs(numbers: pd.Series, report: dict[str, Any]) -> pd.Series:
    """Epoch seconds, or milliseconds where a value is too large to be seconds."""
    millis = numbers.abs() >= MILLISECONDS
    seconds = numbers.where(~millis, numbers / 1000)
    with np.errstate(invalid="ignore"):
        timestamps = pd.to_datetime(seconds, utc=True, unit="s", errors="coerce")
    for name, mask in (("epoch seconds", ~millis), ("epoch milliseconds", millis)):
        count = int((mask & numbers.notna()).sum())
        if count:
            report["formats"][name] = count
    return timestamps


def _text_dates(text: pd.Series, order: str, problems: pd.Series, report: dict[str, Any]) -> pd.Series:
    present = text.dropna()
    # ISO 8601 first (most exports; no epoch or dd/mm/yyyy value reads as one), then the rest.
    timestamps = pd.to_datetime(present, utc=True, errors="coerce", format="ISO8601").reindex(text.index)
    timestamps = timestamps.astype("datetime64[us, UTC]")
    report["formats"]["ISO 8601"] = int(timestamps.notna().sum())
    rest = present[timestamps[present.index].isna()]
    epoch = rest[rest.str.fullmatch(EPOCH)]
    if len(epoch):
        timestamps[epoch.index] = _epochs(pd.to_numeric(epoch), report)
    rest = rest.drop(epoch.index)
    numeric = rest.str.extract(NUMERIC_DATE).dropna(subset=[0, 2, 3])
    if len(numeric):
        timestamps[numeric.index] = _numeric_dates(numeric, rest, order, problems, report)
    others = rest.drop(numeric.index)
    if len(others):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(others, utc=True, errors="coerce", format="mixed",
                                    dayfirst=report.get("order") == "day-first")
        report["formats"]["other"] = int(parsed.notna().sum())
        timestamps[others.index] = parsed
    report["formats"] = {k: v for k, v in report["formats"].items() if v}
    return timestamps


def _numeric_dates(parts: pd.DataFrame, text: pd.Series, order: str, problems: pd.Series,
                   report: dict[str, Any]) -> pd.Series:
    """``dd/mm/yyyy``-like values in the one order the column supports."""
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first_only = (first > 12) & (second <= 12)
    month_first_only = (second > 12) & (first <= 12)
    if order == "auto":
        days, months = int(day_first_only.sum()), int(month_first_only.sum())
        chosen = "day-first" if days > months else "month-first"
        evidence = day_first_only if chosen == "day-first" else month_first_only
        report["order"] = chosen
        report["order_decided_by"] = (f"{int(evidence.sum())} value(s) such as {text[evidence.idxmax()]!r}"
                                      if evidence.any() else UNDECIDED)
    else:
        chosen = order
        report["order"] = chosen
        report["order_decided_by"] = "input.date_order"
    contradicting = month_first_only if chosen == "day-first" else day_first_only
    problems[contradicting[contradicting].index] = [
        f"created_at {v!r} cannot be {chosen}, as the column's other dates are" for v in text[contradicting[contradicting].index]]
    day, month = (first, second) if chosen == "day-first" else (second, first)
    year = parts[3].astype(int)
    year = year.where(parts[3].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))
    iso = (year.astype(str).str.zfill(4) + "-" + month.astype(str).str.zfill(2) + "-"
           + day.astype(str).str.zfill(2) + (" " + parts[4]).fillna(""))
    report["formats"][chosen] = int(len(parts) - contradicting.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(iso, utc=True, errors="coerce", format="ISO8601")
        retry = parsed.isna() & parts[4].notna()
        if retry.any():
            parsed[retry] = pd.to_datetime(iso[retry], utc=True, errors="coerce", format="mixed")
    return parsed.where(~contradicting)


def _out_of_range_year(values: pd.Series) -> pd.Series:
    """Values whose year pandas cannot hold (``9999-12-31``, ``0001-01-01``): dates, but implausible."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(False, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values.notna() & (values.abs() >= 1e16)
    years = stripped(values).str.extract(LEADING_YEAR, expand=False)
    return pd.to_numeric(years, errors="coerce").pipe(lambda y: (y < 1678) | (y > 2261)).fillna(False).astype(bool)


def _early_year(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values < 0
    years = stripped(values).str.extract(LEADING_YEAR, expand=False)
    return (pd.to_numeric(years, errors="coerce") < 1678).fillna(False).astype(bool)


def _shown(value: Any) -> str:
    text = repr(value if not isinstance(value, float) or not value.is_integer() else int(value))
    if len(text) <= SHOWN_CHARS:
        return text
    # Cut between words, never inside one: prepare redacts reasons, and half a card number
    # or e-mail address would no longer be recognised as one.
    cut = text.rfind(" ", 0, SHOWN_CHARS)
    return text[:cut if cut > 0 else SHOWN_CHARS] + " …'"
