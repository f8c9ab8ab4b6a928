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
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pipeline.constraints import (Constraint, ExistingFile, Interval, ListOf, MappingOf, Matches, Options,
                                  Origin, Requires, Text, TextEncoding, setting, violation)
from pipeline.errors import ConfigError

# Choices that the stages also know (tests/test_settings.py checks that they agree).
INPUT_FORMATS = ("auto", "csv", "jsonl", "parquet")
INPUT_SOURCES = ("auto", "file", "zendesk", "freshdesk", "jira", "sql")
REDACT_KINDS = ("url", "email", "iban", "card", "ip", "phone", "address", "person")
EMBEDDING_BACKENDS = ("onnx-int8", "onnx", "torch")
EXECUTORS = ("local", "dask")
LONG_TEXT = ("chunk", "truncate")
PERIODS = ("D", "W", "M")
MODES = ("auto", "assign", "full")
ALERT_FORMATS = ("json", "slack", "teams")


COUNT = Interval(int, 0, None)              # a number of things, days or percent; 0 allowed
POSITIVE = Interval(int, 1, None)
SHARE = Interval(float, 0, 1)               # shares and similarities
LEVEL = Interval(float, 0, 1, closed="right")   # significance levels and thresholds above 0
SEED = Interval(int, 0, 2**32 - 1)          # numpy's and scikit-learn's seeds
COLUMN = Text()                             # a column name; "" = detect it
COLUMNS = ListOf(Text(non_empty=True))
DELIMITER = Matches(r"auto|tab|\\t|[^\n\r\"]", "'auto', 'tab' or a single character")
SCHEDULER = Matches(r"local:[1-9]\d*|(tcp|tls|ws|wss|ucx|inproc)://\S+",
                    "'local:N' (N worker processes here) or a scheduler address such as tcp://host:8786")
DEVICE = Matches(r"cpu|mps|cuda(:\d+)?", "'cpu', 'cuda', 'cuda:N' or 'mps'")
# No password in the URL: the resolved settings are written to every manifest.
SQL_URL = Matches(r"[A-Za-z][\w+.-]*://(?![^/@\s]*:[^/@\s]*@)\S*",
                  "an SQLAlchemy URL without a password (e.g. postgresql+psycopg://user@host/db; "
                  "the password goes in the variable input.sql_password_env names)")
SQL_URL_EXAMPLE = "postgresql+psycopg://iceberg@db.example.com/helpdesk"
ENV_VARIABLE = Matches(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name such as ICEBERG_DB_PASSWORD")
WEBHOOK = Matches(r"https?://\S+", "an http:// or https:// URL")


@dataclass
class InputConfig:
    format: str = setting("auto", Options(*INPUT_FORMATS), example="csv")   # auto: by file extension
    # auto: a BOM, else UTF-8, else charset-normalizer's guess
    encoding: str = setting("auto", Options("auto"), TextEncoding(), example="cp1252")
    delimiter: str = setting("auto", DELIMITER, example=";")               # auto: sniffed CSV dialect
    # auto: the column's unambiguous values decide how 05/01/2024 reads
    date_order: str = setting("auto", Options("auto", "day-first", "month-first"), example="day-first")
    # a created_at before this year is implausible (placeholders such as 1970-01-01): quarantined
    min_year: int = setting(1990, Interval(int, 1, 9999))
    # …and so is one more than this many days after the run (9999-12-31)
    max_days_ahead: int = setting(1, COUNT)
    # deleted / spam / scrubbed tickets (Zendesk status "deleted", Freshdesk spam): set aside unless true
    keep_deleted: bool = setting(False)
    # which reader: file (CSV/JSONL/Parquet by format), a helpdesk export, or sql; auto: the file's shape
    source: str = setting("auto", Options(*INPUT_SOURCES), example="zendesk")
    # Zendesk/Freshdesk custom field id (or Freshdesk key) -> dimension name; others: custom_<id>
    custom_fields: dict[str, str] = setting({}, MappingOf(Text(non_empty=True), Text(non_empty=True)),
                                            example={"360001": "product"})
    sql_url: str = setting("", SQL_URL, Options("", note="none"), example=SQL_URL_EXAMPLE)
    sql_table: str = setting("", Text(), example="tickets")       # read this table …
    sql_query: str = setting("", Text(), example="SELECT * FROM tickets ORDER BY id")   # … or this query
    # the variable holding the database password ("" = none); never written anywhere
    sql_password_env: str = setting("", ENV_VARIABLE, Options("", note="no password"),
                                    example="ICEBERG_DB_PASSWORD")
    sql_batch_rows: int = setting(10_000, POSITIVE)   # rows fetched per round trip (server-side cursor)


@dataclass
class ColumnsConfig:
    """Which input columns play which role; empty means detect from conventional names."""

    id: str = setting("", COLUMN, example="ticket_id")
    created_at: str = setting("", COLUMN, example="created_at")
    subject: str = setting("", COLUMN, example="subject")
    body: list[str] = setting([], COLUMNS, example=["subject", "description"])
    customer: str = setting("", COLUMN, example="customer_id")
    agent: str = setting("", COLUMN, example="agent")
    account: str = setting("", COLUMN, example="account_id")   # the customer's organisation / company
    segment: str = setting("", COLUMN, example="segment")      # or tier; also a dimension if it is one
    revenue: str = setting("", COLUMN, example="mrr")          # never detected; gives value_at_risk
    dimensions: list[str] = setting([], COLUMNS, example=["product", "region"])   # empty: auto-detect
    exclude: list[str] = setting([], COLUMNS, example=["agent"])                  # never used as dimensions
    # how tickets are handled (kept as columns, never where-else evidence); empty: by the rule
    handling: list[str] = setting([], COLUMNS, example=["status", "priority"])
    max_dimension_values: int = setting(50, COUNT)     # auto-detected dimensions have at most this many


@dataclass
class CleanConfig:
    strip_quoted_replies: bool = setting(True)
    strip_signatures: bool = setting(True)
    neutralise_masks: bool = setting(True)             # CFPB-style XXXX, XX/XX/XXXX, {$12.00}
    boilerplate_min_share: float = setting(0.005, SHARE)   # short lines in this share of tickets; 0 = off
    boilerplate_max_words: int = setting(6, POSITIVE)      # …of at most this many words
    min_chars: int = setting(3, POSITIVE)              # shorter cleaned text is quarantined as "empty text"
    # a sentence opening or closing this share of tickets across topics is a template; 0 = off
    template_min_share: float = setting(0.005, SHARE)
    # …when its tickets' other text coheres at most this many times the corpus's
    template_max_coherence: float = setting(1.5, Interval(float, 0, None, closed="neither"))
    # a line shape in this share of tickets (overall or within one product/project) whose
    # tickets cohere at most scaffolding_max_coherence times the corpus is form scaffolding
    # (pipeline/text/structure.py); 0 = off
    scaffolding_min_share: float = setting(0.01, SHARE)
    scaffolding_max_coherence: float = setting(1.5, Interval(float, 0, None, closed="neither"))
    error_signatures: bool = setting(True)             # an error_signature per ticket (text/signatures.py)


@dataclass
class RedactConfig:
    enabled: bool = setting(True)
    # opt-in too: "address" (street lines), "person" (spaCy NER, the `ner` extra)
    kinds: list[str] = setting(["email", "url", "iban", "card", "ip", "phone"],
                               ListOf(Options(*REDACT_KINDS)))
    # regions whose national formats are recognised without a "+" (ISO 3166 codes)
    phone_regions: list[str] = setting(["US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU"],
                                       ListOf(Matches(r"[A-Z]{2}", "an ISO 3166 region code such as US")))
    person_model: str = setting("", Text(), example="en_core_web_sm")   # spaCy pipeline for "person"; "" = the first English one installed


@dataclass
class EmbeddingConfig:
    model: str = setting("all-MiniLM-L6-v2", Text(non_empty=True))   # sentence-transformers name or folder
    backend: str = setting("onnx-int8", Options(*EMBEDDING_BACKENDS))  # torch for GPUs
    device: str = setting("cpu", DEVICE)               # other than cpu needs backend "torch" (RULES)
    batch_size: int = setting(64, POSITIVE)
    threads: int = setting(0, COUNT)                   # CPU threads for the model; 0 = number of cores
    long_text: str = setting("chunk", Options(*LONG_TEXT))   # chunk (embed windows, mean-pool) | truncate
    window_tokens: int = setting(128, Interval(int, 3, None))   # per window, 2 special; capped by the model
    max_chunks: int = setting(8, POSITIVE)             # at most this many windows per ticket
    # where ONNX exports are kept; "" = ~/.cache/iceberg/models
    model_cache: str = setting("", Text(), example="/var/cache/iceberg/models")
    executor: str = setting("local", Options(*EXECUTORS), example="dask")   # where the batches run
    # the Dask scheduler (executor "dask"); "" = a local cluster, one single-threaded worker per core
    scheduler: str = setting("", SCHEDULER, Options("", note="a local cluster, one worker per core"),
                             example="tcp://scheduler:8786")


@dataclass
class ClusterConfig:
    # 0 = auto: n_tickets / 800, kept between 3 and 15
    min_cluster_size: int = setting(0, Interval(int, 2, None), Options(0, note="auto"), example=15)
    min_samples: int = setting(2, POSITIVE)
    # HDBSCAN's cluster selection: eom (its most stable clusters) | leaf (its finest ones)
    selection: str = setting("eom", Options("eom", "leaf"))
    # what the reporter names the problem weighs this many times the rest of the text; 0 = text only
    subject_weight: float = setting(2.0, Interval(float, 0, None, closed="left"))
    reduce_dim: int = setting(30, COUNT)               # PCA components before HDBSCAN; 0 = none
    merge_threshold: float = setting(0.80, LEVEL)      # merge clusters whose centroids are this similar
    assign_threshold: float = setting(0.50, SHARE)     # an outlier joins its nearest iceberg at this cosine
    theme_threshold: float = setting(0.65, LEVEL)      # icebergs whose centroids are this similar share a theme
    sample_size: int = setting(30_000, POSITIVE)       # fit on at most this many tickets, assign the rest
    random_state: int = setting(0, SEED)
    max_share: float = setting(0.25, LEVEL)            # a cluster holding more is clustered again on its own
    split_emerging: bool = setting(True)               # split emerging sub-problems off (groups/split.py)
    split_alpha: float = setting(0.05, LEVEL)          # …when their signature passes Bonferroni at this
    split_min_auc: float = setting(0.7, SHARE)         # …and their wording is told apart at this CV AUC


@dataclass
class ProfileConfig:
    period: str = setting("W", Options(*PERIODS))      # timeline bucket: D | W | M
    fdr_alpha: float = setting(0.05, LEVEL)            # q-value threshold for an attribute to be evidence
    min_evidence_count: int = setting(5, COUNT)        # …and this many of its tickets in its window
    min_evidence_share: float = setting(0.10, SHARE)   # …and this share of them (docs/analytics.md)
    # CSV of events (date, name[, dimension, value]) to match onsets with; "" = none
    events: str = setting("", ExistingFile(), Options("", note="none"),
                          example="sample_data/helpdesk_events.csv")
    n_keywords: int = setting(8, POSITIVE)
    n_representatives: int = setting(5, POSITIVE)


@dataclass
class IdentityConfig:
    """How this run's icebergs inherit the ids of the previous run's (``groups/identity.py``).

    A cluster and a previous iceberg are the same problem when they share at least
    ``min_overlap`` of their tickets (Jaccard), or — without shared tickets, or for an id
    that faded — when their centroids are at least ``min_centroid_similarity`` alike; an
    assign night's pool cluster takes a faded id back at that similarity too.
    """

    min_overlap: float = setting(0.3, SHARE)
    min_centroid_similarity: float = setting(0.9, SHARE)


@dataclass
class IncrementalConfig:
    """How a run on a grown input chooses between assigning and re-clustering (``--mode``).

    In auto mode a run re-clusters in full when the data is ``full_every_days`` newer than
    at the last full run, when new or changed tickets exceed ``max_new_share`` of the
    previous run's, or — judged once ``min_new_for_signals`` are new — when more than
    ``max_outside_share`` of them stay outside or their mean similarity to their iceberg
    is ``max_drift`` below the old members'. The outlier pool is re-clustered once
    ``pool_min_new`` tickets joined it; a pool cluster ``pool_join_similarity`` alike to an
    iceberg joins it, or when ``pool_join_vote`` of its tickets are nearest to one iceberg
    whose nearest tickets are that alike.
    """

    mode: str = setting("auto", Options(*MODES))      # the CLI's --mode overrides it
    full_every_days: int = setting(7, COUNT)
    max_new_share: float = setting(0.25, SHARE)
    max_outside_share: float = setting(0.5, SHARE)
    min_new_for_signals: int = setting(20, COUNT)
    max_drift: float = setting(0.10, Interval(float, 0, 2))
    # cosine a new ticket needs to join an iceberg; -1 = cluster.assign_threshold
    assign_threshold: float = setting(-1.0, SHARE, Options(-1.0, note="cluster.assign_threshold"),
                                      example=0.55)
    pool_min_new: int = setting(1, COUNT)
    pool_join_similarity: float = setting(0.80, SHARE)
    pool_join_vote: float = setting(0.5, SHARE)


@dataclass
class AlertsConfig:
    """Rules that turn changes.json entries into alerts, and an optional webhook."""

    new_min_customers: int = setting(5, COUNT)        # alert on a new iceberg with this many customers; 0 off
    new_min_size: int = setting(5, COUNT)             # …and at least this many tickets
    growth_min_pct: float = setting(50.0, Interval(float, 0, None))   # alert on growth by this % (0 = off)
    growth_min_size: int = setting(10, COUNT)         # …and has at least this many tickets now
    growth_min_new: int = setting(3, COUNT)           # …and at least this many more tickets than before
    on_merge_split: bool = setting(False)             # alert on merged and split icebergs too
    # POST changes' alerts here ("" = no webhook); a list posts to each (paired with a list of formats)
    webhook_url: str | list[str] = setting("", WEBHOOK, Options("", note="no webhook"), ListOf(WEBHOOK),
                                           example="https://hooks.example.com/iceberg")
    # what is posted: json (Iceberg's payload), slack (Block Kit), teams (Adaptive Card); a list: one per URL
    format: str | list[str] = setting("json", Options(*ALERT_FORMATS), ListOf(Options(*ALERT_FORMATS)),
                                      example="slack")
    webhook_timeout: float = setting(5.0, Interval(float, 0, None, closed="neither"))   # seconds per attempt
    webhook_retries: int = setting(3, COUNT)          # attempts in all (0 counts as 1), backing off
    webhook_backoff: float = setting(1.0, Interval(float, 0, None))   # s before the 2nd; doubles (≤ 30 s)
    webhook_on_empty: bool = setting(False)           # also POST when a run has no alerts
    # the e-mail digest (alerts and top icebergs); no recipients = no mail
    email_to: list[str] = setting([], ListOf(Matches(r"[^@\s]+@[^@\s]+", "an e-mail address")),
                                  example=["support-leads@example.com"])
    email_from: str = setting("iceberg@localhost", Matches(r"[^@\s]+@[^@\s]+", "an e-mail address"),
                              example="iceberg@example.com")
    email_on_empty: bool = setting(False)             # also mail when a run has no alerts
    smtp_host: str = setting("localhost", Text(non_empty=True), example="smtp.example.com")
    smtp_port: int = setting(587, Interval(int, 1, 65535))
    smtp_starttls: bool = setting(True)               # upgrade the connection before logging in
    smtp_user: str = setting("", Text(), example="iceberg")   # "" = no login
    smtp_password_env: str = setting("ICEBERG_SMTP_PASSWORD", ENV_VARIABLE)   # the variable holding the password


@dataclass
class DashboardConfig:
    """Where people reach the dashboard: alerts, digests, reports, problem records and the
    look-up API link each iceberg to ``{url}/?iceberg=ID&run=RUN_ID`` (no link when "")."""

    url: str = setting("", WEBHOOK, Options("", note="no links"), example="https://iceberg.example.com")


@dataclass
class ServeConfig:
    """``iceberg serve``: the look-up API's limits (its token is ICEBERG_API_TOKEN)."""

    max_body_bytes: int = setting(65_536, Interval(int, 256, None))   # a larger request body gets 413
    rate_per_minute: int = setting(600, COUNT)     # requests per client address and minute; 0 = no limit


# Rules between settings, checked once every setting has its own value.
RULES = (
    Requires("input.source", lambda source: source == "sql", "input.sql_url", SQL_URL,
             example=SQL_URL_EXAMPLE),
    Requires("embedding.device", lambda device: device != "cpu",
             "embedding.backend", Options("torch"), example="torch"),
    Requires("embedding.scheduler", lambda scheduler: scheduler != "",
             "embedding.executor", Options("dask"), example="dask"),
)


@dataclass
class MapConfig:
    """The dashboard's ticket map (``pipeline.analysis.map``), computed by every run."""

    enabled: bool = setting(True)                 # map_x, map_y for every ticket (and the run's map.parquet)
    sample_size: int = setting(5_000, Interval(int, 10, None))   # t-SNE is fitted on at most this many
    n_neighbors: int = setting(10, POSITIVE)      # a ticket is placed among this many most similar fitted ones
    perplexity: float = setting(30.0, Interval(float, 1, None))  # t-SNE's perplexity (capped for small runs)


@dataclass
class Config:
    input: InputConfig = dataclasses.field(default_factory=InputConfig)
    columns: ColumnsConfig = dataclasses.field(default_factory=ColumnsConfig)
    clean: CleanConfig = dataclasses.field(default_factory=CleanConfig)
    redact: RedactConfig = dataclasses.field(default_factory=RedactConfig)
    embedding: EmbeddingConfig = dataclasses.field(default_factory=EmbeddingConfig)
    cluster: ClusterConfig = dataclasses.field(default_factory=ClusterConfig)
    profile: ProfileConfig = dataclasses.field(default_factory=ProfileConfig)
    identity: IdentityConfig = dataclasses.field(default_factory=IdentityConfig)
    incremental: IncrementalConfig = dataclasses.field(default_factory=IncrementalConfig)
    alerts: AlertsConfig = dataclasses.field(default_factory=AlertsConfig)
    map: MapConfig = dataclasses.field(default_factory=MapConfig)
    dashboard: DashboardConfig = dataclasses.field(default_factory=DashboardConfig)
    serve: ServeConfig = dataclasses.field(default_factory=ServeConfig)

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
        raise ConfigError(f"unknown config section {section_name!r} in {dotted!r}{where}; "
                          f"known sections: {known}")
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
            raise ConfigError(violation(dotted, allowed, value, origins.get(dotted),
                                        field.metadata["example"], env_name=_env_name(dotted)))
    for rule in RULES:
        value, other = _value(config, rule.setting), _value(config, rule.other)
        if rule.applies(value) and not rule.allowed.is_satisfied_by(other):
            allowed = f"{rule.allowed.describe()} when {rule.setting} is {value!r}"
            origin = origins.get(rule.other)
            raise ConfigError(violation(rule.other, allowed, other, origin or origins.get(rule.setting),
                                        rule.example, env_name=_env_name(rule.other),
                                        cited=origin is not None))
    alert_targets(config.alerts)
    return config


def alert_targets(alerts: "AlertsConfig") -> list[tuple[str, str]]:
    """(format, URL) of each webhook post: one format for every URL, or a list of formats
    paired in order with a list of URLs; ``ConfigError`` when they cannot be paired."""
    urls = [alerts.webhook_url] if isinstance(alerts.webhook_url, str) else list(alerts.webhook_url)
    urls = [u for u in urls if u]
    formats = [alerts.format] if isinstance(alerts.format, str) else list(alerts.format)
    if not urls:
        return []
    if len(formats) == 1:
        return [(formats[0], u) for u in urls]
    if len(formats) != len(urls):
        raise ConfigError(f"setting 'alerts.format' lists {len(formats)} formats but 'alerts.webhook_url' "
                          f"{len(urls)} URL(s): give one URL per format, in the same order (e.g. format = "
                          '["slack", "teams"] with webhook_url = ["https://hooks.slack.com/…", "https://…"])')
    return list(zip(formats, urls))


def _value(config: Config, dotted: str) -> Any:
    section, _, key = dotted.partition(".")
    return getattr(getattr(config, section), key)


def _holds(constraint: Constraint, value: Any, files: bool) -> bool:
    if isinstance(constraint, ExistingFile) and not files:
        return isinstance(value, str) and bool(value)
    return constraint.is_satisfied_by(value)


def _env_name(dotted: str) -> str:
    section, _, key = dotted.partition(".")
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
