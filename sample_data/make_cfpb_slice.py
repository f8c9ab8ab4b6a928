"""Cut sample_data/cfpb_complaints.csv.gz: the real CFPB complaints that have a narrative.

Example:

    python sample_data/make_cfpb_slice.py cfpb_complaints_with_metadata.csv.gz

The input is the merged CFPB file described in sample_data/README.md (canonical CFPB
column names). Rows keep their input order and their values verbatim; only the columns
below are kept. The output is gzipped with mtime 0, so the same input always gives
byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from pathlib import Path

COLUMNS = ("Date received", "Product", "Sub-product", "Issue", "Sub-issue",
           "Consumer complaint narrative", "Company", "State", "Tags", "Submitted via",
           "Company response to consumer", "Timely response?", "Complaint ID")
NARRATIVE = "Consumer complaint narrative"
DEFAULT_OUT = Path(__file__).resolve().parent / "cfpb_complaints.csv.gz"


def narrative_rows(source: Path) -> list[dict[str, str]]:
    """The rows of ``source`` (CSV, optionally gzipped) whose narrative is not blank."""
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{source}: missing column(s) {missing}; expected the CFPB "
                             "export's column names, e.g. 'Consumer complaint narrative'")
        return [{c: row[c] for c in COLUMNS} for row in reader if row[NARRATIVE].strip()]


def write_gzipped_csv(rows: list[dict[str, str]], out: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                              compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="cfpb_complaints_with_metadata.csv(.gz)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"gzipped CSV to write (default {DEFAULT_OUT.name} next to this script)")
    args = parser.parse_args(argv)
    rows = narrative_rows(args.source)
    write_gzipped_csv(rows, args.out)
    print(f"wrote {args.out} ({len(rows)} complaints with a narrative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
