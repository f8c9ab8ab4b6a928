"""Every column that leaves the pipeline, redacted or pseudonymised — decided per column.

``redacted_columns`` looks at each column once and takes one decision for all its values
(``column_treatment``), so a column is pseudonymised or kept, never both, and an id never
turns into a placeholder:

- ``ticket_id``: an id that carries personal data ("jane@example.com-17") becomes a stable
  pseudonym ``tkt-<12 hex>`` of the whole id; other ids, bare digit strings included, stay.
- the quarantine's ``reason``: the raw value it quotes is redacted with placeholders.
- **people** (``people``): the customer and agent roles, and any column named for people
  by role — assignee, reporter, requester, watcher(s), submitter, author, creator, owner,
  agent, customer, caller, responder, approver (with ``_id``, ``_name``, ``_email``, … after
  it). Every value is pseudonymised (``cust-``, ``agent-``, ``person-``; each value of a
  JSON list such as Jira's watchers on its own), unless every value is an opaque id (a
  token with a digit, no space, no ``@``: ``360839922496``, ``C-1``), when all are kept.
- **ids** (``id``): a column that is an id by its name (``id``, ``*_id``, ``*.id``, ``… Id``,
  ``ticketFormId``) or by its values (every value a whole number — Zendesk's 12-digit
  ``36…`` ids, Freshdesk's 10-digit ones) is never passed through phone or card
  detection. An id column one of whose values holds personal data (an e-mail address, a
  written phone number, a nested ``{"email": …}``) is pseudonymised as a whole
  (``acct-``, ``id-``); else it is kept as it is.
- **personal data** (``personal``): a column that *is* e-mails, phone numbers or person
  names (``personal_column_kind``) is pseudonymised value by value (``email-``, ``phone-``,
  ``person-``), so distinct counts survive.
- **numbers** (``number``): an integer column not named as an id holds card numbers only
  when most of its large values are (Luhn, an issuer's first digit): then those are
  ``[CARD]``; a phone-named one (phone, mobile, tel…) is pseudonymised as phones.
- any other text (``text``) is redacted with placeholders, as ticket text is.

A pseudonym is a hash of the value's normal form only — an e-mail lower-cased, a phone in
E.164, a name's words lower-cased — never of the column, so the same person has the same
hex digits in every column (``cust-1a2b…`` as reporter, ``agent-1a2b…`` as assignee).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pandas as pd
from stdnum import luhn

from pipeline.config import RedactConfig
from pipeline.schemas import QuarantineCols, TicketCols
from pipeline.text.people import NAME_PARTICLES, NAME_TOKEN, personal_column_kind
from pipeline.text.redact import EMAIL, CARD_FIRST_DIGITS, phone_key, pseudonym, redact_text, redacted_texts

# Columns the pipeline made itself (or already redacted); never rewritten.
UNTOUCHED = {TicketCols.text, TicketCols.source_row, QuarantineCols.source, QuarantineCols.source_row}
ID_PREFIXES = {TicketCols.customer_id: "cust", TicketCols.agent_id: "agent", TicketCols.account_id: "acct"}
PEOPLE_ROLES = {TicketCols.customer_id, TicketCols.agent_id}
TICKET_ID_PREFIX = "tkt"
MIN_CHECKED_INTEGER = 10**6        # smaller integers are neither phone nor card numbers
CARD_MAJORITY = 0.5                # of an integer column's large values that must be cards
# Words that name people by their role; a column named so (last word, before a qualifier
# such as "name" or "id") holds people.
PEOPLE_WORDS = frozenset({
    "assignee", "assignees", "assigned", "reporter", "reporters", "requester", "requesters", "requestor",
    "watcher", "watchers", "submitter", "author", "creator", "owner", "agent", "agents", "customer",
    "caller", "responder", "approver", "approvers", "participant", "participants", "collaborator",
    "collaborators", "follower", "followers"})
QUALIFIERS = frozenset({"name", "names", "display", "full", "email", "emails", "mail", "id", "ids",
                        "username", "user", "login", "s", "to", "by"})
NOT_PEOPLE = frozenset({("user", "agent")})        # a browser's user agent string
ID_WORDS = frozenset({"id", "ids", "uuid", "guid"})
OPAQUE_ID = re.compile(r"[\w:.#/+-]*\d[\w:.#/+-]*")
DIGITS = re.compile(r"\d+")
# What a value needs to hold an e-mail, URL, IP, IBAN, card or phone: a quick test first.
MAY_HOLD_PERSONAL_DATA = re.compile(r"[@:]|www\.|\d(?:\D?\d){6}|\d(?:\.\d{1,3}){3}")


def redacted_columns(frame: pd.DataFrame, config: RedactConfig) -> tuple[pd.DataFrame, Counter[str]]:
    """Every column of ``frame`` redacted or pseudonymised as the module docstring says;
    each distinct value is looked at once."""
    counts: Counter[str] = Counter()
    if not config.enabled:
        return frame, counts
    updates = {}
    for column in frame.columns:
        values = frame[column]
        if column in UNTOUCHED or not (_is_text(values) or _is_integer(values)):
            continue
        distinct = pd.Series(values.dropna().unique())
        if distinct.empty:
            continue
        text = distinct.astype(str)
        replaced, found = _redacted_values(text, str(column), config, integer=_is_integer(values))
        changed = replaced != text
        if not changed.any():
            continue
        counts.update(found)
        mapping = dict(zip(text[changed], replaced[changed]))
        if _is_integer(values):
            as_text = values.astype("string")
            updates[column] = as_text.map(lambda v: mapping.get(v, v) if isinstance(v, str) else v).astype("string")
        else:
            updates[column] = values.map(lambda v: mapping.get(v, v)).astype(values.dtype)
    return (frame.assign(**updates) if updates else frame), counts


def column_treatment(column: str, distinct: pd.Series, integer: bool = False) -> str:
    """How a column is handled: ``people``, ``id``, ``personal``, ``number`` or ``text`` (see
    the module docstring); ``distinct``: its distinct values as text."""
    if column in PEOPLE_ROLES or is_people_column(column):
        return "people"
    if column in ID_PREFIXES or is_id_column(column):
        return "id"
    if integer or (len(distinct) and distinct.str.fullmatch(DIGITS).all()):
        return "number"
    return "text"


def is_id_column(name: str) -> bool:
    """Whether a column is an id by its name: ``id``, ``brand_id``, ``via.source.id``,
    ``Ticket id``, ``ticketFormId``."""
    words = _words(name)
    return bool(words) and words[-1] in ID_WORDS


def is_people_column(name: str) -> bool:
    """Whether a column holds people by its name's role: ``Assignee``, ``reporter_name``,
    ``Watchers``, ``submitter_id``, ``Created by``, ``Custom field (Approvers)``."""
    words = _words(name)
    if len(words) > 1 and words[-1] == "by":         # "Created by", "Resolved by"
        return True
    while len(words) > 1 and words[-1] in QUALIFIERS:
        words.pop()
    return bool(words) and words[-1] in PEOPLE_WORDS and tuple(words[-2:]) not in NOT_PEOPLE


def redacted_reason(reason: str, config: RedactConfig) -> str:
    """A quarantine reason with the raw value it quotes redacted: what was wrong stays said."""
    return redact_text(reason, config.kinds, config)[0] if config.enabled else reason


def pseudonymised_ticket_ids(ids: pd.Series, config: RedactConfig) -> pd.Series:
    """Each id that carries personal data replaced by ``tkt-<hash of the id>``; others kept.

    A bare digit string is an id, not a phone number. Distinct ids stay distinct: should two
    pseudonyms ever collide with each other or with a kept id, longer hashes are used.
    """
    flagged = ids.map(lambda v: isinstance(v, str) and _holds_personal_data(v, config))
    if not flagged.any():
        return ids
    for digits in (12, 24, 64):
        renamed = ids.where(~flagged, ids[flagged].map(lambda v: pseudonym(v, TICKET_ID_PREFIX, digits)))
        if renamed.dropna().nunique() == ids.dropna().nunique():
            return renamed.astype(ids.dtype)
    raise AssertionError("a 256-bit hash collided")     # pragma: no cover


def pseudonym_key(value: str, config: RedactConfig | None = None) -> str:
    """What a value's pseudonym hashes: an e-mail lower-cased, a written phone number in
    E.164, a name's words lower-cased, anything else trimmed — the same in every column."""
    stripped = value.strip()
    if EMAIL.fullmatch(stripped):
        return stripped.lower()
    if not stripped.isdigit():
        key = phone_key(stripped, (config or RedactConfig()).phone_regions)
        if key is not None:
            return key
    if _name_shaped(stripped):
        return " ".join(stripped.lower().split())
    return stripped


def _redacted_values(distinct: pd.Series, column: str, config: RedactConfig,
                     integer: bool = False) -> tuple[pd.Series, Counter[str]]:
    """``distinct`` (a column's distinct values, as text) redacted or pseudonymised."""
    counts: Counter[str] = Counter()
    if column == TicketCols.ticket_id:
        replaced = pseudonymised_ticket_ids(distinct, config)
        counts["id_pseudonymised"] += int((replaced != distinct).sum())
        return replaced, counts
    if column == QuarantineCols.reason:
        replaced = distinct.map(lambda r: redacted_reason(r, config))
        counts["reason_redacted"] += int((replaced != distinct).sum())
        return replaced, counts
    treatment = column_treatment(column, distinct, integer)
    checked = distinct
    if treatment == "number":
        checked = distinct[distinct.map(lambda v: v.lstrip("-").isdigit() and abs(int(v)) >= MIN_CHECKED_INTEGER)]
    kind = personal_column_kind(checked, column) if len(checked) else None
    prefix = ID_PREFIXES.get(column) or kind or ("person" if treatment == "people" else "id")
    counted = "id_pseudonymised" if column in ID_PREFIXES else f"{prefix}_pseudonymised"
    if treatment == "people":
        if distinct.map(_is_opaque_id).all() and kind is None:
            return distinct, counts
        replaced = distinct.map(lambda v: _people_pseudonym(v, prefix, config))
    elif treatment == "id":
        if kind is None and not distinct.map(lambda v: _holds_personal_data(v, config)).any():
            return distinct, counts
        replaced = distinct.map(lambda v: pseudonym(pseudonym_key(v, config), prefix))
    elif kind is not None:
        replaced = distinct.copy()
        replaced[checked.index] = checked.map(lambda v: _kind_pseudonym(v, kind, config))
    elif treatment == "number":
        cards = checked.map(_is_card_number)
        if not len(cards) or cards.mean() < CARD_MAJORITY:
            return distinct, counts
        replaced = distinct.copy()
        replaced[cards[cards].index] = "[CARD]"
        counts["card"] += int(cards.sum())
        return replaced, counts
    else:
        replaced, found = redacted_texts(distinct.astype("string"), config)
        counts.update(found)
        return replaced.astype(str), counts
    counts[counted] += int((replaced != distinct).sum())
    return replaced, counts


def _people_pseudonym(value: str, prefix: str, config: RedactConfig) -> str:
    """A people column's value as a pseudonym; a JSON list (Jira's watchers) element by element."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            items = None
        if isinstance(items, list):
            return json.dumps([pseudonym(pseudonym_key(str(i), config), prefix) for i in items])
    return pseudonym(pseudonym_key(value, config), prefix)


def _kind_pseudonym(value: str, kind: str, config: RedactConfig) -> str:
    """A value of a column of e-mails, phones or names, pseudonymised (a phone in a phone
    column by its E.164 number even when written as bare digits)."""
    if kind == "phone" and value.strip().isdigit():
        key = phone_key(value, config.phone_regions)
        if key is not None:
            return pseudonym(key, kind)
    return pseudonym(pseudonym_key(value, config), kind)


def _holds_personal_data(value: str, config: RedactConfig) -> bool:
    """Whether an id holds an e-mail, URL, IP, IBAN, card or written phone number; a bare
    digit string is an id, never a phone or card number."""
    stripped = value.strip()
    if stripped.isdigit() or MAY_HOLD_PERSONAL_DATA.search(stripped) is None:
        return False
    kinds = [k for k in config.kinds if k not in ("address", "person")]   # no NER over ids
    return redact_text(stripped, kinds, config)[1].total() > 0


def _is_opaque_id(value: str) -> bool:
    stripped = value.strip()
    return "@" not in stripped and OPAQUE_ID.fullmatch(stripped) is not None


def _is_card_number(digits: str) -> bool:
    digits = digits.lstrip("-")
    return (13 <= len(digits) <= 19 and digits[0] in CARD_FIRST_DIGITS and len(set(digits)) > 1
            and luhn.is_valid(digits))


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return re.findall(r"[a-z]+", spaced.lower())


def _name_shaped(value: str) -> bool:
    words = value.replace(",", " ").split()
    return 1 <= len(words) <= 4 and all(NAME_TOKEN.fullmatch(w) or w.lower() in NAME_PARTICLES
                                        for w in words)


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _is_integer(series: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series)
