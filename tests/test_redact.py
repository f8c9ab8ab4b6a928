import random
import time
from collections import Counter

import pandas as pd
import pytest

from bench.pii_seeds import SEPA_COUNTRIES, random_iban
from pipeline.config import ConfigError, RedactConfig
from pipeline.text.redact import DEFAULT_KINDS as KINDS, pseudonymise_id, redact_text, redacted_texts


@pytest.mark.parametrize("text, expected, kind", [
    ("Mail john.doe+x@mail.example.co.uk now", "Mail [EMAIL] now", "email"),
    ("See https://user:pw@example.com/reset?token=abc.", "See [URL].", "url"),
    ("Open www.example.com/help, then retry", "Open [URL], then retry", "url"),
    ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please", "iban"),
    ("IBAN GB82WEST12345698765432.", "IBAN [IBAN].", "iban"),
    ("card 4111 1111 1111 1111 exp 2025", "card [CARD] exp 2025", "card"),
    ("card 4111-1111-1111-1111", "card [CARD]", "card"),
    ("amex 378282246310005", "amex [CARD]", "card"),
    ("server 192.168.1.20 is down", "server [IP] is down", "ip"),
    ("from fe80::1ff:fe23:4567:890a and 2001:db8::1.", "from [IP] and [IP].", "ip"),
    ("call +44 20 7946 0958 today", "call [PHONE] today", "phone"),
    ("call me at (415) 555-2671", "call me at [PHONE]", "phone"),
    ("Ruf an: 030 12345678", "Ruf an: [PHONE]", "phone"),
    ("Tel 01 23 45 67 89", "Tel [PHONE]", "phone"),
    ("My number is 9876543210", "My number is [PHONE]", "phone"),
])
def test_true_positives(text, expected, kind):
    redacted, counts = redact_text(text, KINDS)
    assert redacted == expected
    assert counts == Counter({kind: expected.count(f"[{kind.upper()}]")})


@pytest.mark.parametrize("text", [
    "order 4111111111111112 was charged twice",          # 16 digits, fails Luhn
    "Order #98765432 and order 9876543210 are late",     # reference numbers
    "ticket 123456 since 2019, under 15 USC 1681623 ( a )",
    "paid $1,250.00 and 1234567.89 EUR",
    "version 5.2.1 crashes, build 10.0.19045",
    "on 12/03/2024 at 10:30:45, again 2024-01-15",
    "IBAN DE89 3704 0044 0532 0130 01",                  # checksum fails
    "host 10.0.0.256 and 300.1.1.1",                     # octet > 255
    "mac 00:1a:2b:3c:4d:5e, C++ std::vector",
    "card 0000 0000 0000 0000 placeholder",
])
def test_false_positives_are_kept(text):
    assert redact_text(text, KINDS) == (text, Counter())


def test_iban_and_card_digits_are_not_claimed_again_as_phones():
    text = "pay to DE89370400440532013000 with 4111111111111111"
    assert redact_text(text, KINDS)[0] == "pay to [IBAN] with [CARD]"


def test_only_the_chosen_kinds_are_redacted():
    text = "mail a@example.com or call +44 20 7946 0958"
    assert redact_text(text, ["email"]) == ("mail [EMAIL] or call +44 20 7946 0958", Counter(email=1))


def test_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown redaction kind.*'ssn'.*known kinds: url, email"):
        redact_text("x", ["ssn"])


def test_redacted_texts_counts_per_kind_and_is_pure():
    texts = pd.Series(["a@example.com and b@example.com", None, "call +44 20 7946 0958"], index=[5, 6, 7])
    before = texts.copy()
    redacted, counts = redacted_texts(texts, RedactConfig())
    assert redacted.tolist()[0::2] == ["[EMAIL] and [EMAIL]", "call [PHONE]"]
    assert redacted.index.tolist() == [5, 6, 7]
    assert counts == {"email": 2, "url": 0, "iban": 0, "card": 0, "ip": 0, "phone": 1}
    pd.testing.assert_series_equal(texts, before)


def test_redaction_can_be_disabled():
    texts = pd.Series(["a@example.com"])
    redacted, counts = redacted_texts(texts, RedactConfig(enabled=False))
    assert redacted.tolist() == ["a@example.com"] and counts == {}


def test_throughput_is_at_least_two_thousand_short_texts_per_second():
    texts = pd.Series([
        "I can't log in since version 5.2.1, error 403 on 12/03/2024.",
        "Please call me back at 415-555-2671 about ticket 123456.",
        "Order 4111111111111112 was charged twice, refund $1,250.00.",
        "Reach me at jane@example.org; server 10.1.2.3 rejects https://hooks.example.com/x?sig=a",
    ] * 500)
    start = time.perf_counter()
    redacted_texts(texts, RedactConfig())
    assert len(texts) / (time.perf_counter() - start) > 2000


@pytest.mark.parametrize("a, b", [
    ("John.Doe@Example.com", "john.doe@example.com"),
    ("+1 415 555 2671", "(415) 555-2671"),
])
def test_pseudonyms_are_stable_and_hide_the_value(a, b):
    assert pseudonymise_id(a) == pseudonymise_id(b)
    assert pseudonymise_id(a).startswith("cust-") and len(pseudonymise_id(a)) == len("cust-") + 12
    assert pseudonymise_id(a, prefix="agent").startswith("agent-")


@pytest.mark.parametrize("value", ["12345678", "C-1042", "acme-corp", "agent_7"])
def test_ordinary_ids_are_kept(value):
    assert pseudonymise_id(value) == value


# --- IBANs, cards, IPs: every form a customer writes -----------------------------------------

@pytest.mark.parametrize("country", SEPA_COUNTRIES)
def test_the_iban_of_every_sepa_country_followed_by_a_word_is_redacted(country):
    rng = random.Random(country)
    compact = random_iban(country, rng)
    grouped = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    for value in (compact, grouped, grouped.replace(" ", "-"), grouped.replace(" ", "."), grouped.lower()):
        assert redact_text(f"IBAN {value} please")[0] == "IBAN [IBAN] please", value


@pytest.mark.parametrize("text, expected", [
    ("IBAN ES9121000418450200051332 please", "IBAN [IBAN] please"),
    ("DE89-3704-0044-0532-0130-00", "[IBAN]"),
    ("iban de89.3704.0044.0532.0130.00, thanks", "iban [IBAN], thanks"),
    ("from AT611904300234573201 and then", "from [IBAN] and then"),
    ("card 4111.1111.1111.1111 ok", "card [CARD] ok"),
    ("amex 3782-822463-10005 and", "amex [CARD] and"),
    ("server 192.168.001.001 down", "server [IP] down"),
    ("at 2001:0DB8:85A3:0000:0000:8A2E:0370:7334 now", "at [IP] now"),
    ("via [2001:db8::1]:443", "via [[IP]]:443"),
    ("mail jörg.müller@beispiel.de now", "mail [EMAIL] now"),
])
def test_separators_case_and_padding_do_not_hide_the_value(text, expected):
    assert redact_text(text)[0] == expected


@pytest.mark.parametrize("text", [
    "IBAN DE89 3704 0044 0532 0130 0",                   # one character short
    "ref DE8937040044053201300099",                      # too long for Germany
    "order 4111111111111112 and 9111111111111111",       # Luhn fails / no card starts with 9
    "192.168.1.256 and 1.2.3",
    "+4915123999695",                                    # a phone, not a card behind the "+"
])
def test_near_misses_are_not_ibans_cards_or_ips(text):
    redacted, counts = redact_text(text)
    assert not ({"iban", "card", "ip"} & set(counts)), redacted


# --- phones ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("call +1 299-555-0142 now", "call [PHONE] now"),             # unassigned area code
    ("call (299) 555-0142 now", "call [PHONE] now"),
    ("call 1-415-555-2671 now", "call [PHONE] now"),
    ("ring 415.555.2671 x204 later", "ring [PHONE] later"),
    ("tel 020 7946 0958 or 07700 900123", "tel [PHONE] or [PHONE]"),
    ("Tel. +49 (0)30 12345678", "Tel. [PHONE]"),
    ("Telefon 030/12345678", "Telefon [PHONE]"),
    ("appelez le 06.12.34.56.78 svp", "appelez le [PHONE] svp"),
    ("llámame al 612 34 56 78", "llámame al [PHONE]"),
    ("whatsapp 0049 151 23456789", "whatsapp [PHONE]"),
    ("number 98765 43210 or +91 98765 43210", "number [PHONE] or [PHONE]"),
    ("ligue (11) 91234-5678", "ligue [PHONE]"),
    ("415-555-2671 415-555-2672 both", "[PHONE] [PHONE] both"),
])
def test_phones_in_national_and_international_formats(text, expected):
    assert redact_text(text)[0] == expected


@pytest.mark.parametrize("text", [
    "created 1704067200 and 1704067200123",              # epoch seconds and milliseconds
    "on 2024-01-15 10:30:45, 15.01.2024 and 01/15/2024",
    "invoice 2024001234 and ref 4829135720",
    "paid €1.234,56 and $12,345,678.90",
    "version 10.0.19045.2965",
    "acct 1234 5678 9012 3456",                          # four-digit groups: an account number
    "tracking 9400111899223197428490",
])
def test_dates_times_amounts_references_and_timestamps_are_not_phones(text):
    assert redact_text(text) == (text, Counter())


def test_unknown_phone_region_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown phone region.*'XX'.*redact.phone_regions"):
        redacted_texts(pd.Series(["x"]), RedactConfig(phone_regions=["US", "XX"]))


def test_phone_regions_decide_the_national_formats():
    text = "Ruf an: 030 12345678"
    assert redact_text(text, config=RedactConfig(phone_regions=["DE"]))[0] == "Ruf an: [PHONE]"
    assert redact_text(text, config=RedactConfig(phone_regions=["US"]))[0] == text
