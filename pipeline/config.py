"""Settings: defaults, overridden by a TOML file, then ICEBERG_* variables, then --set.

Every setting lives in one dataclass below, grouped by section; the README's
configuration reference lists them all (a test checks that it does). Precedence, lowest
first: the defaults here, ``iceberg.toml``, environment variables named
``ICEBERG_<SECTION>__<KEY>`` (e.g. ``ICEBERG_CLUSTER__MIN_CLUSTER_SIZE=20``), and
``--set section.key=value`` on the command line. Values given as text are read as TOML
values (``20``, ``true``, ``["a", "b"]``) and fall back to a plain string.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pipeline.errors import ConfigError




@dataclass
class InputConfig:
    format: str = "auto"          # auto | csv | jsonl | parquet
    encoding: str = "auto"        # auto-detected (BOM, charset-normalizer) or e.g. "cp1252"
    delimiter: str = "auto"       # auto-sniffed CSV dialect, or e.g. ";"


@dataclass
class ColumnsConfig:
    """Which input columns play which role; empty means detect from conventional names."""

    id: str = ""
    created_at: str = ""
    subject: str = ""
    body: list[str] = field(default_factory=list)
    customer: str = ""
    agent: str = ""
    account: str = ""                  # organisation / company the customer belongs to
    segment: str = ""                  # customer segment or tier; stays a dimension when it qualifies as one
    revenue: str = ""                  # numeric revenue per customer (e.g. "mrr"); never detected, set it to get value_at_risk
    dimensions: list[str] = field(default_factory=list)   # empty: auto-detect
    exclude: list[str] = field(default_factory=list)       # never used as dimensions
    max_dimension_values: int = 50     # auto-detected dimensions have at most this many values


@dataclass
class CleanConfig:
    strip_quoted_replies: bool = True
    strip_signatures: bool = True
    neutralise_masks: bool = True      # CFPB-style XXXX, XX/XX/XXXX, {$12.00}
    boilerplate_min_share: float = 0.005   # drop short lines found in this share of tickets; 0 = off
    boilerplate_max_words: int = 6         # …of at most this many words
    min_chars: int = 3                 # shorter cleaned text is quarantined as "empty text"


@dataclass
class RedactConfig:
    enabled: bool = True
    kinds: list[str] = field(default_factory=lambda: [
        "email", "url", "iban", "card", "ip", "phone"])


@dataclass
class EmbeddingConfig:
    model: str = "all-MiniLM-L6-v2"    # a sentence-transformers name or a local folder
    backend: str = "onnx-int8"         # onnx-int8 | onnx | torch (torch for GPUs)
    device: str = "cpu"                # cpu | cuda | mps (cuda and mps need backend "torch")
    batch_size: int = 64
    threads: int = 0                   # CPU threads for the model; 0 = number of cores
    long_text: str = "chunk"           # chunk (embed windows, mean-pool) | truncate
    window_tokens: int = 128           # tokens per window (capped by the model's maximum)
    max_chunks: int = 8                # at most this many windows per ticket
    model_cache: str = ""              # where ONNX exports are kept; "" = ~/.cache/iceberg/models


@dataclass
class ClusterConfig:
    min_cluster_size: int = 0          # 0 = auto: n_tickets / 500, kept between 5 and 15
    min_samples: int = 5
    reduce_dim: int = 30               # PCA components before HDBSCAN; 0 = none
    merge_threshold: float = 0.80      # merge clusters whose centroids are this similar (cosine)
    assign_threshold: float = 0.55     # an outlier joins its nearest iceberg at this cosine or more
    sample_size: int = 30_000          # fit on at most this many tickets, assign the rest
    random_state: int = 0
    split_emerging: bool = True        # split emerging sub-problems off clusters (pipeline/groups/split.py)
    split_alpha: float = 0.05          # …when their signature's enrichment passes Bonferroni at this level
    split_min_auc: float = 0.7         # …and their wording is told apart with this cross-validated AUC


@dataclass
class ProfileConfig:
    period: str = "W"                  # timeline bucket: D | W | M
    fdr_alpha: float = 0.05            # q-value threshold for an attribute to count as evidence
    min_evidence_count: int = 5        # …and at least this many of the iceberg's tickets in its window
    min_evidence_share: float = 0.10   # …and at least this share of them (docs/analytics.md)
    events: str = ""                   # CSV of events (date, name[, dimension, value]) to match onsets with; "" = none
    n_keywords: int = 8
    n_representatives: int = 5


@dataclass
class IncrementalConfig:
    """How a run on a grown input chooses between assigning and re-clustering (``--mode``)."""

    mode: str = "auto"                 # auto | assign | full (the CLI's --mode overrides it)
    full_every_days: int = 7           # auto: full re-cluster once the data is this many days newer than the last full run
    max_new_share: float = 0.25        # auto: full when new or changed tickets exceed this share of the previous run's
    max_outside_share: float = 0.5     # auto: full when more than this share of the new tickets is left outside…
    min_new_for_signals: int = 20      # …or drifts, but only judged once at least this many tickets are new
    max_drift: float = 0.10            # auto: full when new tickets' mean similarity to their iceberg is this much below the old members'
    assign_threshold: float = -1.0     # cosine a new ticket needs to join an iceberg; -1 = cluster.assign_threshold
    pool_min_new: int = 1              # re-cluster the outlier pool when at least this many tickets joined it this run
    pool_join_similarity: float = 0.80 # a pool cluster this similar to an existing iceberg joins it instead of being born
    pool_join_vote: float = 0.5        # …or when this share of its tickets are nearest to one iceberg whose nearest tickets are that alike


@dataclass
class AlertsConfig:
    """Rules that turn changes.json entries into alerts, and an optional webhook."""

    new_min_customers: int = 5         # alert on a new iceberg with at least this many customers (0 = off)
    new_min_size: int = 5              # …and at least this many tickets
    growth_min_pct: float = 50.0       # alert on an iceberg that grew by at least this percentage since the previous run (0 = off)
    growth_min_size: int = 10          # …and has at least this many tickets now
    growth_min_new: int = 3            # …and at least this many more tickets than before
    on_merge_split: bool = False       # alert on merged and split icebergs too
    webhook_url: str = ""              # POST changes' alerts as JSON here ("" = no webhook)
    webhook_timeout: float = 5.0       # seconds per attempt
    webhook_retries: int = 3           # attempts in all, with exponential back-off
    webhook_backoff: float = 1.0       # seconds before the second attempt; doubles each time (capped at 30 s)
    webhook_on_empty: bool = False     # also POST when a run has no alerts


@dataclass
class MapConfig:
    """The dashboard's ticket map (``pipeline.analysis.map``), computed by every run."""

    enabled: bool = True               # compute map_x, map_y for every ticket (and OUT/runs/<id>/map.parquet)
    sample_size: int = 5_000           # t-SNE is fitted on at most this many tickets; the rest are placed
    n_neighbors: int = 10              # a ticket is placed among this many most similar fitted tickets
    perplexity: float = 30.0           # t-SNE's perplexity (capped for small runs)


@dataclass
class Config:
    input: InputConfig = field(default_factory=InputConfig)
    columns: ColumnsConfig = field(default_factory=ColumnsConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    redact: RedactConfig = field(default_factory=RedactConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    incremental: IncrementalConfig = field(default_factory=IncrementalConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    map: MapConfig = field(default_factory=MapConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Config":
        """The settings a manifest recorded (``to_dict``'s output), validated like any other.

        Sections and keys this version does not know (from a newer or older Iceberg) are
        ignored; settings a manifest predates keep their defaults.
        """
        config = cls()
        for section in dataclasses.fields(config):
            values = data.get(section.name) or {}
            known = {f.name for f in dataclasses.fields(getattr(config, section.name))}
            for key, value in values.items():
                if key in known:
                    _set(config, f"{section.name}.{key}", value)
        return config


ENV_PREFIX = "ICEBERG_"
# Settings that are shares or similarities, in [0, 1], and significance levels, in (0, 1]:
# anything else is a mistake that would otherwise pass silently or fail deep in a run.
SHARES = frozenset({"clean.boilerplate_min_share", "cluster.assign_threshold", "cluster.split_min_auc",
                    "profile.min_evidence_share", "incremental.max_new_share",
                    "incremental.max_outside_share", "incremental.pool_join_similarity",
                    "incremental.pool_join_vote"})
LEVELS = frozenset({"cluster.merge_threshold", "cluster.split_alpha", "profile.fdr_alpha"})


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve the settings: defaults < TOML file < ICEBERG_* environment < overrides."""
    config = Config()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} not found; pass an existing TOML file to --config")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: top-level key {section!r} must be a [section]")
            for key, value in values.items():
                _set(config, f"{section}.{key}", value)
    environ = os.environ if environ is None else environ
    for name, text in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, key = name[len(ENV_PREFIX):].lower().split("__", 1)
            _set(config, f"{section}.{key}", parse_value(text))
    for dotted, value in (overrides or {}).items():
        _set(config, dotted, parse_value(value) if isinstance(value, str) else value)
    return config


def parse_value(text: str) -> Any:
    """Read ``text`` as a TOML value (number, bool, list…), else keep it as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["cluster.min_cluster_size=20"]`` -> ``{"cluster.min_cluster_size": "20"}``."""
    result = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ConfigError(f"--set expects section.key=value, got {item!r} "
                              "(e.g. --set cluster.min_cluster_size=20)")
        result[key.strip()] = value.strip()
    return result


def _set(config: Config, dotted: str, value: Any) -> None:
    section_name, _, key = dotted.partition(".")
    section = getattr(config, section_name, None)
    if section is None or not dataclasses.is_dataclass(section):
        known = ", ".join(f.name for f in dataclasses.fields(config))
        raise ConfigError(f"unknown config section {section_name!r} in {dotted!r}; known sections: {known}")
    fields = {f.name: f for f in dataclasses.fields(section)}
    if key not in fields:
        raise ConfigError(f"unknown setting {dotted!r}; [{section_name}] has: {', '.join(fields)}")
    current = getattr(section, key)
    value = _coerce(dotted, current, value)
    if dotted in SHARES and not 0 <= value <= 1:
        raise ConfigError(f"setting {dotted!r} must be between 0 and 1, got {value!r}")
    if dotted in LEVELS and not 0 < value <= 1:
        raise ConfigError(f"setting {dotted!r} must be above 0 and at most 1, got {value!r}")
    setattr(section, key, value)


def _coerce(dotted: str, current: Any, value: Any) -> Any:
    expected = type(current)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is list and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"setting {dotted!r} must be {expected.__name__}, got {value!r}")
    return value
