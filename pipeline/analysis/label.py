"""Name each iceberg: its distinctive keywords, a short label, its most typical tickets.

A lead reads a name as a problem (``iceberg_names``): the error signature most of its
tickets share ("IOException: Failed to rename <path>"), else the subject of its most
typical ticket that has one ("NameNode fails to start after upgrade"), else its keywords
("card arrival · delivery"), which are kept in a column of their own either way.

Keywords are class-based TF-IDF (c-TF-IDF, as in BERTopic): every iceberg is one class,
and the tickets outside any iceberg form one more "rest" class, so a keyword is a term
that sets the iceberg apart from the other icebergs *and* from the everyday tickets.
For a term t and a class c,

    c-TF-IDF(t, c) = tf(t, c) · log(1 + A / f(t))

where tf(t, c) is t's frequency in c divided by the total frequency of all terms in c,
f(t) is t's frequency summed over all classes and A is the average number of term
occurrences per class. One deviation from BERTopic: a term's frequency in a class counts
the class's *tickets* that use it (``binary=True``), not its occurrences, so a single long
ticket repeating a word cannot make it a keyword of a recurring problem.

Terms are unigrams and bigrams of letters (two or more), without English stop words,
the redaction placeholders (``[EMAIL]``, ``[CARD]``…), the words the cleaner puts in
place of masked values (``date``, ``amount``), greetings, and the stems contractions
leave ("didn", "don").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.preprocessing import normalize

from pipeline.schemas import TicketCols
from pipeline.text.redact import PLACEHOLDERS

_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
_LETTER_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"
_MASK_WORDS = frozenset({"date", "amount", "xx", "xxxx"})
_GREETING_WORDS = frozenset({"hi", "hello", "dear", "thanks", "thank", "regards", "please"})
# What is left of "didn't", "don't"… once the token pattern drops the apostrophe and "t".
_CONTRACTION_STEMS = frozenset({"aren", "couldn", "didn", "doesn", "don", "hadn", "hasn",
                                "haven", "isn", "shouldn", "wasn", "weren", "won", "wouldn",
                                "didnt", "doesnt", "dont", "isnt", "wont", "im", "ive"})
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | _MASK_WORDS | _GREETING_WORDS | _CONTRACTION_STEMS)

LABEL_SEPARATOR = " · "
LABEL_MAX_TERMS = 3
LABEL_MAX_WORDS = 4
NAME_MAX_CHARS = 80
SIGNATURE_MIN_SHARE = 0.5     # of an iceberg's tickets, for their signature to name it


def iceberg_members(tickets: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row positions of each iceberg's tickets, by iceberg id (sorted); no-iceberg rows left out."""
    groups = tickets.groupby(TicketCols.iceberg_id, sort=True, dropna=True).indices
    return {str(iceberg): positions for iceberg, positions in groups.items()}


def iceberg_keywords(tickets: pd.DataFrame, n_keywords: int) -> dict[str, list[str]]:
    """The ``n_keywords`` most distinctive terms of each iceberg, best first (c-TF-IDF).

    No keyword shares a word with a better-ranked one: "card" is left out after "card
    arrival", and "new card" after "card". A bigram thus comes first only where it scores
    at least as well as its own words, i.e. where they mostly occur together. Ties in
    score go to the bigram, then alphabetically. An iceberg whose tickets hold no usable
    term gets an empty list.
    """
    members = iceberg_members(tickets)
    if not members:
        return {}
    classes = np.full(len(tickets), len(members), dtype=np.int64)   # default: the rest class
    for code, positions in enumerate(members.values()):
        classes[positions] = code
    n_classes = len(members) + int((classes == len(members)).any())

    vectorizer = CountVectorizer(preprocessor=_preprocess, token_pattern=_LETTER_TOKEN,
                                 stop_words=STOP_WORDS, ngram_range=(1, 2), binary=True)
    try:
        ticket_terms = vectorizer.fit_transform(tickets[TicketCols.text].fillna("").astype(str))
    except ValueError:      # sklearn: "empty vocabulary" — no ticket holds a usable term
        return {iceberg: [] for iceberg in members}
    in_class = sparse.csr_matrix((np.ones(len(tickets)), (classes, np.arange(len(tickets)))),
                                 shape=(n_classes, len(tickets)))
    scores = class_tf_idf(in_class @ ticket_terms)
    terms = vectorizer.get_feature_names_out()
    return {iceberg: _distinct_terms(_ranked_terms(scores.getrow(code), terms), n_keywords)
            for code, iceberg in enumerate(members)}


def class_tf_idf(class_terms: sparse.spmatrix) -> sparse.csr_matrix:
    """c-TF-IDF of a (classes × terms) frequency matrix; see the module docstring."""
    class_terms = sparse.csr_matrix(class_terms, dtype=np.float64)
    term_frequency = np.asarray(class_terms.sum(axis=0)).ravel()
    average_per_class = class_terms.sum() / class_terms.shape[0]
    idf = np.log1p(average_per_class / np.maximum(term_frequency, 1.0))
    return sparse.csr_matrix(normalize(class_terms, norm="l1", axis=1) @ sparse.diags(idf))


def iceberg_labels(keywords: dict[str, list[str]]) -> dict[str, str]:
    """A short name per iceberg from its first keywords, e.g. "card arrival · delivery".

    As many leading keywords as fit in three keywords and four words (keywords from
    ``iceberg_keywords`` share no word, so neither does the label); an iceberg without
    keywords is called "iceberg <id>".
    """
    return {iceberg: _label(iceberg, terms) for iceberg, terms in keywords.items()}


def iceberg_names(tickets: pd.DataFrame, representatives: dict[str, list[str]],
                  labels: dict[str, str]) -> dict[str, str]:
    """A name per iceberg (see the module docstring): a signature carried by at least
    ``SIGNATURE_MIN_SHARE`` of its tickets (and two), else its most typical subject, else
    its keyword label. ``representatives``: ticket ids, most typical first."""
    names = dict(labels)
    members = iceberg_members(tickets)
    signatures = (tickets[TicketCols.error_signature] if TicketCols.error_signature in tickets
                  else pd.Series(pd.NA, index=tickets.index, dtype="string"))
    subjects = (tickets.set_index(TicketCols.ticket_id)[TicketCols.subject].fillna("").astype(str)
                if TicketCols.subject in tickets else None)
    for iceberg, rows in members.items():
        counts = signatures.iloc[rows].dropna().value_counts()
        if len(counts) and counts.iloc[0] >= max(2, SIGNATURE_MIN_SHARE * len(rows)):
            names[iceberg] = _shortened(str(counts.index[0]))
            continue
        if subjects is None:
            continue
        titled = [subjects.get(t, "") for t in representatives.get(iceberg, [])]
        title = next((t.strip() for t in titled if t.strip()), "")
        if title:
            names[iceberg] = _shortened(" ".join(title.split()))
    return names


def _shortened(name: str) -> str:
    return name if len(name) <= NAME_MAX_CHARS else name[:NAME_MAX_CHARS - 1].rstrip() + "…"


def representative_ticket_ids(tickets: pd.DataFrame, embeddings: np.ndarray,
                              n: int) -> dict[str, list[str]]:
    """The ids of each iceberg's ``n`` tickets most similar (cosine) to its centroid, closest first.

    The centroid is the mean of the members' embeddings. Similarities are compared to six
    decimals, and ties go to the smaller ticket_id, so the choice does not depend on
    floating-point noise or row order.
    """
    if embeddings.shape[0] != len(tickets):
        raise ValueError(f"embeddings has {embeddings.shape[0]} rows but tickets has "
                         f"{len(tickets)}; pass the embeddings of exactly these tickets, in order")
    ticket_ids = tickets[TicketCols.ticket_id].astype(str).to_numpy(dtype=str)
    result = {}
    for iceberg, positions in iceberg_members(tickets).items():
        vectors = normalize(np.asarray(embeddings[positions], dtype=np.float64))
        centroid = vectors.mean(axis=0)
        similarity = np.round(vectors @ (centroid / max(np.linalg.norm(centroid), 1e-12)), 6)
        order = np.lexsort((ticket_ids[positions], -similarity))[:n]
        result[iceberg] = ticket_ids[positions][order].tolist()
    return result


def keyword_tokens(text: str) -> list[str]:
    """The words keywords are made of, in order: letter tokens of two or more letters,
    lower-cased, redaction placeholders left out (stop words kept)."""
    return re.findall(_LETTER_TOKEN, _preprocess(text))


def _preprocess(text: str) -> str:
    return _PLACEHOLDER.sub(" ", text).lower()


def _ranked_terms(row: sparse.csr_matrix, terms: np.ndarray) -> list[str]:
    present = row.data > 0
    candidates, scores = terms[row.indices[present]], row.data[present]
    n_words = np.char.count(candidates.astype(str), " ") + 1
    return candidates[np.lexsort((candidates, -n_words, -scores))].tolist()


def _distinct_terms(ranked: list[str], n: int) -> list[str]:
    chosen: list[str] = []
    used: set[str] = set()
    for term in ranked:
        if len(chosen) == n:
            break
        words = set(term.split())
        if not words & used:
            chosen.append(term)
            used |= words
    return chosen


def _label(iceberg: str, terms: list[str]) -> str:
    parts: list[str] = []
    n_words = 0
    for term in terms:
        if len(parts) == LABEL_MAX_TERMS or n_words + len(term.split()) > LABEL_MAX_WORDS:
            break
        parts.append(term)
        n_words += len(term.split())
    return LABEL_SEPARATOR.join(parts) if parts else f"iceberg {iceberg}"
