"""changes.json figures, alert rules, and the webhook against a local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest

from pipeline.ops.alerts import alert_payload, send_alerts
from pipeline.ops.changes import alerts, changes_text, iceberg_changes, with_alerts
from pipeline.config import AlertsConfig


def _icebergs(rows):
    return pd.DataFrame([{"iceberg_id": i, "label": f"label {i}", "size": size, "n_customers": customers,
                          "trend": trend, "onset": pd.Timestamp("2024-03-01").date()}
                         for i, size, customers, trend in rows])


def _lineage(rows):
    return pd.DataFrame([{"iceberg_id": i, "run_id": "R2", "event": e, "related_ids": r} for i, e, r in rows])


@pytest.fixture
def changes():
    before = _icebergs([("ICE-0001", 10, 10, "stable"), ("ICE-0002", 20, 18, "stable"),
                        ("ICE-0003", 8, 8, "stable"), ("ICE-0004", 6, 6, "stable")])
    after = _icebergs([("ICE-0001", 16, 15, "growing"), ("ICE-0002", 20, 18, "fading"),
                       ("ICE-0005", 9, 7, "new"), ("ICE-0006", 3, 3, "new")])
    lineage = _lineage([("ICE-0001", "continued", []), ("ICE-0002", "continued", []),
                        ("ICE-0003", "merged", ["ICE-0001"]), ("ICE-0004", "faded", []),
                        ("ICE-0005", "born", []), ("ICE-0006", "split", ["ICE-0002"])])
    return iceberg_changes(before, after, lineage, run_id="R2", previous_run_id="R1", mode="full")


def test_changes_have_every_kind_with_figures(changes):
    assert [n["iceberg_id"] for n in changes["new"]] == ["ICE-0005", "ICE-0006"]
    assert changes["growing"] == [{"iceberg_id": "ICE-0001", "label": "label ICE-0001", "size": 16,
                                   "previous_size": 10, "added": 6, "growth_pct": 60.0,
                                   "n_customers": 15, "trend": "growing", "boilerplate": False}]
    assert [f["iceberg_id"] for f in changes["fading"]] == ["ICE-0002"]
    assert changes["merged"] == [{"iceberg_id": "ICE-0003", "into": ["ICE-0001"], "label": "label ICE-0003",
                                  "previous_size": 8}]
    assert [f["iceberg_id"] for f in changes["faded"]] == ["ICE-0004"]
    assert changes["split"][0]["from"] == ["ICE-0002"]
    assert changes["summary"] == {"icebergs": 4, "new": 2, "growing": 1, "fading": 1, "faded": 1,
                                  "merged": 1, "split": 1, "alerts": 0}
    json.dumps(changes)   # plain JSON types only


def test_alert_rules(changes):
    rules = AlertsConfig(new_min_customers=5, new_min_size=5, growth_min_pct=50, growth_min_size=10,
                         growth_min_new=3)
    raised = alerts(changes, rules)
    assert [(a["rule"], a["iceberg_id"]) for a in raised] == [("new_iceberg", "ICE-0005"), ("growth", "ICE-0001")]
    assert raised[1]["figures"] == {"size": 16, "previous_size": 10, "growth_pct": 60.0}
    assert alerts(changes, AlertsConfig(new_min_customers=0, growth_min_pct=0)) == []
    merge_split = alerts(changes, AlertsConfig(new_min_customers=0, growth_min_pct=0, on_merge_split=True))
    assert {a["rule"] for a in merge_split} == {"merged", "split"}
    # The first run of a folder has nothing to be new against: no new-iceberg alerts.
    first = {**changes, "previous_run_id": None}
    assert all(a["rule"] != "new_iceberg" for a in alerts(first, rules))
    assert "[growth]" in changes_text(with_alerts(changes, rules))


def test_boilerplate_icebergs_raise_no_alerts():
    before = _icebergs([("ICE-0001", 10, 10, "stable")]).assign(boilerplate=True)
    after = _icebergs([("ICE-0001", 30, 28, "growing"), ("ICE-0002", 40, 35, "new")]).assign(boilerplate=True)
    lineage = _lineage([("ICE-0001", "continued", []), ("ICE-0002", "born", [])])
    changes = iceberg_changes(before, after, lineage, run_id="R2", previous_run_id="R1")
    assert [n["boilerplate"] for n in changes["new"] + changes["growing"]] == [True, True]
    rules = AlertsConfig(new_min_customers=5, new_min_size=5, growth_min_pct=50, growth_min_size=10,
                         growth_min_new=3)
    assert alerts(changes, rules) == []
    assert len(alerts(iceberg_changes(before, after.assign(boilerplate=False), lineage, run_id="R2",
                                      previous_run_id="R1"), rules)) == 2


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    script: list = []      # HTTP statuses to answer, in turn (then 200)

    def do_POST(self):     # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        status = type(self).script.pop(0) if type(self).script else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Hook.received, _Hook.script = [], []
    httpd = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/hook", _Hook
    httpd.shutdown()


def _payload(changes):
    changes = with_alerts(changes, AlertsConfig())
    return alert_payload(changes, out="out", finished_at="2024-03-01T02:00:00+00:00",
                         changes_path="out/runs/R2/changes.json")


def test_webhook_posts_json(server, changes):
    url, hook = server
    record = send_alerts(_payload(changes), AlertsConfig(webhook_url=url))
    assert record["status"] == "delivered" and record["attempts"] == 1 and record["http_status"] == 200
    content_type, body = hook.received[0]
    assert content_type == "application/json"
    assert body["event"] == "iceberg.alerts" and body["run_id"] == "R2"
    assert [a["iceberg_id"] for a in body["alerts"]] == ["ICE-0005", "ICE-0001"]


def test_webhook_retries_server_errors_with_backoff(server, changes):
    url, hook = server
    hook.script = [500, 503]
    record = send_alerts(_payload(changes), AlertsConfig(webhook_url=url, webhook_backoff=0.05))
    assert record["status"] == "delivered" and record["attempts"] == 3
    assert len(hook.received) == 3


def test_webhook_gives_up_without_raising(server, changes):
    url, hook = server
    hook.script = [400]
    record = send_alerts(_payload(changes), AlertsConfig(webhook_url=url, webhook_backoff=0.05))
    assert record["status"] == "failed" and record["attempts"] == 1      # 4xx: not retried
    started = time.perf_counter()
    record = send_alerts(_payload(changes), AlertsConfig(webhook_url="http://127.0.0.1:9/nothing",
                                                         webhook_retries=2, webhook_timeout=0.5,
                                                         webhook_backoff=0.05))
    assert record["status"] == "failed" and record["attempts"] == 2
    assert time.perf_counter() - started < 3


def test_no_alerts_no_post_unless_asked(server, changes):
    url, hook = server
    quiet = {**_payload(changes), "alerts": []}
    assert send_alerts(quiet, AlertsConfig(webhook_url=url))["status"].startswith("skipped")
    assert send_alerts(quiet, AlertsConfig(webhook_url=url, webhook_on_empty=True))["status"] == "delivered"
    assert len(hook.received) == 1
