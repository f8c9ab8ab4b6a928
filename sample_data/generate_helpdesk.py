"""Write the bundled demo export and its answer key from the real Banking77 queries.

Example (the committed files were made exactly like this, from local copies of the
two Banking77 CSVs; without --queries they are read from GitHub at a pinned commit):

    python sample_data/generate_helpdesk.py --queries train.csv.gz test.csv.gz

writes sample_data/helpdesk_tickets.csv and sample_data/helpdesk_tickets.truth.json.
The same seed and queries always give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.planted import add_malformed_rows, planted_helpdesk  # noqa: E402

BANKING77_COMMIT = "57ec275d8078af65b7731c2a98be812d844a6d6b"
BANKING77_URLS = [
    f"https://raw.githubusercontent.com/PolyAI-LDN/task-specific-datasets/{BANKING77_COMMIT}"
    f"/banking_data/{split}.csv" for split in ("train", "test")
]


def truth_path(csv_path: Path) -> Path:
    """``x/helpdesk_tickets.csv`` -> ``x/helpdesk_tickets.truth.json``."""
    return csv_path.with_name(csv_path.stem + ".truth.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data" / "helpdesk_tickets.csv",
                        help="CSV to write; the answer key goes next to it as <name>.truth.json")
    parser.add_argument("--queries", nargs="+", default=BANKING77_URLS, metavar="CSV",
                        help="Banking77 train and test CSVs (text,category), paths or URLs, "
                             "concatenated in the order given (default: GitHub, pinned commit)")
    parser.add_argument("--tickets", type=int, default=4000, help="well-formed tickets (default 4000)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1),
                        help="first day, YYYY-MM-DD (default 2024-01-01)")
    parser.add_argument("--days", type=int, default=182, help="length of the period (default 182)")
    parser.add_argument("--planted", type=int, default=4, help="planted icebergs (default 4)")
    parser.add_argument("--decoys", type=int, default=3, help="large flat decoys (default 3)")
    args = parser.parse_args(argv)

    queries = pd.concat([pd.read_csv(q) for q in args.queries], ignore_index=True)
    data = planted_helpdesk(queries, seed=args.seed, n_tickets=args.tickets, start=args.start,
                            days=args.days, n_planted=args.planted, n_decoys=args.decoys)
    data = add_malformed_rows(data, seed=args.seed)
    truth = {**data.truth, "queries": {
        "source": f"Banking77 (PolyAI-LDN/task-specific-datasets@{BANKING77_COMMIT[:12]}), "
                  "train then test", "rows": len(queries)}}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    data.tickets.to_csv(args.out, index=False, lineterminator="\n", encoding="utf-8")
    truth_path(args.out).write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    print(f"wrote {args.out} ({len(data.tickets)} rows, {len(truth['malformed'])} malformed) "
          f"and {truth_path(args.out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
