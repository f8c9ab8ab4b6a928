"""Small real runs for the report tests: the real pipeline (ingest, clean, redact, HDBSCAN,
profile, store) on generated tickets, with a deterministic stand-in for the embedding model.

``HashingEmbedder`` hashes each text's words and character 3-grams into buckets (crc32, the
same in every process) and projects the counts with a fixed random matrix: identical texts
get identical vectors and texts sharing words lie near each other, which is all a report
test needs, without a model. (The embed wing's ``tests/fakes.py`` is the same idea; this
one keeps these tests independent of when that lands.)
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.embed import EncodeResult

_WORD = re.compile(r"\w+")

# Three recurring problems and a spread of one-off requests, each worded a few ways.
PROBLEMS = {
    "declined": ["my card payment was declined at the shop", "card declined when paying in the store",
                 "payment with my card keeps getting declined", "the shop says my card was declined"],
    "crash": ["the app crashes when I open my statements", "statements screen makes the app crash",
              "app closes itself every time I open statements", "opening statements crashes the app"],
    "reset": ["password reset link never arrives", "I did not get the reset link for my password",
              "the password reset message does not come", "reset password link is not arriving"],
}
ONE_OFFS = ["how do I change my address", "can I order a second card for my partner",
            "what are your opening hours", "is there a fee for foreign currency",
            "please close my savings account", "how do I update my phone settings",
            "where can I download last year's tax certificate", "can I increase my daily limit"]
FILLERS = ["today", "again", "please help", "since this morning", "urgent", "for the third time", "",
           "as soon as possible", "on my phone", "this week"]


class HashingEmbedder:
    def __init__(self, dim: int = 64, *, buckets: int = 2048, seed: int = 0):
        self.buckets, self.seed = buckets, seed
        self._projection = np.random.default_rng(seed).standard_normal((buckets, dim)).astype(np.float32)

    @property
    def key(self) -> str:
        return f"hashing-b{self.buckets}-d{self.dim}-s{self.seed}"

    @property
    def dim(self) -> int:
        return self._projection.shape[1]

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> EncodeResult:
        counts = np.zeros((len(texts), self.buckets), dtype=np.float32)
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            grams = words + [f"#{w}#"[j:j + 3] for w in words for j in range(len(w))]
            for gram in grams or [""]:
                counts[i, zlib.crc32(gram.encode("utf-8")) % self.buckets] += 1
        vectors = counts @ self._projection
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return EncodeResult(vectors.astype(np.float32))


def helpdesk_tickets(*, per_problem: int = 36, one_offs: int = 48, seed: int = 0,
                     ids: str = "mixed") -> pd.DataFrame:
    """Generated tickets: three problems (``declined`` on Android from March, ``crash`` growing
    on iOS, ``reset`` steady) and one-offs, over the first half of 2024.

    ``ids``: ``mixed`` gives ServiceNow incident numbers (``INC…``) to the ``declined`` and
    ``crash`` tickets and Zendesk-style numbers to the rest; ``plain`` gives ``T…`` ids.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01", tz="UTC")
    for problem, wordings in PROBLEMS.items():
        for i in range(per_problem):
            if problem == "declined":
                day = 60 + int(rng.integers(0, 120))
            elif problem == "crash":
                day = int(180 - np.sqrt(rng.uniform(0, 1)) * 150)
            else:
                day = int(rng.integers(0, 180))
            rows.append({"problem": problem, "body": f"{wordings[i % len(wordings)]} {FILLERS[i % len(FILLERS)]}",
                         "day": day,
                         "platform": {"declined": "Android", "crash": "iOS"}.get(problem,
                                                                                 rng.choice(["Android", "iOS", "Web"])),
                         "region": rng.choice(["EU", "UK", "US"])})
    for i in range(one_offs):
        rows.append({"problem": None, "body": f"{ONE_OFFS[i % len(ONE_OFFS)]} {FILLERS[(i * 3) % len(FILLERS)]} {i}",
                     "day": int(rng.integers(0, 180)), "platform": rng.choice(["Android", "iOS", "Web"]),
                     "region": rng.choice(["EU", "UK", "US"])})
    frame = pd.DataFrame(rows)
    n = len(frame)
    if ids == "mixed":
        frame["ticket_id"] = [f"INC{10001 + i:07d}" if p in ("declined", "crash") else str(50001 + i)
                              for i, p in enumerate(frame["problem"])]
    else:
        frame["ticket_id"] = [f"T{100001 + i}" for i in range(n)]
    seconds = rng.integers(8 * 3600, 18 * 3600, size=n)
    frame["created_at"] = [(start + pd.Timedelta(days=int(d), seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")
                           for d, s in zip(frame["day"], seconds)]
    frame["customer_id"] = [f"C{1000 + int(c)}" for c in rng.integers(0, 400, size=n)]
    frame["agent_id"] = [f"agent_{int(a):02d}" for a in rng.integers(1, 16, size=n)]
    frame["subject"] = ""
    return frame[["ticket_id", "created_at", "subject", "body", "customer_id", "agent_id", "platform",
                  "region", "problem"]]


def real_run(tickets: pd.DataFrame, folder: Path, config=None, *, input_name: str = "tickets.csv"):
    """The real pipeline on ``tickets`` (written as a user's CSV or JSONL export, by the suffix
    of ``input_name``) into ``folder/out``."""
    from pipeline.config import Config
    from pipeline.run import run
    from pipeline.store import load_run

    path = folder / input_name
    export = tickets.drop(columns=["problem"], errors="ignore")
    if path.suffix == ".jsonl":
        export.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        export.to_csv(path, index=False)
    run(path, folder / "out", config or Config(), embedder=HashingEmbedder(), progress=False)
    return load_run(folder / "out")
