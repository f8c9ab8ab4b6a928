"""``iceberg dashboard`` never leaves its Streamlit server behind.

``make test`` once left a Streamlit server running after pytest exited: the browser tests'
fixture sent SIGTERM to the CLI, whose default handling ended the CLI alone and orphaned
the Streamlit process it had started. The CLI now passes SIGTERM on and stops the server
whatever ends it (``dashboard.launch.supervised``), and every fixture that starts a server
stops its whole process group (``conftest.stop_process_group``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from conftest import ROOT, _group_alive, stop_process_group


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urlopen(url + "_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the dashboard did not come up")


def test_sigterm_to_the_cli_stops_streamlit_too(tmp_path):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "dashboard", "--out", str(tmp_path / "out"),
                                "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_up(f"http://127.0.0.1:{port}/", process)
        [streamlit] = _children(process.pid)
        process.send_signal(signal.SIGTERM)           # the CLI alone, as a test or a service manager does
        process.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _running(streamlit) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(streamlit), "Streamlit outlived the CLI"
    finally:
        stop_process_group(process)
    assert not _group_alive(process.pid)


def test_stop_process_group_ends_every_process_of_the_group():
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); time.sleep(300)"
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 20
    while not _children(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    [child] = _children(process.pid)
    stop_process_group(process, timeout=10)
    assert not _running(child) and not _group_alive(process.pid)
    assert os.getpgid(os.getpid()) != process.pid
