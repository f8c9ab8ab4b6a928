"""Settings: defaults, overridden by a TOML file, then ICEBERG_* variables, then --set.

Every setting lives in one dataclass below, grouped by section, declared with
``setting(default, *constraints)``: what values it accepts sits next to it (scikit-learn's
``_parameter_constraints`` is the model; the constraint classes are in
``pipeline.constraints``), and rules between settings are in ``RULES``. The README's
configuration reference lists every setting (a test checks that it does).

Precedence, lowest first: the defaults here, ``iceberg.toml``, environment variables named
``ICEBERG_<SECTION>__<KEY>`` (e.g. ``ICEBERG_CLUSTER__MIN_CLUSTER_SIZE=20``), and
``--set section.key=value`` on the command line. Values given as text are read as TOML
values (``20``, ``true``, ``["a", "b"]``) and fall back to a plain string. The resolved
settings are validated once, when they are loaded, before any work: a bad one raises a
``ConfigError`` (exit 5) naming the setting, the value, where it came from, what is allowed
and an example fix.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from pipeline.constraints import (Constraint, ExistingFile, Flag, Interval, ListOf, Matches, Options, Requires, Text,
                                  TextEncoding)
from pipeline.errors import ConfigError

# Choices that the stages also know (tests/test_settings.py checks that they agree).
INPUT_FORMATS = ("auto", "csv", "jsonl", "parquet")
REDACT_KINDS = ("url", "email", "iban", "card", "ip", "phone")
EMBEDDING_BACKENDS = ("onnx-int8", "onnx", "torch")
LONG_TEXT = ("chunk", "truncate")
PERIODS = ("D", "W", "M")
MODES = ("auto", "assign", "full")


def setting(default: Any, *constraints: Constraint, example: Any = None) -> Any:
    """A dataclass field whose value must satisfy one of ``constraints``.

    Without constraints the default's type is the constraint. ``example`` (default: the
    default) is the value an error message suggests.
    """
    if not constraints:
        constraints = (_TYPE_CONSTRAINTS[type(default)],)
    metadata = {"constraints": constraints, "example": default if example is None else example}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_TYPE_CONSTRAINTS: dict[type, Constraint] = {bool: Flag(), str: Text(), int: Interval(int), float: Interval(float),
                                             list: ListOf(Text())}
COUNT = Interval(int, 0, None)              # a number of things, days or percent; 0 allowed
POSITIVE = Interval(int, 1, None)
SHARE = Interval(float, 0, 1)               # shares and similarities
LEVEL = Interval(float, 0, 1, closed="right")   # significance levels and thresholds above 0
SEED = Interval(int, 0, 2**32 - 1)          # numpy's and scikit-learn's seeds
COLUMN = Text()                             # a column name; "" = detect it
COLUMNS = ListOf(Text(non_empty=True))


@dataclass
class InputConfig:
    format: str = setting("auto", Options(*INPUT_FORMATS), example="csv")          # auto: by file extension
    encoding: str = setting("auto", Options("auto"), TextEncoding(), example="cp1252")   # auto: BOM, charset-normalizer
    delimiter: str = setting("auto", Matches(r"auto|tab|\\t|[^\n\r\"]", "'auto', 'tab' or a single character"),
                             example=";")     # auto-sniffed CSV dialect, or e.g. ";"


@dataclass
class ColumnsConfig:
    """Which input columns play which role; empty means detect from conventional names."""

    id: str = setting("", COLUMN, example="ticket_id")
    created_at: str = setting("", COLUMN, example="created_at")
    subject: str = setting("", COLUMN, example="subject")
    body: list[str] = setting([], COLUMNS, example=["subject", "description"])
    customer: str = setting("", COLUMN, example="customer_id")
    agent: str = setting("", COLUMN, example="agent")
    account: str = setting("", COLUMN, example="account_id")   # organisation / company the customer belongs to
    segment: str = setting("", COLUMN, example="segment")      # segment or tier; stays a dimension when it qualifies as one
    revenue: str = setting("", COLUMN, example="mrr")          # revenue per customer; never detected; gives value_at_risk
    dimensions: list[str] = setting([], COLUMNS, example=["product", "region"])   # empty: auto-detect
    exclude: list[str] = setting([], COLUMNS, example=["agent"])                  # never used as dimensions
    max_dimension_values: int = setting(50, COUNT)     # auto-detected dimensions have at most this many values


@dataclass
class CleanConfig:
    strip_quoted_replies: bool = setting(True)
    strip_signatures: bool = setting(True)
    neutralise_masks: bool = setting(True)             # CFPB-style XXXX, XX/XX/XXXX, {$12.00}
    boilerplate_min_share: float = setting(0.005, SHARE)   # drop short lines found in this share of tickets; 0 = off
    boilerplate_max_words: int = setting(6, POSITIVE)      # …of at most this many words
    min_chars: int = setting(3, POSITIVE)              # shorter cleaned text is quarantined as "empty text"


@dataclass
class RedactConfig:
    enabled: bool = setting(True)
    kinds: list[str] = setting(["email", "url", "iban", "card", "ip", "phone"], ListOf(Options(*REDACT_KINDS)))


@dataclass
class EmbeddingConfig:
    model: str = setting("all-MiniLM-L6-v2", Text(non_empty=True))   # a sentence-transformers name or a local folder
    backend: str = setting("onnx-int8", Options(*EMBEDDING_BACKENDS))  # torch for GPUs
    device: str = setting("cpu", Matches(r"cpu|mps|cuda(:\d+)?", "'cpu', 'cuda', 'cuda:N' or 'mps'"))  # not cpu: see RULES
    batch_size: int = setting(64, POSITIVE)
    threads: int = setting(0, COUNT)                   # CPU threads for the model; 0 = number of cores
    long_text: str = setting("chunk", Options(*LONG_TEXT))   # chunk (embed windows, mean-pool) | truncate
    window_tokens: int = setting(128, Interval(int, 3, None))   # tokens per window, 2 special (capped by the model)
    max_chunks: int = setting(8, POSITIVE)             # at most this many windows per ticket
    model_cache: str = setting("", Text(), example="/var/cache/iceberg/models")   # ONNX exports; "" = ~/.cache/iceberg/models


@dataclass
class ClusterConfig:
    min_cluster_size: int = setting(0, Interval(int, 2, None), Options(0, note="auto"),
                                    example=15)        # 0 = auto: n_tickets / 500, kept between 5 and 15
    min_samples: int = setting(5, POSITIVE)
    reduce_dim: int = setting(30, COUNT)               # PCA components before HDBSCAN; 0 = none
    merge_threshold: float = setting(0.80, LEVEL)      # merge clusters whose centroids are this similar (cosine)
    assign_threshold: float = setting(0.55, SHARE)     # an outlier joins its nearest iceberg at this cosine or more
    sample_size: int = setting(30_000, POSITIVE)       # fit on at most this many tickets, assign the rest
    random_state: int = setting(0, SEED)
    split_emerging: bool = setting(True)               # split emerging sub-problems off clusters (pipeline/groups/split.py)
    split_alpha: float = setting(0.05, LEVEL)          # …when their signature's enrichment passes Bonferroni at this level
    split_min_auc: float = setting(0.7, SHARE)         # …and their wording is told apart with this cross-validated AUC


@dataclass
class ProfileConfig:
    period: str = setting("W", Options(*PERIODS))      # timeline bucket: D | W | M
    fdr_alpha: float = setting(0.05, LEVEL)            # q-value threshold for an attribute to count as evidence
    min_evidence_count: int = setting(5, COUNT)        # …and at least this many of the iceberg's tickets in its window
    min_evidence_share: float = setting(0.10, SHARE)   # …and at least this share of them (docs/analytics.md)
    events: str = setting("", ExistingFile(), Options("", note="none"),   # CSV of events (date, name[, dimension,
                          example="sample_data/helpdesk_events.csv")     # value]) to match onsets with; "" = none
    n_keywords: int = setting(8, POSITIVE)
    n_representatives: int = setting(5, POSITIVE)


@dataclass
class IncrementalConfig:
    """How a run on a grown input chooses between assigning and re-clustering (``--mode``)."""

    mode: str = setting("auto", Options(*MODES))      # the CLI's --mode overrides it
    full_every_days: int = setting(7, COUNT)          # auto: full re-cluster once the data is this many days newer than the last full run
    max_new_share: float = setting(0.25, SHARE)       # auto: full when new or changed tickets exceed this share of the previous run's
    max_outside_share: float = setting(0.5, SHARE)    # auto: full when more than this share of the new tickets is left outside…
    min_new_for_signals: int = setting(20, COUNT)     # …or drifts, but only judged once at least this many tickets are new
    max_drift: float = setting(0.10, Interval(float, 0, 2))   # auto: full when new tickets' mean similarity to their
                                                              # iceberg is this much below the old members'
    assign_threshold: float = setting(-1.0, SHARE, Options(-1.0, note="cluster.assign_threshold"),
                                      example=0.55)   # cosine a new ticket needs to join an iceberg; -1 = cluster.assign_threshold
    pool_min_new: int = setting(1, COUNT)             # re-cluster the outlier pool when at least this many tickets joined it this run
    pool_join_similarity: float = setting(0.80, SHARE)   # a pool cluster this similar to an existing iceberg joins it instead of being born
    pool_join_vote: float = setting(0.5, SHARE)       # …or when this share of its tickets are nearest to one iceberg whose nearest tickets are that alike


@dataclass
class AlertsConfig:
    """Rules that turn changes.json entries into alerts, and an optional webhook."""

    new_min_customers: int = setting(5, COUNT)        # alert on a new iceberg with at least this many customers (0 = off)
    new_min_size: int = setting(5, COUNT)             # …and at least this many tickets
    growth_min_pct: float = setting(50.0, Interval(float, 0, None))   # alert on an iceberg that grew by at least this
                                                                      # percentage since the previous run (0 = off)
    growth_min_size: int = setting(10, COUNT)         # …and has at least this many tickets now
    growth_min_new: int = setting(3, COUNT)           # …and at least this many more tickets than before
    on_merge_split: bool = setting(False)             # alert on merged and split icebergs too
    webhook_url: str = setting("", Matches(r"https?://\S+", "an http:// or https:// URL"), Options("", note="no webhook"),
                               example="https://hooks.example.com/iceberg")   # POST changes' alerts as JSON here ("" = no webhook)
    webhook_timeout: float = setting(5.0, Interval(float, 0, None, closed="neither"))   # seconds per attempt
    webhook_retries: int = setting(3, COUNT)          # attempts in all (0 counts as 1), with exponential back-off
    webhook_backoff: float = setting(1.0, Interval(float, 0, None))   # seconds before the second attempt; doubles each time (capped at 30 s)
    webhook_on_empty: bool = setting(False)           # also POST when a run has no alerts


RULES = (
    Requires("embedding.device", lambda device: device != "cpu", "embedding.backend", Options("torch"), "torch"),
)


@dataclass
class Config:
    input: InputConfig = dataclasses.field(default_factory=InputConfig)
    columns: ColumnsConfig = dataclasses.field(default_factory=ColumnsConfig)
    clean: CleanConfig = dataclasses.field(default_factory=CleanConfig)
    redact: RedactConfig = dataclasses.field(default_factory=RedactConfig)
    embedding: EmbeddingConfig = dataclasses.field(default_factory=EmbeddingConfig)
    cluster: ClusterConfig = dataclasses.field(default_factory=ClusterConfig)
    profile: ProfileConfig = dataclasses.field(default_factory=ProfileConfig)
    incremental: IncrementalConfig = dataclasses.field(default_factory=IncrementalConfig)
    alerts: AlertsConfig = dataclasses.field(default_factory=AlertsConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "the recorded settings") -> "Config":
        """The settings a manifest recorded (``to_dict``'s output), validated like any other.

        Sections and keys this version does not know (from a newer or older Iceberg) are
        ignored; settings a manifest predates keep their defaults. Files named by a setting
        need not exist any more.
        """
        config, origins = cls(), {}
        for section in dataclasses.fields(config):
            values = data.get(section.name) or {}
            known = {f.name for f in dataclasses.fields(getattr(config, section.name))}
            for key, value in values.items():
                if key in known:
                    origins[f"{section.name}.{key}"] = _set(config, f"{section.name}.{key}", value,
                                                            Origin("recorded", source, value))
        return _validated(config, origins, files=False)

    def validate(self) -> "Config":
        """``self``, when every setting and rule holds; else raises ``ConfigError``.

        ``load_config`` and ``from_dict`` already do this; call it after changing a
        ``Config`` in code.
        """
        return _validated(self, {})


class Origin(NamedTuple):
    """Where a setting's value came from: ``kind`` is set, env, file or recorded."""

    kind: str
    label: str          # "--set", the variable's name, the file's path, or the record's description
    given: Any          # the value as given, before coercion


def settings(config: Config | None = None) -> list[tuple[str, dataclasses.Field]]:
    """Every setting as (``section.key``, its dataclass field), in declaration order."""
    config = config or Config()
    return [(f"{section.name}.{f.name}", f) for section in dataclasses.fields(config)
            for f in dataclasses.fields(getattr(config, section.name))]


ENV_PREFIX = "ICEBERG_"


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Resolve the settings: defaults < TOML file < ICEBERG_* environment < overrides; validated."""
    config, origins = Config(), {}
    if path is not None:
        for dotted, value in _toml_settings(Path(path)):
            origins[dotted] = _set(config, dotted, value, Origin("file", str(path), value))
    environ = os.environ if environ is None else environ
    for name, text in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, key = name[len(ENV_PREFIX):].lower().split("__", 1)
            value = parse_value(text)
            origins[f"{section}.{key}"] = _set(config, f"{section}.{key}", value, Origin("env", name, value))
    for dotted, value in (overrides or {}).items():
        value = parse_value(value) if isinstance(value, str) else value
        origins[dotted] = _set(config, dotted, value, Origin("set", "--set", value))
    return _validated(config, origins)


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


def _toml_settings(path: Path) -> list[tuple[str, Any]]:
    """(``section.key``, value) for every setting in the TOML file; its faults as one-line errors."""
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found; pass an existing TOML file to --config")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                          f"on line {line}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read ({exc.strerror}); check its "
                          "permissions") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {reason}; see "
                          "https://toml.io for the syntax") from None
    found = []
    for section, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: top-level key {section!r} must be a [section] "
                              f"(e.g. [cluster] on the line above min_cluster_size = 20)")
        found += [(f"{section}.{key}", value) for key, value in values.items()]
    return found


def _set(config: Config, dotted: str, value: Any, origin: Origin) -> Origin:
    """Put ``value`` (coerced to its field's type where unambiguous) in place; checked later."""
    section_name, _, key = dotted.partition(".")
    section = getattr(config, section_name, None)
    where = "" if origin.kind == "set" else f" (in {origin.label})"
    if section is None or not dataclasses.is_dataclass(section):
        known = ", ".join(f.name for f in dataclasses.fields(config))
        raise ConfigError(f"unknown config section {section_name!r} in {dotted!r}{where}; known sections: {known}")
    fields = {f.name: f for f in dataclasses.fields(section)}
    if key not in fields:
        raise ConfigError(f"unknown setting {dotted!r}{where}; [{section_name}] has: {', '.join(fields)}")
    setattr(section, key, _coerced(_default(fields[key]), value))
    return origin


def _default(field: dataclasses.Field) -> Any:
    return field.default if field.default is not dataclasses.MISSING else field.default_factory()


def _coerced(default: Any, value: Any) -> Any:
    """An int where a float is expected becomes a float; text where a list is, a comma list."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, list) and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _validated(config: Config, origins: Mapping[str, Origin], *, files: bool = True) -> Config:
    """``config`` when every setting satisfies one of its constraints and every rule holds."""
    for dotted, field in settings(config):
        value = _value(config, dotted)
        constraints = field.metadata["constraints"]
        if not any(_holds(c, value, files) for c in constraints):
            allowed = " or ".join(c.describe() for c in constraints)
            raise ConfigError(_message(dotted, allowed, value, origins.get(dotted), field.metadata["example"]))
    for rule in RULES:
        value, other = _value(config, rule.setting), _value(config, rule.other)
        if rule.applies(value) and not rule.allowed.is_satisfied_by(other):
            allowed = f"{rule.allowed.describe()} when {rule.setting} is {value!r}"
            origin = origins.get(rule.other)
            raise ConfigError(_message(rule.other, allowed, other, origin or origins.get(rule.setting),
                                       rule.example, cited=origin is not None))
    return config


def _value(config: Config, dotted: str) -> Any:
    section, _, key = dotted.partition(".")
    return getattr(getattr(config, section), key)


def _holds(constraint: Constraint, value: Any, files: bool) -> bool:
    if isinstance(constraint, ExistingFile) and not files:
        return isinstance(value, str) and bool(value)
    return constraint.is_satisfied_by(value)


def _message(dotted: str, allowed: str, value: Any, origin: Origin | None, example: Any, *,
             cited: bool = True) -> str:
    """One line: the setting, what it allows, the value and where it came from, and a fix.

    ``cited``: the value came from ``origin`` (else ``origin`` only says how to fix it).
    """
    kind = origin.kind if origin is not None else "default"
    given = origin.given if cited and kind in ("set", "env", "file") else value
    source = {"env": " from ", "file": " in ", "recorded": " in "}.get(kind, "") if cited else ""
    source = source and source + origin.label
    section, _, key = dotted.partition(".")
    if kind == "file":
        fix = f"{key} = {_toml_text(example)} under [{section}]" + ("" if cited else f" in {origin.label}")
    elif kind == "env":
        fix = f"{ENV_PREFIX}{section.upper()}__{key.upper()}={_cli_text(example)}"
    else:
        fix = f"--set {dotted}={_cli_text(example)}"
    return f"setting {dotted!r} must be {allowed}; got {given!r}{source} (e.g. {fix})"


def _cli_text(value: Any) -> str:
    """``value`` as one would type it after ``--set key=``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "[]"
    return '""' if value == "" else str(value)


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_text(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)
