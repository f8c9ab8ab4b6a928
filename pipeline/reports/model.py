"""The report model: what every format says about a run, built once from a ``Run``.

``report_model(run, iceberg_ids=None, top=10)`` reads the run through the store's read
API (curated icebergs, evidence, timeline, the chosen icebergs' tickets) and returns a
``Report``: the run's overview and one ``Brief`` per iceberg — the problem statement, who
is affected, when, where else, what caused it, representative tickets from different
customers, the ticket ids, and how it was computed. The formats only lay it out.

Everything in it comes from the run and its curation, which are redacted already; no
raw input is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import pandas as pd

from pipeline.errors import UsageError
from pipeline.reports import lines
from pipeline.schemas import AttributeCols as A
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.schemas import TimelineCols as TL
from pipeline.store.curation import CurationCols as CU

MIN_QUOTES, MAX_QUOTES = 3, 5
WHERE_ROWS = 8            # attribute rows a brief shows
# Roles recorded in the manifest (``columns.roles``) → the tickets column each one fills.
_ROLE_COLUMNS = {"customer": T.customer_id, "agent": T.agent_id, "account": T.account_id,
                 "segment": T.segment}
_SETTINGS = ("embedding.model", "embedding.backend", "cluster.min_cluster_size", "cluster.reduce_dim",
             "cluster.merge_threshold", "cluster.assign_threshold", "cluster.split_emerging",
             "profile.period", "profile.fdr_alpha", "profile.min_evidence_count",
             "profile.min_evidence_share", "redact.enabled")


@dataclass(frozen=True)
class Quote:
    """A representative ticket (its text is the run's, cleaned and redacted)."""

    ticket_id: str
    created_at: pd.Timestamp | None
    customer_id: str | None
    text: str


@dataclass(frozen=True)
class Brief:
    """One iceberg as a problem brief."""

    row: dict                 # its icebergs row with curation (``CurationCols``), raw values
    name: str                 # the curated name, else the generated label
    statement: str            # the one-line problem statement
    who: str
    segments: str | None
    when: str
    events: str | None
    timeline: pd.DataFrame    # period_start, count
    where: pd.DataFrame       # attribute rows: evidence, else the most over-represented (see where_is_evidence)
    where_is_evidence: bool
    combination: str | None
    causes: list[str]         # the evidence in sentences
    terms: list[str]
    theme: str | None         # the theme it belongs to, in one line (``lines.theme_line``)
    score: str                # the score in its parts and what pushed it up
    quotes: list[Quote]
    ticket_ids: list[str]     # oldest first
    handling: str | None = None   # how its tickets are handled (``lines.handling_line``)
    url: str | None = None    # its dashboard page (``dashboard.url``); None when that is not set

    @property
    def iceberg_id(self) -> str:
        return self.row[I.iceberg_id]

    @property
    def rank(self) -> int:
        return int(self.row[I.rank])

    @property
    def label(self) -> str:
        return self.row[I.label]

    @property
    def status(self) -> str:
        return self.row.get(CU.status) or "open"

    @property
    def curated(self) -> bool:
        return self.name != self.label

    @property
    def note(self) -> str | None:
        return self.row.get(CU.note) if lines.present(self.row.get(CU.note)) else None

    @property
    def problem_ticket(self) -> str | None:
        return self.row.get(CU.ticket) if lines.present(self.row.get(CU.ticket)) else None

    @property
    def reach(self) -> int:
        return lines.reach_of(self.row)


@dataclass(frozen=True)
class Report:
    run_id: str
    finished_at: str | None
    data_start: pd.Timestamp | None
    data_end: pd.Timestamp | None
    counts: Any                       # store.Counts
    n_icebergs: int
    n_customers: int | None           # distinct customers of the whole run (None without the column)
    model: str
    settings: dict[str, Any]
    manifest: dict
    briefs: list[Brief]
    evidence: pd.DataFrame            # every evidence row of the briefs' icebergs, in brief order
    tickets: pd.DataFrame             # the briefs' tickets, export columns (see ``ticket_columns``)
    dimensions: list[str]
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    version: str = field(default_factory=lambda: _version())

    @property
    def window(self) -> str:
        if self.data_start is None:
            return "no dates"
        return f"{self.data_start:%Y-%m-%d} to {self.data_end:%Y-%m-%d}"

    @property
    def period_name(self) -> str:
        """What one timeline period is: day, week or month (``profile.period``)."""
        return {"D": "day", "W": "week", "M": "month"}.get(self.settings.get("profile.period"), "period")

    @property
    def counts_line(self) -> str:
        c = self.counts
        return (f"{c.tickets:,} tickets, {c.icebergs:,} icebergs, {c.unclustered:,} outside any iceberg, "
                f"{c.rows_quarantined:,} rows quarantined")


def selected_icebergs(icebergs: pd.DataFrame, iceberg_ids: list[str] | None, top: int) -> pd.DataFrame:
    """The icebergs a report covers: those named (in that order), else the ``top`` best ranked
    that are neither boilerplate nor dismissed. ``icebergs`` as ``Run.curated_icebergs`` gives it."""
    if iceberg_ids:
        known = icebergs.set_index(I.iceberg_id, drop=False)
        unknown = [i for i in iceberg_ids if i not in known.index]
        if unknown:
            examples = ", ".join(icebergs.sort_values(I.rank)[I.iceberg_id].head(3))
            raise UsageError(f"unknown iceberg id {unknown[0]!r} in this run; `iceberg show` lists "
                             f"its icebergs (e.g. {examples or 'none: the run found no iceberg'})")
        return known.loc[list(dict.fromkeys(iceberg_ids))].reset_index(drop=True)
    if top < 1:
        raise UsageError(f"top must be at least 1, got {top}")
    ranked = icebergs.sort_values(I.rank)
    boilerplate = ranked[I.boilerplate].fillna(False).astype(bool) if I.boilerplate in ranked else False
    dismissed = ranked[CU.status].eq("dismissed") if CU.status in ranked else False
    return ranked[~(boilerplate | dismissed)].head(top).reset_index(drop=True)


def ticket_columns(run) -> list[str]:
    """The tickets columns an export carries: ids, time, iceberg, roles, dimensions, text."""
    roles = run.manifest.columns.get("roles", {}) if run.manifest.columns else {}
    dimensions = run.manifest.columns.get("dimensions", []) if run.manifest.columns else []
    columns = [T.ticket_id, T.iceberg_id, T.created_at, T.membership]
    columns += [column for role, column in _ROLE_COLUMNS.items() if roles.get(role)]
    columns += [d for d in dimensions if d not in columns]
    columns += [h for h in handling_columns(run) if h not in columns]
    return columns + [T.text]


def handling_columns(run) -> list[str]:
    """The run's handling attributes (status, priority…: ``columns.handling`` in the manifest)."""
    return list(run.manifest.columns.get("handling", [])) if run.manifest.columns else []


def report_model(run, iceberg_ids: list[str] | None = None, top: int = 10, *,
                 dashboard_url: str | None = None) -> Report:
    """The ``Report`` of ``run`` (a ``store.Run``) for the chosen icebergs (``selected_icebergs``);
    each brief links to its dashboard page under ``dashboard_url`` (None: the run's
    ``dashboard.url``; "": no links)."""
    from pipeline.links import iceberg_url

    base = run.config.dashboard.url if dashboard_url is None else dashboard_url
    icebergs = run.curated_icebergs()
    chosen = selected_icebergs(icebergs, iceberg_ids, top)
    ids = chosen[I.iceberg_id].tolist()
    attributes = run.attributes
    attributes = attributes[attributes[A.iceberg_id].isin(ids)]
    evidence = run.evidence(attributes=attributes)
    timeline = run.timeline
    timeline = timeline[timeline[TL.iceberg_id].isin(ids)]
    columns = ticket_columns(run)
    everyone = run.table("tickets", [c for c in (T.iceberg_id, T.created_at, T.customer_id) if c in columns])
    members = everyone[T.iceberg_id].isin(ids).to_numpy()
    tickets = run.table("tickets", columns)[members].sort_values([T.created_at, T.ticket_id], kind="stable")
    created = everyone[T.created_at].dropna()
    config = run.config.to_dict()
    themes = run.themes if hasattr(run, "themes") else None
    handling = handling_columns(run)
    briefs = [_brief(r, evidence, attributes, timeline, tickets, handling, themes,
                     iceberg_url(base, r[I.iceberg_id], run.run_id))
              for r in chosen.to_dict(orient="records")]
    return Report(
        run_id=run.run_id, finished_at=run.manifest.finished_at,
        data_start=created.min() if len(created) else None,
        data_end=created.max() if len(created) else None,
        counts=run.manifest.counts, n_icebergs=len(icebergs),
        n_customers=(int(everyone[T.customer_id].nunique()) if T.customer_id in everyone else None),
        model=f"{run.config.embedding.model} ({run.config.embedding.backend})",
        settings={key: config[key.split(".")[0]][key.split(".")[1]] for key in _SETTINGS},
        manifest=run.manifest.to_dict(), briefs=briefs,
        evidence=_in_order(evidence, ids), tickets=tickets.reset_index(drop=True),
        dimensions=[c for c in columns if c not in (T.ticket_id, T.iceberg_id, T.created_at, T.membership,
                                                    T.text, *_ROLE_COLUMNS.values(), *handling)],
    )


def _brief(r: dict, evidence: pd.DataFrame, attributes: pd.DataFrame, timeline: pd.DataFrame,
           tickets: pd.DataFrame, handling: list[str] = (), themes: pd.DataFrame | None = None,
           url: str | None = None) -> Brief:
    iceberg_id = r[I.iceberg_id]
    name = r.get(CU.name) if lines.present(r.get(CU.name)) else r[I.label]
    own_evidence = evidence[evidence[A.iceberg_id] == iceberg_id]
    where, is_evidence = own_evidence.head(WHERE_ROWS), True
    if where.empty:   # nothing significant: show the most over-represented values, said as such
        own = attributes[(attributes[A.iceberg_id] == iceberg_id) & (attributes[A.lift] > 1)]
        where, is_evidence = own.sort_values(A.lift, ascending=False).head(3), False
    members = tickets[tickets[T.iceberg_id] == iceberg_id]
    segments = r.get(I.segments)
    causes = [lines.evidence_sentence(e, r.get(I.onset)) for _, e in own_evidence.iterrows()]
    combination = lines.combination_line(r)
    if combination:
        causes.append(f"The most over-represented pair of values: {combination}.")
    events = lines.events_line(r)
    if events:
        causes.append(f"Events within a week of its onset: {events}.")
    return Brief(
        row=r, name=name, statement=lines.statement(r, name, own_evidence),
        who=lines.who_line(r),
        segments=lines.segment_breakdown(segments) if segments is not None and len(segments) else None,
        when=lines.when_line(r), events=events,
        timeline=timeline[timeline[TL.iceberg_id] == iceberg_id][[TL.period_start, TL.count]]
        .sort_values(TL.period_start).reset_index(drop=True),
        where=where.reset_index(drop=True), where_is_evidence=is_evidence,
        combination=combination, causes=causes, terms=list(r[I.keywords]),
        theme=lines.theme_line(themes, r.get(I.theme_id), iceberg_id),
        score=lines.score_line(r, lines.top_value(own_evidence)), quotes=representative_quotes(members, list(r[I.representative_ticket_ids])),
        ticket_ids=members[T.ticket_id].astype(str).tolist(), url=url,
        handling=lines.handling_line(members, list(handling)),
    )


def representative_quotes(members: pd.DataFrame, representative_ids: list[str]) -> list[Quote]:
    """3–5 of an iceberg's tickets, each from a different customer where the input says who:
    its representative tickets first (most central), then the rest by membership."""
    order = {ticket_id: i for i, ticket_id in enumerate(representative_ids)}
    ranked = members.assign(_order=members[T.ticket_id].map(order).fillna(len(order)),
                            _membership=-members[T.membership].fillna(0))
    ranked = ranked.sort_values(["_order", "_membership", T.ticket_id], kind="stable")
    has_customers = T.customer_id in ranked and ranked[T.customer_id].notna().any()
    chosen, seen_customers, seen_texts = [], set(), set()
    for wanted_distinct in (True, False):      # different customers first, then fill up
        for r in ranked.to_dict(orient="records"):
            customer = r.get(T.customer_id) if has_customers else None
            key = " ".join(str(r[T.text]).split()).lower()
            if len(chosen) >= MAX_QUOTES or (not wanted_distinct and len(chosen) >= MIN_QUOTES):
                break
            if r[T.ticket_id] in {q.ticket_id for q in chosen} or key in seen_texts:
                continue
            if wanted_distinct and lines.present(customer) and customer in seen_customers:
                continue
            chosen.append(Quote(str(r[T.ticket_id]), r[T.created_at] if lines.present(r[T.created_at]) else None,
                                customer if lines.present(customer) else None, str(r[T.text])))
            seen_texts.add(key)
            if lines.present(customer):
                seen_customers.add(customer)
    return chosen


def _in_order(rows: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    order = {iceberg_id: i for i, iceberg_id in enumerate(ids)}
    return (rows.assign(_order=rows[A.iceberg_id].map(order)).sort_values("_order", kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def _version() -> str:
    try:
        return metadata.version("ticket-iceberg")
    except metadata.PackageNotFoundError:
        return "unknown"
