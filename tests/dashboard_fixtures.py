"""The run store the dashboard tests read (``dashboard_store`` in conftest.py).

The sample run (real model, real HDBSCAN) copied; curated through the store (the top
iceberg renamed and acknowledged, the second dismissed, the third given a name that is
an XSS payload); then a second, assign run on the sample plus tickets whose bodies are an
XSS corpus, so curation has to survive a run and hostile text has to reach every page.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from conftest import SAMPLE_CSV, iceberg

XSS_CORPUS = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "[x](javascript:alert(3))",
    "<a href=\"javascript:alert(4)\">click</a>",
    "<svg onload=alert(5)>",
    "**bold** _it_ <b>b</b> ![i](x)",
)
XSS_NAME = "<img src=x onerror=alert(6)> [y](javascript:alert(7))"
RENAMED = "PIN blocked for US customers"
# Bodies of the hostile tickets: entity-escaped HTML, as helpdesk exports often write it,
# survives cleaning as literal markup; the rest survives as written.
XSS_BODIES = [f"My card payment was declined at the shop again {payload.replace('<', '&lt;').replace('>', '&gt;')}"
              for payload in XSS_CORPUS] + [f"Why was my card payment declined? {payload}" for payload in XSS_CORPUS]


@dataclass(frozen=True)
class DashboardStore:
    out: Path
    first_run_id: str
    second_run_id: str
    renamed_id: str
    dismissed_id: str
    xss_named_id: str
    xss_ticket_ids: list[str]


def dashboard_store(sample_run, out: Path) -> DashboardStore:
    from pipeline.schemas import IcebergCols
    from pipeline.store import load_run
    from pipeline.store.curation import Curation

    shutil.copytree(sample_run.out, out)
    first = sample_run.run
    ranked = first.icebergs.sort_values(IcebergCols.rank)[IcebergCols.iceberg_id].tolist()
    renamed, dismissed, xss_named = ranked[0], ranked[1], ranked[2]
    curation = Curation(out)
    curation.set(renamed, name=RENAMED, status="acknowledged", ticket="PROB-123", note="Card team on it")
    curation.set(dismissed, status="dismissed", note="expected after the fee change")
    curation.set(xss_named, name=XSS_NAME)

    sample = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    hostile = pd.DataFrame({
        "ticket_id": [f"X{i:03d}" for i in range(len(XSS_BODIES) * 2)],
        "created_at": [f"2024-07-0{1 + i % 3}T1{i % 10}:00:00Z" for i in range(len(XSS_BODIES) * 2)],
        "subject": "Card declined", "body": XSS_BODIES * 2,
        "customer_id": [f"CX{i:04d}" for i in range(len(XSS_BODIES) * 2)],
        "agent_id": [f"agent_{1 + i % 20:02d}" for i in range(len(XSS_BODIES) * 2)],
        "product": "cards", "platform": "Android", "app_version": "5.8.0", "region": "UK",
        "channel": "web form", "plan": "free"})
    grown = out.parent / "grown.csv"
    pd.concat([sample, hostile], ignore_index=True).to_csv(grown, index=False)
    process = iceberg("run", "--input", str(grown), "--out", str(out), "--mode", "assign", "--quiet")
    if process.returncode != 0:
        raise RuntimeError(f"the second run failed ({process.returncode}):\n{process.stderr}")
    second = load_run(out)
    return DashboardStore(out=out, first_run_id=first.run_id, second_run_id=second.run_id,
                          renamed_id=renamed, dismissed_id=dismissed, xss_named_id=xss_named,
                          xss_ticket_ids=hostile["ticket_id"].tolist())
