"""Where the dashboard reads from, and who may see it: command line, environment, secrets.

``iceberg dashboard --out DIR --run RUN_ID`` starts
``streamlit run dashboard/streamlit_app.py -- --out DIR --run RUN_ID``; the script reads
those arguments here (``ICEBERG_DASHBOARD_OUT`` / ``ICEBERG_DASHBOARD_RUN`` when it is
started another way, e.g. by a test).

Access control (both optional, both documented in the README):

- a shared password: ``ICEBERG_DASHBOARD_PASSWORD`` in the environment, or
  ``iceberg_dashboard_password`` in ``.streamlit/secrets.toml``;
- a trusted reverse-proxy header naming the signed-in user (e.g. ``X-Forwarded-User``):
  ``ICEBERG_DASHBOARD_USER_HEADER``, or ``iceberg_dashboard_user_header`` in the secrets.
  Only set it behind a proxy that always sets (and never passes on) that header.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

OUT_ENV, RUN_ENV = "ICEBERG_DASHBOARD_OUT", "ICEBERG_DASHBOARD_RUN"
PASSWORD_ENV, USER_HEADER_ENV = "ICEBERG_DASHBOARD_PASSWORD", "ICEBERG_DASHBOARD_USER_HEADER"
PASSWORD_SECRET, USER_HEADER_SECRET = "iceberg_dashboard_password", "iceberg_dashboard_user_header"


@dataclass(frozen=True)
class Source:
    """The run store the dashboard shows, and the run it opens on (None: the latest)."""

    out: Path
    run_id: str | None = None


@dataclass(frozen=True)
class Access:
    password: str | None = None
    user_header: str | None = None

    @property
    def open(self) -> bool:
        return not self.password and not self.user_header


def source_from(argv: list[str], environ: Mapping[str, str] | None = None) -> Source:
    """``--out`` and ``--run`` from the script's arguments, else the environment, else ``out``."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out", default=None)
    parser.add_argument("--run", default=None)
    known, _ = parser.parse_known_args(argv)
    out = known.out or environ.get(OUT_ENV) or "out"
    return Source(out=Path(out), run_id=known.run or environ.get(RUN_ENV) or None)


def access_from(environ: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> Access:
    environ = os.environ if environ is None else environ
    secrets = secrets or {}
    return Access(password=environ.get(PASSWORD_ENV) or secrets.get(PASSWORD_SECRET) or None,
                  user_header=environ.get(USER_HEADER_ENV) or secrets.get(USER_HEADER_SECRET) or None)
