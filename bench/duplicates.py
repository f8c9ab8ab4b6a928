"""Identical tickets: a block of copies forms its own iceberg and does not collapse the rest.

Three cases on real Banking77 queries (``tests/data/banking77_slice.csv``, so it runs from
the repository alone): 60 identical tickets alone; 300 ordinary tickets; the same 300
plus 40 identical ones. Prints icebergs, the largest one and the tickets outside.

    python bench/duplicates.py
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from pipeline.config import load_config  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.store import load_run  # noqa: E402

q = pd.read_csv(REPO / "tests" / "data" / "banking77_slice.csv")
ordinary = q.sample(300, random_state=0).reset_index(drop=True)
same = "My card payment was declined again at the supermarket today"
cases = {
  "60 identical": pd.DataFrame({"text": [same] * 60}),
  "300 ordinary": ordinary[["text"]],
  "300 ordinary + 40 identical": pd.concat([ordinary[["text"]], pd.DataFrame({"text": [same] * 40})], ignore_index=True),
}
for name, frame in cases.items():
    with tempfile.TemporaryDirectory() as tmp:
        frame = frame.assign(ticket_id=[f"T{i:04d}" for i in range(len(frame))])
        csv = Path(tmp) / "t.csv"; frame[["ticket_id", "text"]].to_csv(csv, index=False)
        run(csv, Path(tmp) / "out", load_config(), progress=False, mode="full")
        t = load_run(Path(tmp) / "out").tickets
        sizes = t["iceberg_id"].value_counts()
        print(f"{name:<28} {len(sizes):>3} icebergs, largest {sizes.max() if len(sizes) else 0}, outside {t['iceberg_id'].isna().sum()}")
