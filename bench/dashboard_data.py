"""The 100,000-ticket export the dashboard benchmark runs on, built from real texts.

How it is built (``dashboard_export``), all from one seed:

- **Texts**: the 13,083 real Banking77 queries (77 intents) and the 5,911 real CFPB
  complaint narratives that carry their product (12 products, each taken as one more
  "intent", ``complaint: <product>``), from ``../shared/data``.
- **Tickets and metadata**: ``bench.planted.planted_helpdesk`` draws 100,000 tickets over a
  year from those intents — customers, 300 agents, product / platform / app_version /
  region / channel / plan, subjects, greetings, signatures, quoted replies and planted
  personal data, with four planted problems (onset, signature) and three flat decoys.
  A text is drawn with replacement from its intent, so the 19k real texts recur.
- **Perturbations**, so that recurring Banking77 queries are not identical tickets: each
  of them is left as it is with probability 0.3, otherwise one to two of these edits are
  applied at random — drop one word (texts of five words or more), swap two adjacent
  letters inside one word (a typo), append a short context phrase ("since this
  morning", "again", "on my phone", …), or lower-case the text. CFPB narratives are kept
  verbatim (long, and already varied).

The answer key (``truth``) is ``planted_helpdesk``'s.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bench.planted import planted_helpdesk

CONTEXT_PHRASES = ("since this morning", "again", "on my phone", "for the second time",
                   "today", "please help", "still", "as of yesterday", "in the app")
KEEP_SHARE = 0.3


def real_queries(data: Path) -> pd.DataFrame:
    """Banking77 (train + test) and the CFPB narratives with a product, as ``text, category``."""
    banking = data / "banking77"
    cfpb = data / "cfpb_complaints" / "cfpb_narratives_product_only.csv.gz"
    files = [banking / "train.csv.gz", banking / "test.csv.gz", cfpb]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"the real texts are missing: {', '.join(missing)}; pass --data "
                                "DIR (a folder with banking77/ and cfpb_complaints/)")
    queries = pd.concat([pd.read_csv(f) for f in files[:2]], ignore_index=True)[["text", "category"]]
    complaints = pd.read_csv(cfpb).dropna(subset=["Consumer complaint narrative", "Product"])
    complaints = pd.DataFrame({"text": complaints["Consumer complaint narrative"],
                               "category": "complaint: " + complaints["Product"].str.lower()})
    return pd.concat([queries, complaints], ignore_index=True)


def perturbed(text: str, rng: np.random.Generator) -> str:
    """``text`` with one or two small edits (see the module docstring), or unchanged."""
    if rng.random() < KEEP_SHARE:
        return text
    for _ in range(int(rng.integers(1, 3))):
        edit = int(rng.integers(4))
        words = text.split()
        if edit == 0 and len(words) >= 5:
            del words[int(rng.integers(len(words)))]
            text = " ".join(words)
        elif edit == 1:
            long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
            if long_words:
                i = long_words[int(rng.integers(len(long_words)))]
                w = words[i]
                j = int(rng.integers(len(w) - 1))
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
                text = " ".join(words)
        elif edit == 2:
            text = f"{text.rstrip('.?! ')} {CONTEXT_PHRASES[int(rng.integers(len(CONTEXT_PHRASES)))]}."
        else:
            text = text.lower()
    return text


def dashboard_export(data: Path, *, n_tickets: int = 100_000, seed: int = 11) -> tuple[pd.DataFrame, dict]:
    """The export (``bench.planted.COLUMNS``) and its answer key."""
    queries = real_queries(data)
    rng = np.random.default_rng(seed)
    is_complaint = queries["category"].str.startswith("complaint: ")
    # Perturbed copies: each Banking77 query appears as several distinct variants, so the
    # generator (which draws a text per ticket) sees a pool about as large as the tickets.
    copies = max(1, round(n_tickets / max(1, int((~is_complaint).sum())) * 0.9))
    variants = [queries[is_complaint]]
    for _ in range(copies):
        variant = queries[~is_complaint].copy()
        variant["text"] = [perturbed(t, rng) for t in variant["text"]]
        variants.append(variant)
    pool = pd.concat(variants, ignore_index=True).drop_duplicates()
    planted = planted_helpdesk(pool, seed=seed, n_tickets=n_tickets, start=date(2024, 1, 1),
                               days=364, n_agents=300)
    return planted.tickets, planted.truth
