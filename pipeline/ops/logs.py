"""Logging set-up for the CLI: plain text for people, one JSON object per line for machines.

``--log-format json`` writes each record to stderr as a JSON line with ``ts`` (UTC,
ISO 8601), ``level``, ``logger``, ``message``, and every structured field the pipeline
attached (``extra=``): e.g. ``event`` (``stage``, ``run_started``, ``run_finished``,
``mode``, ``webhook``), ``stage``, ``seconds``, ``rows_in``, ``rows_out``, ``run_id``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LOG_FORMATS = ("text", "json")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``logger``, ``message`` + extras."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(logger: logging.Logger, *, quiet: bool, log_format: str = "text") -> None:
    """Send ``logger`` to stderr, as text or JSON lines; INFO unless ``quiet``."""
    for handler in list(logger.handlers):
        if getattr(handler, "_iceberg", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._iceberg = True   # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
