"""The hostile-input corpus (``tests/hostile/make_corpus.py``) through the real command line.

Each case is run with ``iceberg run`` in-process (``pipeline.cli.main``), with a small
deterministic embedder in place of the model: these tests check what is read and
quarantined, not the embeddings' quality. The outcome is the one the corpus documents:
the exit code and one-line message, or the tickets and every quarantined row with its
reason; always ``rows_read = tickets + rows_quarantined`` and never a traceback.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from hostile.bug_reports import bug_report_export
from hostile.make_corpus import CASES, DOCS, Case, Outcome, docs
from fakes import FakeEmbedder
from pipeline.cli import main
from pipeline.config import Config
from pipeline.sources import read_tickets
from pipeline.store import load_run


@pytest.fixture
def hashing_embedder(monkeypatch):
    import pipeline.embed
    import pipeline.run

    make = lambda config: FakeEmbedder()  # noqa: E731
    monkeypatch.setattr(pipeline.run, "embedder_from_config", make, raising=False)
    monkeypatch.setattr(pipeline.embed, "embedder_from_config", make)


def iceberg_run(*args: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", *args])
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_corpus_is_large_and_its_names_unique():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input(case: Case, tmp_path, hashing_embedder):
    path = tmp_path / case.name
    if case.data is not None:
        path.write_bytes(case.data())
    out = tmp_path / "out"
    settings = [arg for s in case.settings for arg in ("--set", s)]
    code, _, stderr = iceberg_run("--input", str(path), "--out", str(out), "--quiet", *settings)
    assert "Traceback" not in stderr
    assert code == case.exit_code, stderr
    if case.exit_code:
        errors = [line for line in stderr.splitlines() if line.startswith("iceberg: error: ")]
        assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
        assert case.message in errors[0], errors[0]
        return
    run = load_run(out)
    counts = run.manifest.counts
    assert counts.rows_read == counts.tickets + counts.rows_quarantined
    assert counts.tickets == case.tickets == len(run.tickets)
    quarantine = run.quarantine
    assert list(zip(quarantine["source_row"].tolist(), quarantine["reason"].tolist())) == list(case.quarantined)
    if case.check is not None:
        assert case.check(Outcome(run.tickets, quarantine, run.manifest.to_dict())), case.expect


def test_the_docs_table_is_the_corpus():
    assert DOCS.read_text(encoding="utf-8") == docs(), (
        "docs/hostile_inputs.md is out of date: run python tests/hostile/make_corpus.py --docs")


def test_a_3000_issue_bug_report_export_is_read_exactly(tmp_path):
    path = tmp_path / "issues.csv"
    path.write_bytes(bug_report_export(3000))
    result = read_tickets(path, Config())
    assert (result.rows_read, len(result.tickets), len(result.quarantine)) == (3000, 3000, 0)
    assert result.source["dialect"]["chosen"] == "standard"
    assert result.dimensions == ["component", "milestone", "labels", "comments"]
    assert result.handling == ["state", "priority"]         # how an issue is handled: kept, not evidence
    assert set(result.tickets["state"]) == {"open", "closed"}
    assert set(result.tickets["priority"]) == {"P0", "P1", "P2", "P3"}
    assert result.tickets["text"].str.contains("```python\nclient = Client(", regex=False).all()
