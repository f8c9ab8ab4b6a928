"""Recognise icebergs that are only courtesy: thanks, greetings, "ok", auto-replies, tests.

Helpdesks receive many tickets that say nothing about a problem — "Thanks, all sorted
now!", "ok", "Hello?", "Out of office until Monday", "test" — and enough of them form a
cluster of their own. Such an iceberg is flagged ``boilerplate`` and ranked after every
real problem (``pipeline.analysis.profile``). (Not to be confused with ``clean.boilerplate_lines``:
template *lines* removed from inside tickets before they are embedded.)

The rule, on the cleaned and redacted ticket text, so that a reader can recompute it
from ``tickets.parquet``:

- A ticket is **content-free** when it is an auto-reply — at most
  ``AUTO_REPLY_MAX_WORDS`` words with an ``AUTO_REPLY`` phrase ("out of office",
  "automatic reply", "I am away until…") — or when none of its words is informative:
  each of its keyword tokens (``label.keyword_tokens``: words of two or more letters) is a
  stop word of the keywords (``label.STOP_WORDS``: English stop words and greetings, less
  ``PROBLEM_STOP_WORDS`` such as "top", "up", "down", "bill") or a courtesy word
  (``COURTESY_WORDS``: thanks, acknowledgements such as "ok", "great", "sorted", "fixed",
  chasers such as "any update", generic nouns such as "issue", test words).
- An iceberg is **boilerplate** when at least ``MIN_CONTENT_FREE_SHARE`` (half) of its
  tickets are content-free.

Why words: a courtesy ticket is recognised by what it lacks — a thing, an action, a
product that it is about — and a list of words says exactly, in the open, what counts as
saying nothing; a problem is named by at least one word outside it. Why half: almost no
ticket about a real problem is content-free — none of the sample's 4,000 tickets nor of
CFPB's 2,683 narratives, 3 of Banking77's 13,083 queries (at most 1.2 % of an intent) —
while a courtesy cluster also gathers a few tickets with a stray informative word
("thanks, the transfer arrived"); half leaves a wide margin on both sides. The
vocabulary is English, like the keywords' stop words.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.analysis.label import STOP_WORDS, keyword_tokens
from pipeline.schemas import TicketCols

MIN_CONTENT_FREE_SHARE = 0.5

COURTESY_WORDS = frozenset({
    # greetings, sign-offs, forms of address
    "hey", "hiya", "morning", "afternoon", "evening", "good", "day", "best", "kind", "warm",
    "cheers", "bye", "goodbye", "sincerely", "yours", "sir", "madam", "guys", "folks", "team",
    "love", "hope", "well", "wishes", "weekend", "week", "welcome", "star", "legend",
    "sorry", "apologies", "worries", "worry",
    # thanks
    "thx", "ty", "tnx", "thankyou", "thanx", "appreciate", "appreciated", "grateful", "lot",
    "lots", "million", "kindly", "gracias", "merci", "danke",
    # acknowledgements and praise
    "ok", "okay", "kk", "yes", "yeah", "yep", "yup", "sure", "alright", "right", "great",
    "awesome", "perfect", "excellent", "brilliant", "cool", "nice", "fine", "wonderful",
    "fantastic", "lovely", "super", "amazing", "noted", "understood", "received", "got",
    "gotcha", "helpful", "quick", "quickly", "fast", "prompt",
    # "it is solved"
    "sorted", "solved", "resolved", "fixed", "works", "worked", "working", "done", "help",
    "helped", "helping", "sort", "sorting", "getting",
    # chasers and generic nouns that name no problem
    "anybody", "update", "updates", "news", "waiting", "chasing", "follow",
    "following", "followup", "reply", "replied", "response", "answer", "answered", "issue",
    "issues", "problem", "problems", "question", "questions", "query", "ticket", "request",
    "support", "message", "contact", "contacting", "reaching", "last", "previous",
    # time fillers
    "today", "soon", "asap", "time", "just", "really", "oh", "ah", "lol", "haha", "wow", "yay",
    # tests
    "test", "testing", "tst", "ignore", "disregard",
})
# Stop words to the keywords (scikit-learn's list) that can be all a ticket says about
# its problem: "top up failed", "system down", "bill".
PROBLEM_STOP_WORDS = frozenset({"bill", "bottom", "detail", "down", "empty", "fill", "find", "fire",
                                "found", "front", "full", "interest", "move", "name", "off", "show",
                                "side", "system", "top", "up"})
_UNINFORMATIVE = (frozenset(STOP_WORDS) - PROBLEM_STOP_WORDS) | COURTESY_WORDS

# Phrases only an auto-reply uses ("on holiday" or "away" alone could describe a problem),
# in a text no longer than an auto-reply: a complaint may say "I was out of the office".
AUTO_REPLY_MAX_WORDS = 80
AUTO_REPLY = re.compile(
    r"\bout[ -]of[ -](?:the[ -])?office\b"
    r"|\bauto(?:matic|mated)?[ -]?(?:reply|response|responder)\b"
    r"|\b(?:i am|i'm|i will be)\s+(?:currently\s+)?(?:away|out)\b[^.\n]{0,40}"
    r"\b(?:until|till|returning|back on)\b",
    re.IGNORECASE)


def informative_words(text: str) -> list[str]:
    """The words of ``text`` that could say what it is about: its keyword tokens that are
    neither stop words nor courtesy words, in order."""
    return [w for w in keyword_tokens(text) if w not in _UNINFORMATIVE]


def is_content_free(text: str) -> bool:
    """Whether ``text`` is an auto-reply or has no informative word (module docstring)."""
    auto_reply = len(text.split()) <= AUTO_REPLY_MAX_WORDS and AUTO_REPLY.search(text)
    return bool(auto_reply) or not informative_words(text)


def boilerplate_icebergs(tickets: pd.DataFrame) -> pd.Series:
    """Per iceberg id (sorted), whether it is boilerplate: at least
    ``MIN_CONTENT_FREE_SHARE`` of its tickets are content-free. Tickets outside any
    iceberg are not looked at."""
    members = tickets[tickets[TicketCols.iceberg_id].notna()]
    texts = members[TicketCols.text].fillna("").astype(str)
    content_free = np.array([is_content_free(t) for t in texts], dtype=bool)
    share = pd.Series(content_free, index=members.index).groupby(
        members[TicketCols.iceberg_id].astype(str)).mean()
    return (share >= MIN_CONTENT_FREE_SHARE).sort_index().rename(None)
