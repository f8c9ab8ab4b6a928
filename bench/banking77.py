"""Banking77 benchmark: cluster quality, speed and the cost of a second, cached run.

All 13,083 Banking77 queries (train + test) go in as a CSV with only ``ticket_id,text``
— no dates, no metadata — and are scored against their 77 intents, counting tickets
outside any iceberg as one extra class. The pipeline runs twice through the real CLI
into a fresh output folder: the second run must embed nothing (``cache_misses = 0``).

    python bench/banking77.py                # needs ../shared/data/banking77
    python bench/banking77.py --data DIR     # another copy of the data

Prints NMI, ARI, share outside, number of icebergs, seconds per stage, embedding
throughput, peak memory and both wall times; ``--json FILE`` also saves them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import shared_data  # noqa: E402

DEFAULT_DATA = shared_data() / "banking77"
TARGETS = {"nmi": 0.75, "ari": 0.30, "outside_share": 0.15, "icebergs": 160,
           "texts_per_second": 350, "second_run_ratio": 1 / 3}


def banking77(data: Path) -> pd.DataFrame:
    files = [data / "train.csv.gz", data / "test.csv.gz"]
    missing = [f for f in files if not f.is_file()]
    if missing:
        sys.exit(f"Banking77 not found: {', '.join(map(str, missing))}. Pass --data DIR "
                 "(a folder with train.csv.gz and test.csv.gz from "
                 "https://github.com/PolyAI-LDN/task-specific-datasets).")
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    frame.insert(0, "ticket_id", [f"B{i:05d}" for i in range(len(frame))])
    return frame


def timed_run(csv: Path, out: Path, extra: list[str]) -> tuple[float, dict]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", "run", "--quiet", "--input", str(csv),
                    "--out", str(out), *extra], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    run_id = (out / "latest").read_text().strip()
    return wall, json.loads((out / "runs" / run_id / "manifest.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", dest="assignments", action="append", default=[],
                        help="passed to iceberg run, e.g. --set cluster.reduce_dim=50")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    frame = banking77(args.data)
    extra = [a for s in args.assignments for a in ("--set", s)]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "banking77.csv"
        frame[["ticket_id", "text"]].to_csv(csv, index=False)
        out = Path(tmp) / "out"
        first_wall, first = timed_run(csv, out, extra)
        second_wall, second = timed_run(csv, out, extra)
        tickets = pd.read_parquet(out / "runs" / second["run_id"] / "tickets.parquet")

    truth = frame.set_index("ticket_id")["category"]
    predicted = tickets.set_index("ticket_id")["iceberg_id"].fillna("(outside)")
    truth = truth.loc[predicted.index]
    figures = {
        "texts": len(frame),
        "nmi": round(normalized_mutual_info_score(truth, predicted), 3),
        "ari": round(adjusted_rand_score(truth, predicted), 3),
        "outside_share": round(first["counts"]["unclustered"] / first["counts"]["tickets"], 3),
        "icebergs": first["counts"]["icebergs"],
        "texts_per_second": first["embedding"]["texts_per_second"],
        "first_run_seconds": round(first_wall, 1),
        "second_run_seconds": round(second_wall, 1),
        "second_run_ratio": round(second_wall / first_wall, 3),
        "second_run_cache_misses": second["embedding"]["cache_misses"],
        "stages_first": {s["name"]: s["seconds"] for s in first["stages"]},
        "stages_second": {s["name"]: s["seconds"] for s in second["stages"]},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "backend": first["embedding"]["key"],
    }
    same = bool(tickets["iceberg_id"].notna().sum() == second["counts"]["in_icebergs"])
    checks = {
        "nmi": figures["nmi"] >= TARGETS["nmi"],
        "ari": figures["ari"] >= TARGETS["ari"],
        "outside_share": figures["outside_share"] <= TARGETS["outside_share"],
        "icebergs": figures["icebergs"] <= TARGETS["icebergs"],
        "texts_per_second": (figures["texts_per_second"] or 0) >= TARGETS["texts_per_second"],
        "second_run_ratio": figures["second_run_ratio"] < TARGETS["second_run_ratio"],
        "second_run_cache_misses": figures["second_run_cache_misses"] == 0 and same,
    }
    print(f"Banking77: {figures['texts']:,} texts, 77 intents, backend {figures['backend']}")
    for key, ok in checks.items():
        target = TARGETS.get(key, 0)
        print(f"  {key:<24} {figures[key]!s:>10}   target {target if key != 'second_run_ratio' else '< 0.333'}"
              f"   {'ok' if ok else 'MISSED'}")
    print(f"  {'first / second run (s)':<24} {figures['first_run_seconds']:>10} / {figures['second_run_seconds']}")
    print(f"  {'peak RSS (MB)':<24} {figures['peak_rss_mb']:>10}")
    print("  stages, first run :", "  ".join(f"{k} {v:.1f}s" for k, v in figures["stages_first"].items()))
    print("  stages, second run:", "  ".join(f"{k} {v:.1f}s" for k, v in figures["stages_second"].items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures | {"checks": {k: bool(v) for k, v in checks.items()}}, indent=2) + "\n")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
