"""The events file: releases, deploys, campaigns — what happened when, for onset evidence."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.errors import InputError
from pipeline.schemas import EventCols
from pipeline.sources.decode import decoded_text
from pipeline.sources.roles import name_key


def read_events(path: str | Path) -> pd.DataFrame:
    """The events file: a CSV with columns ``date, name[, dimension, value]``, one row per event.

    ``date`` is a day (ISO 8601; a time of day is dropped), ``name`` what happened; the
    optional ``dimension`` and ``value`` name the ticket dimension value the event
    introduced (a release: ``app_version``, ``5.4.0``), so that an iceberg starting with it
    can be checked for concentration in that value. Returns the columns of ``EventCols``
    (``date`` as ``datetime.date``; ``dimension`` and ``value`` null when not given), sorted
    by date. A file that cannot be used raises ``InputError`` naming the row and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"events file {str(path)!r} not found; set profile.events to an existing "
                         "CSV with columns date, name[, dimension, value], or to \"\" for none")
    text = decoded_text(path.read_bytes(), "auto", str(path)).text
    rows = [r for r in csv.reader(io.StringIO(text)) if any(v.strip() for v in r)]
    columns = [name_key(c) for c in rows[0]] if rows else []
    missing = [c for c in (EventCols.date, EventCols.name) if c not in columns]
    if missing:
        raise InputError(f"events file {path} lacks column(s) {missing} (header: {rows[0] if rows else []}); "
                         "its header must be date,name[,dimension,value]")
    frame = pd.DataFrame([(r + [""] * len(columns))[:len(columns)] for r in rows[1:]],
                         columns=columns, dtype="str")
    frame = frame.apply(lambda c: c.str.strip()).replace("", None)
    for column in (EventCols.dimension, EventCols.value):
        if column not in frame.columns:
            frame[column] = None
    days = pd.to_datetime(frame[EventCols.date], utc=True, errors="coerce", format="ISO8601")
    for bad, problem in ((days.isna(), "a date that is not ISO 8601 (e.g. 2024-02-25)"),
                         (frame[EventCols.name].isna(), "no name"),
                         (frame[EventCols.dimension].isna() != frame[EventCols.value].isna(),
                          "a dimension without a value, or a value without a dimension")):
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 1
            raise InputError(f"events file {path}, data row {row}: {problem}; fix or remove the row")
    events = pd.DataFrame({
        EventCols.date: days.dt.date,
        EventCols.name: frame[EventCols.name].astype("str"),
        EventCols.dimension: frame[EventCols.dimension].astype("string"),
        EventCols.value: frame[EventCols.value].astype("string"),
    })
    return events.sort_values(EventCols.date, kind="stable", ignore_index=True)


def events_source(path: str | Path, events: pd.DataFrame) -> dict[str, Any]:
    """The events file as a manifest input (path, sha256, rows, role)."""
    try:
        sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        sha256 = None
    return {"path": str(path), "sha256": sha256, "rows": len(events), "role": "events"}
