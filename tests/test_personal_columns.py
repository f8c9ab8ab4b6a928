"""Every written column is redacted: ids, kept and nested-JSON columns, dimensions,
quarantined raw fields and reasons; columns of people are pseudonymised."""

import pandas as pd
import pytest

from pipeline.config import Config, RedactConfig
from pipeline.text.clean import without_signature
from pipeline.text.people import address_spans, is_person_name, personal_column_kind
from pipeline.text.prepare import prepared_tickets, pseudonymised_ticket_ids, redacted_columns


@pytest.mark.parametrize("values, name, kind", [
    (["jane@example.com", "Bob.Lee@corp.example", "n/a"], "contact", "email"),
    (["+44 20 7946 0958", "(415) 555-2671", "+49 30 12345678"], "callback", "phone"),
    (["4155552671", "2025550143"], "phone", "phone"),
    (["4155552671", "2025550143"], "order_id", None),           # bare digits: ids, not phones
    (["Alice Martin", "Bob Okafor", "Chen Wei", "Dana Schulz"], "handled_by", "person"),
    (["Alice", "Bob", "Priya", "Lukas"], "agent_name", "person"),
    (["Alice", "Bob", "Priya", "Lukas"], "plan", None),         # single first names: only in a people column
    (["Martin, Alice", "van Dijk, Jan"], "assignee", "person"),
    (["Billing", "Card payments", "Login"], "queue", None),
    (["iOS", "Android", "Web"], "platform", None),
    (["JPMORGAN CHASE & CO.", "WELLS FARGO & COMPANY", "Bank of America"], "Company", None),
    (["5.2.1", "5.3.0"], "app_version", None),
])
def test_personal_column_kind(values, name, kind):
    assert personal_column_kind(pd.Series(values), name) == kind


def test_is_person_name():
    assert is_person_name("Jane Doe") and is_person_name("J. van Dijk") and is_person_name("Alice", True)
    assert not is_person_name("Alice") and not is_person_name("Card Payments") and not is_person_name("")


def _tickets(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"ticket_id": [f"T-{i}" for i in range(n)],
            "created_at": pd.to_datetime(["2024-03-01"] * n, utc=True),
            "text": [f"my card does not work {i}" for i in range(n)], "source_row": list(range(1, n + 1))}
    return pd.DataFrame({**base, **columns})


def test_ticket_ids_with_personal_data_get_stable_unique_pseudonyms():
    ids = pd.Series(["T-1", "jane@example.com#1", "jane@example.com#2", "4155552671", "host 10.0.0.1"])
    once, again = pseudonymised_ticket_ids(ids, RedactConfig()), pseudonymised_ticket_ids(ids, RedactConfig())
    assert once.tolist() == again.tolist() and once.is_unique
    assert once[0] == "T-1" and once[3] == "4155552671"            # bare digits are ids
    assert all(v.startswith("tkt-") and len(v) == 16 for v in once[[1, 2, 4]])


def test_every_column_is_redacted_or_pseudonymised():
    tickets = _tickets(**{
        "customer_id": ["jane@example.com", '{"id": 9, "email": "bob@example.com"}', "C-1", "C-1"],
        "agent_id": ["Alice Martin", "Bob Okafor", "Alice Martin", "Chen Wei"],
        "owner": ["Grace Hopper", "Liam Byrne", "Grace Hopper", "Liam Byrne"],
        "requester.email": ["a@example.com", "b@example.com", "a@example.com", "c@example.com"],
        "notes": ["card 4111.1111.1111.1111", "ok", "ip 192.168.001.001", "IBAN ES9121000418450200051332 x"],
        "requester.phone": [4155552671, 2025550143, 4155552671, 12],
        "order_number": [4111111111111111, 123, 4, 5],
    })
    before = tickets.copy()
    redacted, counts = redacted_columns(tickets, RedactConfig())
    pd.testing.assert_frame_equal(tickets, before)                 # pure
    # One value holds personal data: the whole column is pseudonymised, never half of it.
    assert redacted["customer_id"].str.startswith("cust-").all() and redacted["customer_id"].nunique() == 3
    assert redacted["agent_id"].str.startswith("agent-").all() and redacted["agent_id"].nunique() == 3
    assert redacted["owner"].str.startswith("person-").all() and redacted["owner"].nunique() == 2
    assert redacted["requester.email"].str.startswith("email-").all()
    assert redacted["requester.email"].nunique() == 3
    assert redacted["notes"].tolist() == ["card [CARD]", "ok", "ip [IP]", "IBAN [IBAN] x"]
    assert redacted["requester.phone"].str.startswith("phone-")[:3].all()
    assert redacted["order_number"][0] == "[CARD]"
    assert counts["card"] == 2 and counts["id_pseudonymised"] >= 5


def test_quarantined_raw_fields_and_reasons_are_redacted_and_stay_meaningful():
    quarantine = pd.DataFrame({
        "ticket_id": ["jane@example.com#7", None],
        "created_at": ["sent by jane@example.com", "1700000000"],
        "body": ["call +1 299-555-0142", "x"],
        "reason": ["unparseable created_at: 'sent by jane@example.com'", "unparseable created_at: '1700000000'"],
        "source": ["in.csv", "in.csv"], "source_row": [3, 4]})
    tickets = _tickets(customer_id=["C-1", "C-2"])
    prepared = prepared_tickets(tickets, quarantine, Config(), source="in.csv")
    q = prepared.quarantine
    assert q["ticket_id"][0].startswith("tkt-")
    assert q["created_at"].tolist() == ["sent by [EMAIL]", "1700000000"]
    assert q["body"][0] == "call [PHONE]"
    assert q["reason"].tolist() == ["unparseable created_at: 'sent by [EMAIL]'",
                                    "unparseable created_at: '1700000000'"]


def test_disabled_redaction_leaves_every_column():
    tickets = _tickets(owner=["Grace Hopper", "Liam Byrne"])
    assert redacted_columns(tickets, RedactConfig(enabled=False))[0] is tickets


# --- signatures and addresses -----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "My card was declined.\n\nKind regards,\nJane Doe\n221B Baker Street\nLondon NW1 6XE\n"
    "Tel: +44 20 7946 0958\njane@example.com",
    "My card was declined.\nJane Doe\n1600 Pennsylvania Ave NW\nWashington, DC 20500\n(202) 555-0143",
    "My card was declined.\n\nMit freundlichen Grüßen\nLukas Becker\nHauptstraße 5\n10115 Berlin\n"
    "Mobil: 0151 23456789",
])
def test_signature_name_address_and_phone_lines_are_stripped(text):
    assert without_signature(text).strip() == "My card was declined."


def test_a_sentence_with_an_address_is_kept():
    text = "Hi,\nI moved to 12 Baker Street last week.\nPlease update my card's address."
    assert without_signature(text) == text


@pytest.mark.parametrize("text, found", [
    ("I live at 1600 Pennsylvania Ave NW, Washington, DC 20500 now", "1600 Pennsylvania Ave NW, Washington, DC 20500"),
    ("send it to 221B Baker Street, London NW1 6XE please", "221B Baker Street, London NW1 6XE"),
    ("Hauptstraße 5, 10115 Berlin bitte", "Hauptstraße 5, 10115 Berlin"),
    ("au 12 rue de la Paix, 75002 Paris merci", "12 rue de la Paix, 75002 Paris"),
    ("en Calle Mayor 10, 28013 Madrid gracias", "Calle Mayor 10, 28013 Madrid"),
])
def test_address_spans(text, found):
    assert [text[a:b] for a, b in address_spans(text)] == [found]


@pytest.mark.parametrize("text", ["a 3 way conversation", "24 MONTHS IN A ROW", "I paid 3 times on the road"])
def test_address_false_positives(text):
    assert address_spans(text) == []


def test_person_kind_without_a_usable_model_is_one_clear_config_error():
    from pipeline.config import ConfigError
    from pipeline.text.redact import redact_text

    config = RedactConfig(kinds=["email", "person"], person_model="no_such_pipeline")
    with pytest.raises(ConfigError, match="redact.person_model"):
        redact_text("Jane Doe wrote", config.kinds, config)


def test_person_kind_redacts_names_with_spacy():
    pytest.importorskip("spacy")
    from pipeline.text.people import PERSON_MODELS
    import importlib.util

    if not any(importlib.util.find_spec(m) for m in PERSON_MODELS):
        pytest.skip("no spaCy English pipeline installed (pip install 'ticket-iceberg[ner]')")
    from pipeline.text.redact import redact_text

    config = RedactConfig(kinds=["email", "address", "person"])
    text = "Hi, this is Maria Garcia. I moved to 12 Baker Street, London NW1 6XE and my card was blocked."
    redacted, counts = redact_text(text, config.kinds, config)
    assert redacted == "Hi, this is [PERSON]. I moved to [ADDRESS] and my card was blocked."
    assert counts == {"person": 1, "address": 1}
