"""``iceberg run --dry-run``: validate the input and config, say what a run would do.

Reads and prepares the input (so every data error a run would hit shows up, with its
exit code), compares it with the latest finished run, looks the texts up in the
embedding cache, and decides the mode as far as it can be decided before embedding.
Writes nothing, loads no model, and does not take the lock (it only reports whether a
run holds it).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.embed import embedder_key, text_hash
from pipeline.embed.stage import given_subjects
from pipeline.errors import LockHeld
from pipeline.groups import incremental
from pipeline.schemas import QuarantineCols, TicketCols
from pipeline.sources.ingest import read_tickets
from pipeline.store.embedding_cache import EmbeddingCache
from pipeline.store.layout import Layout
from pipeline.store.lock import lock_holder, raise_if_locked
from pipeline.store.reader import previous_run
from pipeline.text.prepare import prepared_tickets, scaffolding_groups
from pipeline.text.structure import structure_summary


def run_plan(input_path: str | Path, out: str | Path, config: Config, mode: str | None = None) -> dict:
    """What ``run(input_path, out, config, mode=mode)`` would do, as a dict."""
    out = Path(out)
    mode = mode or config.incremental.mode
    ingested = read_tickets(input_path, config)
    prepared = prepared_tickets(ingested.tickets, ingested.quarantine, config,
                                source=ingested.name, groups=scaffolding_groups(ingested.dimensions))
    tickets = prepared.tickets
    previous = previous_run(out)
    is_new = incremental.new_ticket_mask(tickets, previous)
    until = incremental.data_until(tickets)
    decision = incremental.planned_mode(mode, previous, config, n_tickets=len(tickets),
                                        n_new=int(is_new.sum()), until=until)
    e = config.embedding
    cache = EmbeddingCache(Layout(out).embeddings, embedder_key(e, e.backend)).load()
    given = prepared.problem_subjects
    subjects = [] if given is None or not config.cluster.subject_weight else \
        given[given_subjects(given.tolist())].tolist()
    found, _ = cache.lookup([text_hash(t) for t in [*prepared.problem_texts, *subjects]])
    plan_mode = decision.mode
    if decision.requested == "auto" and decision.mode == "assign":
        plan_mode = "assign (auto: may still switch to full once the new tickets are embedded)"
    return {
        "input": ingested.source,
        "source": ingested.name,
        "rows_read": ingested.rows_read,
        "tickets": len(tickets),
        "rows_quarantined": len(prepared.quarantine),
        "dimensions": ingested.dimensions,
        "understood": ingested.understood(),
        "structure": prepared.structure,
        "quarantine_reasons": prepared.quarantine[QuarantineCols.reason].value_counts().to_dict(),
        "out": str(out),
        "lock": "held by " + str(lock_holder(out) or "another run") if _lock_held(out) else "free",
        "previous_run_id": previous.run_id if previous else None,
        "new_or_changed_tickets": int(is_new.sum()),
        "removed_tickets": int((~previous.tickets[TicketCols.ticket_id].isin(tickets[TicketCols.ticket_id])).sum())
        if previous else 0,
        "to_embed": int((~found).sum()),
        "cached": int(found.sum()),
        "mode": plan_mode,
        "reasons": decision.reasons,
        "signals": decision.signals,
        "webhook": config.alerts.webhook_url or None,
    }


def plan_text(plan: dict) -> str:
    lines = [
        f"Dry run: nothing written. Input {plan['source']}: {plan['rows_read']:,} rows → "
        f"{plan['tickets']:,} tickets, {plan['rows_quarantined']:,} would be quarantined.",
        *plan["understood"],
        structure_summary(plan["structure"]),
        *[f"Quarantine: {n:,} × {reason}" for reason, n in list(plan["quarantine_reasons"].items())[:10]],
        f"Output {plan['out']}: previous run {plan['previous_run_id'] or '(none)'}; lock {plan['lock']}.",
        f"{plan['new_or_changed_tickets']:,} new or changed tickets, {plan['removed_tickets']:,} removed; "
        f"{plan['to_embed']:,} texts to embed ({plan['cached']:,} cached).",
        f"Mode: {plan['mode']} — {'; '.join(plan['reasons'])}.",
    ]
    if plan["webhook"]:
        lines.append(f"Alerts would be posted to {plan['webhook']}.")
    return "\n".join(lines)


def _lock_held(out: Path) -> bool:
    try:
        raise_if_locked(out)
    except LockHeld:
        return True
    return False
