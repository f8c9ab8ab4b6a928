"""Faults around the store: an unusable --out, a full disk, a damaged cache shard, a damaged
run folder. Each is detected, reported in one line with its exit code, and recovered from."""

from __future__ import annotations

import errno

import pandas as pd
import pytest
from conftest import BANKING_SLICE

from fakes import FakeEmbedder
from pipeline.cli import main
from pipeline.errors import EXIT_DATA, EXIT_OK, EXIT_OUTPUT
from pipeline.store import latest_run_id, load_run


@pytest.fixture
def fake_model(monkeypatch):
    calls = []

    def build(config):
        calls.append(config)
        return FakeEmbedder()

    monkeypatch.setattr("pipeline.run.embedder_from_config", build)
    return calls


@pytest.fixture
def tickets_csv(tmp_path):
    queries = pd.read_csv(BANKING_SLICE)
    path = tmp_path / "tickets.csv"
    queries.assign(ticket_id=[f"T{i:04d}" for i in range(len(queries))])[["ticket_id", "text"]].to_csv(
        path, index=False)
    return path


def one_line_error(capsys) -> str:
    """The one error line on stderr (warnings about the input may come before it)."""
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("iceberg: error: ")]
    assert len(errors) == 1 and err[-1] == errors[0], err
    return errors[0]


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_output_folder_that_is_a_file_is_one_line_and_exit_8(tmp_path, tickets_csv, fake_model,
                                                               capsys, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    out = blocker if where == "a file" else blocker / "out"
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet"]) == EXIT_OUTPUT
    assert "--out" in one_line_error(capsys)
    assert not fake_model                  # refused before any embedding


def test_a_read_only_output_folder_is_one_line_and_exit_8(tmp_path, tickets_csv, fake_model, capsys,
                                                         monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("pipeline.store.atomic._writable", lambda path: str(path) != str(out))
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet"]) == EXIT_OUTPUT
    assert "writable" in one_line_error(capsys)


def test_a_full_disk_mid_run_fails_cleanly_and_the_next_run_succeeds(tmp_path, tickets_csv, fake_model,
                                                                     capsys, monkeypatch):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet"]) == EXIT_OK
    first = latest_run_id(out)
    real_write = pq.write_table

    def full_disk(table, where, **kwargs):
        if "icebergs.parquet" in str(where):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", full_disk)
    capsys.readouterr()
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet", "--mode", "full"]) \
        == EXIT_OUTPUT
    assert "disk is full" in one_line_error(capsys)
    assert latest_run_id(out) == first
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(pq, "write_table", real_write)
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet", "--mode", "full"]) == EXIT_OK
    assert latest_run_id(out) != first


def test_a_damaged_cache_shard_is_set_aside_and_its_texts_embedded_again(tmp_path, tickets_csv, fake_model):
    out = tmp_path / "out"
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet"]) == EXIT_OK
    [shard] = (out / "cache" / "embeddings" / FakeEmbedder().key).glob("*.parquet")
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF                      # one flipped byte inside the vectors
    shard.write_bytes(bytes(data))
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet", "--mode", "full"]) == EXIT_OK
    run = load_run(out)
    [embed] = [s for s in run.manifest.stages if s["name"] == "embed"]
    assert embed["damaged_cache_shards"] == [shard.name]
    assert run.manifest.embedding["cache_misses"] == run.manifest.counts.tickets
    assert (shard.parent / (shard.name + ".corrupt")).is_file()


def test_a_damaged_run_file_is_reported_and_the_next_run_keeps_the_ids(tmp_path, tickets_csv, fake_model,
                                                                       capsys):
    out = tmp_path / "out"
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet"]) == EXIT_OK
    good = load_run(out)
    good_ids = good.tickets.set_index("ticket_id")["iceberg_id"]
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet", "--mode", "full"]) == EXIT_OK
    damaged = load_run(out)
    path = damaged.folder / "tickets.parquet"
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)
    capsys.readouterr()
    assert main(["show", "--out", str(out)]) == EXIT_DATA
    assert "checksum" in one_line_error(capsys)
    assert main(["run", "--input", str(tickets_csv), "--out", str(out), "--quiet", "--mode", "full"]) == EXIT_OK
    again = load_run(out)
    assert again.manifest.incremental["previous_run_id"] == good.run_id
    pd.testing.assert_series_equal(again.tickets.set_index("ticket_id")["iceberg_id"], good_ids)
