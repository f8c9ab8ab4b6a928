"""Every setting is validated when loaded: a bad value exits 5 with one line, before any work.

The cases are generated from the constraints declared next to each setting in
``pipeline/config.py`` (``dataclasses.fields`` metadata), so a new setting is covered
without touching this file: a value of the wrong type for every setting, and, where the
setting has them, values just outside its range, an unknown choice, an empty value where
one is needed, a file that does not exist.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from conftest import SAMPLE_CSV
from pipeline.cli import main
from pipeline.config import (EMBEDDING_BACKENDS, INPUT_FORMATS, INPUT_SOURCES, LONG_TEXT, MODES, PERIODS,
                             REDACT_KINDS,
                             Config, settings)
from pipeline.constraints import (ExistingFile, Flag, Interval, ListOf, MappingOf, Matches, Options, Text,
                                  TextEncoding)
from pipeline.errors import EXIT_CONFIG

WRONG_TYPE = {bool: "maybe", int: "abc", float: "abc", str: 5, list: 5, dict: 5}


def _default(field: dataclasses.Field):
    return field.default if field.default is not dataclasses.MISSING else field.default_factory()


def _outside(interval: Interval) -> list[tuple[str, float]]:
    """Values just outside ``interval``'s ends: the end itself when open, one step past it when closed."""
    step = 1 if interval.kind is int else 0.5
    values = []
    if interval.low is not None:
        closed = interval.closed in ("both", "left")
        values.append(("below range", interval.low - step if closed else interval.low))
    if interval.high is not None:
        closed = interval.closed in ("both", "right")
        values.append(("above range", interval.high + step if closed else interval.high))
    return values


def _bad_values(field: dataclasses.Field) -> list[tuple[str, object]]:
    cases = [("wrong type", WRONG_TYPE[type(_default(field))])]
    for constraint in field.metadata["constraints"]:
        if isinstance(constraint, Interval):
            cases += _outside(constraint)
        elif isinstance(constraint, Options) and all(isinstance(c, str) for c in constraint.choices):
            cases.append(("unknown choice", "no-such-choice"))
        elif isinstance(constraint, Matches):
            cases.append(("unknown choice", "no such choice"))
        elif isinstance(constraint, TextEncoding):
            cases.append(("unknown encoding", "no-such-encoding"))
        elif isinstance(constraint, ExistingFile):
            cases.append(("missing file", "no/such/events.csv"))
        elif isinstance(constraint, Text) and constraint.non_empty:
            cases.append(("empty", ""))
        elif isinstance(constraint, ListOf) and isinstance(constraint.item, Options):
            cases.append(("unknown choice", ["email", "no-such-choice"]))
        elif isinstance(constraint, ListOf) and constraint.item == Text(non_empty=True):
            cases.append(("empty item", [""]))
        elif isinstance(constraint, MappingOf):
            cases.append(("empty item", {"360001": ""}))
    return list(dict(cases).items())          # one value per kind of mistake


def _set_text(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, list) else str(value)


CASES = [pytest.param(dotted, value, id=f"{dotted}-{kind}")
         for dotted, field in settings() for kind, value in _bad_values(field)]


@pytest.fixture
def no_embedding(monkeypatch):
    """Fail the test if anything gets as far as building an embedder."""
    import pipeline.embed
    import pipeline.embed.backends
    import pipeline.run

    def embedder_from_config(*args, **kwargs):
        pytest.fail("an embedder was built although the settings are invalid")

    for module in (pipeline.embed, pipeline.embed.backends, pipeline.run):
        monkeypatch.setattr(module, "embedder_from_config", embedder_from_config, raising=False)


def _fails_at_load(args: list[str], out, capsys) -> str:
    code = main(["run", "--input", str(SAMPLE_CSV), "--out", str(out), *args])
    captured = capsys.readouterr()
    assert code == EXIT_CONFIG, captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iceberg: error: "), captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists(), "the output folder was created although the settings are invalid"
    return lines[0]


def test_the_cases_cover_every_setting_and_every_kind_of_mistake():
    covered = {p.values[0] for p in CASES}
    assert covered == {dotted for dotted, _ in settings()}
    kinds = {p.id.rsplit("-", 1)[1] for p in CASES}
    assert {"wrong type", "below range", "above range", "unknown choice", "empty", "missing file"} <= kinds


@pytest.mark.parametrize("dotted, value", CASES)
def test_a_bad_setting_exits_5_with_one_line_before_any_work(dotted, value, tmp_path, capsys, no_embedding):
    line = _fails_at_load(["--set", f"{dotted}={_set_text(value)}"], tmp_path / "out", capsys)
    assert f"setting {dotted!r} must be " in line
    assert f"(e.g. --set {dotted}=" in line


@pytest.mark.parametrize("setting, text, message", [
    ("redact.kinds", "passport", "setting 'redact.kinds' must be a list, each item one of 'url', 'email', "
     "'iban', 'card', 'ip', 'phone', 'address', 'person'; got 'passport' "
     "(e.g. --set redact.kinds=email,url,iban,card,ip,phone)"),
    ("profile.period", "Q", "setting 'profile.period' must be one of 'D', 'W', 'M'; got 'Q' "
     "(e.g. --set profile.period=W)"),
    ("input.format", "xlsx", "setting 'input.format' must be one of 'auto', 'csv', 'jsonl', 'parquet'; "
     "got 'xlsx' (e.g. --set input.format=csv)"),
    ("cluster.min_samples", "abc", "setting 'cluster.min_samples' must be an int ≥ 1; got 'abc' "
     "(e.g. --set cluster.min_samples=2)"),
    ("cluster.min_cluster_size", "1", "setting 'cluster.min_cluster_size' must be an int ≥ 2 or 0 (auto); "
     "got 1 (e.g. --set cluster.min_cluster_size=15)"),
    ("embedding.device", "cuda", "setting 'embedding.backend' must be 'torch' when embedding.device is "
     "'cuda'; got 'onnx-int8' (e.g. --set embedding.backend=torch)"),
])
def test_the_reported_bad_settings_read_as_one_line(setting, text, message, tmp_path, capsys, no_embedding):
    line = _fails_at_load(["--set", f"{setting}={text}"], tmp_path / "out", capsys)
    assert line == f"iceberg: error: {message}"


def test_a_bad_setting_in_the_toml_file_names_the_file_and_the_fix(tmp_path, capsys, no_embedding):
    path = tmp_path / "iceberg.toml"
    path.write_text('[cluster]\nmin_cluster_size = 20\n\n[profile]\nperiod = "Q"\n', encoding="utf-8")
    line = _fails_at_load(["--config", str(path)], tmp_path / "out", capsys)
    assert line == (f"iceberg: error: setting 'profile.period' must be one of 'D', 'W', 'M'; "
                    f"got 'Q' in {path} (e.g. period = \"W\" under [profile])")


def test_a_bad_setting_from_the_environment_names_the_variable(tmp_path, capsys, monkeypatch, no_embedding):
    monkeypatch.setenv("ICEBERG_CLUSTER__MERGE_THRESHOLD", "2")
    line = _fails_at_load([], tmp_path / "out", capsys)
    assert line == ("iceberg: error: setting 'cluster.merge_threshold' must be a float in (0, 1]; got 2 "
                    "from ICEBERG_CLUSTER__MERGE_THRESHOLD (e.g. ICEBERG_CLUSTER__MERGE_THRESHOLD=0.8)")


def test_a_rule_between_settings_from_two_sources(tmp_path, capsys, monkeypatch, no_embedding):
    path = tmp_path / "gpu.toml"
    path.write_text('[embedding]\ndevice = "cuda"\n', encoding="utf-8")
    monkeypatch.setenv("ICEBERG_EMBEDDING__BACKEND", "onnx")
    line = _fails_at_load(["--config", str(path)], tmp_path / "out", capsys)
    assert line == ("iceberg: error: setting 'embedding.backend' must be 'torch' when embedding.device is "
                    "'cuda'; got 'onnx' from ICEBERG_EMBEDDING__BACKEND "
                    "(e.g. ICEBERG_EMBEDDING__BACKEND=torch)")


@pytest.mark.parametrize("content, expected", [
    (b'[profile]\nperiod = "caf\xe9"\n', "is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8"),
    (b"[cluster\nmin_samples = 3\n", "is not valid TOML: Expected ']' at the end of a table declaration "
                                     "(at line 1, column 9)"),
    (b"[cluster]\nmin_samples = \n", "is not valid TOML: Invalid value (at line 2, column 15)"),
])
def test_an_unreadable_config_file_is_one_line(content, expected, tmp_path, capsys, no_embedding):
    path = tmp_path / "iceberg.toml"
    path.write_bytes(content)
    line = _fails_at_load(["--config", str(path)], tmp_path / "out", capsys)
    assert line.startswith(f"iceberg: error: config file {str(path)!r} {expected}")


# --- the declarations themselves ---------------------------------------------------------

@pytest.mark.parametrize("dotted, field", settings(), ids=[d for d, _ in settings()])
def test_every_setting_declares_constraints_its_default_and_example_satisfy(dotted, field):
    constraints = field.metadata["constraints"]
    assert constraints, dotted
    assert any(c.is_satisfied_by(_default(field)) for c in constraints), dotted
    assert any(c.is_satisfied_by(field.metadata["example"]) or isinstance(c, ExistingFile)
               for c in constraints), dotted
    assert not any(c.is_satisfied_by(WRONG_TYPE[type(_default(field))]) for c in constraints), dotted


def test_the_default_config_is_valid():
    assert Config().validate() == Config()


def test_settings_changed_in_code_are_checked_by_validate():
    from pipeline.errors import ConfigError

    config = Config()
    config.profile.period = "Q"
    with pytest.raises(ConfigError, match=r"setting 'profile.period' must be one of 'D', 'W', 'M'; got 'Q'"):
        config.validate()


def _choices(dotted: str) -> tuple:
    constraints = dict(settings())[dotted].metadata["constraints"]
    options = [c.item if isinstance(c, ListOf) else c for c in constraints]
    return next(c.choices for c in options if isinstance(c, Options))


def test_the_declared_choices_are_those_the_stages_know():
    from pipeline.analysis.timing import PERIODS as TIMELINE_PERIODS
    from pipeline.embed import BACKENDS
    from pipeline.groups.incremental import MODES as INCREMENTAL_MODES
    from pipeline.sources import FORMATS, HELPDESK_READERS
    from pipeline.text.redact import KINDS

    assert _choices("redact.kinds") == REDACT_KINDS == KINDS
    assert _choices("input.format") == INPUT_FORMATS == ("auto", *FORMATS)
    assert _choices("input.source") == INPUT_SOURCES == ("auto", "file", *HELPDESK_READERS, "sql")
    assert _choices("embedding.backend") == EMBEDDING_BACKENDS == BACKENDS
    assert _choices("profile.period") == PERIODS == tuple(TIMELINE_PERIODS)
    assert _choices("incremental.mode") == MODES == INCREMENTAL_MODES
    assert _choices("embedding.long_text") == LONG_TEXT == ("chunk", "truncate")


@pytest.mark.parametrize("interval, inside, outside, described", [
    (Interval(int, 1, None), [1, 7, 10**9], [0, -1, 1.0, True, "1"], "an int ≥ 1"),
    (Interval(int, 0, 2**32 - 1), [0, 2**32 - 1], [-1, 2**32], "an int in [0, 4294967295]"),
    (Interval(float, 0, 1), [0.0, 0.5, 1.0], [-0.01, 1.01, math.nan, 1, False], "a float in [0, 1]"),
    (Interval(float, 0, 1, closed="right"), [1.0, 1e-9], [0.0, 1.5], "a float in (0, 1]"),
    (Interval(float, 0, None, closed="neither"), [1e-9, math.inf], [0.0, -1.0, math.nan], "a float > 0"),
    (Interval(float, None, 1, closed="left"), [-5.0], [1.0], "a float < 1"),
    (Interval(int), [-3, 0, 3], [1.5, False], "an int"),
])
def test_intervals(interval, inside, outside, described):
    assert all(interval.is_satisfied_by(v) for v in inside)
    assert not any(interval.is_satisfied_by(v) for v in outside)
    assert interval.describe() == described


def test_options_lists_and_text():
    assert Options("D", "W").is_satisfied_by("W") and not Options("D", "W").is_satisfied_by("w")
    assert not Options(0).is_satisfied_by(False) and not Options(-1.0).is_satisfied_by(-1)
    assert Options("D", "W").describe() == "one of 'D', 'W'"
    assert Options(-1.0, note="off").describe() == "-1 (off)"
    kinds = ListOf(Options("email", "url"))
    assert kinds.is_satisfied_by([]) and kinds.is_satisfied_by(["url", "email"])
    assert not kinds.is_satisfied_by(["url", "passport"]) and not kinds.is_satisfied_by("url")
    assert kinds.describe() == "a list, each item one of 'email', 'url'"
    assert Text().is_satisfied_by("") and not Text().is_satisfied_by(5)
    assert not Text(non_empty=True).is_satisfied_by("  ")
    assert Text(non_empty=True).describe() == "a non-empty string"
    assert Flag().is_satisfied_by(False) and not Flag().is_satisfied_by(0)
    device = Matches(r"cpu|cuda(:\d+)?", "cpu or cuda")
    assert device.is_satisfied_by("cuda:1")
    assert not any(device.is_satisfied_by(v) for v in ("cuda:", "gpu", 1))


def test_encodings_and_files(tmp_path):
    encoding = TextEncoding()
    assert all(encoding.is_satisfied_by(e) for e in ("utf-8", "cp1252", "latin-1", "UTF8", "utf-16"))
    assert not any(encoding.is_satisfied_by(e) for e in ("rot13", "base64", "zlib", "no-such", "", 8))
    path = tmp_path / "events.csv"
    path.write_text("date,name\n", encoding="utf-8")
    assert ExistingFile().is_satisfied_by(str(path))
    assert not any(ExistingFile().is_satisfied_by(v) for v in (str(tmp_path), str(tmp_path / "x.csv"), "", 1))
