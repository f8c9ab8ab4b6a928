"""The e-mail digest, sent to a local SMTP server the test runs (aiosmtpd) and parsed back."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pipeline.config import AlertsConfig
from pipeline.ops.digest import digest_message, send_digest

PASSWORD_ENV = "ICEBERG_TEST_SMTP_PASSWORD"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):   # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"iceberg" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp():
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _changes(run, hostile_label="<img src=x onerror=alert(1)>"):
    top = run.icebergs.sort_values("rank")["iceberg_id"].iloc[0]
    return {"run_id": run.run_id, "previous_run_id": "R0",
            "summary": {"icebergs": len(run.icebergs), "new": 1, "growing": 1, "faded": 0, "alerts": 2},
            "alerts": [{"rule": "growth", "iceberg_id": top, "label": "x", "message": "grew",
                        "figures": {"size": 80}},
                       {"rule": "new_iceberg", "iceberg_id": "ICE-9999", "label": hostile_label, "message": "new",
                        "figures": {"size": 9, "n_customers": 7}}]}


def _config(port, **more):
    settings = {"smtp_starttls": False, "webhook_backoff": 0.05, **more}
    return AlertsConfig(email_to=["leads@example.com", "ops@example.com"], email_from="iceberg@example.com",
                        smtp_host="127.0.0.1", smtp_port=port, **settings)


def test_the_digest_arrives_as_text_and_html_with_links(smtp, sample_run, monkeypatch):
    port, inbox = smtp
    run = sample_run.run
    message = digest_message(_changes(run), run, dashboard_url="https://iceberg.example.com",
                             sender="iceberg@example.com", recipients=["leads@example.com", "ops@example.com"],
                             out="out")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    record = send_digest(message, _config(port, smtp_user="iceberg", smtp_password_env=PASSWORD_ENV))
    assert record["status"] == "delivered" and record["attempts"] == 1
    [(sender, recipients, content)] = inbox.messages
    assert sender == "iceberg@example.com" and recipients == ["leads@example.com", "ops@example.com"]
    parsed = email.message_from_bytes(content, policy=policy.default)
    assert parsed["Subject"] == f"Iceberg: 2 alerts (run {run.run_id})"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    top = run.icebergs.sort_values("rank")["iceberg_id"].iloc[0]
    link = f"https://iceberg.example.com/?iceberg={top}&run={run.run_id}"
    assert link in text and link.replace("&", "&amp;") in html
    assert "Top icebergs" in text and "Top icebergs" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_without_dashboard_url_the_digest_links_nowhere(sample_run):
    run = sample_run.run
    message = digest_message(_changes(run), run, dashboard_url="", sender="iceberg@example.com",
                             recipients=["leads@example.com"], out="out")
    html = message.get_body(("html",)).get_content()
    assert "href" not in html and "?iceberg=" not in message.get_body(("plain",)).get_content()


def test_no_starttls_or_no_server_fails_without_raising(smtp, sample_run):
    port, inbox = smtp
    run = sample_run.run
    message = digest_message(_changes(run), run, dashboard_url="", sender="iceberg@example.com",
                             recipients=["leads@example.com"], out="out")
    record = send_digest(message, _config(port, smtp_starttls=True))
    assert record["status"] == "failed" and record["attempts"] == 1 and "STARTTLS" in record["error"]
    record = send_digest(message, _config(_free_port(), webhook_retries=2, webhook_timeout=0.5))
    assert record["status"] == "failed" and record["attempts"] == 2
    assert inbox.messages == []
    assert send_digest(message, AlertsConfig())["status"] == "skipped"
