"""A bug-report export like a real issue tracker's: Markdown bodies with code blocks, written by ``csv.writer``.

The prose is real: CFPB complaint narratives from ``sample_data/cfpb_complaints.csv.gz``,
cut into sentences. Each body wraps them in the Markdown a bug report has — fenced code
with backticks, single and double quotes, commas, braces and blank lines, a log excerpt,
inline `code` — and the file is written with the csv module's defaults (RFC 4180 quoting,
``\\r\\n``), as a Python exporter would. Metadata columns (state, priority, component,
milestone, labels) are the low-cardinality dimensions a run must keep intact.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NARRATIVES = ROOT / "sample_data" / "cfpb_complaints.csv.gz"
COLUMNS = ["number", "title", "state", "priority", "component", "milestone", "labels", "author",
           "created_at", "comments", "body"]
STATES = ("open", "closed")
PRIORITIES = ("P0", "P1", "P2", "P3")
COMPONENTS = ("payments", "auth", "disputes", "statements", "notifications", "mobile-app", "api")
MILESTONES = ("v2.3", "v2.4", "v2.5", "backlog")
LABELS = ("bug", "bug,regression", "bug,needs-triage", "enhancement", "question", "bug,security")


def sentences() -> list[str]:
    with gzip.open(NARRATIVES, "rt", encoding="utf-8", newline="") as handle:
        texts = [row["Consumer complaint narrative"] for row in csv.DictReader(handle)]
    found = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t)]
    return [s for s in found if 40 <= len(s) <= 300]


def bug_report_rows(n: int = 3000, seed: int = 9) -> list[list[str]]:
    rng = random.Random(seed)
    pool = sentences()
    rows = []
    for number in range(1, n + 1):
        prose = [pool[(number * 7 + k) % len(pool)] for k in range(5)]
        component = rng.choice(COMPONENTS)
        words = prose[0].split()
        title = " ".join(words[:8]).rstrip(",.") + ("…" if len(words) > 8 else "")
        quoted = prose[1][:80].replace("\\", "")
        body = "\n".join([
            "### Describe the bug", prose[0], "",
            f"When I call `{component}.submit()` with `retry=True`, it fails: {prose[2]}", "",
            "### To reproduce", "```python",
            'client = Client(api_key="XXXX", region=\'us-east-1\')',
            f'resp = client.post("/v1/{component}", json={{"amount": {rng.randint(1, 999)}.00, '
            f'"note": "{quoted}"}})',
            'print(f"status={resp.status_code}, body=`{resp.text}`")',
            "```", "",
            "### Logs", "```",
            f'2024-03-{number % 28 + 1:02d} 10:12:01,332 ERROR [{component}] "request failed", '
            f"code={rng.choice((400, 402, 409, 500))}, detail='{prose[3][:60]}'",
            "```", "",
            "### Expected behavior", f'> "{prose[4]}"', "",
            "Steps: 1, 2, 3 — same result; see ```inline fences``` and a lone \" quote.", "",
            "### Stack trace", "```", *_stack_trace(rng, component, 20 + number % 41), "```",
        ])
        rows.append([str(number), title, rng.choice(STATES), rng.choice(PRIORITIES), component,
                     rng.choice(MILESTONES), rng.choice(LABELS), f"user{rng.randint(1, 400)}",
                     f"2024-{number % 12 + 1:02d}-{number % 28 + 1:02d}T{number % 24:02d}:15:00Z",
                     str(rng.randint(0, 30)), body])
    return rows


def _stack_trace(rng: random.Random, component: str, depth: int) -> list[str]:
    return [f"    at `com.acme.{component}.Handler{i}` (Handler{i}.java:{rng.randint(10, 900)}), "
            f"retries={i % 3}" for i in range(depth)]


def bug_report_export(n: int = 3000, seed: int = 9) -> bytes:
    """The export's bytes: a header and ``n`` issues, written by ``csv.writer`` with its defaults."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(bug_report_rows(n, seed))
    return out.getvalue().encode("utf-8")
