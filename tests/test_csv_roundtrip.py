"""Property: any ticket table written by pandas or the csv module, in any common dialect, reads back exactly.

Raw rows level (``CsvReader``), before any cleaning: every field comes back as written
("" as missing), in order, with the writer's delimiter — quotes, commas, line breaks,
backticks and any Unicode inside the texts included.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.sources import CsvReader

# Text as helpdesk bodies hold it: quotes, delimiters, line breaks, backticks, any script
# (control characters aside from tab, CR and LF: a NUL is removed by ingest and counted).
PIECES = st.one_of(st.sampled_from(list(",;\t|\"'`\n\r{}[]#*<>&=+-@\\ ") + ["\r\n", "```", '""', ", "]),
                   st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8))
# A text ending in a bare CR is left out: with QUOTE_MINIMAL and "\n" line endings both writers
# leave it unquoted, so as a row's last field it reads exactly like a "\r\n" line ending.
TEXT = st.lists(PIECES, max_size=12).map("".join).map(lambda t: t + "." if t.endswith("\r") else t)
DIMENSION = st.sampled_from(["App", "Web", "Card", "", "EU, west", 'say "hi"', "Ærø", "🙂"])
DATE = st.dates(min_value=pd.Timestamp("1995-01-01").date(), max_value=pd.Timestamp("2026-01-01").date())


@st.composite
def ticket_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=12))
    ids = draw(st.lists(st.from_regex(r"[A-Z]{0,2}[0-9]{1,6}", fullmatch=True), min_size=n, max_size=n,
                        unique=True))
    date_format = draw(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%SZ"]))
    table = {"ticket_id": ids,
             "created_at": [d.strftime(date_format) for d in draw(st.lists(DATE, min_size=n, max_size=n))],
             "subject": draw(st.lists(TEXT, min_size=n, max_size=n)),
             "body": draw(st.lists(TEXT, min_size=n, max_size=n))}
    for name in draw(st.lists(st.sampled_from(["product", "region", "queue"]), unique=True, max_size=3)):
        table[name] = draw(st.lists(DIMENSION, min_size=n, max_size=n))
    return pd.DataFrame(table, dtype="str")


DIALECTS = st.fixed_dictionaries({
    "writer": st.sampled_from(["pandas", "csv"]),
    "delimiter": st.sampled_from([",", ";", "\t"]),
    "quoting": st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    "lineterminator": st.sampled_from(["\n", "\r\n"]),
})


def written(table: pd.DataFrame, dialect: dict) -> bytes:
    out = io.StringIO(newline="")
    if dialect["writer"] == "pandas":
        table.to_csv(out, index=False, sep=dialect["delimiter"], quoting=dialect["quoting"],
                     lineterminator=dialect["lineterminator"])
    else:
        writer = csv.writer(out, delimiter=dialect["delimiter"], quoting=dialect["quoting"],
                            lineterminator=dialect["lineterminator"])
        writer.writerow(table.columns)
        writer.writerows(table.itertuples(index=False))
    return out.getvalue().encode("utf-8")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(table=ticket_tables(), dialect=DIALECTS)
def test_written_tables_read_back_exactly(tmp_path, table, dialect):
    path = tmp_path / "tickets.csv"
    path.write_bytes(written(table, dialect))
    reader = CsvReader(path)
    batches = list(reader.batches())
    read = pd.concat([b.rows for b in batches])
    assert not any(b.rejected for b in batches), (table.values.tolist(), [b.rejected for b in batches])
    assert reader.description()["dialect"]["delimiter"] == dialect["delimiter"]
    assert reader.description()["rows"] == len(table)
    assert list(read.columns) == list(table.columns)
    assert read.index.tolist() == list(range(1, len(table) + 1))
    expected = table.where(table != "")
    assert read.fillna("\0").values.tolist() == expected.fillna("\0").values.tolist()
