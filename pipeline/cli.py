"""``iceberg``: a thin command line over the Python API (``pipeline.run``, ``pipeline.store``).

Every foreseeable mistake becomes one line on stderr that names the bad value and the
fix, and a documented exit code (``EXIT_CODES``); only a bug shows a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from pipeline.config import ConfigError, load_config, parse_assignments

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_MISSING_INPUT = 4
EXIT_CONFIG = 5
EXIT_NO_RUN = 7
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "unexpected internal error (a bug: please report it with the traceback)",
    EXIT_USAGE: "usage error: unknown command or option, missing argument",
    EXIT_DATA: "data error: the input cannot be read as tickets (empty, no text column, bad format)",
    EXIT_MISSING_INPUT: "the input file does not exist",
    EXIT_CONFIG: "configuration error: unknown setting, wrong type, unreadable config file",
    EXIT_NO_RUN: "no finished run where one was expected (iceberg show before iceberg run)",
}

DEFAULT_OUT = "out"
log = logging.getLogger("iceberg")


class Failure(click.ClickException):
    """A foreseeable failure: one message, one exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"iceberg: error: {self.format_message()}", err=True)


def _configure_logging(quiet: bool) -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ticket-iceberg", prog_name="iceberg")
def cli() -> None:
    """Iceberg finds the recurring problems hiding beneath one-off support tickets.

    \b
    Examples:
      iceberg run --input tickets.csv --out out
      iceberg show --out out --top 10
    """


@cli.command("run")
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="Ticket export: CSV (any dialect/encoding, .gz too), JSONL or Parquet.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="TOML file mapping columns and setting parameters (see README).")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder: runs/<run_id>/, latest, cache/.")
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one setting, e.g. --set cluster.min_cluster_size=20 (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors; no progress bar.")
def run_command(input_path: Path, config_path: Path | None, out: Path, assignments: tuple[str, ...],
                quiet: bool) -> None:
    """Ingest, clean, redact, embed, cluster and profile tickets into a new run.

    Writes OUT/runs/<run_id>/ (manifest.json, tickets, icebergs, attributes, timeline,
    lineage and quarantine as Parquet) and, once every file is complete, points
    OUT/latest at it.

    \b
    Examples:
      iceberg run --input sample_data/helpdesk_tickets.csv
      iceberg run --input sample_data/cfpb_complaints.csv.gz --config sample_data/cfpb.toml --out cfpb-out
      iceberg run --input tickets.jsonl --set cluster.min_cluster_size=25 --set embedding.backend=torch
    """
    _configure_logging(quiet)
    from pipeline.embed import EmbeddingError
    from pipeline.ingest import InputError
    from pipeline.run import run

    config = _config(config_path, assignments)
    if not input_path.exists():
        raise Failure(f"input file {str(input_path)!r} not found; pass an existing CSV, JSONL or "
                      "Parquet export to --input", EXIT_MISSING_INPUT)
    try:
        result = run(input_path, out, config, progress=(not quiet) and sys.stderr.isatty())
    except InputError as exc:
        raise Failure(str(exc), EXIT_DATA) from exc
    except EmbeddingError as exc:
        raise Failure(str(exc), EXIT_CONFIG) from exc
    counts = result.manifest["counts"]
    click.echo(f"Run {result.run_id}: {counts['tickets']:,} tickets "
               f"({counts['rows_quarantined']:,} quarantined), {counts['icebergs']:,} icebergs, "
               f"{counts['unclustered']:,} tickets outside any iceberg.")
    click.echo(f"Results: {result.folder}")


@cli.command("show")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--run", "run_id", default=None, help="Run id (default: the latest finished run).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many icebergs to show, by rank.")
def show_command(out: Path, run_id: str | None, top: int) -> None:
    """Print a run's top icebergs: what, where, who, since when.

    \b
    Examples:
      iceberg show
      iceberg show --out cfpb-out --top 5
    """
    from pipeline.report import icebergs_summary
    from pipeline.store import RunNotFound, UnsupportedSchema, load_run

    try:
        finished = load_run(out, run_id)
    except RunNotFound as exc:
        raise Failure(str(exc), EXIT_NO_RUN) from exc
    except UnsupportedSchema as exc:
        raise Failure(str(exc), EXIT_DATA) from exc
    click.echo(icebergs_summary(finished, top=top))


def _config(config_path: Path | None, assignments: tuple[str, ...]):
    try:
        return load_config(config_path, parse_assignments(list(assignments)))
    except ConfigError as exc:
        raise Failure(str(exc), EXIT_CONFIG) from exc


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        code = cli.main(args=argv, prog_name="iceberg", standalone_mode=False)
    except Failure as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("iceberg: interrupted", err=True)
        return 130
    except click.ClickException as exc:   # usage errors from click itself
        exc.show()
        return EXIT_USAGE
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
