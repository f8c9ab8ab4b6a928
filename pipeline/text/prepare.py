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

Then each ticket is told apart (``pipeline.text.structure``): the reporter's own words —
the *problem text*, which is what is embedded and labelled — from the form scaffolding
learned from the export and from machine text, whose error signature
(``pipeline.text.signatures``) becomes the ``error_signature`` column. The stored text
keeps its scaffolding and machine text, to be shown.
"""

from __future__ import annotations

import re
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
from pipeline.text.signatures import error_signatures
from pipeline.text.structure import Structure, ticket_structure
from pipeline.text.templates import template_fragments, without_templates


@dataclass(frozen=True)
class Prepared:
    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    redactions: dict[str, int]      # personal-data items replaced, per kind
    templates: dict = field(default_factory=dict)   # template fragments found and removed
    # the reporter's words per ticket (aligned with ``tickets``): what is embedded and labelled
    problem_texts: pd.Series | None = None
    # what the reporter named the problem: the subject where it survived cleaning (not a
    # template subject such as "Chat conversation"), else ""; None without a subject column
    problem_subjects: pd.Series | None = None
    structure: dict = field(default_factory=dict)   # scaffolding learned, lines of each kind


def prepared_tickets(tickets: pd.DataFrame, quarantine: pd.DataFrame, config: Config,
                     source: str, groups: str | None = None) -> Prepared:
    """Cleaned, redacted tickets; tickets left without text join the quarantine. ``groups``
    names a column (a product, project, source) within whose values scaffolding is learned too."""
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
    tickets = tickets.loc[~too_short].reset_index(drop=True)
    structure = tickets_structure(tickets, config, groups)
    signatures = None
    if config.clean.error_signatures:
        signatures = error_signatures(structure.machine, structure.reporter)
        tickets = tickets.assign(**{TicketCols.error_signature: signatures.to_numpy()})
    return Prepared(tickets, quarantine, dict(counts), templates, structure.reporter,
                    _surviving_subjects(tickets, structure.reporter), structure.record(signatures))


def tickets_structure(tickets: pd.DataFrame, config: Config, groups: str | None = None) -> Structure:
    """``ticket_structure`` of prepared tickets with the run's settings. Pure: the stored
    tickets of a run give back the problem texts it embedded (``problem_inputs``)."""
    return ticket_structure(tickets[TicketCols.text], groups=tickets[groups] if groups in tickets else None,
                            min_share=config.clean.scaffolding_min_share,
                            max_coherence_ratio=config.clean.scaffolding_max_coherence,
                            random_state=config.cluster.random_state)


def problem_inputs(tickets: pd.DataFrame, config: Config,
                   dimensions: list[str]) -> tuple[pd.Series, pd.Series | None]:
    """The problem texts and subjects a run embedded (``pipeline.embed.problem_embeddings``),
    from its stored tickets and the dimensions of its manifest: to re-profile a run without
    embedding again."""
    tickets = tickets.reset_index(drop=True)
    reporter = tickets_structure(tickets, config, scaffolding_groups(dimensions)).reporter
    return reporter, _surviving_subjects(tickets, reporter)


GROUP_COLUMN = re.compile(r"product|project|component|repo|source|brand|form|queue", re.IGNORECASE)


def scaffolding_groups(dimensions: list[str]) -> str | None:
    """The dimension within whose values scaffolding is learned too: the first named like a
    product, project, component, repository, source, brand, form or queue."""
    return next((d for d in dimensions if GROUP_COLUMN.search(d)), None)


def with_signatures(dimensions: list[str], tickets: pd.DataFrame) -> list[str]:
    """``dimensions`` and ``error_signature``, when some ticket has one: evidence like any other."""
    column = TicketCols.error_signature
    if column in tickets and tickets[column].notna().any() and column not in dimensions:
        return [*dimensions, column]
    return dimensions


def problem_view(tickets: pd.DataFrame, prepared: Prepared) -> pd.DataFrame:
    """``tickets`` (in ``prepared.tickets``' row order) with the problem text and subject in
    place of the stored ones: what keywords and names are made of."""
    if prepared.problem_texts is None:
        return tickets
    by_id = pd.Series(prepared.problem_texts.to_numpy(), index=prepared.tickets[TicketCols.ticket_id])
    view = tickets.assign(**{TicketCols.text: tickets[TicketCols.ticket_id].map(by_id).to_numpy()})
    if prepared.problem_subjects is not None:
        subjects = pd.Series(prepared.problem_subjects.to_numpy(), index=prepared.tickets[TicketCols.ticket_id])
        view[TicketCols.subject] = tickets[TicketCols.ticket_id].map(subjects).to_numpy()
    return view


def _surviving_subjects(tickets: pd.DataFrame, problem_texts: pd.Series) -> pd.Series | None:
    """Each ticket's subject as cleaning left it — its problem text's first line, when that is
    the subject or its end (a recurring label such as "Contact form:" cut) — else ""."""
    if TicketCols.subject not in tickets:
        return None
    subjects = tickets[TicketCols.subject].fillna("").astype(str)
    first_lines = problem_texts.str.split("\n", n=1).str[0].fillna("")
    kept = [f if _words(f) and _words(s).endswith(_words(f)) else "" for s, f in zip(subjects, first_lines)]
    return pd.Series(kept, dtype="str")


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _without_template_fragments(text: pd.Series, config: CleanConfig) -> tuple[pd.Series, dict]:
    """``text`` without the corpus's template fragments (``pipeline.text.templates``)."""
    if config.template_min_share <= 0:
        return text, {}
    fragments = template_fragments(text, min_share=config.template_min_share,
                                   max_coherence_ratio=config.template_max_coherence)
    text, changed = without_templates(text, fragments)
    return text, fragments.record(changed)
