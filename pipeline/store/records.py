"""The JSON records of a run: ``manifest.json`` (``Manifest``) and ``changes.json`` (``Changes``).

Typed, read and written here only (dbt's artifacts are the model): ``read`` refuses a
``schema_version`` this Iceberg does not know, naming the version it needs; ``write`` is
atomic. Keys a newer Iceberg added are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import RunUnreadable, UnsupportedSchema
from pipeline.schemas import SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS
from pipeline.store.atomic import atomic_write_json

SUCCEEDED, FAILED = "succeeded", "failed"
CHANGES_VERSION = 1


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunUnreadable(f"cannot read the {what} {str(path)!r} ({type(exc).__name__}: {exc}); "
                            "the run folder is damaged: re-run `iceberg run` into this --out") from exc
    if not isinstance(data, dict):
        raise RunUnreadable(f"the {what} {str(path)!r} is not a JSON object; the run folder is damaged")
    return data


@dataclass(frozen=True)
class Counts:
    """``rows_read = tickets + rows_quarantined``; ``tickets = in_icebergs + unclustered``."""

    rows_read: int
    rows_quarantined: int
    tickets: int
    in_icebergs: int
    unclustered: int
    icebergs: int
    set_aside: int = 0       # of rows_quarantined: deleted, spam or scrubbed tickets (``input.keep_deleted``)


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: what a run read, how, what it found, and how long each stage took."""

    run_id: str
    status: str                          # succeeded | failed
    started_at: str
    finished_at: str | None
    config: dict                         # the resolved settings (``Config.to_dict``)
    schema_version: int = SCHEMA_VERSION
    error: str | None = None             # failed runs: what went wrong
    inputs: list[dict] = field(default_factory=list)
    counts: Counts | None = None
    stages: list[dict] = field(default_factory=list)
    incremental: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)     # changes.json's summary
    embedding: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)     # roles and dimensions taken from the input
    redactions: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)       # file name -> {"bytes", "sha256"}
    extra: dict = field(default_factory=dict)       # keys this version does not know

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            data[f.name] = dataclasses.asdict(value) if isinstance(value, Counts) else value
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "manifest") -> "Manifest":
        version = data.get("schema_version")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise UnsupportedSchema(
                f"{where} uses schema_version {version!r}; this Iceberg reads schema_version "
                f"{', '.join(map(str, sorted(SUPPORTED_SCHEMA_VERSIONS)))}. Upgrade Iceberg "
                "(pip install -U ticket-iceberg) to read it")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in names}
        try:
            if values.get("counts") is not None:
                values["counts"] = Counts(**values["counts"])
            return cls(**values, extra={k: v for k, v in data.items() if k not in names})
        except TypeError as exc:
            raise RunUnreadable(f"{where} is incomplete ({exc}); the run folder is damaged") from exc

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls.from_dict(_read_json(path, "manifest"), where=f"run manifest {str(path)!r}")

    def write(self, path: Path) -> None:
        atomic_write_json(self.to_dict(), path)


@dataclass(frozen=True)
class Changes:
    """``changes.json``: what changed since the previous run, and the alerts it raised
    (built by ``pipeline.ops.changes``; its docstring lists every entry's fields)."""

    run_id: str
    previous_run_id: str | None
    mode: str | None
    summary: dict
    new: list[dict] = field(default_factory=list)
    growing: list[dict] = field(default_factory=list)
    fading: list[dict] = field(default_factory=list)
    faded: list[dict] = field(default_factory=list)
    merged: list[dict] = field(default_factory=list)
    split: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    changes_version: int = CHANGES_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {"changes_version": data.pop("changes_version"), **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Changes":
        if data.get("changes_version") != CHANGES_VERSION:
            raise UnsupportedSchema(f"changes.json uses changes_version {data.get('changes_version')!r}; "
                                    f"this Iceberg reads {CHANGES_VERSION}. Upgrade Iceberg to read it")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def read(cls, path: Path) -> "Changes":
        return cls.from_dict(_read_json(path, "changes file"))

    def write(self, path: Path) -> None:
        atomic_write_json(self.to_dict(), path)
