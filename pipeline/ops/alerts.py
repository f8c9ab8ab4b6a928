"""The alert webhook: one JSON POST per run, with a timeout and retries, never fatal.

``send_alerts`` posts the payload below to ``alerts.webhook_url`` once the run has
finished (``OUT/latest`` already moved). Each attempt waits at most
``webhook_timeout`` seconds; a failed attempt (connection error, timeout, HTTP 5xx or
429) is retried with exponential back-off (``webhook_backoff``, doubling, at most 30 s)
up to ``webhook_retries`` attempts in all; a 4xx answer is not retried. Whatever
happens, it returns a delivery record and never raises: a webhook can delay a run by at
most ``retries × timeout + back-off``, and never makes it fail.

Payload (``Content-Type: application/json``)::

    {"event": "iceberg.alerts", "payload_version": 1, "run_id", "previous_run_id", "out",
     "finished_at", "summary": {...changes.json summary...}, "alerts": [...],
     "changes_path": "OUT/runs/<run_id>/changes.json"}
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

from tenacity import (RetryError, Retrying, retry_if_exception, stop_after_attempt,
                      wait_exponential)

from pipeline.config import AlertsConfig

log = logging.getLogger("iceberg")
PAYLOAD_VERSION = 1
USER_AGENT = "iceberg-alerts/1"


class Retryable(Exception):
    """A delivery failure worth another attempt (a 5xx or 429, a timeout, a refused connection)."""


def delivery_retrying(config: AlertsConfig) -> Retrying:
    """How deliveries (webhooks, the e-mail digest) retry: ``alerts.webhook_retries`` attempts,
    exponential back-off from ``alerts.webhook_backoff`` seconds, only on ``Retryable``."""
    return Retrying(stop=stop_after_attempt(max(config.webhook_retries, 1)),
                    wait=wait_exponential(multiplier=config.webhook_backoff, min=config.webhook_backoff, max=30),
                    retry=retry_if_exception(lambda e: isinstance(e, Retryable)), reraise=False)


def alert_payload(changes: dict, *, out: str, finished_at: str, changes_path: str,
                  dashboard_url: str = "") -> dict:
    """Iceberg's own JSON payload (``alerts.format = "json"``); each alert carries ``url``, its
    iceberg's dashboard page (null without ``dashboard.url``)."""
    from pipeline.links import iceberg_url

    alerts = [{**a, "url": iceberg_url(dashboard_url, a["iceberg_id"], changes["run_id"])}
              for a in changes["alerts"]]
    return {"event": "iceberg.alerts", "payload_version": PAYLOAD_VERSION,
            "run_id": changes["run_id"], "previous_run_id": changes.get("previous_run_id"),
            "out": out, "finished_at": finished_at, "summary": changes["summary"],
            "alerts": alerts, "changes_path": changes_path}


def send_alerts(payload: dict, config: AlertsConfig, url: str | None = None, *,
                has_alerts: bool | None = None) -> dict:
    """POST ``payload`` to ``url`` (default: ``alerts.webhook_url``); returns {url, status,
    attempts, http_status, error, seconds}. ``has_alerts`` (default: the payload's
    ``alerts``) decides whether an empty run is posted (``webhook_on_empty``)."""
    url = config.webhook_url if url is None else url
    url = url if isinstance(url, str) else (url[0] if url else "")
    record = {"url": url, "status": "skipped", "attempts": 0, "http_status": None,
              "error": None, "seconds": 0.0}
    if not url:
        return record
    if has_alerts is None:
        has_alerts = bool(payload.get("alerts"))
    if not has_alerts and not config.webhook_on_empty:
        return {**record, "status": "skipped (no alerts)"}
    body = json.dumps(payload, default=str).encode("utf-8")
    started = time.perf_counter()

    def attempt() -> int:
        record["attempts"] += 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=config.webhook_timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            record["http_status"] = exc.code
            if exc.code >= 500 or exc.code == 429:
                raise Retryable(f"HTTP {exc.code}") from exc
            raise
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Retryable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc

    try:
        record["http_status"] = delivery_retrying(config)(attempt)
        record["status"] = "delivered"
    except RetryError as exc:
        record.update(status="failed", error=str(exc.last_attempt.exception()))
    except Exception as exc:   # noqa: BLE001 — a webhook must never fail the run
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    record["seconds"] = round(time.perf_counter() - started, 3)
    if record["status"] == "failed":
        log.warning("alert webhook %s failed after %d attempt(s): %s", _shown(url),
                    record["attempts"], record["error"],
                    extra={"event": "webhook", "webhook": record})
    else:
        log.info("alert webhook %s: %s (HTTP %s)", _shown(url), record["status"],
                 record["http_status"], extra={"event": "webhook", "webhook": record})
    return record


def _shown(url: str) -> str:
    """The URL as logs show it: scheme and host only (Slack and Teams webhook paths are secrets)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else url


def alert_bodies(changes: dict, config, *, out: str, finished_at: str, changes_path: str,
                 run=None) -> list[tuple[str, str, dict]]:
    """(format, URL, body) of every post the run's ``[alerts]`` settings ask for
    (``config.alert_targets``): Iceberg's JSON, a Slack message or a Teams card, with
    ``dashboard.url`` deep links."""
    from pipeline.config import alert_targets
    from pipeline.ops import chat

    targets = alert_targets(config.alerts)
    base = config.dashboard.url
    cards = chat.alert_cards(changes, run, base) if any(f != "json" for f, _ in targets) else []
    hint = f"iceberg diff --out {out}"
    bodies = []
    for fmt, url in targets:
        if fmt == "slack":
            body = chat.slack_message(cards, changes["run_id"], more_hint=hint)
        elif fmt == "teams":
            body = chat.teams_message(cards, changes["run_id"], more_hint=hint)
        else:
            body = alert_payload(changes, out=out, finished_at=finished_at, changes_path=changes_path,
                                 dashboard_url=base)
        bodies.append((fmt, url, body))
    return bodies
