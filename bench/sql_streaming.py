"""Peak memory of reading an SQL table: ``SqlReader``'s streamed batches vs ``pd.read_sql``.

Writes a SQLite table of N tickets (default 200,000, ~300 characters of text each) to a
temporary folder, then, each in a fresh subprocess so that peaks do not mix, measures the
peak resident memory (``ru_maxrss``) above the interpreter's baseline of:

- ``stream``: iterating ``SqlReader.batches()`` (server-side cursor, ``input.sql_batch_rows``
  rows per fetch), keeping only a count — what the reader itself holds;
- ``read_sql``: ``pd.read_sql`` of the whole table — the one-call alternative;
- ``read_tickets``: the full ``read_tickets`` on the SQL source — ingest keeps every row,
  so this is the end-to-end peak whatever the reader does.

The three run interleaved, ``--repeats`` times each. Usage::

    python -m bench.sql_streaming --rows 200000 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = ("stream", "read_sql", "read_tickets")
WORDS = ("card declined payment refund login crash update app account transfer blocked pin "
         "verify identity delivery parcel invoice vat password reset").split()


def write_table(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, created_at TEXT, subject TEXT, body TEXT, "
                   "requester_id INTEGER, channel TEXT, priority TEXT)")
        batch = []
        for i in range(1, rows + 1):
            body = " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 50))
            batch.append((i, f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z", f"Ticket {i}", body,
                          i % 5000, ("email", "web", "chat")[i % 3], ("low", "normal", "high")[i % 3]))
            if len(batch) == 10_000:
                db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                batch = []
        db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?)", batch)


def measure(mode: str, url: str) -> dict:
    """Run in the child: the peak RSS growth (MiB) of one way of reading the table."""
    import resource

    import pandas as pd

    from pipeline.config import load_config
    from pipeline.sources import SqlReader, read_tickets

    config = load_config(overrides={"input.source": "sql", "input.sql_url": url,
                                    "input.sql_table": "tickets"})
    import sqlalchemy  # noqa: F401  (imported before the baseline, like pandas)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "stream":
        rows = sum(len(b.rows) for b in SqlReader(config.input).batches())
    elif mode == "read_sql":
        rows = len(pd.read_sql("SELECT * FROM tickets", url))
    else:
        rows = len(read_tickets(None, config).tickets)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mode": mode, "rows": rows, "peak_growth_mib": round((peak - before) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tickets.db"
        write_table(path, args.rows)
        url = f"sqlite:///{path}"
        print(f"{args.rows:,} rows, SQLite file {path.stat().st_size / 2**20:.0f} MiB")
        for repeat in range(args.repeats):
            for mode in MODES:
                out = subprocess.run([sys.executable, "-m", "bench.sql_streaming", "--child", mode, url],
                                     capture_output=True, text=True, check=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                print(f"repeat {repeat + 1}  {mode:12s}  rows {result['rows']:>9,}  "
                      f"peak RSS growth {result['peak_growth_mib']:>8.1f} MiB")


if __name__ == "__main__":
    main()
