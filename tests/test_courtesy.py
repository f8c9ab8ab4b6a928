"""Boilerplate icebergs: courtesy tickets recognised, ranked last, and left out of `iceberg show`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_CSV, SAMPLE_TRUTH, default_embedding_config
from pipeline.analysis.courtesy import boilerplate_icebergs, informative_words, is_content_free
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T

# Content-free tickets as helpdesks receive them: thanks, acknowledgements, chasers,
# greetings, tests and auto-replies, each worded differently.
COURTESY = [
    "Thanks so much!", "thank you, all sorted now", "ok thanks", "Hello?", "Thank you, that fixed it",
    "test", "Great, cheers", "Any update on this?", "Still waiting for a reply", "Got it, thanks!",
    "Perfect, that worked", "Brilliant thank you so much for your help", "Received, thanks",
    "Much appreciated", "No worries, thanks", "Have a nice day", "Thanks for getting back to me",
    "Hi, is anyone there?", "thank you very much, problem solved", "Thanks a lot for the quick response!",
    "That's great news, thank you", "Yes that's fine", "Test ticket please ignore",
    "All good now, thanks again", "Thanks, it works now!", "Thank you for your help!",
    "Thanks! You guys are the best", "Awesome, thanks for sorting this out", "hello??",
    "Many thanks for your prompt reply", "Cheers, have a good weekend", "Okay, understood. Thanks",
]
AUTO_REPLIES = [
    "Out of office: I am away until Monday",
    "Automatic reply: I am currently out of the office and will be back on Tuesday.",
    ("I'm out of the office until 3 June with limited access to email. For urgent matters please "
     "contact my colleague."),
]
PROBLEMS = [
    "My top-up failed", "Top up not working", "system down", "Card declined",
    "thanks, the transfer arrived but the amount is wrong", "I can't log in to the app",
    "Why was I charged twice?", "Hello, my card has not arrived yet. Thanks",
]


@pytest.mark.parametrize("text", COURTESY + AUTO_REPLIES)
def test_courtesy_is_content_free(text):
    assert is_content_free(text), informative_words(text)


@pytest.mark.parametrize("text", PROBLEMS)
def test_a_problem_is_not_content_free(text):
    assert not is_content_free(text)


def test_auto_reply_phrases_count_only_in_short_texts():
    narrative = ("I called the bank on Monday while I was out of the office, and they told me the "
                 "payment had been reversed. " * 6)
    assert not is_content_free(narrative)
    assert is_content_free("Out of office until Monday. " + "For anything urgent write to my team. ")


def test_an_iceberg_is_boilerplate_when_half_its_tickets_say_nothing():
    tickets = pd.DataFrame({
        T.iceberg_id: ["a"] * 4 + ["b"] * 4 + ["c"] * 3 + [None],
        T.text: ["thanks!", "ok", "great, cheers", "thanks, the refund arrived",      # a: 3 of 4
                 "thanks!", "ok", "my card is blocked", "card blocked again",         # b: 2 of 4
                 "pin blocked", "card blocked", "thanks",                             # c: 1 of 3
                 "thank you"],
    })
    assert boilerplate_icebergs(tickets).to_dict() == {"a": True, "b": True, "c": False}


# --- the real pipeline ---------------------------------------------------------------

@pytest.fixture(scope="module")
def courtesy_run(tmp_path_factory, model_cache):
    """A real run (real model, real HDBSCAN) on five sample intents plus courtesy tickets."""
    from pipeline.config import Config
    from pipeline.embed import embedder_from_config
    from pipeline.run import run
    from pipeline.store import load_run

    labels = json.loads(SAMPLE_TRUTH.read_text())["labels"]
    sample = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    sample = sample[sample["ticket_id"].map(labels).isin(
        ["card_arrival", "pin_blocked", "exchange_rate", "lost_or_stolen_card", "cash_withdrawal_charge"])]
    texts = COURTESY + AUTO_REPLIES
    days = pd.date_range("2024-01-02", periods=len(texts), freq="5D")
    courtesy = pd.DataFrame({
        "ticket_id": [f"K{i:03d}" for i in range(len(texts))],
        "created_at": days.strftime("%Y-%m-%dT10:00:00Z"),
        "subject": "", "body": texts,
        "customer_id": [f"K{i}" for i in range(len(texts))],
        "agent_id": [f"agent_{i % 30 + 1:02d}" for i in range(len(texts))],    # whoever is on shift
    })
    folder = tmp_path_factory.mktemp("courtesy")
    path = folder / "tickets.csv"
    pd.concat([sample, courtesy], ignore_index=True).fillna("").to_csv(path, index=False)
    embedder = embedder_from_config(default_embedding_config())
    run(path, folder / "out", Config(), embedder=embedder, progress=False)
    return load_run(folder / "out"), set(courtesy["ticket_id"])


def test_courtesy_iceberg_is_flagged_and_ranked_last(courtesy_run):
    run, courtesy_ids = courtesy_run
    tickets, icebergs = run.tickets, run.icebergs.sort_values(I.rank)
    courtesy = tickets[tickets[T.ticket_id].isin(courtesy_ids)]
    # Most courtesy tickets end up in one iceberg of their own.
    home = courtesy[T.iceberg_id].value_counts()
    assert home.iloc[0] >= 0.6 * len(courtesy_ids), home
    flagged = icebergs[icebergs[I.boilerplate]]
    assert home.index[0] in set(flagged[I.iceberg_id])
    for iceberg_id in icebergs[I.iceberg_id]:
        own = tickets[tickets[T.iceberg_id] == iceberg_id]
        mostly_courtesy = own[T.ticket_id].isin(courtesy_ids).mean() >= 0.5
        assert (iceberg_id in set(flagged[I.iceberg_id])) == mostly_courtesy, iceberg_id
    real = icebergs[~icebergs[I.boilerplate]]
    assert len(real) >= 4
    # Spread over many agents, it outscores real problems, yet ranks after every one of them.
    assert flagged[I.score].max() > real[I.score].min()
    assert real[I.rank].max() < flagged[I.rank].min()
    assert icebergs[I.rank].tolist() == list(range(1, len(icebergs) + 1))


def test_show_leaves_boilerplate_out_of_the_top_list(courtesy_run):
    from pipeline.ops.summary import icebergs_summary

    run, _ = courtesy_run
    text = icebergs_summary(run, top=50)
    flagged = run.icebergs[run.icebergs[I.boilerplate]]
    shown = text.split("Not shown:")[0]
    for iceberg_id in flagged[I.iceberg_id]:
        assert f" {iceberg_id} " not in shown
        assert iceberg_id in text.split("Not shown:")[1]
    assert "boilerplate iceberg(s)" in text
    assert np.all([f" {i} " in shown for i in run.icebergs.loc[~run.icebergs[I.boilerplate], I.iceberg_id]])
