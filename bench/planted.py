"""A realistic helpdesk export with known icebergs planted in it, built from real queries.

The texts are real customer queries (Banking77: 77 intents); everything around them is
synthetic but shaped like a real export, so the pipeline can be checked against a known
answer:

- **Flat intents** (most of them) are background: a Poisson process over the whole
  period (fewer tickets at weekends and at night), metadata drawn from baseline shares.
- **Planted icebergs**: near zero before an onset date, then a growing daily rate.
  Most of their tickets (``signature_share``, e.g. 80–90 %) carry a one- or two-value
  metadata signature, such as ``platform=Android ∧ app_version=5.3.1`` (onset just after
  that release) or ``region=UK``; the rest look like background. Each comes from a
  different customer (a few follow-ups aside) and lands on a random agent, so nobody
  sees more than a sliver, and each is *no larger* than a median flat intent: what
  makes an iceberg is its shape, not its size.
- **Decoys**: a few "how do I …" intents that are several times larger but flat.

Customers carry a fixed region, plan and platform; a few are very active, so repeat
contacts exist in the background. The answer key is ``PlantedData.truth`` (plain JSON
types). ``add_malformed_rows`` then adds one row of each kind an ingest stage must
quarantine. Everything is drawn from one ``numpy`` Generator: same seed, same data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bench.ticket_text import PII_KINDS, pii_sentence, pii_value, ticket_subject_and_body

COLUMNS = ("ticket_id", "created_at", "subject", "body", "customer_id", "agent_id",
           "product", "platform", "app_version", "region", "channel", "plan")
DIMENSIONS = ("product", "platform", "app_version", "region", "channel", "plan")

PLATFORMS = {"iOS": 0.45, "Android": 0.40, "Web": 0.15}
REGIONS = {"EU": 0.38, "UK": 0.32, "US": 0.18, "APAC": 0.12}
PLANS = {"free": 0.45, "standard": 0.30, "premium": 0.17, "business": 0.08}
CHANNELS = {"email": 0.35, "chat": 0.35, "web form": 0.20, "phone": 0.10}
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10,
                         9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
WEEKEND_FACTOR = 0.6

# First matching substring of the intent name decides the product.
PRODUCT_RULES = (("top_up", "top-up"), ("topping_up", "top-up"), ("exchange", "exchange"),
                 ("currenc", "exchange"), ("cash", "cash & ATM"), ("atm", "cash & ATM"),
                 ("cheque", "cash & ATM"), ("transfer", "transfers"),
                 ("beneficiary", "transfers"), ("receiving_money", "transfers"),
                 ("direct_debit", "transfers"), ("card", "cards"), ("pin", "cards"),
                 ("contactless", "cards"), ("pay", "cards"), ("visa", "cards"),
                 ("refund", "cards"), ("charge", "cards"))

# Intents that read as "something broke" make plausible icebergs; "how do I …" ones
# make plausible decoys. The two pools are disjoint.
PLANTED_POOL = ("card_not_working", "contactless_not_working", "apple_pay_or_google_pay",
                "top_up_failed", "declined_transfer", "virtual_card_not_working",
                "transaction_charged_twice", "pin_blocked", "unable_to_verify_identity",
                "failed_transfer", "declined_card_payment", "card_swallowed",
                "balance_not_updated_after_bank_transfer", "wrong_amount_of_cash_received")
DECOY_POOL = ("activate_my_card", "change_pin", "top_up_limits", "order_physical_card",
              "getting_virtual_card", "exchange_via_app", "country_support",
              "supported_cards_and_currencies", "edit_personal_details", "receiving_money",
              "automatic_top_up", "visa_or_mastercard")
SIGNATURE_KINDS = ("release", "region", "region_plan", "web")
FOLLOW_UP_SHARE = 0.05   # planted tickets that are a second contact from the same customer


@dataclass(frozen=True)
class Release:
    version: str
    date: date


@dataclass(frozen=True)
class Plant:
    """One planted iceberg: which intent, from when, and what its tickets have in common."""

    intent: str
    onset: date
    kind: str
    signature: dict[str, str]
    signature_share: float


@dataclass(frozen=True)
class PlantedData:
    """The export (columns ``COLUMNS``, all strings) and its answer key (JSON-ready).

    ``truth`` holds: ``period``, ``n_tickets`` (well-formed), ``releases``; ``planted``
    (per iceberg: intent, onset, signature, target and observed signature share, size,
    customers, agents, ticket_ids); ``decoys``; ``flat`` (sizes and their median);
    ``labels`` (ticket_id -> intent); ``pii`` and ``not_pii`` (ticket_id, kind, the exact
    value planted); ``malformed`` (kind, 0-based row, ticket_id).
    """

    tickets: pd.DataFrame
    truth: dict[str, Any]


def product_of(intent: str) -> str:
    return next((product for key, product in PRODUCT_RULES if key in intent.lower()), "account")


def release_history(start: date, days: int, rng: np.random.Generator) -> list[Release]:
    """App releases from two months before ``start`` to its end: minors every 2–4 weeks,
    sometimes a patch a week after."""
    end = start + timedelta(days=days)
    major, minor, patch = 5, 0, 0
    day = start - timedelta(days=60)
    releases = []
    while day < end:
        releases.append(Release(f"{major}.{minor}.{patch}", day))
        if rng.random() < 0.35:
            patch += 1
            day += timedelta(days=int(rng.integers(5, 10)))
        else:
            minor, patch = minor + 1, 0
            day += timedelta(days=int(rng.integers(14, 29)))
    return releases


def planted_helpdesk(
    queries: pd.DataFrame,
    *,
    seed: int,
    n_tickets: int = 4000,
    start: date = date(2024, 1, 1),
    days: int = 182,
    n_planted: int = 4,
    n_decoys: int = 3,
    n_agents: int = 30,
    customers_per_ticket: float = 0.75,
    signature_share: tuple[float, float] = (0.80, 0.90),
    planted_size: tuple[float, float] = (0.6, 0.9),
    decoy_size: tuple[float, float] = (3.0, 4.5),
    pre_onset_share: float = 0.04,
    n_pii_each: int = 4,
    n_order_numbers: int = 4,
) -> PlantedData:
    """Build ``n_tickets`` tickets over ``days`` days from ``start`` out of ``queries``
    (columns ``text``, ``category``), with ``n_planted`` icebergs and ``n_decoys`` decoys.

    ``planted_size`` and ``decoy_size`` are ranges of sizes relative to the median flat
    intent; ``pre_onset_share`` of a planted intent's tickets fall before its onset (an
    intent occurs now and then anyway). ``n_pii_each`` tickets get each kind of personal
    data, ``n_order_numbers`` a 16-digit non-card number.
    """
    missing = {"text", "category"} - set(queries.columns)
    if missing:
        raise ValueError(f"queries lack column(s) {sorted(missing)}; expected text,category "
                         "as in Banking77's train.csv")
    rng = np.random.default_rng(seed)
    texts = {intent: group["text"].to_numpy(dtype=object)
             for intent, group in queries.groupby("category", sort=True)}
    planted_intents, decoys = _choose(rng, texts, n_planted, n_decoys)
    flat = [i for i in texts if i not in planted_intents and i not in decoys]
    releases = release_history(start, days, rng)
    plants = [_plant(rng, intent, slot, n_planted, start, days, releases, signature_share)
              for slot, intent in enumerate(planted_intents)]
    sizes = _intent_sizes(rng, flat, decoys, planted_intents, n_tickets, planted_size, decoy_size)
    customers = _customers(rng, round(n_tickets * customers_per_ticket))

    frames = [_flat_skeleton(rng, intent, sizes[intent], start, days, customers)
              for intent in flat + decoys]
    frames += [_planted_skeleton(rng, plant, sizes[plant.intent], start, days, customers,
                                 pre_onset_share) for plant in plants]
    skeleton = pd.concat(frames, ignore_index=True).sort_values("created_at", kind="stable")
    skeleton = skeleton.reset_index(drop=True)
    skeleton["ticket_id"] = [f"T{100001 + i}" for i in range(len(skeleton))]
    sentences, planted_values = _planted_values(rng, skeleton["ticket_id"].tolist(),
                                                n_pii_each, n_order_numbers)
    tickets = _tickets(rng, skeleton, texts, plants, customers, releases, n_agents, sentences)
    truth = {
        "generator": "bench/planted.py",
        "seed": seed,
        "period": {"start": start.isoformat(),
                   "end": (start + timedelta(days=days - 1)).isoformat()},
        "n_tickets": len(tickets),
        "releases": [{"version": r.version, "date": r.date.isoformat()} for r in releases],
        **_intent_truth(plants, flat, decoys, skeleton, tickets),
        **planted_values,
        "malformed": [],
    }
    return PlantedData(tickets=tickets, truth=truth)


def add_malformed_rows(data: PlantedData, *, seed: int) -> PlantedData:
    """One row of each kind an ingest stage must quarantine, at random positions.

    ``missing_id`` (empty ticket_id), ``empty_text`` (empty subject and body),
    ``duplicate_id`` (a second, identical export of a ticket, placed after the original),
    ``bad_date`` (``2024-02-30T09:15:00Z``, a date that does not exist). The new rows are
    listed in ``truth["malformed"]`` with their 0-based data-row position.
    """
    rng = np.random.default_rng(seed)
    tickets = data.tickets
    n = len(tickets)
    last_id = max(int(t[1:]) for t in tickets["ticket_id"])
    picks = rng.choice(n, 4, replace=False)
    rows = tickets.iloc[picks].to_dict("records")
    rows[0]["ticket_id"] = ""
    rows[1].update(ticket_id=f"T{last_id + 1}", subject="", body="")
    rows[3].update(ticket_id=f"T{last_id + 2}", created_at="2024-02-30T09:15:00Z")
    after = [int(rng.integers(0, n)) for _ in range(4)]
    after[2] = int(rng.integers(picks[2], n))   # the duplicate follows its original
    kinds = ("missing_id", "empty_text", "duplicate_id", "bad_date")
    order = np.concatenate([np.arange(n, dtype=float), np.array(after) + 0.5])
    combined = pd.concat([tickets, pd.DataFrame(rows, columns=tickets.columns)],
                         ignore_index=True)
    combined = combined.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    position = {old: new for new, old in enumerate(np.argsort(order, kind="stable"))}
    malformed = [{"kind": kind, "row": position[n + k], "ticket_id": rows[k]["ticket_id"]}
                 for k, kind in enumerate(kinds)]
    return replace(data, tickets=combined,
                   truth={**data.truth, "malformed": sorted(malformed, key=lambda m: m["row"])})


def _choose(rng: np.random.Generator, texts: dict[str, np.ndarray], n_planted: int,
            n_decoys: int) -> tuple[list[str], list[str]]:
    planted_pool = [i for i in PLANTED_POOL if i in texts]
    decoy_pool = [i for i in DECOY_POOL if i in texts]
    if n_planted > len(planted_pool) or n_decoys > len(decoy_pool):
        raise ValueError(f"asked for {n_planted} planted and {n_decoys} decoy intents but the "
                         f"queries hold only {len(planted_pool)} and {len(decoy_pool)} of the pools")
    planted = [str(i) for i in rng.choice(planted_pool, n_planted, replace=False)]
    decoys = [str(i) for i in rng.choice(decoy_pool, n_decoys, replace=False)]
    return planted, decoys


def _plant(rng: np.random.Generator, intent: str, slot: int, n_slots: int, start: date,
           days: int, releases: list[Release], signature_share: tuple[float, float]) -> Plant:
    """Onsets fall in consecutive slots of the middle 60 % of the period, one per slot."""
    width = 0.6 * days / n_slots
    onset = start + timedelta(days=int(0.2 * days + slot * width + rng.uniform(0, width)))
    kind = SIGNATURE_KINDS[slot % len(SIGNATURE_KINDS)]
    if kind == "release":
        # Snap the onset to just after the release nearest to it: it came with that release.
        inside = [r for r in releases if start < r.date <= start + timedelta(days=days - 30)]
        if not inside:
            raise ValueError(f"no app release falls inside a {days}-day period early enough "
                             "for a release-signature iceberg; use days >= 60")
        release = min(inside, key=lambda r: abs((r.date - onset).days))
        onset = release.date + timedelta(days=int(rng.integers(1, 4)))
        signature = {"platform": str(rng.choice(["Android", "iOS"])), "app_version": release.version}
    elif kind == "region":
        signature = {"region": str(rng.choice(["UK", "EU", "US"]))}
    elif kind == "region_plan":
        signature = {"region": str(rng.choice(["UK", "EU"])),
                     "plan": str(rng.choice(["premium", "business"]))}
    else:
        signature = {"platform": "Web"}
    return Plant(intent, onset, kind, signature, float(rng.uniform(*signature_share)))


def _intent_sizes(rng: np.random.Generator, flat: list[str], decoys: list[str],
                  planted: list[str], n_tickets: int, planted_size: tuple[float, float],
                  decoy_size: tuple[float, float]) -> dict[str, int]:
    """Total tickets per intent; they add up to ``n_tickets``."""
    w_flat = rng.lognormal(0.0, 0.35, len(flat))
    median = float(np.median(w_flat))
    w_decoy = rng.uniform(*decoy_size, len(decoys)) * median
    ratio = rng.uniform(*planted_size, len(planted))
    per_unit = n_tickets / (w_flat.sum() + w_decoy.sum() + ratio.sum() * median)
    planted_counts = np.floor(ratio * median * per_unit).astype(int)
    weights = np.concatenate([w_flat, w_decoy])
    counts = rng.multinomial(n_tickets - planted_counts.sum(), weights / weights.sum())
    return dict(zip(flat + decoys + planted, (int(c) for c in [*counts, *planted_counts])))


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Customers with fixed attributes; lognormal activity makes some contact often."""
    ids = rng.choice(np.arange(200_000, 1_000_000), n, replace=False)
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in ids],
        "region": _draw(rng, REGIONS, n),
        "plan": _draw(rng, PLANS, n),
        "platform": _draw(rng, PLATFORMS, n),
        "activity": rng.lognormal(0.0, 0.9, n),
    })


def _draw(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    return rng.choice(list(shares), n, p=np.array(list(shares.values())) / sum(shares.values()))


def _timestamps(rng: np.random.Generator, n: int, start: date, day_weights: np.ndarray,
                first_day: int = 0) -> np.ndarray:
    """``n`` times on days ``first_day…`` weighted by ``day_weights`` × weekday, by hour."""
    offsets = np.arange(first_day, first_day + len(day_weights))
    weekday = np.array([(start + timedelta(days=int(d))).weekday() for d in offsets])
    weights = day_weights * np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    day = rng.choice(offsets, n, p=weights / weights.sum())
    hour = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    return np.datetime64(start.isoformat(), "s") + seconds.astype("timedelta64[s]")


def _flat_skeleton(rng: np.random.Generator, intent: str, size: int, start: date, days: int,
                   customers: pd.DataFrame) -> pd.DataFrame:
    activity = customers["activity"].to_numpy()
    return pd.DataFrame({
        "intent": intent,
        "created_at": _timestamps(rng, size, start, np.ones(days)),
        "customer": rng.choice(len(customers), size, p=activity / activity.sum()),
        "signature": False,
    })


def _planted_skeleton(rng: np.random.Generator, plant: Plant, size: int, start: date,
                      days: int, customers: pd.DataFrame, pre_onset_share: float) -> pd.DataFrame:
    """A few tickets before the onset, then a linearly growing rate (tripling by the end)."""
    onset_day = (plant.onset - start).days
    n_before = round(size * pre_onset_share)
    after_days = days - onset_day
    ramp = 1.0 + 2.0 * np.arange(after_days) / after_days
    created = np.concatenate([_timestamps(rng, n_before, start, np.ones(onset_day)),
                              _timestamps(rng, size - n_before, start, ramp, onset_day)])
    created.sort()
    signature = np.concatenate([np.zeros(n_before, bool),
                                rng.random(size - n_before) < plant.signature_share])
    return pd.DataFrame({
        "intent": plant.intent,
        "created_at": created,
        "customer": _iceberg_customers(rng, customers, plant.signature, signature),
        "signature": signature,
    })


def _iceberg_customers(rng: np.random.Generator, customers: pd.DataFrame,
                       signature: dict[str, str], has_signature: np.ndarray) -> np.ndarray:
    """A different customer per ticket, matching the signature's customer attributes where
    the ticket carries it; a few tickets are follow-ups from an earlier customer."""
    everyone = np.arange(len(customers))
    matches = np.ones(len(customers), bool)
    for dim in set(signature) & {"region", "plan", "platform"}:
        matches &= customers[dim].to_numpy() == signature[dim]
    used: list[int] = []
    for carries in has_signature:
        candidates = everyone[matches] if carries else everyone
        fresh = np.setdiff1d(candidates, used)
        if used and (rng.random() < FOLLOW_UP_SHARE or len(fresh) == 0):
            earlier = np.intersect1d(used, candidates)
            used.append(int(rng.choice(earlier if len(earlier) else used)))
        else:
            used.append(int(rng.choice(fresh)))
    return np.array(used, dtype=int)


def _app_versions(rng: np.random.Generator, created: pd.Series, platform: np.ndarray,
                  releases: list[Release]) -> np.ndarray:
    """Mobile tickets run a recent release: the newest one ramps up over ten days, older
    ones fade geometrically. Web tickets have no app version (left blank, as in exports)."""
    dates = np.array([r.date for r in releases])
    versions = []
    for when, plat in zip(created.dt.date, platform):
        if plat == "Web":
            versions.append("")
            continue
        available = np.flatnonzero(dates <= when)[::-1]
        weights = 0.5 ** np.arange(len(available))
        weights[0] *= max(0.1, min(1.0, (when - dates[available[0]]).days / 10))
        versions.append(releases[int(rng.choice(available, p=weights / weights.sum()))].version)
    return np.array(versions, dtype=object)


def _tickets(rng: np.random.Generator, skeleton: pd.DataFrame, texts: dict[str, np.ndarray],
             plants: list[Plant], customers: pd.DataFrame, releases: list[Release],
             n_agents: int, sentences: dict[int, str]) -> pd.DataFrame:
    """Metadata from each ticket's customer and baseline shares, then the plants'
    signatures, then a subject and body around a randomly drawn query of its intent
    (and the planted sentence of the rows in ``sentences``)."""
    n = len(skeleton)
    who = customers.iloc[skeleton["customer"].to_numpy()].reset_index(drop=True)
    agent_weights = rng.dirichlet(np.full(n_agents, 20.0))   # mildly uneven workloads
    frame = pd.DataFrame({
        "ticket_id": skeleton["ticket_id"],
        "created_at": skeleton["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer_id": who["customer_id"],
        "agent_id": [f"agent_{k + 1:02d}" for k in rng.choice(n_agents, n, p=agent_weights)],
        "product": skeleton["intent"].map(product_of),
        "platform": who["platform"],
        "app_version": _app_versions(rng, skeleton["created_at"], who["platform"].to_numpy(),
                                     releases),
        "region": who["region"],
        "channel": _draw(rng, CHANNELS, n),
        "plan": who["plan"],
    })
    for plant in plants:
        carries = (skeleton["intent"] == plant.intent) & skeleton["signature"]
        for dim, value in plant.signature.items():
            frame.loc[carries, dim] = value
    queries = [str(texts[intent][rng.integers(len(texts[intent]))]) for intent in skeleton["intent"]]
    texts_out = [ticket_subject_and_body(query, sentences.get(row, ""), channel, product,
                                         created.to_pydatetime(), rng)
                 for row, (query, channel, product, created) in enumerate(
                     zip(queries, frame["channel"], frame["product"], skeleton["created_at"]))]
    frame["subject"] = [subject for subject, _ in texts_out]
    frame["body"] = [body for _, body in texts_out]
    return frame[list(COLUMNS)]


def _planted_values(rng: np.random.Generator, ticket_ids: list[str], n_pii_each: int,
                    n_order_numbers: int) -> tuple[dict[int, str], dict[str, list[dict[str, str]]]]:
    """Which rows get a PII (or order-number) sentence, and the answer key for them."""
    kinds = [k for k in PII_KINDS for _ in range(n_pii_each)] + ["order_number"] * n_order_numbers
    rows = rng.choice(len(ticket_ids), len(kinds), replace=False)
    sentences: dict[int, str] = {}
    found: dict[str, list[dict[str, str]]] = {"pii": [], "not_pii": []}
    for row, kind in sorted(zip(rows.tolist(), kinds)):
        value = pii_value(kind, rng)
        sentences[row] = pii_sentence(kind, value, rng)
        found["not_pii" if kind == "order_number" else "pii"].append(
            {"ticket_id": ticket_ids[row], "kind": kind, "value": value})
    return sentences, found


def _intent_truth(plants: list[Plant], flat: list[str], decoys: list[str],
                  skeleton: pd.DataFrame, tickets: pd.DataFrame) -> dict[str, Any]:
    intent = skeleton["intent"]
    sizes = intent.value_counts()

    def who(name: str) -> dict[str, Any]:
        rows = tickets[intent == name]
        per_agent = rows["agent_id"].value_counts()
        return {"size": len(rows), "n_customers": int(rows["customer_id"].nunique()),
                "n_agents": len(per_agent), "max_tickets_per_agent": int(per_agent.max()),
                "ticket_ids": rows["ticket_id"].tolist()}

    planted = []
    for plant in plants:
        rows = tickets[intent == plant.intent]
        after = rows[rows["created_at"] >= plant.onset.isoformat()]
        matches = np.logical_and.reduce([after[d] == v for d, v in plant.signature.items()])
        planted.append({
            "intent": plant.intent, "product": product_of(plant.intent),
            "onset": plant.onset.isoformat(), "signature_kind": plant.kind,
            "signature": plant.signature,
            "signature_share_target": round(plant.signature_share, 4),
            "signature_share": round(float(np.mean(matches)), 4),
            "n_before_onset": len(rows) - len(after),
            **who(plant.intent),
        })
    return {
        "planted": planted,
        "decoys": [{"intent": d, **who(d)} for d in decoys],
        "flat": {"median_size": float(np.median([sizes[f] for f in flat])),
                 "sizes": {f: int(sizes[f]) for f in flat}},
        "labels": dict(zip(tickets["ticket_id"], intent)),
    }
