"""Cell values as the tickets table needs them: text, revenue numbers (dates: ``dates``)."""

from __future__ import annotations

import re

import pandas as pd

NOT_A_NUMBER = frozenset({"n/a", "na", "-", "none", "null", "nan"})   # revenue cells read as missing
CURRENCY_MARKS = re.compile(r"[\s$€£¥]")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def revenue_numbers(values: pd.Series) -> pd.Series:
    """``values`` as float64: numbers as they are; text such as ``1200.5``, ``$1,200.50`` or
    ``€ 99`` read as a number (currency signs, spaces and thousands commas dropped); NaN
    where missing (also "n/a", "-", "none", "null") or not a number."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = stated_numbers(values).str.replace(CURRENCY_MARKS, "", regex=True)
    text = text.where(~text.str.fullmatch(THOUSANDS, na=False), text.str.replace(",", "", regex=False))
    return pd.to_numeric(text, errors="coerce").astype("float64")


def stated_numbers(values: pd.Series) -> pd.Series:
    """``values`` as trimmed text; missing where empty or a "not a number" mark ("n/a", "-")."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return as_str(values)
    text = stripped(values)
    return text.where(~text.str.lower().isin(NOT_A_NUMBER))


def is_measurement(values: pd.Series) -> bool:
    """A column of dates or of fractional numbers: measured, not a category."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    return pd.api.types.is_float_dtype(values) and not (values.dropna() % 1 == 0).all()


def as_str(values: pd.Series) -> pd.Series:
    """Values as text, missing kept missing; whole floats (ids read through NaN) without ".0"."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("str")


def stripped(values: pd.Series) -> pd.Series:
    """Values as trimmed text; missing where missing or blank."""
    return as_str(values).str.strip().replace("", None)


NUL = "\x00"


def without_nul_bytes(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` with the NUL bytes inside its text cells removed (a build log pasted with
    them), and how many went: ``{"rows", "fields", "bytes"}`` (all 0 when none)."""
    rows = pd.Series(False, index=frame.index)
    fields = removed = 0
    updates = {}
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        held = values.map(lambda v: isinstance(v, str) and NUL in v)
        if not held.any():
            continue
        rows |= held
        fields += int(held.sum())
        removed += int(values[held].map(lambda v: v.count(NUL)).sum())
        updates[column] = values.where(~held, values[held].map(lambda v: v.replace(NUL, "")))
    counts = {"rows": int(rows.sum()), "fields": fields, "bytes": removed}
    return (frame.assign(**updates) if updates else frame), counts
