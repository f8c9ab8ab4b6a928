"""Template fragments: sentences shared across unrelated topics are found and removed; a
sentence that belongs to one topic stays."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import BANKING_SLICE

from pipeline.text.templates import sentence_key, template_fragments, without_templates


def queries() -> pd.Series:
    return pd.read_csv(BANKING_SLICE)["text"]


def test_an_order_sentence_on_a_quarter_of_all_topics_is_a_template_and_goes():
    rng = np.random.default_rng(0)
    texts = queries().copy()
    carry = rng.random(len(texts)) < 0.25
    texts[carry] = [f"{t} Order {rng.integers(100_000, 999_999)}." for t in texts[carry]]
    fragments = template_fragments(texts, min_share=0.005)
    assert "order #" in fragments.keys
    cleaned, changed = without_templates(texts, fragments)
    assert changed == int(carry.sum())
    assert cleaned[carry].tolist() == queries()[carry].str.strip().tolist()
    assert cleaned[~carry].tolist() == texts[~carry].tolist()


def test_greetings_and_sign_offs_across_topics_go_but_a_topical_sentence_stays():
    base = queries()
    rng = np.random.default_rng(1)
    texts = [f"{rng.choice(['Hi there,', 'Hello team,'])} {t}\nThanks" if rng.random() < 0.4 else t
             for t in base]
    # One intent's tickets all say the same extra sentence: it is about that topic.
    intent = pd.read_csv(BANKING_SLICE)["category"]
    topic = ("declined_card_payment", "card_not_working", "card_payment_not_recognised", "card_swallowed")
    texts = [f"{t.rstrip('.?!')}. My card was declined at the shop." if c in topic else t
             for t, c in zip(texts, intent)]
    fragments = template_fragments(pd.Series(texts), min_share=0.005)
    assert {"hi there", "hello team", "thanks"} <= fragments.keys
    topical = next(f for f in fragments.found if f["fragment"] == "my card was declined at the shop")
    assert not topical["template"] and topical["coherence_ratio"] > 1.5
    assert "my card was declined at the shop" not in fragments.keys


def test_a_ticket_made_only_of_templates_keeps_its_text_and_numbers_are_masked():
    assert sentence_key("  Order 482,913.") == sentence_key("order 17") == "order #"
    base = queries()
    texts = pd.Series(["Order 1."] * 30 + [f"{t} Order {i}" for i, t in enumerate(base)])
    fragments = template_fragments(texts, min_share=0.005)
    cleaned, changed = without_templates(texts, fragments)
    assert cleaned.iloc[0] == "Order 1."
    assert cleaned.iloc[30:].tolist() == base.str.strip().tolist() and changed == len(base)


def test_nothing_is_a_template_below_the_share():
    assert template_fragments(queries(), min_share=0.5).keys == frozenset()
