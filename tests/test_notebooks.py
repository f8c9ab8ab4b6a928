"""Notebooks never rot: every notebook in notebooks/ runs top to bottom on a real run.

Each is executed with nbclient in a fresh kernel of this interpreter (a kernelspec written
to a temp folder names ``sys.executable``, so whatever ``python3`` kernel the machine has
is not used), with ``ICEBERG_OUT`` pointing at the session's sample run so that no
notebook runs the pipeline itself. Committed notebooks carry no outputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT = 120   # seconds per cell


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("kernels") / "python3"
    folder.mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (tests)", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return [str(folder.parent)]


def test_there_is_a_notebook():
    assert [p.name for p in NOTEBOOKS] and "explore_icebergs.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_no_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, sample_run, kernel_dirs, monkeypatch):
    monkeypatch.setenv("ICEBERG_OUT", str(sample_run.out))
    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name="python3",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = NotebookClient(notebook, km=manager, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    text = "\n".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert sample_run.run.run_id in text                  # it read the run it was pointed at
    assert "0 embedded" in text                           # the cache held every vector
