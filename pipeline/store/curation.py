"""Curation: what people decide about an iceberg — a name, a status, a note — kept across runs.

``OUT/curation.jsonl`` lives outside every run folder and is keyed by ``iceberg_id``, so
a decision follows the iceberg through later runs (ids are stable, see
``pipeline.groups.identity``) and no run is ever rewritten. Each change is one JSON line
appended under ``OUT/.curation.lock`` and fsynced; the current state of an iceberg is its
lines folded in order, so the file is also the audit trail (who changed what, when).
A torn last line (a writer killed mid-write) is skipped with a warning.

Fields (all optional; ``None`` clears one):

- ``name``: a curated name shown instead of the generated label (at most 120 characters);
- ``status``: ``acknowledged`` (someone owns it; ``ticket`` may name the problem record,
  e.g. ``PROB-123`` or an ``https://`` link) or ``dismissed`` (not a problem: it ranks
  after every other problem but stays visible); ``None`` is open;
- ``ticket``: a ticket key (``ABC-123``) or an http(s) URL;
- ``note``: free text (at most 2,000 characters).

Names and notes are redacted like ticket text before they are stored.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from pipeline.errors import ConfigError
from pipeline.store.atomic import ensure_folder, output_error
from pipeline.store.layout import Layout

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("iceberg")

ACKNOWLEDGED, DISMISSED = "acknowledged", "dismissed"
STATUSES = (ACKNOWLEDGED, DISMISSED)
MAX_NAME, MAX_NOTE = 120, 2_000
_TICKET_KEY = re.compile(r"[A-Z][A-Z0-9_]*-\d+")
_URL = re.compile(r"https?://[^\s<>\"']+")
_UNSET: Any = object()
_FIELDS = ("name", "status", "ticket", "note")


@dataclass(frozen=True)
class CurationEntry:
    """The current curation of one iceberg."""

    iceberg_id: str
    name: str | None = None
    status: str | None = None
    ticket: str | None = None
    note: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def dismissed(self) -> bool:
        return self.status == DISMISSED


class Curation:
    """Read and change the curation of the icebergs under ``out``."""

    def __init__(self, out: str | Path):
        self.layout = Layout(out)

    def entries(self) -> dict[str, CurationEntry]:
        """Every curated iceberg's current entry, by iceberg id."""
        state: dict[str, dict] = {}
        for change in self._changes():
            current = state.setdefault(change["iceberg_id"], {"iceberg_id": change["iceberg_id"]})
            current.update({k: change[k] for k in (*_FIELDS, "updated_at", "updated_by") if k in change})
        return {i: CurationEntry(**values) for i, values in state.items()}

    def get(self, iceberg_id: str) -> CurationEntry:
        return self.entries().get(iceberg_id, CurationEntry(iceberg_id))

    def dismissed(self) -> frozenset[str]:
        return frozenset(i for i, e in self.entries().items() if e.dismissed)

    def history(self, iceberg_id: str) -> list[dict]:
        """Every change made to ``iceberg_id``, oldest first."""
        return [c for c in self._changes() if c["iceberg_id"] == iceberg_id]

    def set(self, iceberg_id: str, *, name: str | None = _UNSET, status: str | None = _UNSET,
            ticket: str | None = _UNSET, note: str | None = _UNSET, by: str | None = None) -> CurationEntry:
        """Change the given fields of ``iceberg_id`` (``None`` clears one); returns the new entry."""
        change = {k: v for k, v in (("name", name), ("status", status), ("ticket", ticket),
                                    ("note", note)) if v is not _UNSET}
        change = _validated(iceberg_id, change)
        change = {"iceberg_id": iceberg_id, **change,
                  "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "updated_by": by}
        ensure_folder(self.layout.out)
        line = json.dumps(change, ensure_ascii=False) + "\n"
        try:
            with FileLock(str(self.layout.curation_lock), timeout=10):
                with open(self.layout.curation, "a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
        except OSError as exc:
            raise output_error(exc, self.layout.curation) from exc
        return self.get(iceberg_id)

    def _changes(self) -> list[dict]:
        path = self.layout.curation
        if not path.is_file():
            return []
        changes = []
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                if not isinstance(change, dict) or not isinstance(change.get("iceberg_id"), str):
                    raise ValueError("not a curation change")
            except ValueError:
                log.warning("%s line %d is not a curation change; skipped", path, number)
                continue
            changes.append(change)
        return changes


def _validated(iceberg_id: str, change: dict) -> dict:
    from pipeline.config import RedactConfig
    from pipeline.text.redact import redacted_texts

    if not isinstance(iceberg_id, str) or not iceberg_id.strip():
        raise ConfigError("curation needs an iceberg id, e.g. ICE-0042")
    cleaned = {}
    for key, value in change.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"curation {key} must be text, got {value!r}")
        value = value.strip() if value is not None else None
        cleaned[key] = value or None
    if cleaned.get("status") not in (None, *STATUSES):
        raise ConfigError(f"curation status must be one of {', '.join(STATUSES)} (or empty to reopen), "
                          f"got {cleaned['status']!r}")
    ticket = cleaned.get("ticket")
    if ticket is not None and not (_TICKET_KEY.fullmatch(ticket) or _URL.fullmatch(ticket)):
        raise ConfigError(f"curation ticket must be a ticket key such as PROB-123 or an http(s) URL, "
                          f"got {ticket!r}")
    for key, limit in (("name", MAX_NAME), ("note", MAX_NOTE)):
        text = cleaned.get(key)
        if text is not None:
            if len(text) > limit:
                raise ConfigError(f"curation {key} is {len(text):,} characters; keep it to {limit:,}")
            import pandas as pd

            cleaned[key] = redacted_texts(pd.Series([text], dtype="string"), RedactConfig())[0].iloc[0]
    return cleaned


class CurationCols:
    """Columns ``with_curation`` adds to an icebergs table."""

    name = "curated_name"        # the curated name, else the generated label
    status = "status"            # open | acknowledged | dismissed
    ticket = "problem_ticket"
    note = "note"
    updated_at = "curated_at"
    run_rank = "run_rank"        # the rank the run gave, before dismissed icebergs moved down


def with_curation(icebergs: "pd.DataFrame", entries: dict[str, CurationEntry]) -> "pd.DataFrame":
    """``icebergs`` with their curation (``CurationCols``) and re-ranked: dismissed icebergs
    after every other problem (``analysis.ranking.ranked``)."""
    import pandas as pd

    from pipeline.analysis.ranking import ranked
    from pipeline.schemas import IcebergCols

    ids = icebergs[IcebergCols.iceberg_id]
    entry = [entries.get(i, CurationEntry(i)) for i in ids]
    table = icebergs.assign(**{
        CurationCols.name: [e.name or label for e, label in zip(entry, icebergs[IcebergCols.label])],
        CurationCols.status: pd.Series([e.status or "open" for e in entry], index=icebergs.index, dtype="str"),
        CurationCols.ticket: pd.Series([e.ticket for e in entry], index=icebergs.index, dtype="string"),
        CurationCols.note: pd.Series([e.note for e in entry], index=icebergs.index, dtype="string"),
        CurationCols.updated_at: pd.Series([e.updated_at for e in entry], index=icebergs.index, dtype="string"),
        CurationCols.run_rank: icebergs[IcebergCols.rank],
    })
    return ranked(table, frozenset(i for i, e in zip(ids, entry) if e.dismissed))
