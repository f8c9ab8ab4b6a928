"""Nightly simulation: a 6-month ticket stream fed to Iceberg one day at a time.

Night d runs the pipeline (Python API, one process, one shared embedding model and the
output folder's embedding cache) on every ticket created before the end of day d, in
``auto`` mode — so a full re-cluster happens once the data is ``full_every_days`` (7)
newer than at the last one, and every other night assigns. Afterwards it reports, per
planted iceberg (``bench/planted.py``'s answer key): the id that holds most of its
tickets each night, how often that id changed, when it was born against the planted
onset; and per assign night: its wall time against the time spent embedding its new
tickets (the acceptance: ≤ embedding + 5 s).

What is measured, exactly:

- *held*: an iceberg holds a planted problem on a night when its members and the
  problem's tickets so far have F1 ≥ 0.5 (as the planted benchmark's "found"); the
  holder is the iceberg with the best F1, and *born* the first night there is one. A
  large neighbour that merely contains the problem's first tickets does not hold it.
- *detectable*: the first day by whose end the problem has N tickets, N being the
  outlier pool's ``min_cluster_size`` that day (5 below 3,000 tickets, 6 from 3,000…).
  A problem with fewer tickets cannot form a cluster of its own, so the 7-day check is
  reported both from the planted onset and from this date; the exit code uses the latter.
- *one id*: held every night from its birth to the end, by the same id; a night
  without a holder after birth (the problem absorbed back into a neighbour) breaks it.
- *id changes*: nights the holder changed because an id was created or retired (birth,
  split, merge). *Plurality shifts* (both ids existed on both nights and the larger
  share of the problem's tickets moved from one to the other) are counted apart.

    python bench/nightly.py                          # the bundled sample export (180 nights)
    python bench/nightly.py --nights 30              # a shorter stream
    python bench/nightly.py --generate --planted-size 2.5 3.5   # denser planted icebergs
    python bench/nightly.py --json nightly.json      # also save every figure

``--generate`` builds a fresh planted export from Banking77 (``../shared/data/banking77``)
with ``bench.planted.planted_helpdesk`` instead of reading ``sample_data`` (``--banking77 DIR``
for another folder; exit code 2 when it is missing).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import load_config  # noqa: E402
from pipeline.embed import embedder_from_config  # noqa: E402
from pipeline.run import run  # noqa: E402

SAMPLE = REPO / "sample_data" / "helpdesk_tickets.csv"
ASSIGN_OVERHEAD_S = 5.0
BIRTH_WITHIN_DAYS = 7
HOLD_F1 = 0.5                # an iceberg "holds" a planted problem at this member F1 or more


def stream(args) -> tuple[pd.DataFrame, dict]:
    """The export (all columns as strings) and its answer key."""
    if not args.generate:
        truth = json.loads(SAMPLE.with_name(SAMPLE.stem + ".truth.json").read_text())
        return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), truth
    from bench.planted import planted_helpdesk
    from bench.planted_bench import banking77_queries

    queries = banking77_queries(args.banking77)
    data = planted_helpdesk(queries, seed=args.seed, n_tickets=args.tickets,
                            planted_size=tuple(args.planted_size))
    return data.tickets, data.truth


def simulate(tickets: pd.DataFrame, truth: dict, out: Path, nights: int, config, log=print) -> dict:
    start = pd.Timestamp(truth["period"]["start"], tz="UTC")
    created = pd.to_datetime(tickets["created_at"], utc=True, errors="coerce")
    embedder = embedder_from_config(config.embedding)
    planted = truth["planted"]
    first_day = 2                                        # night 1 sees the first two days
    history, per_night = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for night in range(nights):
            day_end = start + timedelta(days=first_day + night)
            part = tickets[(created < day_end) | created.isna()]
            path = Path(tmp) / "tickets.csv"
            part.to_csv(path, index=False)
            started = time.perf_counter()
            result = run(path, out, config, embedder=embedder, progress=False)
            seconds = time.perf_counter() - started
            m = result.manifest
            inc = m.incremental
            emb = m.embedding
            ids = pd.read_parquet(result.folder / "tickets.parquet", columns=["ticket_id", "iceberg_id"])
            ids = ids.set_index("ticket_id")["iceberg_id"]
            holders = {p["intent"]: _holder(ids, p["ticket_ids"]) for p in planted}
            row = {"night": night + 1, "date": (day_end - timedelta(days=1)).date().isoformat(),
                   "mode": inc["mode"], "seconds": round(seconds, 3), "tickets": m.counts.tickets,
                   "new_tickets": inc["new_tickets"], "cache_misses": emb["cache_misses"],
                   "encode_seconds": emb["encode_seconds"], "icebergs": m.counts.icebergs,
                   "stages": {s["name"]: s["seconds"] for s in m.stages},
                   "pool_born": inc.get("assign", {}).get("pool_born", 0),
                   "pool_decisions": inc.get("assign", {}).get("pool_decisions", []), "holders": holders,
                   "alive": sorted(set(ids.dropna().unique()))}
            per_night.append(row)
            history.append(holders)
            log(f"night {row['night']:3d} {row['date']} {row['mode']:6s} {seconds:6.2f} s  "
                f"{row['tickets']:5d} tickets (+{row['new_tickets']:3d}), {row['icebergs']:3d} icebergs  "
                + "  ".join(f"{h[0] or '-'}:{h[1]:.2f}" for h in holders.values()))
    detectable = _detectable_dates(tickets, created, planted, config, start)
    return {"nights": per_night, "planted": _planted_report(planted, per_night, detectable),
            "assign": _assign_report(per_night), "pool": _pool_report(per_night)}


def _holder(ids: pd.Series, planted_ids: list[str]) -> tuple[str | None, float]:
    """The iceberg with the best member F1 against the planted tickets present tonight, and
    that F1; (None, best F1) when it is below ``HOLD_F1``."""
    present = ids.index.intersection(planted_ids)
    if present.empty:
        return None, 0.0
    inside = ids.dropna()
    sizes = inside.value_counts()
    shared = inside.reindex(present).dropna().value_counts()
    if shared.empty:
        return None, 0.0
    f1 = 2 * shared / (sizes.reindex(shared.index) + len(present))
    best = f1.idxmax()
    return (best if f1[best] >= HOLD_F1 else None), round(float(f1[best]), 3)


def _detectable_dates(tickets: pd.DataFrame, created: pd.Series, planted: list[dict], config,
                      start: pd.Timestamp) -> dict[str, dict]:
    """Per planted problem: the first day by whose end it has N tickets, N being the
    ``min_cluster_size`` the pool is clustered with that day (it grows with the data: 5 up
    to 2,999 tickets, 6 from 3,000 …). No clusterer can see a problem with fewer."""
    from pipeline.groups.cluster import clusterer_from_config

    clusterer = clusterer_from_config(config.cluster)
    days = (created - start).dt.days
    per_day = days.value_counts().sort_index()
    total = per_day.cumsum()
    ids = tickets["ticket_id"].astype(str)
    result = {}
    for p in planted:
        own = days[ids.isin(p["ticket_ids"]).to_numpy()].value_counts().sort_index().cumsum()
        found = None
        for day, count in own.items():
            need = clusterer.min_cluster_size_for(int(total.loc[:day].iloc[-1]))
            if count >= need:
                found = {"date": (start + timedelta(days=int(day))).date().isoformat(), "n": int(need)}
                break
        result[p["intent"]] = found
    return result


def _pool_report(nights: list[dict]) -> dict:
    """The similarities the pool's join decisions actually saw (``pool_decisions``)."""
    decisions = [d for n in nights for d in n["pool_decisions"]]
    def spread(key, event=None):
        values = sorted(d[key] for d in decisions if key in d and (event is None or d["event"] == event))
        if not values:
            return None
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]   # noqa: E731
        return {"n": len(values), "min": values[0], "p50": pick(0.5), "max": values[-1]}
    return {"decisions": len(decisions),
            "events": {e: sum(d["event"] == e for d in decisions) for e in ("joined", "born", "reborn")},
            "centroid_similarity": {e: spread("centroid_similarity", e) for e in ("joined", "born", "reborn")},
            "local_similarity": {e: spread("local_similarity", e) for e in ("joined", "born", "reborn")},
            "vote_share": {e: spread("vote_share", e) for e in ("joined", "born", "reborn")}}


def _planted_report(planted: list[dict], nights: list[dict], detectable: dict) -> list[dict]:
    report = []
    for p in planted:
        sequence = [(n["date"], n["holders"][p["intent"]][0]) for n in nights]
        held = [(d, i) for d, i in sequence if i is not None]
        unheld = sum(i is None for d, i in sequence if held and d > held[0][0])
        final = held[-1][1] if held else None
        born = held[0][0] if held else None
        changes, shifts = _holder_changes(p["intent"], nights)
        first_final = next((d for d, i in held if i == final), None)
        onset = p["onset"]
        late = (pd.Timestamp(born) - pd.Timestamp(onset)).days if born else None
        seen = detectable.get(p["intent"])
        after_seen = (pd.Timestamp(born) - pd.Timestamp(seen["date"])).days if born and seen else None
        report.append({"intent": p["intent"], "onset": onset, "size": p["size"],
                       "detectable": seen["date"] if seen else None,
                       "detectable_n": seen["n"] if seen else None,
                       "onset_to_detectable_days": (pd.Timestamp(seen["date"]) - pd.Timestamp(onset)).days
                       if seen else None, "born": born,
                       "days_after_onset": late, "days_after_detectable": after_seen,
                       "born_in_time_after_detectable": after_seen is not None and after_seen <= BIRTH_WITHIN_DAYS,
                       "final_id": final, "id_changes": changes, "plurality_shifts": shifts,
                       "ids": sorted({i for _, i in held}), "final_id_since": first_final,
                       "nights_unheld_after_birth": unheld,
                       "one_id": changes == 0 and unheld == 0 and bool(held),
                       "born_in_time": late is not None and late <= BIRTH_WITHIN_DAYS})
    return report


def _holder_changes(intent: str, nights: list[dict]) -> tuple[int, int]:
    """Nights on which the id holding most of a planted problem's tickets changed, in two
    kinds: an **id change** (the new holder did not exist the night before, or the old one
    is gone: a birth, split or merge renamed the problem), and a **plurality shift** (both
    ids existed on both nights; the problem's tickets are spread over two icebergs and the
    larger share moved — no id was created or retired)."""
    changes = shifts = 0
    last, before = None, set()
    for n in nights:
        holder, alive = n["holders"][intent][0], set(n.get("alive", []))
        if holder is not None:
            if last is not None and holder != last:
                if holder in before and last in alive:
                    shifts += 1
                else:
                    changes += 1
            last = holder
        before = alive
    return changes, shifts


def _assign_report(nights: list[dict]) -> dict:
    assign = [n for n in nights if n["mode"] == "assign"]
    over = [n["seconds"] - n["encode_seconds"] for n in assign]
    return {"assign_nights": len(assign), "full_nights": len(nights) - len(assign),
            "max_overhead_s": round(max(over), 3) if over else None,
            "mean_overhead_s": round(sum(over) / len(over), 3) if over else None,
            "mean_seconds": round(sum(n["seconds"] for n in assign) / len(assign), 3) if assign else None,
            "mean_encode_s": round(sum(n["encode_seconds"] for n in assign) / len(assign), 3) if assign else None,
            "within_budget": all(o <= ASSIGN_OVERHEAD_S for o in over),
            "over_budget_nights": sum(o > ASSIGN_OVERHEAD_S for o in over),
            "overhead_percentiles_s": _percentiles(over),
            "seconds_percentiles": _percentiles([n["seconds"] for n in assign]),
            "encode_percentiles_s": _percentiles([n["encode_seconds"] for n in assign]),
            "stage_mean_s": {k: round(sum(n["stages"].get(k, 0) for n in assign) / len(assign), 3)
                             for k in ("ingest", "prepare", "embed", "assign", "profile", "write")}
            if assign else {},
            "full_mean_seconds": round(sum(n["seconds"] for n in nights if n["mode"] == "full")
                                       / max(len(nights) - len(assign), 1), 3)}


def _percentiles(values: list[float]) -> dict | None:
    if not values:
        return None
    values = sorted(values)
    pick = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 3)   # noqa: E731
    return {"min": round(values[0], 3), "p50": pick(0.5), "p90": pick(0.9), "max": round(values[-1], 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=180)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temp folder)")
    parser.add_argument("--generate", action="store_true", help="generate a planted export (needs Banking77)")
    parser.add_argument("--banking77", type=Path, default=REPO.parent / "shared" / "data" / "banking77",
                        help="folder with Banking77 train.csv.gz and test.csv.gz (for --generate)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--planted-size", type=float, nargs=2, default=(0.6, 0.9), metavar=("LOW", "HIGH"))
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from pipeline.config import parse_assignments

    config = load_config(None, parse_assignments(args.assignments))
    try:
        tickets, truth = stream(args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "out"
        started = time.perf_counter()
        report = simulate(tickets, truth, out, args.nights, config)
        report["wall_seconds"] = round(time.perf_counter() - started, 1)
    print("\nPlanted icebergs. born = first night an iceberg has member F1 >= "
          f"{HOLD_F1} with its tickets so far; detectable = first day the problem has N "
          "tickets, N = the pool's min_cluster_size that day; the 7-day check is made from both:")
    for p in report["planted"]:
        if not p["born"]:
            print(f"  {p['intent']:42s} onset {p['onset']}  never held by an iceberg")
            continue
        print(f"  {p['intent']:40s} onset {p['onset']}  detectable {p['detectable']} (N={p['detectable_n']}, "
              f"{p['onset_to_detectable_days']:+d} d)  born {p['born']} ({p['days_after_onset']:+d} d from onset, "
              f"{p['days_after_detectable']:+d} d from detectable)  id {p['final_id']}  id changes {p['id_changes']} "
              f"(+{p['plurality_shifts']} plurality shifts), unheld after birth {p['nights_unheld_after_birth']} nights  "
              f"one id: {'OK' if p['one_id'] else 'NO'}, born in time from onset: "
              f"{'OK' if p['born_in_time'] else 'NO'}, from detectable: "
              f"{'OK' if p['born_in_time_after_detectable'] else 'NO'}")
    pool = report["pool"]
    print(f"\nPool decisions: {pool['events']}; centroid similarity {pool['centroid_similarity']}; "
          f"local similarity {pool['local_similarity']}; vote {pool['vote_share']}")
    a = report["assign"]
    print(f"\nAssign nights: {a['assign_nights']} (full: {a['full_nights']}); mean {a['mean_seconds']} s, "
          f"of which embedding {a['mean_encode_s']} s; overhead beyond embedding mean "
          f"{a['mean_overhead_s']} s, max {a['max_overhead_s']} s (budget {ASSIGN_OVERHEAD_S} s): "
          f"{'OK' if a['within_budget'] else 'OVER'}. Full nights: mean {a['full_mean_seconds']} s.")
    print(f"Assign-night overhead beyond embedding (s): {a['overhead_percentiles_s']}; nights over "
          f"{ASSIGN_OVERHEAD_S} s: {a['over_budget_nights']}; wall (s): {a['seconds_percentiles']}; "
          f"embedding (s): {a['encode_percentiles_s']}; mean per stage (s): {a['stage_mean_s']}")
    print(f"Wall time: {report['wall_seconds']} s for {args.nights} nights.")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    ok = a["within_budget"] and all(p["one_id"] and p["born_in_time_after_detectable"]
                                    for p in report["planted"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
