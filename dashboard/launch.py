"""How ``iceberg dashboard`` starts Streamlit: the command line, the URL it prints, and
the supervision that never leaves the Streamlit server behind.

Kept free of Streamlit imports, so the CLI stays quick to start.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "streamlit_app.py"


def streamlit_argv(out: Path | str, run_id: str | None, host: str, port: int) -> list[str]:
    """``python -m streamlit run dashboard/streamlit_app.py … -- --out OUT [--run RUN_ID]``.

    Headless (it prints its own URL and opens no browser), no usage statistics, no file
    watcher (a server does not reload on edits), bound to ``host``.
    """
    argv = [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal",
            "--", "--out", str(out)]
    return argv + (["--run", run_id] if run_id else [])


def dashboard_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}/"


STOP_SECONDS = 15        # how long Streamlit gets to stop before it is killed
FORWARDED = (signal.SIGTERM, signal.SIGHUP)


def supervised(argv: list[str]) -> int:
    """Run ``argv`` (the Streamlit server) until it exits, and its exit code.

    SIGTERM and SIGHUP sent to this process are passed on to the server (a service
    manager, a test or ``kill`` stops both, not only this one: Python's default would end
    this process and leave the server running, orphaned); Ctrl-C reaches both already. Whatever
    ends the wait, the server is stopped before this returns — terminated, then killed
    after ``STOP_SECONDS``.
    """
    server = subprocess.Popen(argv)

    def forward(signum, frame):
        if server.poll() is None:
            server.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        try:
            return server.wait()
        except KeyboardInterrupt:       # Streamlit got the Ctrl-C too and shuts down
            try:
                return server.wait(timeout=STOP_SECONDS)
            except (KeyboardInterrupt, subprocess.TimeoutExpired):   # a second Ctrl-C: stop it now
                return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
