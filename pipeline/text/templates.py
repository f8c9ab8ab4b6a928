"""Template fragments: sentences that many tickets share across unrelated topics.

An order reference appended by a web form ("Order 482913."), a form's field labels, an
inline greeting, a legal disclaimer: each is the same sentence — up to its numbers — in
tickets about everything. Left in, it pulls the tickets that carry it towards each other in
the embedding space and bridges unrelated problems into one dense blob (on 20,000 real
queries, a quarter ending with an order sentence gave 4 icebergs instead of ~130).

A sentence is a **template fragment** when, with its numbers masked (``Order #.``):

1. it occurs in at least ``min_share`` of the tickets (and in at least ``MIN_TICKETS``), and
2. the tickets that carry it are about no one thing: the rest of their text is as varied
   as the corpus. Measured as the *coherence* of that rest — the squared length of the
   mean of its unit TF-IDF vectors, which is the mean cosine similarity between two of
   them — against the coherence of as many tickets drawn at random. A fragment whose
   tickets cohere more than ``max_coherence_ratio`` times the corpus's belongs to a topic
   ("My card was declined.") and stays; one that does not is a template and goes.

Removed before embedding and from the stored text, like the line-level boilerplate of
``pipeline.text.clean``. A ticket made only of template fragments keeps its text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

MIN_TICKETS = 20
MAX_WORDS = 40             # longer repeated passages (disclaimers) are rare; beyond this it is content
EDGE = 3                   # templates open or close a ticket: its first and last 3 sentences are searched
SAMPLE = 500               # tickets per coherence estimate: enough for 2 digits, cheap at 1M tickets
TFIDF_CHARS = 400          # the start of each text is enough to tell what it is about
EDGE_CHARS = 400           # …and of a long text, its first and last 400 characters hold those sentences
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
# A reference a form appends without punctuation: "… not arrived Order 482913", "Ref: 77-1".
_REFERENCE = re.compile(r"^(.*\S)\s([A-Z][^\W\d_]*[:.#]?\s(?:[^\W\d_]+[:.#]?\s)?#?\d[\w\-/]*[.!]?)\s*$",
                        re.DOTALL)
_OPENING = re.compile(r"^\s*([^\W\d_][\w' ]{0,30}?),\s+(?=\S)")   # "Hi there, …", "Hello team, …"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")    # a "sentence" of nothing but numbers ("04" after "18.") is no template


@dataclass(frozen=True)
class TemplateFragments:
    """The fragments found in a corpus, with the figures that decided each."""

    keys: frozenset[str]                 # masked, lower-cased sentences
    found: list[dict]                    # every candidate: key, tickets, coherence, ratio, template

    def record(self, removed_from: int) -> dict:
        return {"template_fragments": sorted(self.keys), "tickets_with_templates": removed_from,
                "template_candidates": self.found}


def sentence_key(sentence: str) -> str:
    masked = _NUMBER.sub("#", sentence.casefold())
    return _SPACE.sub(" ", masked).strip(" \t,;:-–—.!?")


def _sentences(text: str) -> list[str]:
    """The text's sentences (lines count as sentence ends), an opening salutation ("Hi
    there,") counting as one of its own."""
    sentences = []
    for sentence in _SENTENCE.findall(text):
        if not sentence.strip():
            continue
        opening = _OPENING.match(sentence)
        if opening and len(opening.group(1).split()) <= 3:
            sentences.append(sentence[:opening.end()])
            sentence = sentence[opening.end():]
        reference = _REFERENCE.match(sentence)
        if reference:
            sentences += [sentence[:reference.end(1)], sentence[reference.end(1):]]
        else:
            sentences.append(sentence)
    return sentences


def _edge_keys(text: str) -> set[str]:
    if len(text) > 3 * EDGE_CHARS:   # only the ends can hold the first and last sentences
        head, tail = _sentences(text[:EDGE_CHARS])[:-1], _sentences(text[-EDGE_CHARS:])[1:]
        edges = head[:EDGE] + tail[-EDGE:]
    else:
        sentences = _sentences(text)
        edges = sentences if len(sentences) <= 2 * EDGE else sentences[:EDGE] + sentences[-EDGE:]
    return {sentence_key(s) for s in edges}


def template_fragments(texts: pd.Series, *, min_share: float, max_coherence_ratio: float = 1.5,
                       random_state: int = 0) -> TemplateFragments:
    """The template fragments of ``texts`` (see the module docstring)."""
    texts = texts.fillna("").astype(str)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_edge_keys(text))
    threshold = max(MIN_TICKETS, min_share * len(texts))
    candidates = {k: [] for k, n in counts.items()
                  if n >= threshold and _LETTER.search(k) and len(k.split()) <= MAX_WORDS}
    if candidates:
        for row, text in enumerate(texts):
            for key in _edge_keys(text) & candidates.keys():
                candidates[key].append(row)
    if not candidates:
        return TemplateFragments(frozenset(), [])
    rng = np.random.default_rng(random_state)
    vectorizer = TfidfVectorizer(min_df=2, sublinear_tf=True)
    vectorizer.fit(texts.iloc[rng.choice(len(texts), size=min(len(texts), 40 * SAMPLE), replace=False)]
                   .str.slice(0, TFIDF_CHARS))
    baseline = _coherence(vectorizer, texts.iloc[rng.choice(len(texts), size=min(len(texts), SAMPLE),
                                                               replace=False)].tolist())
    found, keys = [], set()
    for key, rows in sorted(candidates.items(), key=lambda kv: -len(kv[1])):
        drawn = rng.choice(rows, size=min(len(rows), SAMPLE), replace=False)
        rest = [_without(texts.iloc[r], frozenset({key})) for r in drawn]
        ratio = _coherence(vectorizer, rest) / max(baseline, 1e-9)
        template = ratio <= max_coherence_ratio
        found.append({"fragment": key, "tickets": len(rows), "coherence_ratio": round(float(ratio), 2),
                      "template": bool(template)})
        if template:
            keys.add(key)
    return TemplateFragments(frozenset(keys), found)


def without_templates(texts: pd.Series, fragments: TemplateFragments) -> tuple[pd.Series, int]:
    """``texts`` without their template fragments, and how many tickets had one."""
    if not fragments.keys:
        return texts, 0
    changed = 0
    out = []
    for text in texts:
        if isinstance(text, str):
            kept = _without(text, fragments.keys)
            changed += kept != text
            text = kept
        out.append(text)
    return pd.Series(out, index=texts.index, name=texts.name, dtype=texts.dtype), changed


def _without(text: str, keys: frozenset[str]) -> str:
    sentences = _sentences(text)
    edge = set(range(len(sentences))) if len(sentences) <= 2 * EDGE else \
        set(range(EDGE)) | set(range(len(sentences) - EDGE, len(sentences)))
    kept = [s for i, s in enumerate(sentences) if i not in edge or sentence_key(s) not in keys]
    if len(kept) == len(sentences) or not any(s.strip() for s in kept):
        return text
    joined = "".join(kept)
    return "\n".join(line.strip() for line in joined.splitlines() if line.strip()).strip()


def _coherence(vectorizer: TfidfVectorizer, texts: list[str]) -> float:
    """The mean cosine similarity of two of ``texts`` (squared norm of the mean unit vector)."""
    matrix = vectorizer.transform([t[:TFIDF_CHARS] for t in texts])
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A.ravel()
    keep = norms > 0
    if keep.sum() < 2:
        return 0.0
    mean = np.asarray(matrix[keep].multiply(1 / norms[keep][:, None]).mean(axis=0)).ravel()
    n = int(keep.sum())
    # E[cos] over distinct pairs: (n²·|mean|² − n) / (n² − n)
    return float((n * n * mean @ mean - n) / (n * n - n))

