"""Replace personal data in ticket text with typed placeholders, before anything is stored.

Each kind has a pattern for candidates and, where one exists, a check that keeps false
positives out: an IBAN is read to exactly its country's length (ISO 13616, from
python-stdnum's registry) across spaces, dashes or dots and must pass its checksum; a card
number must pass the Luhn check and start like an issuer's (2–6); IPv4 octets may be
zero-padded but at most 255, and ``ipaddress`` judges IPv6; phone numbers are judged by
``pipeline.text.phones``. Kinds are applied in ``KINDS`` order, so that a digit already
claimed (by an IBAN, a card) is not claimed again by the phone matcher. ``address`` and
``person`` are opt-in (``pipeline.text.people``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Sequence

import pandas as pd
from stdnum import iban, luhn, numdb

from pipeline.config import ConfigError, RedactConfig
from pipeline.text import phones

PLACEHOLDERS = {"url": "[URL]", "email": "[EMAIL]", "iban": "[IBAN]", "card": "[CARD]",
                "ip": "[IP]", "phone": "[PHONE]", "address": "[ADDRESS]", "person": "[PERSON]"}
# URLs first: they may hold credentials that look like an e-mail address ("user:pw@host").
# Addresses before people: a street named after someone ("12 Abbey Road") is an address.
KINDS = tuple(PLACEHOLDERS)
DEFAULT_KINDS = ("email", "url", "iban", "card", "ip", "phone")

URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'\[\]]+|\bwww\.[^\s<>\"'\[\]]+", re.IGNORECASE)
URL_TRAILING = ".,;:!?)'\""
EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\b")

# ISO 13616: every country's IBAN has one length, 4 + its BBAN's.
IBAN_LENGTHS = {cc: 4 + sum(int(n) for n in re.findall(r"(\d+)!", props["bban"]))
                for _, cc, _, props, _ in numdb.get("iban").prefixes if "bban" in props}
IBAN_START = re.compile(r"(?<![^\W_])([A-Za-z]{2})[ .-]?\d{2}")
IBAN_SEPARATORS = " .-"

CARD = re.compile(
    r"(?<![\w.,+-])(?:\d{13,19}"
    r"|\d{4}(?P<a>[ .-])\d{4}(?P=a)\d{4}(?P=a)(?:\d{4}(?:(?P=a)\d{3})?|\d{1,3})"  # 4-4-4-4(-3), 4-4-4-1..3
    r"|\d{4}(?P<b>[ .-])\d{6}(?P=b)\d{4,5})"                                # 4-6-5 (Amex), 4-6-4
    r"(?![\w-]|[.,]\d)")
CARD_FIRST_DIGITS = "23456"          # the major industry identifiers of payment cards
_OCTET = r"(?:25[0-5]|2[0-4]\d|[01]?\d?\d)"
IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")
# A candidate for ipaddress to judge; the IPv4 tail comes first so that "::ffff:10.0.0.1"
# is not cut at "10".
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
                  r"(?![\w:])")

PSEUDONYM_PHONE = re.compile(r"\+?[\d\s().-]{7,24}")


def redacted_texts(texts: pd.Series, config: RedactConfig) -> tuple[pd.Series, dict[str, int]]:
    """``texts`` with personal data replaced (when enabled), and how many of each kind went."""
    if not config.enabled:
        return texts.copy(), {}
    kinds = _checked_kinds(config.kinds)
    redactors = _redactors(kinds, config)
    counts: Counter[str] = Counter()
    redacted = []
    for text in texts:
        if isinstance(text, str):
            text, found = _redacted(text, redactors)
            counts.update(found)
        redacted.append(text)
    return (pd.Series(redacted, index=texts.index, name=texts.name, dtype=texts.dtype),
            {kind: counts[kind] for kind in kinds})


def redact_text(text: str, kinds: Sequence[str] = DEFAULT_KINDS,
                config: RedactConfig | None = None) -> tuple[str, Counter[str]]:
    """``text`` with each found email, url, iban, card, ip, phone (address, person) replaced
    by its placeholder; ``config`` gives the phone regions and the person model."""
    kinds = _checked_kinds(kinds)
    return _redacted(text, _redactors(kinds, config or RedactConfig(kinds=list(kinds))))


def pseudonym(key: str, prefix: str, digits: int = 12) -> str:
    """``<prefix>-<12 hex>`` (a SHA-256 of ``key``): the same key always gives the same pseudonym."""
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:digits]}"


def pseudonymise_id(value: str, prefix: str = "cust") -> str:
    """A stable pseudonym (``cust-<12 hex>``) for an id that is an e-mail address or a phone
    number, so distinct counts survive without the personal data; other ids unchanged.

    A phone number needs a "+" or a separator: a bare digit string is taken for an account number.
    """
    value = value.strip()
    if EMAIL.fullmatch(value):
        return pseudonym(value.lower(), prefix)
    if PSEUDONYM_PHONE.fullmatch(value) and (value.startswith("+") or not value.isdigit()):
        key = phone_key(value)
        if key is not None:
            return pseudonym(key, prefix)
    return value


def phone_key(value: str, regions: Sequence[str] = phones.DEFAULT_REGIONS) -> str | None:
    """The number in E.164 form when it is a phone number in one of ``regions``, else None."""
    import phonenumbers

    value = value.strip()
    if not phones.is_phone_number(value, regions):
        return None
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _redacted(text: str, redactors: list[tuple[str, Callable[[str], tuple[str, int]]]]
              ) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    for kind, redactor in redactors:
        text, counts[kind] = redactor(text)
    return text, +counts


def _checked_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    unknown = [k for k in kinds if k not in PLACEHOLDERS]
    if unknown:
        raise ConfigError(f"unknown redaction kind(s) {unknown} in redact.kinds; "
                          f"known kinds: {', '.join(KINDS)}")
    return tuple(kinds)


def _redactors(kinds: Sequence[str], config: RedactConfig) -> list[tuple[str, Callable[[str], tuple[str, int]]]]:
    """The redactor of each chosen kind, in ``KINDS`` order."""
    made = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == "phone":
            made.append((kind, _phone_redactor(_phone_regions(config))))
        elif kind in ("person", "address"):
            from pipeline.text import people      # loads a language model only when asked for

            made.append((kind, _span_redactor(kind, people.span_finder(kind, config))))
        else:
            made.append((kind, REDACTORS[kind]))
    return made


def _phone_regions(config: RedactConfig) -> tuple[str, ...]:
    try:
        return phones.checked_regions(config.phone_regions)
    except ValueError as exc:
        raise ConfigError(f"{exc} in redact.phone_regions") from None


def _substituted(pattern: re.Pattern[str], kind: str,
                 valid: Callable[[str], bool] = lambda _: True) -> Callable[[str], tuple[str, int]]:
    """A redactor replacing each match of ``pattern`` that ``valid`` accepts by the placeholder."""
    placeholder = PLACEHOLDERS[kind]

    def redactor(text: str) -> tuple[str, int]:
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            if not valid(match.group()):
                return match.group()
            found += 1
            return placeholder

        return pattern.sub(replace, text), found

    return redactor


def _span_redactor(kind: str, spans: Callable[[str], list[tuple[int, int]]]) -> Callable[[str], tuple[str, int]]:
    placeholder = PLACEHOLDERS[kind]

    def redactor(text: str) -> tuple[str, int]:
        found = spans(text)
        for start, end in sorted(found, reverse=True):
            text = text[:start] + placeholder + text[end:]
        return text, len(found)

    return redactor


def _phone_redactor(regions: tuple[str, ...]) -> Callable[[str], tuple[str, int]]:
    return _span_redactor("phone", lambda text: phones.phone_spans(text, regions))


def _urls(text: str) -> tuple[str, int]:
    """Each URL replaced, keeping the sentence punctuation that follows it."""
    def replace(match: re.Match[str]) -> str:
        url = match.group().rstrip(URL_TRAILING)
        return PLACEHOLDERS["url"] + match.group()[len(url):]

    return URL.subn(replace, text)


def iban_spans(text: str) -> list[tuple[int, int]]:
    """Spans of valid IBANs: a country code, check digits, then exactly the country's number
    of characters, each group separated by at most one space, dash or dot; any case."""
    spans: list[tuple[int, int]] = []
    for start in IBAN_START.finditer(text):
        if spans and start.start() < spans[-1][1]:
            continue
        length = IBAN_LENGTHS.get(start.group(1).upper())
        if length is None:
            continue
        end = _iban_end(text, start.start() + 2, length - 2)
        if end is not None and iban.is_valid(text[start.start():end]):
            spans.append((start.start(), end))
    return spans


def _iban_end(text: str, pos: int, wanted: int) -> int | None:
    """Where ``wanted`` alphanumerics from ``pos`` end (single separators between them are
    skipped), provided no letter or digit follows directly; else None."""
    found = 0
    while found < wanted and pos < len(text):
        char = text[pos]
        if char.isascii() and char.isalnum():
            found += 1
            pos += 1
        elif char in IBAN_SEPARATORS and pos + 1 < len(text) and text[pos + 1].isalnum():
            pos += 1
        else:
            return None
    if found < wanted or (pos < len(text) and text[pos].isalnum()):
        return None
    return pos


def _ibans(text: str) -> tuple[str, int]:
    return _span_redactor("iban", iban_spans)(text)


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return (13 <= len(digits) <= 19 and digits[0] in CARD_FIRST_DIGITS and len(set(digits)) > 1
            and luhn.is_valid(digits))


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    # "1::" is a valid address but in text a list marker: two groups and six characters at least.
    groups = [g for g in re.split(r"[:.]", candidate) if g]
    return any(ch.isdigit() for ch in candidate) and len(groups) >= 2 and len(candidate) >= 6


_ipv4s = _substituted(IPV4, "ip")
_ipv6s = _substituted(IPV6, "ip", _is_ipv6)


def _ips(text: str) -> tuple[str, int]:
    text, v6 = _ipv6s(text)
    text, v4 = _ipv4s(text)
    return text, v6 + v4


REDACTORS: dict[str, Callable[[str], tuple[str, int]]] = {
    "url": _urls,
    "email": _substituted(EMAIL, "email"),
    "iban": _ibans,
    "card": _substituted(CARD, "card", _is_card),
    "ip": _ips,
    "phone": _phone_redactor(phones.DEFAULT_REGIONS),
}
