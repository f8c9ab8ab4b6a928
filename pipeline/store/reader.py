"""The typed read API of a finished run: ``load_run(out) -> Run``.

``Run`` gives the manifest (``Manifest``), the resolved settings (``Config``), what changed
(``Changes``), each table of the output contract as a DataFrame, the evidence behind each
iceberg, and the iceberg registry. Every file is checked against the checksum its
manifest recorded before it is read: a damaged or swapped file is reported, never
trusted. The dashboard, the reports, ``iceberg show``/``diff``/``runs`` and the notebooks
read runs only through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.config import Config
from pipeline.errors import RunNotFound, RunUnreadable
from pipeline.groups.outcome import KnownIcebergs
from pipeline.schemas import THEMES, AttributeCols, TicketCols
from pipeline.store.layout import CHANGES, MANIFEST, REGISTRY, Layout
from pipeline.store.records import Changes, Manifest
from pipeline.store.registry import read_registry
from pipeline.store.writer import TABLE_FILES, file_digest

log = logging.getLogger("iceberg")


def latest_run_id(out: str | Path) -> str | None:
    path = Layout(out).latest
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


@dataclass(frozen=True)
class Run:
    """A finished run, read back from its folder."""

    folder: Path
    manifest: Manifest
    _verified: set = field(default_factory=set, compare=False, repr=False)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def out(self) -> Path:
        """The output folder the run belongs to."""
        return self.folder.parent.parent

    @cached_property
    def config(self) -> Config:
        """The settings the run used (defaults for any its manifest predates)."""
        return Config.from_dict(self.manifest.config)

    @cached_property
    def changes(self) -> Changes | None:
        """What changed since the previous run; None for a run written without changes.json."""
        path = self._checked(CHANGES)
        return Changes.read(path) if path.is_file() else None

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        filename = name if name.endswith(".parquet") else f"{name}.parquet"
        if filename not in TABLE_FILES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLE_FILES)}")
        path = self._checked(filename)
        try:
            return pq.read_table(path, columns=columns).to_pandas()
        except (OSError, ValueError) as exc:
            raise RunUnreadable(f"cannot read {str(path)!r} ({exc}); the run folder is damaged: "
                                "re-run `iceberg run` into this --out") from exc

    @property
    def tickets(self) -> pd.DataFrame:
        return self.table("tickets")

    @property
    def icebergs(self) -> pd.DataFrame:
        return self.table("icebergs")

    @property
    def themes(self) -> pd.DataFrame:
        """Its themes (``analysis.themes``); empty for a run written before themes existed."""
        if "themes.parquet" not in self.manifest.files and not (self.folder / "themes.parquet").is_file():
            return THEMES.empty()
        return self.table("themes")

    @property
    def attributes(self) -> pd.DataFrame:
        return self.table("attributes")

    @property
    def timeline(self) -> pd.DataFrame:
        return self.table("timeline")

    @property
    def lineage(self) -> pd.DataFrame:
        return self.table("lineage")

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.table("quarantine")

    def curated_icebergs(self) -> pd.DataFrame:
        """The icebergs table with what people decided since (``store.curation``): the curated
        name and status of each, and ranks with dismissed icebergs after every other problem."""
        from pipeline.store.curation import Curation, with_curation

        return with_curation(self.icebergs, Curation(self.out).entries())

    def evidence(self, iceberg_id: str | None = None, *, n: int | None = None,
                 attributes: pd.DataFrame | None = None) -> pd.DataFrame:
        """The attribute values that count as evidence (``analysis.evidence.is_evidence``:
        significant after FDR correction, over-represented, with minimum support) for one
        iceberg (or every one), most over-represented first; ``n`` at most per iceberg."""
        from pipeline.analysis.evidence import is_evidence

        rows = self.attributes if attributes is None else attributes
        if iceberg_id is not None:
            rows = rows[rows[AttributeCols.iceberg_id] == iceberg_id]
        if AttributeCols.evidence in rows.columns:
            passed = rows[AttributeCols.evidence].fillna(False).astype(bool)
        else:   # a run written before the column existed: the rule with the run's settings
            profile = self.config.profile
            passed = is_evidence(rows, alpha=profile.fdr_alpha, min_count=profile.min_evidence_count,
                                 min_share=profile.min_evidence_share)
        chosen = rows[passed].sort_values([AttributeCols.lift, AttributeCols.count], ascending=False,
                                          kind="stable")
        return chosen if n is None else chosen.groupby(AttributeCols.iceberg_id, sort=False).head(n)

    def known_icebergs(self) -> KnownIcebergs:
        assignments = self.table("tickets", [TicketCols.ticket_id, TicketCols.iceberg_id])
        return read_registry(self._checked(REGISTRY), assignments)

    def _checked(self, filename: str) -> Path:
        """The path of ``filename``, once its checksum matches the manifest's record."""
        path = self.folder / filename
        recorded = self.manifest.files.get(filename)
        if recorded is None or filename in self._verified:
            return path
        if not path.is_file():
            raise RunUnreadable(f"run {self.run_id!r} lacks {filename} (recorded in its manifest); "
                                "the run folder is damaged: re-run `iceberg run` into this --out")
        if file_digest(path) != recorded:
            raise RunUnreadable(f"{str(path)!r} does not match the checksum in its manifest (changed "
                                "or damaged after the run); re-run `iceberg run` into this --out")
        self._verified.add(filename)
        return path


def load_run(out: str | Path, run_id: str | None = None) -> Run:
    """The run ``run_id`` under ``out`` (a failed one too, to inspect), or the latest finished one."""
    layout = Layout(out)
    run_id = run_id or latest_run_id(out)
    if run_id is None:
        raise RunNotFound(f"no finished run in {str(out)!r}; run `iceberg run --input FILE --out {out}` first")
    return Run(folder=layout.run(run_id), manifest=read_manifest(out, run_id))


def read_manifest(out: str | Path, run_id: str) -> Manifest:
    """A run's manifest, whatever its status (failed runs included)."""
    path = Layout(out).run(run_id) / MANIFEST
    if not path.is_file():
        raise RunNotFound(f"run {run_id!r} has no manifest in {str(path.parent)!r} (it did not finish); "
                          f"see `iceberg runs list --out {out}`")
    return Manifest.read(path)


def list_runs(out: str | Path) -> list[Manifest | str]:
    """Every run folder under ``out``, oldest first: its manifest, or its id when it has none
    (a run still going, or killed)."""
    runs: list[Manifest | str] = []
    folder = Layout(out).runs
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        if (path / MANIFEST).is_file():
            runs.append(Manifest.read(path / MANIFEST))
        elif path.is_dir():
            runs.append(path.name)
    return runs


@dataclass(frozen=True)
class PreviousRun:
    """What a run needs from the latest finished one (read, never modified)."""

    run: Run
    tickets: pd.DataFrame        # ticket_id, text, iceberg_id, membership
    icebergs: pd.DataFrame       # its icebergs table (for changes.json)
    known: KnownIcebergs

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def manifest(self) -> Manifest:
        return self.run.manifest

    @property
    def themes(self) -> pd.DataFrame:
        """Its themes (``analysis.themes``); empty for a run written before themes existed."""
        if "themes.parquet" not in self.manifest.files and not (self.folder / "themes.parquet").is_file():
            return THEMES.empty()
        return self.table("themes")

    @property
    def attributes(self) -> pd.DataFrame:
        """Its attributes table (the split stage's hypotheses), read when asked for."""
        return self.run.attributes

    @property
    def incremental(self) -> dict:
        return self.run.manifest.incremental


def previous_run(out: str | Path) -> PreviousRun | None:
    """The latest finished run under ``out`` that can be read, or None when there is none.

    When the latest run's files are damaged (their checksums do not match), the newest
    earlier run that reads cleanly stands in, so iceberg ids survive a damaged folder."""
    latest = latest_run_id(out)
    if latest is None:
        return None
    earlier = [m.run_id for m in reversed(list_runs(out))
               if isinstance(m, Manifest) and m.succeeded and m.run_id < latest]
    for run_id in [latest, *earlier]:
        try:
            run = load_run(out, run_id)
            columns = [TicketCols.ticket_id, TicketCols.text, TicketCols.iceberg_id, TicketCols.membership]
            tickets = run.table("tickets", columns)
            return PreviousRun(run, tickets, run.icebergs, read_registry(run._checked(REGISTRY), tickets))
        except RunUnreadable as exc:
            log.warning("previous run %s cannot be read (%s); trying the one before it", run_id, exc,
                        extra={"event": "previous_run_unreadable", "run_id": run_id})
    return None
