"""How ``iceberg dashboard`` starts Streamlit: the command line, and the URL it prints.

Kept free of Streamlit imports, so the CLI stays quick to start.
"""

from __future__ import annotations

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
