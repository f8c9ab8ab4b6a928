"""How Iceberg scales: ``iceberg run`` on 10k / 100k / 1M tickets, seconds and peak memory per stage.

    python bench/scale.py                                  # 10,000 and 100,000 tickets
    python bench/scale.py --sizes 1000000 --nice           # the 1M run, politely (≈ 20 min)
    python bench/scale.py --sizes 100000 --nightly         # + a nightly run adding 1 % new tickets
    python bench/scale.py --json bench/results/scale.json  # also save every figure

The export (``bench.dashboard_data.dashboard_export``, one seed, so the same N gives the
same file): real texts — the 13,083 Banking77 queries and the 5,911 CFPB narratives with a
product, from ``../shared/data`` (exit code 2, saying which file is missing, when they are
absent) — drawn into N tickets over a year (2024) with ``bench.planted.planted_helpdesk``'s
metadata: customer, 300 agents, product, platform, app_version, region, channel, plan, and
four planted problems. So that recurring queries are mostly distinct tickets, each
Banking77 query is perturbed (``dashboard_data.perturbed``: a dropped word, a typo, a
context phrase such as "since this morning", lower case), wrapped as its channel would
deliver it (``bench.ticket_text``: greetings, sign-offs, signatures, quoted replies, HTML)
and, here, one ticket in four gets an order or reference number ("Order #4821937").
The export is written once per size to ``--work`` (CSV) and reused.

Each size runs ``python -m pipeline run --mode full`` in a cold subprocess on a fresh
output folder whose ``cache/embeddings`` is the persistent ``--cache`` folder, so a second
invocation does not embed again: each run is reported **cold** (every text embedded) or
**cached** (its hits). Per stage it prints seconds, tickets/s (rows in / seconds) and
``peak_rss_mb`` from the manifest; then the wall time and the process's peak RSS (its
``wait4`` rusage). ``--nightly`` then builds the same export with 1 % more tickets — the
newest, created after every ticket of the full run — and runs ``iceberg run`` (mode auto,
which assigns) on it in the same output folder: the cost of a night against the full run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import shared_data  # noqa: E402

DEFAULT_WORK = REPO / "bench" / "results" / "scale"
DEFAULT_SIZES = (10_000, 100_000)
ORDER_SHARE = 0.25
ORDER_TEMPLATES = ("Order #{}", "Order number {}.", "Ref: {}", "My reference is {}.", "Case {}")
NIGHTLY_SHARE = 0.01
SEED = 11



def with_order_numbers(tickets: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``ORDER_SHARE`` of the tickets with an order or reference number after their body."""
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(len(tickets)) < ORDER_SHARE)
    numbers = rng.integers(1_000_000, 99_999_999, len(chosen))
    templates = rng.integers(len(ORDER_TEMPLATES), size=len(chosen))
    body = tickets["body"].to_numpy(dtype=object).copy()
    for row, number, template in zip(chosen, numbers, templates):
        body[row] = f"{body[row]}\n\n{ORDER_TEMPLATES[template].format(number)}"
    return tickets.assign(body=body)


def export(work: Path, data: Path, n: int, seed: int = SEED) -> Path:
    """``work/tickets-<n>.csv`` (``-seed<seed>`` for another seed), built when missing."""
    path = work / (f"tickets-{n}.csv" if seed == SEED else f"tickets-{n}-seed{seed}.csv")
    if path.is_file():
        return path
    from bench.dashboard_data import dashboard_export

    started = time.perf_counter()
    tickets, _ = dashboard_export(data, n_tickets=n, seed=seed)
    tickets = with_order_numbers(tickets, seed)
    work.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    tickets.to_csv(partial, index=False)
    partial.replace(path)
    distinct = tickets["body"].nunique()
    print(f"  built {path.name}: {len(tickets):,} tickets, {distinct:,} distinct bodies "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    return path


def nightly_export(work: Path, full: Path, data: Path, n: int) -> Path:
    """The full run's tickets plus ``NIGHTLY_SHARE`` × n newer ones (a night's new tickets),
    drawn from an export with another seed, so their perturbed texts are mostly new."""
    path = work / f"tickets-{n}-nightly.csv"
    if path.is_file():
        return path
    tickets = pd.read_csv(full, dtype=str, keep_default_na=False)
    extra = int(round(n * NIGHTLY_SHARE))
    source = pd.read_csv(export(work, data, max(extra, 1_000) * 10, seed=SEED + 1), dtype=str,
                         keep_default_na=False)
    new = source.sample(extra, random_state=SEED).copy()
    last = pd.to_datetime(tickets["created_at"], utc=True).max()
    offsets = pd.to_timedelta(np.sort(np.random.default_rng(SEED).uniform(0, 86_400, extra)), unit="s")
    new["created_at"] = (last + pd.Timedelta(seconds=1) + offsets).strftime("%Y-%m-%dT%H:%M:%SZ")
    new["ticket_id"] = [f"N{i:07d}" for i in range(extra)]
    pd.concat([tickets, new], ignore_index=True).to_csv(path, index=False)
    return path


def timed_run(csv: Path, out: Path, mode: str, nice: bool, assignments: list[str]) -> dict:
    """One cold ``iceberg run``: its manifest, wall seconds and the process's peak RSS."""
    command = [sys.executable, "-m", "pipeline", "run", "--quiet", "--input", str(csv), "--out", str(out),
               "--mode", mode, *[a for s in assignments for a in ("--set", s)]]
    if nice:
        command = ["nice", "-n", "10", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"iceberg run failed with exit code {process.returncode} on {csv}")
    run_id = (out / "latest").read_text().strip()
    manifest = json.loads((out / "runs" / run_id / "manifest.json").read_text())
    return {"wall_s": round(wall, 1), "process_peak_rss_mb": round(usage.ru_maxrss / 1024),
            "manifest": manifest}


def fresh_out(work: Path, n: int, cache: Path) -> Path:
    out = work / f"out-{n}"
    shutil.rmtree(out, ignore_errors=True)
    (out / "cache").mkdir(parents=True)
    cache.mkdir(parents=True, exist_ok=True)
    (out / "cache" / "embeddings").symlink_to(cache.resolve(), target_is_directory=True)
    return out


def summary(measured: dict) -> dict:
    manifest = measured["manifest"]
    emb = manifest["embedding"]
    tickets = manifest["counts"]["tickets"]
    stages = [{"name": s["name"], "seconds": s["seconds"], "rows_in": s["rows_in"],
               "per_second": round(s["rows_in"] / s["seconds"]) if s["rows_in"] and s["seconds"] else None,
               "peak_rss_mb": s.get("peak_rss_mb")} for s in manifest["stages"]]
    return {"tickets": tickets, "icebergs": manifest["counts"]["icebergs"],
            "in_icebergs": manifest["counts"]["in_icebergs"],
            "mode": manifest["incremental"]["mode"],
            "embedding": "cold" if emb["cache_hits"] == 0 else
                         f"cached ({emb['cache_hits']:,} hits, {emb['cache_misses']:,} embedded)",
            "texts_per_second": emb.get("texts_per_second"),
            "wall_s": measured["wall_s"], "process_peak_rss_mb": measured["process_peak_rss_mb"],
            "stages": stages}


def printed(label: str, figures: dict) -> None:
    print(f"\n{label}: {figures['tickets']:,} tickets, mode {figures['mode']}, embedding {figures['embedding']}"
          f", {figures['icebergs']} icebergs holding {figures['in_icebergs']:,} tickets")
    print(f"  {'stage':<10}{'seconds':>10}{'tickets/s':>12}{'peak RSS MB':>14}")
    for s in figures["stages"]:
        rate = f"{s['per_second']:,}" if s["per_second"] else "-"
        print(f"  {s['name']:<10}{s['seconds']:>10.1f}{rate:>12}{s['peak_rss_mb'] or 0:>14,.0f}")
    print(f"  {'wall':<10}{figures['wall_s']:>10.1f}{'':>12}{figures['process_peak_rss_mb']:>14,}  "
          "(process peak RSS)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--data", type=Path, default=shared_data(),
                        help="folder with banking77/ and cfpb_complaints/ (default ../shared/data)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="where the exports and output folders go (default bench/results/scale)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="persistent embedding cache folder (default WORK/embeddings)")
    parser.add_argument("--nightly", action="store_true",
                        help="after each full run, a run with 1 %% newer tickets in the same folder")
    parser.add_argument("--nice", action="store_true", help="run iceberg under nice -n 10")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, default=None, help="also save every figure here")
    args = parser.parse_args(argv)
    cache = args.cache or args.work / "embeddings"
    results = {}
    for n in args.sizes:
        print(f"{n:,} tickets", flush=True)
        try:
            csv = export(args.work, args.data, n)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        out = fresh_out(args.work, n, cache)
        full = summary(timed_run(csv, out, "full", args.nice, args.assignments))
        printed(f"{n:,} full run", full)
        results[n] = {"full": full}
        if args.nightly:
            night_csv = nightly_export(args.work, csv, args.data, n)
            night = summary(timed_run(night_csv, out, "auto", args.nice, args.assignments))
            night["ratio_to_full"] = round(night["wall_s"] / full["wall_s"], 3)
            printed(f"{n:,} + 1 % nightly run", night)
            print(f"  nightly / full wall: {night['ratio_to_full']:.1%}")
            results[n]["nightly"] = night
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
