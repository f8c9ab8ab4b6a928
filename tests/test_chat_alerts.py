"""Slack and Teams alert messages: their documented structure and limits, escaping, the
"and N more" truncation, and delivery to a local HTTP server the test runs.

Neither Slack nor Microsoft publishes a JSON Schema that covers a whole webhook message as
posted, so the schemas below are written from the documentation: Slack's Block Kit
reference (header, section, divider, context blocks; button elements; their length
limits; at most 50 blocks) and the Adaptive Cards 1.4 schema's elements used here
(TextBlock, Container, FactSet, ActionSet, Action.OpenUrl) inside Teams' ``message``
envelope.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jsonschema
import pytest

from pipeline.config import AlertsConfig, Config, DashboardConfig, load_config
from pipeline.ops import chat
from pipeline.ops.alerts import alert_bodies, send_alerts
from pipeline.ops.chat import AlertCard, slack_message, teams_message

PLAIN = {"type": "object", "required": ["type", "text"], "additionalProperties": False,
         "properties": {"type": {"const": "plain_text"}, "text": {"type": "string", "minLength": 1},
                        "emoji": {"type": "boolean"}}}
MRKDWN = {"type": "object", "required": ["type", "text"], "additionalProperties": False,
          "properties": {"type": {"const": "mrkdwn"}, "text": {"type": "string", "minLength": 1, "maxLength": 3000}}}
BUTTON = {"type": "object", "required": ["type", "text"], "additionalProperties": False,
          "properties": {"type": {"const": "button"},
                         "text": {**PLAIN, "properties": {**PLAIN["properties"],
                                                          "text": {"type": "string", "maxLength": 75}}},
                         "url": {"type": "string", "maxLength": 3000, "pattern": "^https?://"},
                         "action_id": {"type": "string", "maxLength": 255}}}
SLACK_SCHEMA = {
    "type": "object", "required": ["text", "blocks"], "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "blocks": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"oneOf": [
            {"type": "object", "required": ["type", "text"], "additionalProperties": False,
             "properties": {"type": {"const": "header"},
                            "text": {**PLAIN, "properties": {**PLAIN["properties"],
                                                             "text": {"type": "string", "maxLength": 150}}}}},
            {"type": "object", "required": ["type", "text"], "additionalProperties": False,
             "properties": {"type": {"const": "section"}, "text": MRKDWN, "accessory": BUTTON}},
            {"type": "object", "required": ["type"], "additionalProperties": False,
             "properties": {"type": {"const": "divider"}}},
            {"type": "object", "required": ["type", "elements"], "additionalProperties": False,
             "properties": {"type": {"const": "context"},
                            "elements": {"type": "array", "minItems": 1, "maxItems": 10, "items": MRKDWN}}},
        ]}},
    },
}
TEXT_BLOCK = {"type": "object", "required": ["type", "text"],
              "properties": {"type": {"const": "TextBlock"}, "text": {"type": "string"}, "wrap": {"type": "boolean"},
                             "size": {"enum": ["Small", "Default", "Medium", "Large", "ExtraLarge"]},
                             "weight": {"enum": ["Lighter", "Default", "Bolder"]}, "isSubtle": {"type": "boolean"}}}
FACT_SET = {"type": "object", "required": ["type", "facts"],
            "properties": {"type": {"const": "FactSet"}, "facts": {"type": "array", "items": {
                "type": "object", "required": ["title", "value"], "additionalProperties": False,
                "properties": {"title": {"type": "string"}, "value": {"type": "string"}}}}}}
ACTION_SET = {"type": "object", "required": ["type", "actions"],
              "properties": {"type": {"const": "ActionSet"}, "actions": {"type": "array", "items": {
                  "type": "object", "required": ["type", "title", "url"],
                  "properties": {"type": {"const": "Action.OpenUrl"}, "title": {"type": "string"},
                                 "url": {"type": "string", "pattern": "^https?://"}}}}}}
CONTAINER = {"type": "object", "required": ["type", "items"],
             "properties": {"type": {"const": "Container"}, "separator": {"type": "boolean"},
                            "spacing": {"enum": ["None", "Small", "Default", "Medium", "Large", "ExtraLarge"]},
                            "items": {"type": "array", "items": {"oneOf": [TEXT_BLOCK, FACT_SET, ACTION_SET]}}}}
TEAMS_SCHEMA = {
    "type": "object", "required": ["type", "attachments"],
    "properties": {
        "type": {"const": "message"},
        "attachments": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "type": "object", "required": ["contentType", "content"],
            "properties": {
                "contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                "contentUrl": {"type": "null"},
                "content": {"type": "object", "required": ["type", "version", "body"],
                            "properties": {"$schema": {"const": "http://adaptivecards.io/schemas/adaptive-card.json"},
                                           "type": {"const": "AdaptiveCard"}, "version": {"const": "1.4"},
                                           "body": {"type": "array", "items": {"oneOf": [TEXT_BLOCK, CONTAINER]}},
                                           "msteams": {"type": "object"}}}}}},
    },
}


def _card(i: int, *, name: str | None = None, url: bool = True) -> AlertCard:
    return AlertCard(rule="new_iceberg" if i % 2 else "growth", iceberg_id=f"ICE-{i:04d}",
                     name=name or f"pin · unblock · blocked {i}", message="m", size=40 + i, n_customers=30 + i,
                     trend="growing", where="region=UK (89% vs 18%, lift 5.0, q=5e-25)",
                     url=f"https://iceberg.example.com/?iceberg=ICE-{i:04d}&run=R2" if url else None)


def test_slack_message_has_a_section_and_button_per_alert():
    message = slack_message([_card(1), _card(2, url=False)], "R2")
    jsonschema.validate(message, SLACK_SCHEMA)
    header, first, divider, second = message["blocks"]
    assert header["text"]["text"] == "Iceberg: 2 alerts in run R2" and divider["type"] == "divider"
    assert first["text"]["text"].splitlines() == [
        "*ICE-0001 · pin · unblock · blocked 1*", "new iceberg · 41 tickets from 31 customers · trend growing",
        "Where else: region=UK (89% vs 18%, lift 5.0, q=5e-25)"]
    assert first["accessory"]["url"] == "https://iceberg.example.com/?iceberg=ICE-0001&run=R2"
    assert "accessory" not in second          # no dashboard.url: no button, no guessed link


def test_teams_card_has_the_same_content():
    message = teams_message([_card(1), _card(2, url=False)], "R2")
    jsonschema.validate(message, TEAMS_SCHEMA)
    body = message["attachments"][0]["content"]["body"]
    title, first, second = body
    assert title["text"] == "Iceberg: 2 alerts in run R2"
    facts = {f["title"]: f["value"] for f in first["items"][1]["facts"]}
    assert facts == {"Alert": "new iceberg", "Tickets": "41 tickets from 31 customers", "Trend": "growing",
                     "Where else": "region=UK (89% vs 18%, lift 5.0, q=5e-25)"}
    assert first["items"][2]["actions"][0]["url"].endswith("iceberg=ICE-0001&run=R2")
    assert [i["type"] for i in second["items"]] == ["TextBlock", "FactSet"]


def test_many_alerts_stay_within_the_limits_and_say_how_many_more():
    cards = [_card(i, name="x" * 500) for i in range(1, 121)]
    slack = slack_message(cards, "R2", more_hint="iceberg diff --out out")
    jsonschema.validate(slack, SLACK_SCHEMA)
    assert len(slack["blocks"]) <= 50
    assert slack["blocks"][-1]["elements"][0]["text"] == f"and {120 - chat.SLACK_MAX_ALERTS} more: iceberg diff --out out"
    teams = teams_message(cards, "R2", more_hint="iceberg diff --out out")
    jsonschema.validate(teams, TEAMS_SCHEMA)
    assert len(json.dumps(teams).encode()) <= chat.TEAMS_LIMIT
    body = teams["attachments"][0]["content"]["body"]
    shown = sum(1 for b in body if b["type"] == "Container")
    assert 0 < shown < 120 and body[-1]["text"] == f"and {120 - shown} more: iceberg diff --out out"


def test_hostile_names_are_text():
    card = _card(1, name="<!channel> <https://evil.example|click> & [x](https://evil.example) **loud**")
    slack = slack_message([card], "R2")["blocks"][1]["text"]["text"]
    assert "<!channel>" not in slack and "<https://evil" not in slack and "&lt;!channel&gt;" in slack
    teams = teams_message([card], "R2")["attachments"][0]["content"]["body"][1]["items"][0]["text"]
    assert "](" not in teams and "**" not in teams


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):     # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    _Hook.received = []
    httpd = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", _Hook
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


CHANGES = {"run_id": "R2", "previous_run_id": "R1", "summary": {"alerts": 2},
           "alerts": [{"rule": "new_iceberg", "iceberg_id": "ICE-0005", "label": "statements · crash",
                       "message": "new iceberg ICE-0005", "figures": {"size": 9, "n_customers": 7}},
                      {"rule": "growth", "iceberg_id": "ICE-0001", "label": "pin · blocked",
                       "message": "grew", "figures": {"size": 16, "previous_size": 10, "growth_pct": 60.0}}]}


def test_every_format_is_posted_to_its_own_url(hook):
    base, server = hook
    config = load_config(None, {"alerts.format": '["json", "slack", "teams"]',
                                "alerts.webhook_url": f'["{base}/json", "{base}/slack", "{base}/teams"]',
                                "dashboard.url": "https://iceberg.example.com"})
    bodies = alert_bodies(CHANGES, config, out="out", finished_at="now", changes_path="out/runs/R2/changes.json")
    records = [send_alerts(body, config.alerts, url, has_alerts=True) for _, url, body in bodies]
    assert [r["status"] for r in records] == ["delivered"] * 3
    got = {path: body for path, _, body in server.received}
    assert got["/json"]["event"] == "iceberg.alerts"
    assert [a["url"] for a in got["/json"]["alerts"]] == [
        "https://iceberg.example.com/?iceberg=ICE-0005&run=R2", "https://iceberg.example.com/?iceberg=ICE-0001&run=R2"]
    jsonschema.validate(got["/slack"], SLACK_SCHEMA)
    jsonschema.validate(got["/teams"], TEAMS_SCHEMA)
    assert "ICE-0005 · statements · crash" in got["/slack"]["blocks"][1]["text"]["text"]
    assert all(ct == "application/json" for _, ct, _ in server.received)


def test_without_dashboard_url_nothing_links():
    config = Config(alerts=AlertsConfig(webhook_url="https://hooks.example.com/x", format="slack"),
                    dashboard=DashboardConfig(url=""))
    [(fmt, _, body)] = alert_bodies(CHANGES, config, out="out", finished_at="now", changes_path="c")
    assert fmt == "slack" and "url" not in json.dumps(body) and "dashboard" not in json.dumps(body)
    [(_, _, payload)] = alert_bodies(CHANGES, Config(alerts=AlertsConfig(webhook_url="https://h.example.com")),
                                     out="out", finished_at="now", changes_path="c")
    assert [a["url"] for a in payload["alerts"]] == [None, None]


def test_a_failing_chat_webhook_never_raises():
    record = send_alerts(slack_message([_card(1)], "R2"), AlertsConfig(webhook_retries=2, webhook_timeout=0.5,
                                                                       webhook_backoff=0.05),
                         "http://127.0.0.1:9/slack", has_alerts=True)
    assert record["status"] == "failed" and record["attempts"] == 2
