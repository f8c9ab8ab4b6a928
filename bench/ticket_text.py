"""Turn a bare customer query into the subject and body a helpdesk export would hold.

Real tickets are never just the customer's sentence: emails open with a greeting,
close with a signature or "Sent from my iPhone", quote the last support reply below the
customer's text, web forms arrive as HTML, and customers paste their email address,
phone or card number into the message. ``ticket_subject_and_body`` adds that variety
(so exact duplicates do not dominate and the cleaning stage has real work to do), and
``pii_sentence`` plants personal data the pipeline must redact, together with the
exact value planted so tests can check it is gone.

Every value planted is a documentation or test value: ``example.com`` addresses,
Ofcom drama and US 555-01xx phone numbers, the card schemes' public test numbers,
the IBAN registry's example IBANs and the RFC 5737 documentation IP ranges.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

import numpy as np

SUPPORT_ADDRESS = "Northbank Support <support@northbank.example>"

GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hey,", "Good morning,", "Dear support team,")
CLOSINGS = ("Thanks", "Thank you.", "Thanks in advance!", "Cheers",
            "Any help appreciated.", "Please help.")
NAMES = ("Jane Doe", "John Smith", "Priya Patel", "Lukas Becker", "Aoife Murphy",
         "Mei Chen", "Carlos Diaz", "Fatima Khan", "Tom Evans", "Sofia Rossi")
DEVICE_LINES = ("Sent from my iPhone", "Sent from my Samsung Galaxy", "Get Outlook for Android")
SUPPORT_REPLIES = (
    "Thanks for getting in touch. Could you tell us a bit more about what happened?",
    "We're sorry to hear that. Can you confirm which card this is about?",
    "Thanks for your patience, we're looking into this for you.",
)
GENERIC_SUBJECTS = ("Help", "Question", "Urgent!!", "Problem with my account",
                    "Support request", "")

# Known-valid test values: Luhn-valid card numbers and checksum-valid IBANs.
TEST_CARDS = ("4111 1111 1111 1111", "5555 5555 5555 4444", "4012888888881881",
              "3782 822463 10005")
TEST_IBANS = ("GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00",
              "GB29NWBK60161331926819")

PII_TEMPLATES: dict[str, tuple[str, ...]] = {
    "email": ("You can reach me at {}.", "My login email is {}"),
    "phone": ("Please call me back on {}.", "My number is {}"),
    "card": ("My card number is {}.", "The card is {} if that helps."),
    "iban": ("My IBAN is {}.", "I sent it from {}"),
    "ip": ("I was logged in from {} when it happened.", "IP address shown: {}"),
    # Not personal data: a 16-digit number that fails the Luhn check must survive redaction.
    "order_number": ("Order number {}.", "My reference is {}"),
}
PII_KINDS = ("email", "phone", "card", "iban", "ip")


def luhn_valid(digits: str) -> bool:
    """True when the digits of ``digits`` (spaces ignored) pass the Luhn checksum."""
    numbers = [int(c) for c in digits if c.isdigit()]
    total = sum(numbers[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in numbers[-2::-2])
    return total % 10 == 0


def pii_value(kind: str, rng: np.random.Generator) -> str:
    """One planted value of ``kind`` (a key of ``PII_TEMPLATES``)."""
    if kind == "email":
        first, last = str(rng.choice(NAMES)).lower().split()
        return f"{first}.{last}{int(rng.integers(1, 99))}@example.{rng.choice(['com', 'org', 'net'])}"
    if kind == "phone":
        n = int(rng.integers(100, 1000))
        return str(rng.choice([f"+44 20 7946 0{n}", f"07700 900{n}", f"+1 202-555-01{n % 100:02d}"]))
    if kind == "card":
        return str(rng.choice(TEST_CARDS))
    if kind == "iban":
        return str(rng.choice(TEST_IBANS))
    if kind == "ip":
        return f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{int(rng.integers(1, 255))}"
    if kind == "order_number":
        while True:
            number = "".join(str(d) for d in rng.integers(0, 10, 16))
            if number[0] != "0" and not luhn_valid(number):
                return number
    raise ValueError(f"unknown PII kind {kind!r}; expected one of {sorted(PII_TEMPLATES)}")


def pii_sentence(kind: str, value: str, rng: np.random.Generator) -> str:
    return str(rng.choice(PII_TEMPLATES[kind])).format(value)


def ticket_subject_and_body(
    query: str, extra: str, channel: str, product: str, created_at: datetime,
    rng: np.random.Generator,
) -> tuple[str, str]:
    """Subject and body for ``query`` arriving by ``channel``.

    ``extra`` (a planted PII sentence, or "") follows the customer's own text; the subject
    is derived from ``query`` alone so planted values only ever appear in the body.
    """
    core = f"{query} {extra}" if extra else query
    if channel == "email":
        return _email_subject(query, rng), _email_body(core, created_at, rng)
    if channel == "chat":
        body = f"{str(rng.choice(GREETINGS))[:-1].lower()} {core}" if rng.random() < 0.3 else core
        return "Chat conversation", body
    if channel == "web form":
        return f"Contact form: {product}", _web_form_body(core, rng)
    return "Phone call", f"Call notes: customer says: {core}" if rng.random() < 0.5 else core


def _email_subject(query: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.25:
        return str(rng.choice(GENERIC_SUBJECTS))
    words = " ".join(query.split()[:6]).rstrip(".,!?")
    return f"Re: {words}" if roll < 0.4 else words


def _email_body(core: str, created_at: datetime, rng: np.random.Generator) -> str:
    parts = [str(rng.choice(GREETINGS))] if rng.random() < 0.5 else []
    parts.append(core)
    if rng.random() < 0.4:
        parts.append(str(rng.choice(CLOSINGS)))
    roll = rng.random()
    if roll < 0.2:
        parts.append(f"--\n{rng.choice(NAMES)}\n{rng.choice(DEVICE_LINES)}")
    elif roll < 0.3:
        parts.append(f"Kind regards,\n{rng.choice(NAMES)}")
    if rng.random() < 0.15:
        parts.append(_quoted_reply(created_at, rng))
    return "\n\n".join(parts)


def _quoted_reply(created_at: datetime, rng: np.random.Generator) -> str:
    """The support team's earlier reply, quoted below the customer's answer."""
    sent = created_at - timedelta(days=int(rng.integers(1, 6)), minutes=int(rng.integers(0, 600)))
    header = f"On {sent:%a}, {sent.day} {sent:%b %Y} at {sent:%H:%M}, {SUPPORT_ADDRESS} wrote:"
    return f"{header}\n> {rng.choice(SUPPORT_REPLIES)}\n>\n> Northbank Support"


def _web_form_body(core: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.25:
        return f"<p>{html.escape(core)}</p><br>"
    if roll < 0.4:
        return f"<div>{rng.choice(GREETINGS)}</div><div>{html.escape(core)}</div><div><br></div>"
    return core
