"""Clean and redact: the text that is embedded, stored and exported.

Runs after ingest and before anything else sees the data. Ticket text is cleaned
(``pipeline.text.clean``) and redacted (``pipeline.text.redact``); every other text column that
leaves the pipeline — kept input columns, dimension values, the raw fields of
quarantined rows — is redacted too, and customer/agent/account ids that are e-mail
addresses or phone numbers become stable pseudonyms, so distinct counts survive without
the personal data. A ticket whose text is (almost) empty once cleaned is quarantined, not dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from pipeline.text.clean import cleaned_texts
from pipeline.config import CleanConfig, Config, RedactConfig
from pipeline.sources.ingest import InputError
from pipeline.text.templates import template_fragments, without_templates
from pipeline.text.redact import pseudonymise_id, redacted_texts
from pipeline.schemas import QuarantineCols, TicketCols

# Columns that hold identifiers or values the pipeline itself made; never rewritten.
_UNTOUCHED = {TicketCols.ticket_id, TicketCols.created_at, TicketCols.text, TicketCols.source_row,
              QuarantineCols.source, QuarantineCols.source_row}
_PSEUDONYMISED = {TicketCols.customer_id: "cust", TicketCols.agent_id: "agent",
                  TicketCols.account_id: "acct"}


@dataclass(frozen=True)
class Prepared:
    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    redactions: dict[str, int]      # personal-data items replaced, per kind
    templates: dict = field(default_factory=dict)   # template fragments found and removed


def prepared_tickets(tickets: pd.DataFrame, quarantine: pd.DataFrame, config: Config,
                     source: str) -> Prepared:
    """Cleaned, redacted tickets; tickets left without text join the quarantine."""
    counts: Counter[str] = Counter()
    text, found = redacted_texts(cleaned_texts(tickets[TicketCols.text], config.clean), config.redact)
    counts.update(found)
    text, templates = _without_template_fragments(text, config.clean)
    tickets = tickets.assign(**{TicketCols.text: text})
    tickets, more = redacted_columns(tickets, config.redact)
    counts.update(more)
    too_short = tickets[TicketCols.text].fillna("").str.len() < config.clean.min_chars
    if too_short.all():   # nothing left to embed or cluster: say why, instead of crashing later
        reasons = pd.concat([quarantine[QuarantineCols.reason],
                             pd.Series(["no text left after cleaning"] * len(tickets))])
        common = reasons.value_counts().index[0] if len(reasons) else "no rows"
        raise InputError(f"none of the {len(reasons):,} rows of {source} is a usable ticket (most "
                         f"common reason: {common}); check the input, and that [columns] id and "
                         "body name its id and text columns")
    rejected = tickets.loc[too_short].astype("string").assign(**{
        QuarantineCols.reason: "no text left after cleaning",
        QuarantineCols.source: source,
        QuarantineCols.source_row: tickets.loc[too_short, TicketCols.source_row],
    })
    quarantine, more = redacted_columns(quarantine, config.redact)
    counts.update(more)
    if too_short.any():
        quarantine = pd.concat([quarantine, rejected], ignore_index=True)
        quarantine = quarantine.sort_values(QuarantineCols.source_row, kind="stable", ignore_index=True)
    return Prepared(tickets.loc[~too_short].reset_index(drop=True), quarantine, dict(counts), templates)


def _without_template_fragments(text: pd.Series, config: CleanConfig) -> tuple[pd.Series, dict]:
    """``text`` without the corpus's template fragments (``pipeline.text.templates``)."""
    if config.template_min_share <= 0:
        return text, {}
    fragments = template_fragments(text, min_share=config.template_min_share,
                                   max_coherence_ratio=config.template_max_coherence)
    text, changed = without_templates(text, fragments)
    return text, fragments.record(changed)


def redacted_columns(frame: pd.DataFrame, config: RedactConfig) -> tuple[pd.DataFrame, Counter[str]]:
    """Every text column redacted (each distinct value once); id columns pseudonymised."""
    counts: Counter[str] = Counter()
    if not config.enabled:
        return frame, counts
    updates = {}
    for column in frame.columns:
        if column in _UNTOUCHED or not _is_text(frame[column]):
            continue
        values = frame[column]
        distinct = pd.Series(values.dropna().unique())
        if distinct.empty:
            continue
        if column in _PSEUDONYMISED:
            replaced = distinct.map(lambda v: pseudonymise_id(str(v), _PSEUDONYMISED[column]))
            changed = int((replaced != distinct).sum())
            if changed:
                counts["id_pseudonymised"] += changed
        else:
            replaced, found = redacted_texts(distinct.astype("string"), config)
            counts.update(found)
        mapping = dict(zip(distinct, replaced))
        updates[column] = values.map(mapping).astype(values.dtype)
    return (frame.assign(**updates) if updates else frame), counts


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object
