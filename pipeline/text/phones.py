"""Phone numbers in free text: candidate digit runs judged by Google's ``phonenumbers``.

``phonenumbers.PhoneNumberMatcher`` at its ``VALID`` level misses numbers in ranges its
metadata does not know yet (a seeded ``+1 299-555-0142``), and at ``POSSIBLE`` it takes a
date, an epoch timestamp or an order number for a number somewhere. So this module finds
the candidates itself — runs of digits with the separators people write (spaces, dots,
dashes, slashes, parentheses), never across a line break — and keeps one when:

- it starts with ``+`` or ``00`` and is a possible number for its country code (lenient:
  the length fits, the range need not be assigned yet);
- it follows a word such as "phone", "tel", "call", "mobile" and is possible in one of the
  regions;
- it is valid in one of the regions *as written*: with the region's trunk prefix (``020
  7946 0958``), or in a region where numbers are written without one (``(415) 555-2671``,
  ``612 34 56 78``, ``98765 43210``); a bare digit run must be valid, not merely possible;
- it has the North-American shape ``(NXX) NXX-XXXX`` / ``NXX-NXX-XXXX`` with separators,
  or is grouped, starts with the region's trunk ``0`` and is possible there.

Dates (``2024-01-15``, ``15.01.2024``), times and currency amounts are masked before the
candidates are looked for, and a bare run after "order", "invoice", "#"… is a reference.
Epoch timestamps (ten or thirteen digits starting with 1) are neither valid North-American
nor Indian numbers, and a British ``1704 067200`` without its trunk ``0`` is not taken.
When a whole run is not a number, the runs left after dropping its first or last groups
are tried (``call 020 7946 0958 2024``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU")
MIN_DIGITS, MAX_DIGITS = 7, 15
# Where the national trunk prefix is commonly left out although the region has one: Indian
# mobiles ("98765 43210") and Brazilian numbers with the area code in parentheses.
TRUNK_OPTIONAL_MOBILE = frozenset({"IN"})
TRUNK_OPTIONAL_GROUPED = frozenset({"BR"})

_SEP = r"(?:[ \t]?[().\-/]{1,2}[ \t]?|[ \t]{1,2})"
RUN = re.compile(
    r"(?<![\w+$€£¥.,/(\-])"
    r"(?:\+[ \t]?|\b00[ \t]?)?\(?\d(?:" + _SEP + r"?\d)*\)?"
    r"(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,6})?"
    r"(?![\w]|[.,]\d)", re.IGNORECASE)
WORD = re.compile(r"[^ \t]+")
EXTENSION = re.compile(r"[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,6}$", re.IGNORECASE)
NANP_SHAPE = re.compile(r"(?:1[ .\-]?)?(?:\([2-9]\d{2}\)[ .\-]?|[2-9]\d{2}[ .\-])[2-9]\d{2}[ .\-]\d{4}")

# What a phone run must not eat: dates (with a time), times and amounts; masked first.
NOT_PHONE = re.compile(
    r"(?<![\d./-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))(?![-/.]?\d)"
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)"
    r"|[$€£¥][ \t]?\d[\d,.' ]*"
    r"|\d[\d,.']*[ \t]?(?:usd|eur|gbp|inr|dollars?|euros?|pounds?|rupees?)\b",
    re.IGNORECASE)
CONTEXT_CHARS = 25
PHONE_BEFORE = re.compile(
    r"(?:phone|tel|telephone|call|calling|mobile|cell|cellphone|fax|sms|whatsapp|text me(?: at)?|"
    r"reach me(?: at)?|ring|contact(?: me)?(?: at| on)?|telefon|handy|tél|téléphone|portable|"
    r"móvil|teléfono|celular|telefone|telefono|cellulare)\b[\s.:#()/-]{0,4}(?:no\.?|number|nr\.?|nummer|"
    r"n°|numéro|número)?[\s.:#-]{0,3}$", re.IGNORECASE)
# A bare digit run after one of these words is a reference number, whatever it would dial.
REFERENCE_BEFORE = re.compile(r"(?:order|invoice|ticket|case|ref|reference|account|acct|tracking|"
                              r"transaction|confirmation|booking|id|nr|no|#)\W{0,3}$", re.IGNORECASE)


def phone_spans(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> list[tuple[int, int]]:
    """(start, end) of every phone number in ``text``, in order."""
    if sum(map(str.isdigit, text)) < MIN_DIGITS:
        return []
    regions = tuple(regions)
    masked = NOT_PHONE.sub(lambda m: "~" * len(m.group()), text)
    spans = []
    for run in RUN.finditer(masked):
        if sum(map(str.isdigit, run.group())) < MIN_DIGITS:
            continue
        spans.extend(_phones_within(masked, run.start(), run.group(), regions))
    return spans


def is_phone_number(value: str, regions: Sequence[str] = DEFAULT_REGIONS) -> bool:
    """Whether the whole of ``value`` is one phone number (for a column of them)."""
    value = value.strip()
    return bool(value) and phone_spans(value, regions) == [(0, len(value))]


def _phones_within(text: str, start: int, run: str, regions: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans of the phone numbers that make up the run: the whole run, or several
    numbers side by side ("415-555-2671 415-555-2672"), with at most one short word of
    other digits at either end ("020 7946 0958 2024"). A run of four-digit groups is an
    account or card number, none of whose parts is taken for a phone."""
    before = text[max(0, start - CONTEXT_CHARS):start]
    if _is_phone(run, before, regions):
        return [(start, start + len(run))]
    words = [(m.start(), m.end()) for m in WORD.finditer(run)]
    if len(words) < 2 or (len(words) >= 4 and all(b - a == 4 for a, b in words)):
        return []
    found, uncovered, i = [], [], 0
    while i < len(words):
        for j in range(len(words), i, -1):
            lo, hi = words[i][0], words[j - 1][1]
            part = run[lo:hi]
            if (j - i < len(words) and part.count("(") == part.count(")") and not (i and part.startswith("00"))
                    and _is_phone(part, (before + run[:lo])[-CONTEXT_CHARS:], regions)):
                found.append((start + lo, start + hi))
                i = j
                break
        else:
            uncovered.append(i)
            i += 1
    ends = {0, len(words) - 1}
    if not found or any(k not in ends or words[k][1] - words[k][0] > 4 for k in uncovered):
        return []
    return found


def _is_phone(candidate: str, before: str, regions: tuple[str, ...]) -> bool:
    number = EXTENSION.sub("", candidate).strip()
    digits = re.sub(r"\D", "", number)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or len(set(digits)) < 3:
        return False
    bare = number.isdigit()
    if bare and REFERENCE_BEFORE.search(before):
        return False
    if number.startswith(("+", "00")):
        return _is_possible("+" + number.lstrip("+")[2 if number.startswith("00") else 0:], None)
    if PHONE_BEFORE.search(before):
        return any(_is_possible(number, r) for r in regions)
    if not bare and NANP_SHAPE.fullmatch(number):
        return True
    for region in regions:
        parsed = _parsed(number, region)
        if parsed is None:
            continue
        trunk = _trunk_prefix(region)
        written_trunk = bool(trunk) and digits.startswith(trunk)
        if not (written_trunk or trunk in (None, "", "1") or (region in TRUNK_OPTIONAL_GROUPED and not bare)
                or (region in TRUNK_OPTIONAL_MOBILE and _is_mobile(parsed))):
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
        if not bare and written_trunk and trunk == "0" and phonenumbers.is_possible_number(parsed):
            return True
    return False


def _is_mobile(parsed: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(parsed) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _is_possible(number: str, region: str | None) -> bool:
    parsed = _parsed(number, region)
    return parsed is not None and phonenumbers.is_possible_number(parsed)


def _parsed(number: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(number, region)
    except NumberParseException:
        return None


@lru_cache(maxsize=None)
def _trunk_prefix(region: str) -> str | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix if metadata else None


def checked_regions(regions: Sequence[str]) -> tuple[str, ...]:
    """``regions`` upper-cased; raises ``ValueError`` naming any that phonenumbers does not know."""
    known = phonenumbers.SUPPORTED_REGIONS
    upper = tuple(r.upper() for r in regions)
    unknown = [r for r in upper if r not in known]
    if unknown:
        raise ValueError(f"unknown phone region(s) {unknown}; use ISO 3166 codes such as US, GB, DE")
    return upper
