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


class _Retryable(Exception):
    pass


def alert_payload(changes: dict, *, out: str, finished_at: str, changes_path: str) -> dict:
    return {"event": "iceberg.alerts", "payload_version": PAYLOAD_VERSION,
            "run_id": changes["run_id"], "previous_run_id": changes.get("previous_run_id"),
            "out": out, "finished_at": finished_at, "summary": changes["summary"],
            "alerts": changes["alerts"], "changes_path": changes_path}


def send_alerts(payload: dict, config: AlertsConfig) -> dict:
    """POST ``payload`` to the webhook; returns {status, attempts, http_status, error, seconds}."""
    record = {"url": config.webhook_url, "status": "skipped", "attempts": 0, "http_status": None,
              "error": None, "seconds": 0.0}
    if not config.webhook_url:
        return record
    if not payload.get("alerts") and not config.webhook_on_empty:
        return {**record, "status": "skipped (no alerts)"}
    body = json.dumps(payload, default=str).encode("utf-8")
    started = time.perf_counter()

    def attempt() -> int:
        record["attempts"] += 1
        request = urllib.request.Request(config.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=config.webhook_timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            record["http_status"] = exc.code
            if exc.code >= 500 or exc.code == 429:
                raise _Retryable(f"HTTP {exc.code}") from exc
            raise
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc

    try:
        retrying = Retrying(stop=stop_after_attempt(max(config.webhook_retries, 1)),
                            wait=wait_exponential(multiplier=config.webhook_backoff,
                                                  min=config.webhook_backoff, max=30),
                            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
                            reraise=False)
        record["http_status"] = retrying(attempt)
        record["status"] = "delivered"
    except RetryError as exc:
        record.update(status="failed", error=str(exc.last_attempt.exception()))
    except Exception as exc:   # noqa: BLE001 — a webhook must never fail the run
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    record["seconds"] = round(time.perf_counter() - started, 3)
    if record["status"] == "failed":
        log.warning("alert webhook %s failed after %d attempt(s): %s", config.webhook_url,
                    record["attempts"], record["error"],
                    extra={"event": "webhook", "webhook": record})
    else:
        log.info("alert webhook %s: %s (HTTP %s)", config.webhook_url, record["status"],
                 record["http_status"], extra={"event": "webhook", "webhook": record})
    return record
