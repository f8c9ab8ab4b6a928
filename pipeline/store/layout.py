"""Where everything lives under ``OUT/``: the one place that builds those paths.

::

    OUT/
      latest                     the id of the newest finished run (text)
      runs/<run_id>/             one folder per run (manifest.json last; see ``writer``)
      cache/embeddings/<key>/    embedding cache shards (``embedding_cache``)
      curation.jsonl             names, statuses and notes set by people (``curation``)
      .lock, .lock.holder.json   one run at a time (``lock``)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
CHANGES = "changes.json"
WEBHOOK = "webhook.json"
DIGEST = "digest.json"          # how the e-mail digest went (alerts.email_to)
REGISTRY = "registry.parquet"   # every iceberg id so far, with its last centroid
MAP_STATE = "map.parquet"       # the fitted ticket map the run's tickets were placed on (``map_state``)
RESUME = "_resume"              # checkpoints of an unfinished run (``checkpoint``)


@dataclass(frozen=True)
class Layout:
    """The paths of one output folder."""

    out: Path

    def __post_init__(self):
        object.__setattr__(self, "out", Path(self.out))

    @property
    def latest(self) -> Path:
        return self.out / "latest"

    @property
    def runs(self) -> Path:
        return self.out / "runs"

    def run(self, run_id: str) -> Path:
        return self.runs / run_id

    @property
    def embeddings(self) -> Path:
        return self.out / "cache" / "embeddings"

    @property
    def curation(self) -> Path:
        return self.out / "curation.jsonl"

    @property
    def curation_lock(self) -> Path:
        return self.out / ".curation.lock"

    @property
    def lock(self) -> Path:
        return self.out / ".lock"

    @property
    def lock_holder(self) -> Path:
        return self.out / ".lock.holder.json"
