"""Deep links from ``dashboard.url``: every report format and problem record links to the
iceberg's dashboard page when it is set and says nothing of one when it is not; and a
second night on the sample posts Slack and Teams messages with those links."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import HTTPServer

import pandas as pd
import pytest

from conftest import SAMPLE_CSV, iceberg
from pipeline.links import iceberg_url
from pipeline.store import load_run
from test_chat_alerts import SLACK_SCHEMA, TEAMS_SCHEMA, _Hook

BASE = "https://iceberg.example.com"


@pytest.mark.parametrize("fmt", ["md", "html", "jira", "servicenow", "zendesk"])
def test_every_report_links_to_the_dashboard_when_set(sample_run, tmp_path, fmt):
    run = sample_run.run
    top = run.icebergs.sort_values("rank")["iceberg_id"].iloc[0]
    link = f"{BASE}/?iceberg={top}&run={run.run_id}"
    config = tmp_path / "iceberg.toml"
    config.write_text(f'[dashboard]\nurl = "{BASE}/"\n', encoding="utf-8")
    linked = iceberg("report", "--out", str(sample_run.out), "--format", fmt, "--iceberg", top,
                     "--config", str(config), "-o", "-")
    assert linked.returncode == 0, linked.stderr
    shown = linked.stdout.replace("&amp;", "&")
    assert link in shown
    plain = iceberg("report", "--out", str(sample_run.out), "--format", fmt, "--iceberg", top, "-o", "-")
    assert "?iceberg=" not in plain.stdout and "in the dashboard" not in plain.stdout


def test_iceberg_url():
    assert iceberg_url("", "ICE-0001", "R") is None
    assert iceberg_url("https://x.example.com/iceberg/", "ICE-0001", "R1") == \
        "https://x.example.com/iceberg/?iceberg=ICE-0001&run=R1"
    assert iceberg_url("https://x.example.com/a b(c)", "ICE-0001") == "https://x.example.com/a%20b%28c%29/?iceberg=ICE-0001"


def test_a_second_night_posts_slack_and_teams_with_links(sample_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_run.out, out)
    sample = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    crash = ["The app crashes when I open the statements tab since the 5.9.0 update",
             "Statements screen closes the app immediately after updating to 5.9.0",
             "App keeps crashing on statements after the latest update",
             "Since version 5.9.0 the app crashes whenever I tap statements"]
    new = pd.DataFrame({"ticket_id": [f"N{i:03d}" for i in range(24)],
                        "created_at": [f"2024-06-30T{8 + i % 12:02d}:00:00Z" for i in range(24)],
                        "subject": "Chat conversation", "body": [crash[i % 4] for i in range(24)],
                        "customer_id": [f"CN{i:04d}" for i in range(24)], "agent_id": "agent_01",
                        "product": "app", "platform": "iOS", "app_version": "5.9.0", "region": "UK",
                        "channel": "chat", "plan": "free"})
    grown = tmp_path / "night2.csv"
    pd.concat([sample, new], ignore_index=True).to_csv(grown, index=False)
    _Hook.received = []
    httpd = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        process = iceberg("run", "--input", str(grown), "--out", str(out), "--mode", "assign", "--quiet",
                          "--set", 'alerts.format=["slack", "teams"]',
                          "--set", f'alerts.webhook_url=["{base}/slack", "{base}/teams"]',
                          "--set", f"dashboard.url={BASE}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
    assert process.returncode == 0, process.stderr
    run = load_run(out)
    got = {path: body for path, _, body in _Hook.received}
    assert set(got) == {"/slack", "/teams"}
    import jsonschema

    jsonschema.validate(got["/slack"], SLACK_SCHEMA)
    jsonschema.validate(got["/teams"], TEAMS_SCHEMA)
    alerts = run.changes.to_dict()["alerts"]
    assert alerts
    for alert in alerts:
        link = f"{BASE}/?iceberg={alert['iceberg_id']}&run={run.run_id}"
        assert link in json.dumps(got["/slack"]) and link in json.dumps(got["/teams"])
    record = json.loads((run.folder / "webhook.json").read_text())
    assert [(d["format"], d["status"]) for d in record["deliveries"]] == [("slack", "delivered"),
                                                                       ("teams", "delivered")]
