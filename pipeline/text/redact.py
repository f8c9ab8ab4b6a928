"""Replace personal data in ticket text with typed placeholders, before anything is stored.

Each kind has a pattern for candidates and, where one exists, a check that keeps false
positives out: IBANs must pass their checksum, card numbers the Luhn check, IP octets
must be at most 255, and phone numbers must be valid for one of a few regions. Kinds
are applied in ``KINDS`` order, so that a digit already claimed (by an IBAN, a card) is
not claimed again by the phone matcher.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Sequence

import pandas as pd
import phonenumbers
from stdnum import iban, luhn

from pipeline.config import ConfigError, RedactConfig

PLACEHOLDERS = {"url": "[URL]", "email": "[EMAIL]", "iban": "[IBAN]", "card": "[CARD]",
                "ip": "[IP]", "phone": "[PHONE]"}
# URLs first: they may hold credentials that look like an e-mail address ("user:pw@host").
KINDS = tuple(PLACEHOLDERS)

URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'\[\]]+|\bwww\.[^\s<>\"'\[\]]+", re.IGNORECASE)
URL_TRAILING = ".,;:!?)'\""
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\d.,-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5})"
                  r"(?![\d-]|[.,]\d)")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")
# A candidate for ipaddress to judge; the IPv4 tail comes first so that "::ffff:10.0.0.1"
# is not cut at "10".
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
                  r"(?![\w:])")

# The phone matcher is slow, so it only sees runs of seven or more digits (with short
# separators between them), each with a few characters around to judge what touches it.
PHONE_RUN = re.compile(r"\+?\(?\d(?:[\s().-]{0,2}\d)+\)?")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
MIN_UNPREFIXED_PHONE_DIGITS = 10     # a shorter number dials only with a leading 0 or +
PHONE_CONTEXT_CHARS = 12
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
VALID = phonenumbers.Leniency.VALID
# A bare digit run after one of these words is a reference number, whatever it would dial.
REFERENCE_BEFORE = re.compile(r"(?:order|invoice|ticket|case|ref|reference|account|acct|tracking|"
                              r"transaction|confirmation|booking|id|nr|#)\W{0,3}$", re.IGNORECASE)

PSEUDONYM_PHONE = re.compile(r"\+?[\d\s().-]{7,24}")


def redacted_texts(texts: pd.Series, config: RedactConfig) -> tuple[pd.Series, dict[str, int]]:
    """``texts`` with personal data replaced (when enabled), and how many of each kind went."""
    if not config.enabled:
        return texts.copy(), {}
    kinds = _checked_kinds(config.kinds)
    counts: Counter[str] = Counter()
    redacted = []
    for text in texts:
        if isinstance(text, str):
            text, found = _redacted(text, kinds)
            counts.update(found)
        redacted.append(text)
    return (pd.Series(redacted, index=texts.index, name=texts.name, dtype=texts.dtype),
            {kind: counts[kind] for kind in kinds})


def redact_text(text: str, kinds: Sequence[str] = KINDS) -> tuple[str, Counter[str]]:
    """``text`` with each found email, url, iban, card, ip, phone replaced by its placeholder."""
    return _redacted(text, _checked_kinds(kinds))


def pseudonymise_id(value: str, prefix: str = "cust") -> str:
    """A stable pseudonym (``cust-<12 hex>``) for an id that is an e-mail address or a phone
    number, so distinct counts survive without the personal data; other ids unchanged.

    A phone number needs a "+" or a separator: a bare digit string is taken for an account number.
    """
    value = value.strip()
    if EMAIL.fullmatch(value):
        key = value.lower()
    elif PSEUDONYM_PHONE.fullmatch(value) and (value.startswith("+") or not value.isdigit()):
        key = _phone_key(value)
        if key is None:
            return value
    else:
        return value
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _phone_key(value: str) -> str | None:
    """The number in E.164 form when it is valid in one of ``PHONE_REGIONS``, else None."""
    for region in PHONE_REGIONS:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _redacted(text: str, kinds: Sequence[str]) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    for kind in KINDS:
        if kind in kinds:
            text, counts[kind] = REDACTORS[kind](text)
    return text, +counts


def _checked_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    unknown = [k for k in kinds if k not in PLACEHOLDERS]
    if unknown:
        raise ConfigError(f"unknown redaction kind(s) {unknown} in redact.kinds; "
                          f"known kinds: {', '.join(KINDS)}")
    return tuple(kinds)


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


def _urls(text: str) -> tuple[str, int]:
    """Each URL replaced, keeping the sentence punctuation that follows it."""
    def replace(match: re.Match[str]) -> str:
        url = match.group().rstrip(URL_TRAILING)
        return PLACEHOLDERS["url"] + match.group()[len(url):]

    return URL.subn(replace, text)


def _is_iban(candidate: str) -> bool:
    return iban.is_valid(candidate.replace(" ", "").upper())


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn.is_valid(digits)


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return any(ch.isdigit() for ch in candidate)


_ipv4s = _substituted(IPV4, "ip")
_ipv6s = _substituted(IPV6, "ip", _is_ipv6)


def _ips(text: str) -> tuple[str, int]:
    text, v6 = _ipv6s(text)
    text, v4 = _ipv4s(text)
    return text, v6 + v4


def _phones(text: str) -> tuple[str, int]:
    spans: list[tuple[int, int]] = []
    for run in PHONE_RUN.finditer(text):
        if _unlike_phone(text, run.start(), run.group()):
            continue
        offset = max(0, run.start() - PHONE_CONTEXT_CHARS)
        window = text[offset:run.end() + PHONE_CONTEXT_CHARS]
        for region in PHONE_REGIONS:
            if any(s <= run.start() and run.end() <= e for s, e in spans):
                break
            for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=VALID):
                start, end = offset + match.start, offset + match.end
                if (start < run.end() and run.start() < end
                        and not any(start < e and s < end for s, e in spans)
                        and not _unlike_phone(text, start, match.raw_string)):
                    spans.append((start, end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + PLACEHOLDERS["phone"] + text[end:]
    return text, len(spans)


def _unlike_phone(text: str, start: int, number: str) -> bool:
    """Whether ``number``, found at ``start``, reads as a count, code or reference: under seven
    digits, under ten without a leading 0 or + ("15 USC 1681 602"), or a bare digit run that
    is too long or follows "order", "#"…"""
    digits = sum(ch.isdigit() for ch in number)
    if digits < MIN_PHONE_DIGITS or (digits < MIN_UNPREFIXED_PHONE_DIGITS
                                     and not number.lstrip("(").startswith(("0", "+"))):
        return True
    return number.isdigit() and (digits > MAX_PHONE_DIGITS
                                 or REFERENCE_BEFORE.search(text[max(0, start - 20):start]) is not None)


REDACTORS: dict[str, Callable[[str], tuple[str, int]]] = {
    "url": _urls,
    "email": _substituted(EMAIL, "email"),
    "iban": _substituted(IBAN, "iban", _is_iban),
    "card": _substituted(CARD, "card", _is_card),
    "ip": _ips,
    "phone": _phones,
}
