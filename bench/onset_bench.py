"""Onset benchmark: how close is ``onset.onset_date`` to the planted onsets?

No pipeline run: for each seed, ``bench.planted.planted_helpdesk`` builds the helpdesk
export from the real Banking77 queries (``--banking77``, default
``../shared/data/banking77``), and ``onset.onset_date`` dates icebergs made straight
from the answer key's ticket sets, each over the whole data period with the data's daily
volume, as ``profile.timing_table`` does in a run:

- **pure**: a planted intent's own tickets;
- **+1× flat**, **+2–3× flat**: those plus the tickets of one random flat intent (not
  planted, not a decoy; tickets uniform over the period) of about the same size
  (0.7–1.3×) or two to three times it — a real iceberg's members mix the planted
  tickets with a steady neighbour's;
- **flat**: each flat intent alone, which has no onset but its first ticket.

Per planted intent it prints the signed onset error in days (onset − planted onset) of
each of the three, and ``floor``: the days from the planted onset to its first ticket on
or after it — what even an estimator that knew the onset, but dated it by a ticket,
would be off by. One command:

    .venv/bin/python bench/onset_bench.py --seeds 10

Exit code 0 when every pure error is at most 7 days and no flat intent gets an onset
more than 28 days after its first ticket, 1 otherwise, 2 when Banking77 is missing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.planted import PlantedData, planted_helpdesk  # noqa: E402
from bench.planted_bench import add_planted_arguments, banking77_queries  # noqa: E402
from pipeline.analysis.onset import onset_date  # noqa: E402

BAR_DAYS = 7          # the acceptance: onset error at most a week
MID_PERIOD_DAYS = 28  # a flat intent dated this long after its first ticket got a false onset
MIXES = {"+1x flat": (0.7, 1.3), "+2-3x flat": (2.0, 3.0)}


def case_onsets(data: PlantedData, cases: dict[str, list[str]]) -> pd.Series:
    """Each case's onset (a date, or None): ``cases`` maps a name to its ticket ids. As in
    ``profile.timing_table``: daily counts over the whole data period, and the data's
    daily ticket volume (each ticket once) as the exposure."""
    created = pd.to_datetime(data.tickets.set_index("ticket_id")["created_at"], utc=True)
    days = created.dt.tz_convert(None).dt.normalize()
    period = pd.date_range(days.min(), days.max(), freq="D")
    volume = days.value_counts().reindex(period, fill_value=0)
    return pd.Series({name: onset_date(days.loc[ids].value_counts().reindex(period, fill_value=0),
                                       volume)
                      for name, ids in cases.items()}, dtype=object)


def seed_errors(data: PlantedData, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per planted intent its errors and floor; per flat intent its days from first ticket."""
    truth = data.truth
    ids_of: dict[str, list[str]] = {}
    for ticket_id, intent in truth["labels"].items():
        ids_of.setdefault(intent, []).append(ticket_id)
    excluded = {p["intent"] for p in truth["planted"]} | {d["intent"] for d in truth["decoys"]}
    flat = sorted(i for i in ids_of if i not in excluded)
    rng = np.random.default_rng(seed)
    cases, mixed_with = {}, {}
    for plant in truth["planted"]:
        own = plant["ticket_ids"]
        cases[f"pure {plant['intent']}"] = own
        for mix, (low, high) in MIXES.items():
            sizes = pd.Series({f: len(ids_of[f]) for f in flat}) / len(own)
            inside = sizes[(sizes >= low) & (sizes <= high)].index
            pool = inside if len(inside) else [(sizes - (low + high) / 2).abs().idxmin()]
            neighbour = str(rng.choice(sorted(pool)))
            cases[f"{mix} {plant['intent']}"] = own + ids_of[neighbour]
            mixed_with[(mix, plant["intent"])] = neighbour
    cases.update({f"flat {f}": ids_of[f] for f in flat})
    onsets = case_onsets(data, cases)
    created = pd.to_datetime(data.tickets.set_index("ticket_id")["created_at"], utc=True)

    def days(a: object, b: pd.Timestamp) -> float:
        return float((pd.Timestamp(a) - b).days) if pd.notna(a) else np.nan

    planted = []
    for plant in truth["planted"]:
        onset = pd.Timestamp(plant["onset"])
        own_days = created.loc[plant["ticket_ids"]].dt.tz_convert(None).dt.normalize()
        planted.append({
            "seed": seed, "intent": plant["intent"], "onset": plant["onset"],
            "size": len(plant["ticket_ids"]),
            "floor": float((own_days[own_days >= onset].min() - onset).days),
            "pure": days(onsets[f"pure {plant['intent']}"], onset),
            **{mix: days(onsets[f"{mix} {plant['intent']}"], onset) for mix in MIXES},
            **{f"{mix} with": mixed_with[(mix, plant["intent"])] for mix in MIXES},
        })
    first_day = {f: created.loc[ids_of[f]].min().tz_convert(None).normalize() for f in flat}
    flats = pd.DataFrame([{"seed": seed, "intent": f, "size": len(ids_of[f]),
                           "after_first": days(onsets[f"flat {f}"], first_day[f])}
                          for f in flat])
    return pd.DataFrame(planted), flats


def summary(planted: pd.DataFrame) -> pd.DataFrame:
    """Per case (and the floor), the absolute errors' median, mean, max and share within the bar."""
    rows = []
    for case in ["floor", "pure", *MIXES]:
        error = planted[case].abs()
        rows.append({"case": case, "n": len(error), "median |err|": error.median(),
                     "mean |err|": error.mean(), "max |err|": error.max(),
                     f"share <= {BAR_DAYS} d": (error <= BAR_DAYS).mean()})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_planted_arguments(parser, seeds=10)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also which flat intent each planted one was mixed with")
    args = parser.parse_args(argv)
    try:
        queries = banking77_queries(args.banking77)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    planted, flats = [], []
    for seed in range(1, args.seeds + 1):
        data = planted_helpdesk(queries, seed=seed, n_tickets=args.tickets, start=date(2024, 1, 1))
        seed_planted, seed_flats = seed_errors(data, seed)
        planted.append(seed_planted)
        flats.append(seed_flats)
    planted, flats = pd.concat(planted, ignore_index=True), pd.concat(flats, ignore_index=True)
    shown = ["seed", "intent", "onset", "size", "floor", "pure", *MIXES]
    if args.verbose:
        shown += [f"{mix} with" for mix in MIXES]
    print("onset error in days (onset − planted onset); "
          "floor: planted onset to its first ticket\n")
    print(planted[shown].to_string(index=False, float_format="%.0f"))
    print(f"\n{summary(planted).to_string(index=False, float_format='%.2f')}")
    late = flats[flats["after_first"] > MID_PERIOD_DAYS]
    print(f"\nflat intents alone: {len(flats)}; onset on their first ticket "
          f"{(flats['after_first'] == 0).mean():.0%}; more than {MID_PERIOD_DAYS} days after it "
          f"{len(late)}" + (f" (max {late['after_first'].max():.0f} days)" if len(late) else ""))
    if len(late):
        print(late.to_string(index=False, float_format="%.0f"))
    ok = (planted["pure"].abs() <= BAR_DAYS).all() and late.empty
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
