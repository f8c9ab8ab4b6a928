"""Template fragments and duplicates: does a sentence shared across topics, or a block of
identical tickets, collapse the clustering?

Builds 20,000 real customer texts — all 13,083 Banking77 queries (77 intents) and 6,917
CFPB complaint narratives labelled with their product (5,911 from the product-only file,
the first 1,006 narratives of the metadata file) — and runs the pipeline on three
variants of them, each in a fresh output folder (the embedding cache is shared):

- ``plain``: the texts as they are;
- ``greetings``: light greetings and sign-offs on about half the tickets ("Hi,", "Hello
  team," before; "Thanks", "Best regards, Sam" after), as helpdesk text has;
- ``fragments``: the greetings, plus a quarter of the tickets ending with an order
  reference sentence, ``Order 482913.``, whose number differs per ticket;
- ``duplicates``: the plain texts plus 400 copies of one real query, as an auto-generated
  ticket or a copy-paste campaign produces.

For each it prints the icebergs, the largest iceberg's share of the tickets, the share
outside any iceberg, NMI and ARI against the intents/products (outside = one class), and
what the prepare and cluster stages recorded about templates and duplicates.

    python bench/templates.py                      # needs ../shared/data
    python bench/templates.py --variants fragments --json out.json
    python bench/templates.py --corpus banking77 --cache bench/results/templates-cache
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
VARIANTS = ("plain", "greetings", "fragments", "duplicates")
GREETINGS = ("Hi,", "Hello team,", "Hi there,", "Good morning,")
SIGN_OFFS = ("Thanks", "Thank you!", "Best regards, Sam", "Cheers")


def real_texts(data: Path) -> pd.DataFrame:
    banking = [data / "banking77" / f for f in ("train.csv.gz", "test.csv.gz")]
    cfpb = data / "cfpb_complaints"
    needed = banking + [cfpb / "cfpb_narratives_product_only.csv.gz", cfpb / "cfpb_complaints_with_metadata.csv.gz"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        sys.exit(f"data not found: {', '.join(missing)}; pass --data DIR (the shared data folder)")
    queries = pd.concat([pd.read_csv(p) for p in banking], ignore_index=True)
    product_only = pd.read_csv(cfpb / "cfpb_narratives_product_only.csv.gz")
    with_metadata = pd.read_csv(cfpb / "cfpb_complaints_with_metadata.csv.gz", low_memory=False)
    with_metadata = with_metadata.dropna(subset=["Consumer complaint narrative"]).head(1_006)
    narratives = pd.concat([product_only, with_metadata], ignore_index=True)
    frame = pd.concat([
        pd.DataFrame({"text": queries["text"], "label": "b77:" + queries["category"]}),
        pd.DataFrame({"text": narratives["Consumer complaint narrative"], "label": "cfpb:" + narratives["Product"]}),
    ], ignore_index=True)
    frame.insert(0, "ticket_id", [f"T{i:05d}" for i in range(len(frame))])
    return frame


def variant(frame: pd.DataFrame, name: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = frame["text"].to_numpy(dtype=object).copy()
    if name in ("greetings", "fragments"):
        for i in np.flatnonzero(rng.random(len(texts)) < 0.5):
            texts[i] = f"{rng.choice(GREETINGS)} {texts[i]}"
        for i in np.flatnonzero(rng.random(len(texts)) < 0.5):
            texts[i] = f"{texts[i]}\n{rng.choice(SIGN_OFFS)}"
    if name == "fragments":
        for i in np.flatnonzero(rng.random(len(texts)) < 0.25):
            texts[i] = f"{texts[i]} Order {rng.integers(100_000, 999_999)}."
    out = frame.assign(text=texts)
    if name == "duplicates":
        copies = out.iloc[[0] * 400].assign(ticket_id=[f"D{i:04d}" for i in range(400)])
        out = pd.concat([out, copies], ignore_index=True)
    return out


def measured(frame: pd.DataFrame, out: Path, cache: Path, assignments: list[str]) -> dict:
    from pipeline.config import load_config, parse_assignments
    from pipeline.run import run
    from pipeline.store import load_run

    csv = out.parent / f"{out.name}.csv"
    frame[["ticket_id", "text"]].to_csv(csv, index=False)
    out.mkdir(parents=True)
    (out / "cache").symlink_to(cache, target_is_directory=True)
    started = time.perf_counter()
    result = run(csv, out, load_config(overrides=parse_assignments(assignments)), progress=False, mode="full")
    wall = time.perf_counter() - started
    tickets = load_run(out).tickets.set_index("ticket_id")
    truth = frame.set_index("ticket_id")["label"].loc[tickets.index]
    predicted = tickets["iceberg_id"].fillna("(outside)")
    sizes = tickets["iceberg_id"].value_counts()
    stages = {s["name"]: s for s in result.manifest.stages}
    return {
        "tickets": len(tickets), "icebergs": result.manifest.counts.icebergs,
        "largest_share": round(float(sizes.max() / len(tickets)), 3) if len(sizes) else 0.0,
        "outside_share": round(result.manifest.counts.unclustered / len(tickets), 3),
        "nmi": round(normalized_mutual_info_score(truth, predicted), 3),
        "ari": round(adjusted_rand_score(truth, predicted), 3),
        "seconds": round(wall, 1),
        "prepare": {k: v for k, v in stages["prepare"].items() if k not in ("name", "rows_in", "rows_out")},
        "cluster": {k: v for k, v in stages["cluster"].items() if k not in ("name", "rows_in", "rows_out")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--corpus", choices=("mixed", "banking77"), default="mixed",
                        help="mixed: Banking77 + CFPB narratives (20,000); banking77: its 13,083 queries only")
    parser.add_argument("--cache", type=Path, help="keep the embedding cache here between invocations")
    parser.add_argument("--set", dest="assignments", action="append", default=[],
                        help="a setting for every run, e.g. --set cluster.max_share=0.2")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    frame = real_texts(args.data)
    if args.corpus == "banking77":
        frame = frame[frame["label"].str.startswith("b77:")].reset_index(drop=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "shared-cache"
        cache.mkdir(parents=True, exist_ok=True)
        for name in args.variants:
            results[name] = measured(variant(frame, name), Path(tmp) / name, cache, args.assignments)
            r = results[name]
            print(f"{name:<11} {r['tickets']:>6,} tickets  {r['icebergs']:>4} icebergs  largest "
                  f"{r['largest_share']:.1%}  outside {r['outside_share']:.1%}  NMI {r['nmi']:.3f}  "
                  f"ARI {r['ari']:.3f}  {r['seconds']:.0f} s", flush=True)
            print(f"{'':<11} prepare {r['prepare']}  cluster {r['cluster']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
