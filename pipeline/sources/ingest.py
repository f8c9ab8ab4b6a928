"""Read a ticket export (CSV, JSONL or Parquet) into the tickets table and its quarantine.

Besides the store, this is the only stage that touches files. It detects the format,
encoding and CSV dialect, maps input columns to roles (id, created_at, subject, body,
customer, agent, account, segment; revenue only when configured) by their conventional
names unless ``[columns]`` says otherwise, picks the dimension columns, and rejects rows
it cannot use into a quarantine table with a reason each, so that
``rows_read == len(tickets) + len(quarantine)``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import clevercsv
import pandas as pd
import pyarrow as pa

from pipeline.errors import InputError, InputNotFound
from pipeline.config import ColumnsConfig, Config, InputConfig
from pipeline.schemas import EventCols, QuarantineCols, TicketCols


@dataclass(frozen=True)
class Ingested:
    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    roles: dict[str, str | list[str]]      # role -> input column (a list for body)
    dimensions: list[str]                  # their names in ``tickets``
    source: dict[str, Any]                 # path, sha256, rows


FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet", ".pq": "parquet"}

ROLE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("ticket_id", "id", "ticketid", "case_id", "complaint_id"),
    "created_at": ("created_at", "date", "created", "timestamp", "date_received", "opened_at"),
    "subject": ("subject", "title", "summary"),
    "body": ("body", "description", "text", "message", "content", "narrative",
             "consumer_complaint_narrative"),
    "customer": ("customer_id", "requester_id", "account_id", "customer", "requester", "user_id"),
    "agent": ("agent_id", "assignee_id", "assignee", "agent"),
    # After "customer": an input whose only id column is account_id keeps it as the customer.
    # Not "company" (CFPB's is the company complained about), "tier" (often a support
    # tier) or "plan" (often a payment plan): set those with [columns] when they are meant.
    "account": ("account_id", "account", "organization_id", "organisation_id", "organization",
                "organisation", "org_id", "company_id", "tenant_id", "tenant"),
    "segment": ("segment", "customer_segment", "customer_tier", "account_tier"),
    "revenue": (),      # money is never guessed: only [columns] revenue sets it
}
ROLE_OUTPUT = {"id": TicketCols.ticket_id, "created_at": TicketCols.created_at,
               "subject": TicketCols.subject, "customer": TicketCols.customer_id,
               "agent": TicketCols.agent_id, "account": TicketCols.account_id,
               "segment": TicketCols.segment, "revenue": TicketCols.revenue}
# The one role whose column is also profiled as a dimension (under its role's name).
DIMENSION_ROLE = "segment"
# Names a kept input column cannot take in the output tables; such a column gets "input_".
RESERVED_TICKET_NAMES = {v for k, v in vars(TicketCols).items() if not k.startswith("_")}
RESERVED_QUARANTINE_NAMES = {QuarantineCols.reason, QuarantineCols.source, QuarantineCols.source_row}

CSV_DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 32_768
MAX_UNIQUE_SHARE = 0.5     # a column with more distinct values per row is an identifier, not a dimension
NOT_A_NUMBER = frozenset({"n/a", "na", "-", "none", "null", "nan"})   # revenue cells read as missing
CURRENCY_MARKS = re.compile(r"[\s$€£¥]")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
RAW_LINE = "raw_line"      # quarantine column holding a line that could not be split into fields


def read_tickets(path: str | Path, config: Config) -> Ingested:
    """Read ``path`` into tickets (one row per usable input row) and the quarantine."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFound(f"input file {str(path)!r} not found; pass an existing CSV, JSONL "
                         "or Parquet file to --input")
    data = path.read_bytes()
    raw, rejected = raw_rows(data, input_format(path, config.input.format), config.input, path)
    rows_read = len(raw) + len(rejected)
    if rows_read == 0:
        raise InputError(f"{path} has no data rows; export at least one ticket, with a header "
                         "row naming the columns")
    if raw.empty:
        raise InputError(f"none of the {rows_read} rows of {path} could be read (first: "
                         f"{rejected[0][QuarantineCols.reason]}); check the file, or set [input] "
                         "format and delimiter")
    roles = resolved_roles(list(raw.columns), config.columns, path)
    dimensions = dimension_columns(raw, roles, config.columns, path)
    tickets, quarantined = _split_rows(raw, roles, dimensions, str(path))
    if rejected:
        quarantined = pd.concat([quarantined, _quarantine_frame(rejected, str(path))])
    quarantine = quarantined.sort_values(QuarantineCols.source_row, kind="stable", ignore_index=True)
    return Ingested(
        tickets=tickets,
        quarantine=quarantine,
        rows_read=rows_read,
        roles=roles,
        dimensions=[_dimension_name(c, roles) for c in dimensions],
        source={"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "rows": rows_read},
    )


def input_format(path: Path, setting: str = "auto") -> str:
    """The reader to use: the ``[input] format`` setting, else the file's extension."""
    if setting != "auto":
        if setting not in FORMATS:
            raise InputError(f"unknown input format {setting!r} ([input] format); use one of "
                             f"auto, {', '.join(FORMATS)}")
        return setting
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    extension = suffixes[-1] if suffixes else ""
    if extension not in EXTENSIONS:
        raise InputError(f"unsupported input format {extension or '(no extension)'!r} for "
                         f"{path.name}; supported: {', '.join(EXTENSIONS)} (optionally .gz), or "
                         f"set [input] format to one of {', '.join(FORMATS)}")
    return EXTENSIONS[extension]


def raw_rows(data: bytes, fmt: str, settings: InputConfig,
             path: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every data row as read (index: 1-based row or line number), and the rows that could
    not be split into fields (quarantine records)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path} looks gzip-compressed but cannot be decompressed ({exc}); "
                             "re-export the file") from exc
    if fmt == "parquet":
        return _parquet_rows(data, path), []
    text = decoded_text(data, settings.encoding, path)
    if not text.strip():
        raise InputError(f"{path} is empty; export at least one ticket, with a header row")
    if fmt == "jsonl":
        return _jsonl_rows(text)
    return _csv_rows(text, settings.delimiter, path)


def decoded_text(data: bytes, encoding: str, path: Path) -> str:
    """``data`` as text: the configured encoding, else a BOM, UTF-8, or charset-normalizer's guess."""
    if encoding != "auto":
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot decode {path} as {encoding!r} ({exc}); set [input] encoding "
                             "to the file's encoding (e.g. \"cp1252\") or to \"auto\"") from exc
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise InputError(f"cannot detect the text encoding of {path}; set [input] encoding "
                         "(e.g. \"cp1252\" or \"utf-16\")")
    # Short Western-European samples are often taken for a Mac or Central-European code
    # page that decodes them just as cleanly; cp1252 is by far the likelier source.
    best = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= matches[0].chaos + 0.1),
                matches[0])
    return str(best)


def resolved_roles(columns: list[str], settings: ColumnsConfig, path: Path) -> dict[str, str | list[str]]:
    """Role -> input column(s): the ``[columns]`` settings, else the first conventional name found."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_name_key(column), column)
    roles: dict[str, str | list[str]] = {}
    for role in ROLE_CANDIDATES:
        configured = getattr(settings, role)
        if configured:
            names = configured if isinstance(configured, list) else [configured]
            found = [_configured_column(name, role, columns, path) for name in names]
            roles[role] = found if role == "body" else found[0]
    taken = _role_columns(roles)
    for role, candidates in ROLE_CANDIDATES.items():
        detected = next((by_key[k] for k in map(_name_key, candidates)
                         if k in by_key and by_key[k] not in taken), None)
        if role not in roles and detected is not None:
            roles[role] = [detected] if role == "body" else detected
            taken.add(detected)
    if "body" not in roles and "subject" not in roles:
        raise InputError(f"no text column in {path.name}: found columns {columns}. Map the column "
                         "holding the ticket text with [columns] body = [\"...\"] in iceberg.toml "
                         "or --set columns.body=...")
    return roles


def dimension_columns(raw: pd.DataFrame, roles: dict[str, str | list[str]],
                      settings: ColumnsConfig, path: Path) -> list[str]:
    """Input columns to profile icebergs by: ``[columns] dimensions``, else every other
    low-cardinality column that is not a measurement (decimals, dates). Role columns are
    not dimensions, except the segment's: a segment over-represented in an iceberg is
    evidence like any other dimension value."""
    columns = list(raw.columns)
    used = _role_columns({r: c for r, c in roles.items() if r != DIMENSION_ROLE})
    excluded = {_configured_column(name, "exclude", columns, path) for name in settings.exclude}
    if settings.dimensions:
        chosen = [_configured_column(name, "dimensions", columns, path) for name in settings.dimensions]
        return [c for c in chosen if c not in used and c not in excluded]
    dimensions = []
    for column in columns:
        values = raw[column]
        if column in used or column in excluded or _is_measurement(values):
            continue
        present = _stripped(values).dropna()
        distinct = present.nunique()
        if 2 <= distinct <= settings.max_dimension_values and distinct <= MAX_UNIQUE_SHARE * len(present):
            dimensions.append(column)
    return dimensions


def _split_rows(raw: pd.DataFrame, roles: dict[str, str | list[str]], dimensions: list[str],
                source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tickets and the quarantined rows (missing id, no text, bad date, duplicate id)."""
    texts = _ticket_texts(raw, roles)
    ids = _stripped(raw[roles["id"]]) if "id" in roles else _row_ids(raw, roles, texts)
    reasons = pd.Series(None, index=raw.index, dtype=object)
    reasons[ids.isna()] = "missing ticket id"
    reasons[reasons.isna() & (texts == "")] = "no text (subject and body are empty)"
    if "created_at" in roles:
        created_at = raw[roles["created_at"]]
        timestamps = utc_timestamps(created_at)
        unparseable = reasons.isna() & timestamps.isna() & _stripped(created_at).notna()
        reasons[unparseable] = [f"unparseable created_at: {v!r}" for v in created_at[unparseable]]
    else:
        timestamps = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if "revenue" in roles:
        given = raw[roles["revenue"]]
        revenue = revenue_numbers(given)
        unparseable = reasons.isna() & revenue.isna() & _stated_numbers(given).notna()
        reasons[unparseable] = [f"unparseable revenue ({roles['revenue']}): {v!r}"
                                for v in given[unparseable]]
    valid_ids = ids[reasons.isna()]
    duplicate = valid_ids[valid_ids.duplicated()]
    kept_row = pd.Series(valid_ids.index, index=valid_ids.values).groupby(level=0).first()
    reasons[duplicate.index] = [f"duplicate ticket id {i!r} (kept row {kept_row[i]})" for i in duplicate]
    accepted = reasons.isna()

    tickets = pd.DataFrame({TicketCols.ticket_id: ids, TicketCols.created_at: timestamps},
                           index=raw.index)
    if "subject" in roles:
        tickets[TicketCols.subject] = raw[roles["subject"]]
    tickets[TicketCols.text] = texts
    for role in ("customer", "agent", "account", "segment"):
        if role in roles:
            tickets[ROLE_OUTPUT[role]] = _stripped(raw[roles[role]])
    if "revenue" in roles:
        tickets[TicketCols.revenue] = revenue
    for column in dimensions:
        tickets[_dimension_name(column, roles)] = _stripped(raw[column])
    used = _role_columns(roles) | set(dimensions)
    for column in raw.columns:
        if column not in used:
            tickets[_output_name(column, RESERVED_TICKET_NAMES)] = raw[column]
    tickets[TicketCols.source_row] = raw.index.astype("int64")
    tickets = tickets[accepted].reset_index(drop=True)

    rejected = raw[~accepted]
    quarantine = pd.DataFrame({_output_name(c, RESERVED_QUARANTINE_NAMES): _as_str(rejected[c])
                               for c in raw.columns}, index=rejected.index)
    quarantine[QuarantineCols.reason] = reasons[~accepted].astype("str")
    quarantine[QuarantineCols.source] = source
    quarantine[QuarantineCols.source_row] = quarantine.index.astype("int64")
    return tickets, quarantine.reset_index(drop=True)


def utc_timestamps(values: pd.Series) -> pd.Series:
    """``values`` as UTC timestamps (naive ones are taken as UTC); NaT where missing or unparseable."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        # Epoch numbers: seconds, or milliseconds once they pass the year 5138 in seconds.
        unit = "ms" if values.abs().max() > 1e11 else "s"
        return pd.to_datetime(values, utc=True, unit=unit, errors="coerce")
    text = _stripped(values)
    if text.notna().any() and text.dropna().str.fullmatch(r"\d{9,13}").all():
        return utc_timestamps(pd.to_numeric(text))
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    retry = parsed.isna() & text.notna()
    if retry.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed[retry] = pd.to_datetime(text[retry], utc=True, errors="coerce", format="mixed")
    return parsed


def revenue_numbers(values: pd.Series) -> pd.Series:
    """``values`` as float64: numbers as they are; text such as ``1200.5``, ``$1,200.50`` or
    ``€ 99`` read as a number (currency signs, spaces and thousands commas dropped); NaN
    where missing (also "n/a", "-", "none", "null") or not a number."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = _stated_numbers(values).str.replace(CURRENCY_MARKS, "", regex=True)
    text = text.where(~text.str.fullmatch(THOUSANDS, na=False), text.str.replace(",", "", regex=False))
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _stated_numbers(values: pd.Series) -> pd.Series:
    """``values`` as trimmed text; missing where empty or a "not a number" mark ("n/a", "-")."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return _as_str(values)
    text = _stripped(values)
    return text.where(~text.str.lower().isin(NOT_A_NUMBER))


def _ticket_texts(raw: pd.DataFrame, roles: dict[str, str | list[str]]) -> pd.Series:
    """Subject, a blank line, then each body column: raw, only trimmed; "" when all are empty."""
    columns = ([roles["subject"]] if "subject" in roles else []) + list(roles.get("body", []))
    parts = [_stripped(raw[c]).fillna("").tolist() for c in columns]
    return pd.Series(["\n\n".join(p for p in row if p) for row in zip(*parts)],
                     index=raw.index, dtype="str")


def _row_ids(raw: pd.DataFrame, roles: dict[str, str | list[str]], texts: pd.Series) -> pd.Series:
    """Stable ids for an input without an id column: a hash of text, date and customer, so a
    re-export in another order keeps them and an exact duplicate row is caught as one."""
    keys = [texts] + [_as_str(raw[roles[r]]).fillna("") for r in ("created_at", "customer") if r in roles]
    ids = ["row-" + hashlib.sha256("\x1f".join(k).encode()).hexdigest()[:12] for k in zip(*keys)]
    return pd.Series(ids, index=raw.index, dtype="str")


def _csv_rows(text: str, delimiter: str, path: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    # A narrative field can exceed the csv module's default 128 KiB limit.
    csv.field_size_limit(2**31 - 1)
    fmt = _csv_format(text, delimiter)
    records = (r for r in csv.reader(io.StringIO(text), **fmt) if r)
    names = _unique_names(next(records))
    rows, numbers, rejected = [], [], []
    number = 0
    try:
        for number, record in enumerate(records, start=1):
            if len(record) > len(names) and any(v.strip() for v in record[len(names):]):
                rejected.append({RAW_LINE: fmt["delimiter"].join(record), QuarantineCols.source_row: number,
                                 QuarantineCols.reason: f"expected {len(names)} fields, found {len(record)}"})
                continue
            rows.append(record[:len(names)] + [None] * (len(names) - len(record)))
            numbers.append(number)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot split data row {number + 1} into fields ({exc}); check its "
                         "quoting, or set [input] delimiter") from exc
    if not rows and not rejected:
        raise InputError(f"{path} has a header but no data rows; export at least one ticket")
    frame = pd.DataFrame(rows, columns=names, index=pd.Index(numbers, dtype="int64"), dtype="str")
    return frame.where(frame != ""), rejected


def _csv_format(text: str, delimiter: str) -> dict[str, Any]:
    """csv.reader keyword arguments: the configured delimiter, else clevercsv's sniffed dialect."""
    if delimiter != "auto":
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        if len(delimiter) != 1:
            raise InputError(f"[input] delimiter must be one character, \"tab\" or \"auto\"; "
                             f"got {delimiter!r}")
        return {"delimiter": delimiter, "quotechar": '"'}
    header = text.split("\n", 1)[0]
    candidates = [d for d in CSV_DELIMITERS if d in header]
    if not candidates:      # a single column; no character will split it
        return {"delimiter": "\x1f", "quotechar": '"'}
    sample = text[:SNIFF_CHARS].rsplit("\n", 1)[0] if len(text) > SNIFF_CHARS else text
    dialect = clevercsv.Sniffer().sniff(sample, delimiters=candidates)
    if dialect is None or dialect.delimiter not in candidates:
        return {"delimiter": max(candidates, key=header.count), "quotechar": '"'}
    return {"delimiter": dialect.delimiter, "quotechar": dialect.quotechar or '"',
            "escapechar": dialect.escapechar or None}


def _jsonl_rows(text: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    records, numbers, rejected = [], [], []
    # Split on "\n" only: str.splitlines would also break at U+2028 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})"
        else:
            if isinstance(record, dict):
                records.append({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                                for k, v in record.items()})
                numbers.append(number)
                continue
            reason = f"line {number} is a JSON {type(record).__name__}, not an object"
        rejected.append({RAW_LINE: line, QuarantineCols.reason: reason,
                         QuarantineCols.source_row: number})
    return pd.DataFrame.from_records(records, index=pd.Index(numbers, dtype="int64")), rejected


def _parquet_rows(data: bytes, path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable Parquet file ({exc}); re-export it, or set "
                         "[input] format if the extension is wrong") from exc
    frame.columns = _unique_names([str(c) for c in frame.columns])
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(_scalar)
    return frame.set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)


def _quarantine_frame(rejected: list[dict[str, Any]], source: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rejected, columns=[RAW_LINE, QuarantineCols.reason,
                                                         QuarantineCols.source_row])
    frame[QuarantineCols.source] = source
    return frame.astype({RAW_LINE: "str", QuarantineCols.reason: "str",
                         QuarantineCols.source: "str", QuarantineCols.source_row: "int64"})


def _configured_column(name: str, setting: str, columns: list[str], path: Path) -> str:
    """The input column a ``[columns]`` setting names: exactly, else ignoring case and separators."""
    if name in columns:
        return name
    matches = [c for c in columns if _name_key(c) == _name_key(name)]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"column {name!r} (set by columns.{setting}) is not in {path.name}; available "
                     f"columns: {', '.join(columns)}. Fix [columns] {setting} in iceberg.toml or "
                     f"--set columns.{setting}=...")


def _role_columns(roles: dict[str, str | list[str]]) -> set[str]:
    return {c for v in roles.values() for c in (v if isinstance(v, list) else [v])}


def _name_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def _dimension_name(column: str, roles: dict[str, str | list[str]]) -> str:
    """A dimension's name in ``tickets``: the segment's role name, else the input's (see ``_output_name``)."""
    if roles.get(DIMENSION_ROLE) == column:
        return ROLE_OUTPUT[DIMENSION_ROLE]
    return _output_name(column, RESERVED_TICKET_NAMES)


def _output_name(column: str, reserved: set[str]) -> str:
    return f"input_{column}" if column in reserved else column


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, name in enumerate(header, start=1):
        name = name.strip() or f"column_{i}"
        base, n = name, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def _scalar(value: Any) -> Any:
    """A Parquet list or struct cell as JSON text, so that every cell is hashable."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value


def _is_measurement(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    return pd.api.types.is_float_dtype(values) and not (values.dropna() % 1 == 0).all()


def _as_str(values: pd.Series) -> pd.Series:
    """Values as text, missing kept missing; whole floats (ids read through NaN) without ".0"."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("str")


def _stripped(values: pd.Series) -> pd.Series:
    return _as_str(values).str.strip().replace("", None)


# --- events: releases, deploys, campaigns ----------------------------------------------

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
    text = decoded_text(path.read_bytes(), "auto", path)
    rows = [r for r in csv.reader(io.StringIO(text)) if any(v.strip() for v in r)]
    columns = [_name_key(c) for c in rows[0]] if rows else []
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
