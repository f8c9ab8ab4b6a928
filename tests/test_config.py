"""Settings: defaults < TOML file < ICEBERG_* environment < --set, with clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.config import (
    Config,
    ConfigError,
    load_config,
    parse_assignments,
    parse_value,
)

TOML = """
[cluster]
min_cluster_size = 10
merge_threshold = 0.85

[columns]
body = ["subject", "description"]
dimensions = ["product", "region"]

[embedding]
backend = "torch"
"""


@pytest.fixture
def toml(tmp_path):
    path = tmp_path / "iceberg.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def resolved(path=None, sets=(), **env):
    return load_config(path, parse_assignments(list(sets)), environ=env)


def test_defaults():
    config = resolved()
    assert config == Config()
    assert config.cluster.min_cluster_size == 0 and config.cluster.random_state == 0
    assert config.embedding.model == "all-MiniLM-L6-v2"
    assert config.embedding.backend == "onnx-int8"
    assert config.redact.enabled is True
    assert config.redact.kinds == ["email", "url", "iban", "card", "ip", "phone"]
    assert config.columns.dimensions == []
    # Each Config gets its own lists: changing one does not change the defaults.
    config.redact.kinds.append("x")
    assert Config().redact.kinds[-1] == "phone"


def test_every_setting_has_a_supported_type():
    for section in dataclasses.fields(Config):
        for setting in dataclasses.fields(section.default_factory()):
            value = getattr(getattr(Config(), section.name), setting.name)
            assert type(value) in (str, int, float, bool, list, dict), f"{section.name}.{setting.name}"


def test_toml_file(toml):
    config = resolved(toml)
    assert config.cluster.min_cluster_size == 10
    assert config.cluster.merge_threshold == 0.85
    assert config.columns.body == ["subject", "description"]
    assert config.columns.dimensions == ["product", "region"]
    assert config.embedding.backend == "torch"
    assert config.cluster.min_samples == Config().cluster.min_samples   # untouched


def test_environment_overrides_toml(toml):
    config = resolved(toml, ICEBERG_CLUSTER__MIN_CLUSTER_SIZE="20",
                      ICEBERG_EMBEDDING__BACKEND="onnx", ICEBERG_REDACT__ENABLED="false",
                      ICEBERG_CLUSTER__MERGE_THRESHOLD="1", ICEBERG_NOT_A_SETTING="x", OTHER__X="1")
    assert config.cluster.min_cluster_size == 20
    assert config.embedding.backend == "onnx"
    assert config.redact.enabled is False
    assert config.cluster.merge_threshold == 1.0 and isinstance(config.cluster.merge_threshold, float)
    assert config.columns.body == ["subject", "description"]        # from the file still


def test_set_overrides_environment(toml):
    config = resolved(toml, ["cluster.min_cluster_size=30", "embedding.model_cache=/tmp/models"],
                      ICEBERG_CLUSTER__MIN_CLUSTER_SIZE="20")
    assert config.cluster.min_cluster_size == 30
    assert config.embedding.model_cache == "/tmp/models"
    assert resolved(toml, ICEBERG_CLUSTER__MIN_CLUSTER_SIZE="20").cluster.min_cluster_size == 20
    assert resolved(toml).cluster.min_cluster_size == 10


def test_os_environ_is_read_by_default(monkeypatch):
    monkeypatch.setenv("ICEBERG_PROFILE__N_KEYWORDS", "12")
    assert load_config().profile.n_keywords == 12


@pytest.mark.parametrize("assignment, expected", [
    ("columns.dimensions=product,region", ["product", "region"]),
    ("columns.dimensions=product, region ,", ["product", "region"]),
    ('columns.dimensions=["product", "region"]', ["product", "region"]),
    ("columns.dimensions=product", ["product"]),
    ("columns.dimensions=", []),
])
def test_list_values_from_strings(assignment, expected):
    assert resolved(sets=[assignment]).columns.dimensions == expected


def test_list_values_from_the_environment():
    config = resolved(ICEBERG_REDACT__KINDS="email,card", ICEBERG_COLUMNS__BODY="subject,body")
    assert config.redact.kinds == ["email", "card"]
    assert config.columns.body == ["subject", "body"]


@pytest.mark.parametrize("sets, env, names", [
    (["cluster.min_cluster_size=abc"], {}, ["cluster.min_cluster_size", "int", "abc"]),
    (["cluster.min_cluster_size=1.5"], {}, ["cluster.min_cluster_size", "int", "1.5"]),
    (["cluster.min_cluster_size=true"], {}, ["cluster.min_cluster_size", "int", "True"]),
    (["redact.enabled=yes"], {}, ["redact.enabled", "bool", "yes"]),
    (["cluster.merge_threshold=high"], {}, ["cluster.merge_threshold", "float", "high"]),
    ([], {"ICEBERG_PROFILE__N_KEYWORDS": "many"}, ["profile.n_keywords", "int", "many"]),
])
def test_type_errors_name_the_setting_and_the_value(sets, env, names):
    with pytest.raises(ConfigError) as info:
        resolved(sets=sets, **env)
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize("setting, value, allowed", [
    ("cluster.merge_threshold", "1.5", "a float in (0, 1]"),
    ("cluster.merge_threshold", "0", "a float in (0, 1]"),
    ("cluster.split_alpha", "0", "a float in (0, 1]"),
    ("cluster.split_min_auc", "1.5", "a float in [0, 1]"),
    ("profile.fdr_alpha", "-0.05", "a float in (0, 1]"),
    ("incremental.pool_join_vote", "2", "a float in [0, 1]"),
    ("embedding.batch_size", "0", "an int ≥ 1"), ("alerts.webhook_timeout", "0", "a float > 0"),
])
def test_values_outside_their_range_name_the_setting_the_range_and_the_value(setting, value, allowed):
    with pytest.raises(ConfigError) as info:
        resolved(sets=[f"{setting}={value}"])
    assert str(info.value).startswith(f"setting {setting!r} must be {allowed}; got {parse_value(value)!r} "
                                      f"(e.g. --set {setting}=")


def test_type_error_in_the_toml_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[cluster]\nmin_samples = "five"\n')
    with pytest.raises(ConfigError, match=r"cluster\.min_samples.*int.*five"):
        resolved(path)


@pytest.mark.parametrize("sets, env, names", [
    (["cluster.min_cluster_sise=5"], {}, ["cluster.min_cluster_sise", "min_cluster_size"]),
    (["clustering.min_cluster_size=5"], {}, ["clustering", "cluster"]),
    ([], {"ICEBERG_EMBEDDING__MODELL": "x"}, ["embedding.modell", "model"]),
])
def test_unknown_keys_name_the_key_and_the_known_ones(sets, env, names):
    with pytest.raises(ConfigError) as info:
        resolved(sets=sets, **env)
    for name in names:
        assert name in str(info.value)


def test_unknown_key_in_the_toml_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[embedding]\nbackend = 'torch'\nbatchsize = 8\n")
    with pytest.raises(ConfigError, match=r"embedding\.batchsize.*batch_size"):
        resolved(path)


def test_malformed_set_and_files():
    with pytest.raises(ConfigError, match="section.key=value.*min_cluster_size20"):
        parse_assignments(["cluster.min_cluster_size20"])
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_assignments(["min_cluster_size=20"])
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/iceberg.toml", environ={})


def test_invalid_toml_and_keys_outside_a_section(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[cluster\nmin_samples = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolved(broken)
    flat = tmp_path / "flat.toml"
    flat.write_text("min_samples = 3\n")
    with pytest.raises(ConfigError, match="min_samples.*section"):
        resolved(flat)


def test_values_given_as_text():
    assert parse_value("20") == 20
    assert parse_value("0.5") == 0.5
    assert parse_value("true") is True
    assert parse_value('["a", "b"]') == ["a", "b"]
    assert parse_value(";") == ";"
    assert parse_value("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"
    # Values keep "=" signs after the first.
    assert parse_assignments(["embedding.model=/models/a=b"]) == {"embedding.model": "/models/a=b"}


def test_config_round_trips_through_its_dict():
    config = resolved(sets=["cluster.min_cluster_size=12", "columns.dimensions=a,b"])
    data = config.to_dict()
    assert data["cluster"]["min_cluster_size"] == 12
    overrides = {f"{s}.{k}": v for s, section in data.items() for k, v in section.items()}
    assert load_config(overrides=overrides, environ={}) == config


def test_only_the_resolved_value_is_checked(tmp_path):
    path = tmp_path / "iceberg.toml"
    path.write_text('[profile]\nperiod = "Q"\n\n[embedding]\ndevice = "cuda"\n', encoding="utf-8")
    config = resolved(path, ["profile.period=M"], ICEBERG_EMBEDDING__BACKEND="torch")
    assert config.profile.period == "M"
    assert (config.embedding.device, config.embedding.backend) == ("cuda", "torch")
    with pytest.raises(ConfigError, match=r"'profile.period'.*got 'Q' in .*iceberg.toml"):
        resolved(path, ICEBERG_EMBEDDING__BACKEND="torch")


def test_unknown_keys_from_the_environment_and_the_file_name_where_they_are(tmp_path):
    with pytest.raises(ConfigError, match=r"'embedding.modell' \(in ICEBERG_EMBEDDING__MODELL\)"):
        resolved(ICEBERG_EMBEDDING__MODELL="x")
    path = tmp_path / "iceberg.toml"
    path.write_text("[embedding]\nbatchsize = 8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"'embedding.batchsize' \(in {path}\)"):
        resolved(path)


def test_a_toml_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff[profile]\nperiod = \"M\"\n".encode("utf-8"))
    assert resolved(path).profile.period == "M"


def test_recorded_settings_are_validated_but_need_not_find_their_files():
    recorded = Config().to_dict()
    recorded["profile"]["events"] = "/gone/events.csv"
    recorded["cluster"]["merge_threshold"] = 1          # JSON may give an int for a float
    config = Config.from_dict(recorded)
    assert config.profile.events == "/gone/events.csv" and config.cluster.merge_threshold == 1.0
    recorded["profile"]["period"] = "Q"
    with pytest.raises(ConfigError, match=r"'profile.period' must be one of .*; got 'Q' in run r1"):
        Config.from_dict(recorded, source="run r1")
    with pytest.raises(ConfigError, match=r"'profile.events' must be the path of an existing file or ''"):
        resolved(sets=["profile.events=/gone/events.csv"])
