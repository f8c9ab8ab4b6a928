"""Clean and redact: the text that is embedded, stored and exported.

Runs after ingest and before anything else sees the data. Ticket text is cleaned
(``pipeline.text.clean``) and redacted (``pipeline.text.redact``); so is every other column
that leaves the pipeline, in tickets and quarantine alike:

- ``ticket_id``: an id that carries personal data ("jane@example.com-17") becomes a
  stable pseudonym ``tkt-<12 hex>`` of the whole id (unique as the ids were; the same id
  gives the same pseudonym in every run); other ids, bare digit strings included, stay.
- customer / agent / account ids: e-mail addresses and phone numbers become stable
  pseudonyms (``cust-1a2b…``), as does any id with personal data inside it (a nested
  ``{"id": 9, "email": …}`` object) and every name in a column of person names.
- any other column (dimensions, kept input columns such as ``requester.email``, quarantined
  raw fields, a raw ``created_at``): a column that *is* personal data (``personal_column_kind``:
  e-mails, phone numbers, person names) is pseudonymised value by value (``email-…``,
  ``phone-…``, ``person-…``), so distinct counts survive; any other text is redacted with
  placeholders, and integer columns are checked for card numbers (and phone numbers,
  when named like a phone column).
- the quarantine's ``reason``: the raw value it quotes is redacted with placeholders, so
  the reason still says what was wrong ("unparseable created_at: '[EMAIL]'").

A ticket whose text is (almost) empty once cleaned is quarantined, not dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from pipeline.config import CleanConfig, Config
from pipeline.schemas import QuarantineCols, TicketCols
from pipeline.sources.ingest import InputError
from pipeline.text.clean import cleaned_texts
from pipeline.text.redact import redacted_texts
# Columns are redacted per column (ids stay ids, people are pseudonymised): redact_columns.
from pipeline.text.redact_columns import (pseudonymised_ticket_ids, redacted_columns,  # noqa: F401
                                          redacted_reason)
from pipeline.text.templates import template_fragments, without_templates


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
        common = redacted_reason(reasons.value_counts().index[0], config.redact) if len(reasons) else "no rows"
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
