"""What changed since the previous run (``changes.json``), and the alerts it raises.

``iceberg_changes`` compares this run's icebergs with the previous run's (the
``icebergs`` tables) and reads the identity events of ``lineage``; ``alerts`` applies
the ``[alerts]`` rules to the result. Both are pure functions of tables: ``iceberg diff``
uses the same code for any two runs.

``changes.json`` (one per run, next to the manifest)::

    {"changes_version": 1, "run_id", "previous_run_id", "mode",
     "summary": {"icebergs", "new", "growing", "fading", "faded", "merged", "split", "alerts"},
     "new":     [{iceberg_id, event (born|reborn|split), label, size, n_customers, onset, related_ids,
                  boilerplate}],
     "growing": [{iceberg_id, label, size, previous_size, added, growth_pct, n_customers, trend,
                  boilerplate}],
     "fading":  [{iceberg_id, label, size, previous_size, trend}]     # still there, trend "fading"
     "faded":   [{iceberg_id, label, previous_size}]                  # gone this run
     "merged":  [{iceberg_id, into, label, previous_size}],
     "split":   [{iceberg_id, from, label, size}],
     "alerts":  [{rule, iceberg_id, label, message, figures}]}

A boilerplate iceberg (courtesy such as "thanks", ``pipeline.analysis.courtesy``) is listed like any
other but raises no new-iceberg or growth alert: it is no problem.
"""

from __future__ import annotations

import math

import pandas as pd

from pipeline.config import AlertsConfig
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import LineageCols as L

CHANGES_VERSION = 1


def iceberg_changes(previous: pd.DataFrame | None, icebergs: pd.DataFrame, lineage: pd.DataFrame,
                    *, run_id: str, previous_run_id: str | None, mode: str | None = None) -> dict:
    """Changes from ``previous`` (an icebergs table, or None) to ``icebergs``."""
    before = _by_id(previous)
    now = _by_id(icebergs)
    events = {}
    for row in lineage.itertuples(index=False):
        related = getattr(row, L.related_ids)
        events.setdefault(getattr(row, L.iceberg_id), (getattr(row, L.event),
                                                       [] if related is None else [str(r) for r in related]))
    new, growing, fading, faded, merged, split = [], [], [], [], [], []
    for iceberg_id, row in sorted(now.items()):
        event, related = events.get(iceberg_id, ("continued", []))
        old = before.get(iceberg_id)
        if old is None or event in ("born", "reborn", "split"):
            new.append({"iceberg_id": iceberg_id, "event": event if event != "continued" else "born",
                        "label": row["label"], "size": row["size"], "n_customers": row["n_customers"],
                        "onset": row["onset"], "related_ids": related, "boilerplate": row["boilerplate"]})
            if event == "split":
                split.append({"iceberg_id": iceberg_id, "from": related, "label": row["label"],
                              "size": row["size"]})
            continue
        added = row["size"] - old["size"]
        if added > 0:
            growing.append({"iceberg_id": iceberg_id, "label": row["label"], "size": row["size"],
                            "previous_size": old["size"], "added": added,
                            "growth_pct": round(100.0 * added / old["size"], 1) if old["size"] else None,
                            "n_customers": row["n_customers"], "trend": row["trend"],
                            "boilerplate": row["boilerplate"]})
        if row["trend"] == "fading":
            fading.append({"iceberg_id": iceberg_id, "label": row["label"], "size": row["size"],
                           "previous_size": old["size"], "trend": row["trend"]})
    for iceberg_id, old in sorted(before.items()):
        if iceberg_id in now:
            continue
        event, related = events.get(iceberg_id, ("faded", []))
        if event == "merged":
            merged.append({"iceberg_id": iceberg_id, "into": related, "label": old["label"],
                           "previous_size": old["size"]})
        else:
            faded.append({"iceberg_id": iceberg_id, "label": old["label"], "previous_size": old["size"]})
    growing.sort(key=lambda g: (-g["added"], g["iceberg_id"]))
    return {
        "changes_version": CHANGES_VERSION, "run_id": run_id, "previous_run_id": previous_run_id,
        "mode": mode,
        "summary": {"icebergs": len(now), "new": len(new), "growing": len(growing),
                    "fading": len(fading), "faded": len(faded), "merged": len(merged),
                    "split": len(split), "alerts": 0},
        "new": new, "growing": growing, "fading": fading, "faded": faded, "merged": merged,
        "split": split, "alerts": [],
    }


def alerts(changes: dict, rules: AlertsConfig) -> list[dict]:
    """The alerts the ``[alerts]`` rules raise for ``changes`` (see docs/operations.md)."""
    raised = []
    if changes.get("previous_run_id") is not None and rules.new_min_customers > 0:
        for item in changes["new"]:
            if item.get("boilerplate"):
                continue
            customers = item["n_customers"] if item["n_customers"] is not None else item["size"]
            if customers >= rules.new_min_customers and item["size"] >= rules.new_min_size:
                raised.append(_alert("new_iceberg", item, f"new iceberg {item['iceberg_id']} "
                                     f"({item['label']}): {item['size']} tickets from {customers} customers",
                                     size=item["size"], n_customers=customers, event=item["event"]))
    if rules.growth_min_pct > 0:
        for item in changes["growing"]:
            if item.get("boilerplate"):
                continue
            pct = item["growth_pct"]
            if (pct is not None and pct >= rules.growth_min_pct and item["size"] >= rules.growth_min_size
                    and item["added"] >= rules.growth_min_new):
                raised.append(_alert("growth", item, f"iceberg {item['iceberg_id']} ({item['label']}) "
                                     f"grew {pct:.0f}%: {item['previous_size']} → {item['size']} tickets",
                                     size=item["size"], previous_size=item["previous_size"],
                                     growth_pct=pct))
    if rules.on_merge_split:
        for item in changes["merged"]:
            raised.append(_alert("merged", item, f"iceberg {item['iceberg_id']} merged into "
                                 f"{', '.join(item['into'])}", into=item["into"]))
        for item in changes["split"]:
            raised.append(_alert("split", item, f"iceberg {item['iceberg_id']} split from "
                                 f"{', '.join(item['from'])}", size=item["size"]))
    return raised


def with_alerts(changes: dict, rules: AlertsConfig) -> dict:
    raised = alerts(changes, rules)
    return {**changes, "alerts": raised, "summary": {**changes["summary"], "alerts": len(raised)}}


def changes_text(changes: dict, *, limit: int = 10) -> str:
    """A short plain-text rendering of ``changes`` (what ``iceberg diff`` prints)."""
    s = changes["summary"]
    lines = [f"{changes.get('previous_run_id') or '(nothing)'} → {changes['run_id']}"
             f"{' (' + changes['mode'] + ')' if changes.get('mode') else ''}: {s['icebergs']} icebergs; "
             f"{s['new']} new, {s['growing']} growing, {s['fading']} fading, {s['faded']} faded, "
             f"{s['merged']} merged, {s['split']} split; {s['alerts']} alert(s)."]
    sections = [
        ("Alerts", changes["alerts"], lambda a: f"[{a['rule']}] {a['message']}"),
        ("New", changes["new"], lambda n: f"{n['iceberg_id']} ({n['event']}) {n['label']}: "
         f"{n['size']} tickets, {n['n_customers']} customers, onset {n['onset']}"),
        ("Growing", changes["growing"], lambda g: f"{g['iceberg_id']} {g['label']}: "
         f"{g['previous_size']} → {g['size']} (+{g['added']}, {g['growth_pct']}%)"),
        ("Fading", changes["fading"], lambda f: f"{f['iceberg_id']} {f['label']}: {f['size']} tickets"),
        ("Faded", changes["faded"], lambda f: f"{f['iceberg_id']} {f['label']} (had {f['previous_size']})"),
        ("Merged", changes["merged"], lambda m: f"{m['iceberg_id']} → {', '.join(m['into'])}"),
        ("Split", changes["split"], lambda m: f"{m['iceberg_id']} ← {', '.join(m['from'])}"),
    ]
    for title, items, fmt in sections:
        if items:
            lines.append(f"\n{title}:")
            lines += [f"  {fmt(item)}" for item in items[:limit]]
            if len(items) > limit:
                lines.append(f"  … and {len(items) - limit} more")
    return "\n".join(lines)


def _alert(rule: str, item: dict, message: str, **figures) -> dict:
    return {"rule": rule, "iceberg_id": item["iceberg_id"], "label": item["label"],
            "message": message, "figures": figures}


def _by_id(icebergs: pd.DataFrame | None) -> dict[str, dict]:
    if icebergs is None or icebergs.empty:
        return {}
    rows = {}
    for r in icebergs.to_dict("records"):
        onset = r.get(I.onset)
        rows[r[I.iceberg_id]] = {
            "label": r.get(I.label), "size": int(r[I.size]),
            "n_customers": _int(r.get(I.n_customers)), "trend": _str(r.get(I.trend)),
            "boilerplate": _flag(r.get(I.boilerplate)),
            "onset": None if onset is None or (isinstance(onset, float) and math.isnan(onset))
            or pd.isna(onset) else str(onset)[:10]}
    return rows


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _flag(value) -> bool:
    """A boolean cell; False when missing (a run written before the column existed)."""
    return False if value is None or pd.isna(value) else bool(value)


def _str(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)
