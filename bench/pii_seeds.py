"""Seeded personal data of every kind the redaction knows, and numbers that are none.

``pii_values(kind, n, rng)`` makes ``n`` values of a kind, each with the *format* it was
written in (``("phone", "US (NXX) NXX-XXXX")``…), so recall can be given per format:

- email: Faker addresses (several locales), some upper-cased, some with "+tags";
- card: Luhn-valid Visa, Mastercard (5x and 2-series), Amex, Discover and 19-digit numbers,
  compact or grouped with spaces, dashes or dots;
- iban: a checksum-valid IBAN of every SEPA country, compact, grouped by four with spaces,
  dashes or dots, or lower-case;
- ip: IPv4 (plain and zero-padded) and IPv6 (full, compressed, upper-case, bracketed with a port);
- phone: US numbers with random area codes and exchanges (``+1 NXX-NXX-XXXX``, ``(NXX)
  NXX-XXXX``, ``NXX.NXX.XXXX``…) and valid numbers of GB, DE, FR, ES, IT, NL, IN, BR and AU in
  their international, national and E.164 forms (plus dotted French and slashed German ones);
- url, address (Faker street addresses of en_US, en_GB, de_DE, fr_FR, es_ES) and person
  (Faker names of the same locales).

``NOT_PII`` lists numbers that must survive: dates, times, amounts, order numbers, epoch
timestamps, versions, tracking numbers, postcodes. ``seeded(text, value, rng)`` puts a
value inside a real text, followed by a word.
"""

from __future__ import annotations

import random
import string

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb

SEPA_COUNTRIES = ("AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR",
                  "GB", "GI", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC",
                  "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK", "SM", "VA")
FAKER_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES")
PHONE_REGIONS = ("GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU")
LEADS = ("", "my", "it is", "use", "see", "on", "at", "-", "(", ":")
TRAILS = ("please", "thanks", "today", "and", "so", "if", "now", "ok", ")", ".", ",")

NOT_PII = (
    "2024-01-15", "2024-01-15 10:30:45", "15/01/2024", "01/15/2024", "15.01.2024", "1.2.2024",
    "10:30", "10:30:45", "$1,250.00", "€ 1.234,56", "1234567.89 EUR", "£12,345", "12,345,678.90",
    "order 9876543210", "Order #482913", "invoice 2024001234", "ref 4829135720", "ticket 123456",
    "1704067200", "1704067200123", "1699999999", "version 10.0.19045.2965", "build 5.2.1",
    "1Z999AA10123456784", "9400111899223197428490", "SW1A 1AA", "90210", "10115",
    "4111111111111112", "1234 5678 9012 3456", "3704 0044 0532 0130 01", "50%", "3 x 20",
    "127.0.0", "1.2.3", "ISBN 978-3-16-148410-0", "account 12345678", "sort code 12-34-56",
    "between 2019 and 2024", "1,000,000", "+5 points", "15 USC 1681623", "12 months",
)


def pii_values(kind: str, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (value, format) pairs of ``kind`` (IBANs: every SEPA country in turn)."""
    if kind == "iban":
        return [_iban(rng, SEPA_COUNTRIES[i % len(SEPA_COUNTRIES)]) for i in range(n)]
    return [MAKERS[kind](rng) for _ in range(n)]


def seeded(text: str, value: str, rng: random.Random) -> str:
    """``text`` with ``value`` inserted at a word boundary, after a lead word and before a
    trailing word, so that what touches it is real text."""
    words = text.split(" ")
    at = rng.randrange(len(words) + 1)
    lead, trail = rng.choice(LEADS), rng.choice(TRAILS)
    piece = " ".join(p for p in (lead, value, trail) if p)
    return " ".join(words[:at] + [piece] + words[at:])


def _email(rng: random.Random) -> tuple[str, str]:
    fake = _faker(rng)
    value = fake.email()
    style = rng.choice(("plain", "upper", "tag"))
    if style == "upper":
        value = value.capitalize()
    elif style == "tag":
        local, domain = value.split("@")
        value = f"{local}+{rng.choice(('shop', 'x', '2024'))}@{domain}"
    return value, style


def _card(rng: random.Random) -> tuple[str, str]:
    prefix, length, grouping = rng.choice((
        ("4", 16, (4, 4, 4, 4)), ("51", 16, (4, 4, 4, 4)), ("55", 16, (4, 4, 4, 4)),
        ("2221", 16, (4, 4, 4, 4)), ("34", 15, (4, 6, 5)), ("37", 15, (4, 6, 5)),
        ("6011", 16, (4, 4, 4, 4)), ("4", 19, (4, 4, 4, 4, 3)), ("4", 13, (4, 4, 4, 1))))
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits = body + luhn.calc_check_digit(body)
    separator = rng.choice(("", " ", "-", "."))
    groups, at = [], 0
    for size in grouping:
        groups.append(digits[at:at + size])
        at += size
    return separator.join(groups), {"": "compact", " ": "spaces", "-": "dashes", ".": "dots"}[separator]


def _iban(rng: random.Random, country: str | None = None) -> tuple[str, str]:
    country = country or rng.choice(SEPA_COUNTRIES)
    compact = random_iban(country, rng)
    style = rng.choice(("compact", "spaces", "dashes", "dots", "lower"))
    grouped = [compact[i:i + 4] for i in range(0, len(compact), 4)]
    value = {"compact": compact, "spaces": " ".join(grouped), "dashes": "-".join(grouped),
             "dots": ".".join(grouped), "lower": " ".join(grouped).lower()}[style]
    return value, f"{country} {style}"


def random_iban(country: str, rng: random.Random) -> str:
    """A checksum-valid IBAN of ``country`` with a random BBAN of the registered structure."""
    bban_structure = dict(p[1:4:2] for p in numdb.get("iban").prefixes)[country]["bban"]
    chars = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    while True:
        bban = "".join(rng.choice(chars[kind]) for count, kind in _parts(bban_structure)
                       for _ in range(count))
        number = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        if stdnum_iban.is_valid(number):      # a country check (e.g. Belgium's) may still fail
            return number


def _parts(structure: str) -> list[tuple[int, str]]:
    import re

    return [(int(n), kind) for n, kind in re.findall(r"(\d+)!([nac])", structure)]


def _ip(rng: random.Random) -> tuple[str, str]:
    style = rng.choice(("ipv4", "ipv4 zero-padded", "ipv6 full", "ipv6 compressed", "ipv6 upper",
                        "ipv6 bracketed"))
    octets = [rng.randrange(1, 255) for _ in range(4)]
    groups = [rng.randrange(0, 0x10000) for _ in range(8)]
    if style == "ipv4":
        return ".".join(map(str, octets)), style
    if style == "ipv4 zero-padded":
        return ".".join(f"{o:03d}" for o in octets), style
    if style == "ipv6 full":
        return ":".join(f"{g:04x}" for g in groups), style
    compressed = f"2001:db8:{groups[2]:x}::{groups[7]:x}"
    if style == "ipv6 upper":
        return compressed.upper(), style
    if style == "ipv6 bracketed":
        return f"[{compressed}]:{rng.randrange(1024, 65535)}", style
    return compressed, style


def _us_phone(rng: random.Random) -> tuple[str, str]:
    def nxx() -> str:
        return str(rng.randrange(2, 10)) + f"{rng.randrange(0, 100):02d}"

    a, b, c = nxx(), nxx(), f"{rng.randrange(0, 10000):04d}"
    forms = {"US +1 NXX-NXX-XXXX": f"+1 {a}-{b}-{c}", "US (NXX) NXX-XXXX": f"({a}) {b}-{c}",
             "US NXX-NXX-XXXX": f"{a}-{b}-{c}", "US NXX.NXX.XXXX": f"{a}.{b}.{c}",
             "US +1 (NXX) NXX-XXXX": f"+1 ({a}) {b}-{c}", "US 1-NXX-NXX-XXXX": f"1-{a}-{b}-{c}",
             "US NXX NXX XXXX": f"{a} {b} {c}"}
    name = rng.choice(sorted(forms))
    return forms[name], name


def _phone(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.4:
        return _us_phone(rng)
    region = rng.choice(PHONE_REGIONS)
    number = random_phone(region, rng)
    style = rng.choice(("international", "national", "e164", "variant"))
    fmt = phonenumbers.PhoneNumberFormat
    if style == "international":
        return phonenumbers.format_number(number, fmt.INTERNATIONAL), f"{region} international"
    if style == "e164":
        return phonenumbers.format_number(number, fmt.E164), f"{region} E.164"
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    if style == "variant":
        if region == "FR":
            return national.replace(" ", "."), "FR national dotted"
        if region == "DE" and " " in national:
            return national.replace(" ", "/", 1), "DE national slashed"
        if region == "IN":
            return str(number.national_number), "IN mobile bare"
        return national.replace(" ", "-"), f"{region} national dashed"
    return national, f"{region} national"


def random_phone(region: str, rng: random.Random) -> phonenumbers.PhoneNumber:
    """A valid number of ``region``: its example mobile or fixed-line number with random digits."""
    kind = rng.choice((phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE))
    example = phonenumbers.example_number_for_type(region, kind)
    country = "+" + str(example.country_code)
    nsn = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[len(country):]
    for tries in range(10_000):
        keep = min(len(nsn) - 1, max(2, len(nsn) - 6) + tries // 500)
        digits = nsn[:keep] + "".join(rng.choice(string.digits) for _ in range(len(nsn) - keep))
        number = phonenumbers.parse(country + digits)
        if phonenumbers.is_valid_number(number):
            return number
    raise RuntimeError(f"no valid {region} number found near {nsn}")


def _url(rng: random.Random) -> tuple[str, str]:
    fake = _faker(rng)
    return rng.choice((f"https://{fake.domain_name()}/reset?token={fake.sha1()[:12]}",
                       f"www.{fake.domain_name()}/account", fake.url())), "url"


def _address(rng: random.Random) -> tuple[str, str]:
    locale = rng.choice(FAKER_LOCALES)
    fake = _faker(rng, locale)
    if rng.random() < 0.5:
        return fake.street_address(), f"{locale} street"
    return fake.address().replace("\n", ", "), f"{locale} full"


def _person(rng: random.Random) -> tuple[str, str]:
    locale = rng.choice(FAKER_LOCALES)
    fake = _faker(rng, locale)
    return f"{fake.first_name()} {fake.last_name()}", locale


_FAKERS: dict[str, object] = {}


def _faker(rng: random.Random, locale: str | None = None):
    from faker import Faker

    locale = locale or rng.choice(FAKER_LOCALES)
    if locale not in _FAKERS:
        _FAKERS[locale] = Faker(locale)
    fake = _FAKERS[locale]
    fake.seed_instance(rng.randrange(2**32))
    return fake


MAKERS = {"email": _email, "card": _card, "iban": _iban, "ip": _ip, "phone": _phone, "url": _url,
          "address": _address, "person": _person}
KINDS = tuple(MAKERS)
