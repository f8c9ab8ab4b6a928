"""Error signatures: one normalised fingerprint per ticket from its machine text.

The way Sentry groups events, a ticket's signature is its first error — the exception type
and its message with numbers, ids, paths and hex masked (``IOException: Failed to rename
<path> to <path>``) — or, when the message says nothing (a bare ``NullPointerException``),
the type and the top frames of its stack trace with line numbers dropped
(``NullPointerException at DataNode.run < BPServiceActor.offerService``). A ticket with no
exception but with log lines gets the template of its first error or warning line, mined
over the whole export with Drain3 (``[ERROR] Failed to execute goal <*> on project <*>``).

Signatures are a dimension like any other (``error_signature`` in ``tickets.parquet``, with
evidence statistics in ``attributes.parquet``) and a grouping signal: the problem text that
is embedded carries the signature's message.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from pipeline.text.structure import EXCEPTION_LINE, LOG_LINE, STACK_FRAME, masked_variables

MAX_MESSAGE_CHARS = 120
TOP_FRAMES = 3
MIN_TEMPLATE_WORDS = 3       # a log template with fewer literal words ("[ERROR] <*>") says nothing

# An exception anywhere in a line ("… - Failed: java.io.IOException: No space left").
QUALIFIED_EXCEPTION = re.compile(
    r"\b((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Failure|Fault|Throwable))(?::\s*(.*))?")
JAVA_FRAME = re.compile(r"^\s*at\s+(?:[\w$/.-]+/)?([\w$.<>]+)\s*\(")
PYTHON_FRAME = re.compile(r"^\s*File \"(?:[^\"]*[\\/])?([^\"\\/]+)\", line \d+, in (\S+)")
JS_FRAME = re.compile(r"^\s*at\s+([\w$.<>]+)\s+\(")
ERROR_LEVEL = re.compile(r"\b(?:ERROR|FATAL|SEVERE|CRITICAL|WARN|WARNING)\b")
LOG_PREFIX = re.compile(r"^\s*\[?\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]+[\d:.,]+Z?\]?\s*|^\s*\[?\d{1,2}:\d{2}:\d{2}[\d.,]*\]?\s*")
# Issue keys stay as written, numbers read "N" (``Element "btn-N" not found after N ms``).
PLACEHOLDERS = {"id": "<id>", "url": "<url>", "path": "<path>", "hex": "<hex>", "number": "N"}
_SPACE = re.compile(r"\s+")


def masked(message: str) -> str:
    """``message`` with ids, urls, paths, hex and numbers masked, on one line, shortened."""
    message = _SPACE.sub(" ", masked_variables(message, PLACEHOLDERS)).strip(" :;,.")
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1].rstrip() + "…"


def exception_signature(lines: list[str]) -> str | None:
    """The signature of the first exception in ``lines`` (see the module docstring), or None."""
    for i, line in enumerate(lines):
        if STACK_FRAME.match(line) and not line.lstrip().startswith(("Caused by", "Suppressed")):
            continue
        match = EXCEPTION_LINE.match(line) or QUALIFIED_EXCEPTION.search(line)
        if not match:
            continue
        error = match.group(1)
        message = masked(match.group(2) or "")
        if len(re.findall(r"[^\W\d_]{2,}", message)) >= 2:
            return f"{_short_type(error)}: {message}"
        frames = _frames(lines[i + 1:]) or _python_frames(lines[:i])
        if frames:
            return f"{_short_type(error)} at {' < '.join(frames)}"
        return f"{_short_type(error)}: {message}" if message else _short_type(error)
    return None


def _short_type(error: str) -> str:
    """``IOException`` for ``java.io.IOException``: the package says little a lead can use."""
    return error.rsplit(".", 1)[-1]


def _frames(lines: list[str]) -> list[str]:
    frames = []
    for line in lines[:4 * TOP_FRAMES]:
        match = JAVA_FRAME.match(line) or JS_FRAME.match(line)
        if match:
            frames.append(".".join(match.group(1).split(".")[-2:]))
        if len(frames) == TOP_FRAMES:
            break
    return frames


def _python_frames(lines: list[str]) -> list[str]:
    """A Python traceback's frames come before its exception, innermost last."""
    frames = [f"{m.group(1)}:{m.group(2)}" for line in lines if (m := PYTHON_FRAME.match(line))]
    return frames[::-1][:TOP_FRAMES]


def log_templates(lines: list[str]) -> dict[str, str]:
    """A Drain3 template for each distinct log line of ``lines`` (mined over all of them)."""
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th, config.drain_depth = 0.4, 4
    miner = TemplateMiner(config=config)
    stripped = {line: masked(LOG_PREFIX.sub("", line)) for line in dict.fromkeys(lines)}
    ids = {line: miner.add_log_message(text)["cluster_id"] for line, text in stripped.items()}
    clusters = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return {line: clusters[ids[line]] for line in stripped}


def error_signatures(machine: pd.Series, reporter: pd.Series | None = None) -> pd.Series:
    """Each ticket's error signature (``pd.NA`` when it has none), from its machine text and,
    for an exception quoted in a sentence, its reporter words."""
    machine_lines = [[line for line in str(text).split("\n") if line.strip()] for text in machine.fillna("")]
    reporter_lines = ([str(text).split("\n") for text in reporter.fillna("")] if reporter is not None
                      else [[] for _ in machine_lines])
    log_lines = [[line for line in lines if LOG_LINE.match(line) and ERROR_LEVEL.search(line)]
                 for lines in machine_lines]
    templates = log_templates([line for lines in log_lines for line in lines]) if any(log_lines) else {}
    signatures = []
    for lines, words, logs in zip(machine_lines, reporter_lines, log_lines):
        signature = exception_signature(lines) or exception_signature(words)
        if signature is None:
            signature = next((templates[line] for line in logs if _informative(templates[line])), None)
        signatures.append(signature if signature is not None else pd.NA)
    return pd.Series(signatures, index=machine.index, dtype="string", name="error_signature")


def _informative(template: str) -> bool:
    words = [w for w in template.split() if "<" not in w and not ERROR_LEVEL.fullmatch(w.strip("[]:"))]
    return len([w for w in words if re.search(r"[^\W\d_]{2,}", w)]) >= MIN_TEMPLATE_WORDS
