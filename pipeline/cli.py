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

from pipeline.config import INPUT_SOURCES, MODES, load_config, parse_assignments
from pipeline.errors import (EXIT_CODES, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE,  # noqa: F401 (EXIT_CODES: docs)
                             IcebergError, InputNotFound)
from pipeline.ops.logs import LOG_FORMATS

DEFAULT_OUT = "out"
log = logging.getLogger("iceberg")


def _configure_logging(quiet: bool, log_format: str = "text") -> None:
    from pipeline.ops.logs import configure_logging

    configure_logging(log, quiet=quiet, log_format=log_format)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ticket-iceberg", prog_name="iceberg")
def cli() -> None:
    """Iceberg finds the recurring problems hiding beneath one-off support tickets.

    \b
    Examples:
      iceberg run --input tickets.csv --out out
      iceberg run --input zendesk-tickets.json --source zendesk
      iceberg show --out out --top 10
      iceberg report --out out --format html -o brief.html
      iceberg diff --out out
      iceberg runs list --out out
      iceberg dashboard --out out
    """


@cli.command("run")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="Ticket export: CSV (any dialect/encoding, .gz too), JSONL or Parquet, or a Zendesk, "
                   "Freshdesk or Jira export; not with --source sql.")
@click.option("--source", type=click.Choice(INPUT_SOURCES), default=None,
              help="Which reader (input.source): file, zendesk, freshdesk, jira, sql (the [input] sql_* "
                   "settings), or auto (default: a helpdesk export when the file has its fields).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="TOML file mapping columns and setting parameters (see README).")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder: runs/<run_id>/, latest, cache/.")
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one setting, e.g. --set cluster.min_cluster_size=20 (repeatable; every "
                   "setting is checked before any work).")
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="assign: put new tickets into existing icebergs; full: re-cluster everything; "
                   "auto (default, incremental.mode): decide from documented signals.")
@click.option("--resume", is_flag=True,
              help="Reuse what an unfinished (killed) run with the same input, config and mode computed.")
@click.option("--dry-run", is_flag=True,
              help="Validate the input and config and say what a run would do; write nothing.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", show_default=True,
              help="json: one JSON object per log line on stderr (for log collectors).")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors; no progress bar.")
def run_command(input_path: Path | None, source: str | None, config_path: Path | None, out: Path,
                assignments: tuple[str, ...], mode: str | None, resume: bool, dry_run: bool,
                log_format: str, quiet: bool) -> None:
    """Ingest, clean, redact, embed, cluster and profile tickets into a new run.

    Writes OUT/runs/<run_id>/ (manifest.json, tickets, icebergs, attributes, timeline,
    lineage and quarantine as Parquet) and, once every file is complete, points
    OUT/latest at it.

    \b
    Examples:
      iceberg run --input sample_data/helpdesk_tickets.csv
      iceberg run --input sample_data/cfpb_complaints.csv.gz --config sample_data/cfpb.toml --out cfpb-out
      iceberg run --input tickets.jsonl --set cluster.min_cluster_size=25 --set embedding.backend=torch
      iceberg run --input tickets.csv --mode assign --log-format json --quiet   # nightly
      iceberg run --input tickets.csv --dry-run
      iceberg run --input zendesk-tickets.json --source zendesk
      ICEBERG_DB_PASSWORD=... iceberg run --source sql --config db.toml   # [input] sql_url, sql_table
    """
    overrides = parse_assignments(list(assignments))
    if source is not None:
        overrides["input.source"] = source
    config = load_config(config_path, overrides)   # validated: exit 5 first
    if config.input.source == "sql" and input_path is not None:
        raise click.UsageError("--input is not read when the source is sql (input.sql_url and "
                               "sql_table or sql_query say what to read): leave it out")
    if config.input.source != "sql" and input_path is None:
        raise click.UsageError("missing --input: pass a ticket export, e.g. --input tickets.csv "
                               "(or read a database with --source sql)")
    _configure_logging(quiet, log_format)
    if not dry_run:   # before the heavy imports; ``run`` takes the lock itself
        from pipeline.store.lock import raise_if_locked

        raise_if_locked(out)
    from pipeline.run import run

    if input_path is not None and not input_path.exists():
        raise InputNotFound(f"input file {str(input_path)!r} not found; pass an existing CSV, JSONL "
                            "or Parquet export to --input")
    if dry_run:
        from pipeline.ops.dry_run import plan_text, run_plan

        click.echo(plan_text(run_plan(input_path, out, config, mode)))
        return
    result = run(input_path, out, config, progress=(not quiet) and sys.stderr.isatty(),
                 mode=mode, resume=resume)
    counts = result.manifest.counts
    inc = result.manifest.incremental
    changes = result.manifest.changes
    click.echo(f"Run {result.run_id} ({inc['mode']}): {counts.tickets:,} tickets "
               f"({counts.rows_quarantined:,} quarantined), {counts.icebergs:,} icebergs, "
               f"{counts.unclustered:,} tickets outside any iceberg.")
    click.echo(f"Changes: {changes['new']} new, {changes['growing']} growing, {changes['faded']} faded, "
               f"{changes['merged']} merged, {changes['split']} split; {changes['alerts']} alert(s) "
               "(iceberg diff).")
    click.echo(f"Results: {result.folder}")


@cli.command("show")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--run", "run_id", default=None, help="Run id (default: the latest finished run).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many icebergs to show, by rank.")
@click.option("--iceberg", "iceberg_id", default=None, metavar="ID",
              help="Show this one iceberg in full: its problem brief as text.")
@click.option("--tickets", is_flag=True, help="With --iceberg: also list every one of its tickets.")
def show_command(out: Path, run_id: str | None, top: int, iceberg_id: str | None, tickets: bool) -> None:
    """Print a run's top icebergs: what, where, who, since when, and why each ranks there.

    Each iceberg's rank line gives its score in its parts and what pushed it up; a
    curated name and status (dashboard curation) are shown when there is one.
    Boilerplate icebergs (courtesy such as "thanks" or auto-replies) are not shown among
    them; their ids are listed at the end.

    \b
    Examples:
      iceberg show
      iceberg show --out cfpb-out --top 5
      iceberg show --iceberg ICE-0042
      iceberg show --iceberg ICE-0042 --tickets | less
    """
    from pipeline.ops.summary import iceberg_detail, icebergs_summary
    from pipeline.store import load_run

    if tickets and iceberg_id is None:
        raise click.UsageError("--tickets lists one iceberg's tickets: add --iceberg ID")
    run = load_run(out, run_id)
    click.echo(iceberg_detail(run, iceberg_id, tickets=tickets) if iceberg_id else
               icebergs_summary(run, top=top))


@cli.command("report")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run (the run store).")
@click.option("--run", "run_id", default=None, help="Run id (default: the latest finished run).")
@click.option("--format", "fmt", required=True, metavar="FORMAT",
              help="csv, xlsx, md, html, jira, servicenow or zendesk.")
@click.option("--iceberg", "iceberg_ids", multiple=True, metavar="ID",
              help="Report this iceberg (repeatable); default: the --top best-ranked problems.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many icebergs, by rank, leaving out boilerplate and dismissed ones.")
@click.option("--output", "-o", "output", required=True, metavar="PATH",
              help="File or folder to write (a .zip holds several files); - for standard output "
                   "(md, html, jira, servicenow, zendesk).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="TOML file whose dashboard.url the briefs link to (else ICEBERG_DASHBOARD__URL, "
                   "else the run's setting).")
def report_command(out: Path, run_id: str | None, fmt: str, iceberg_ids: tuple[str, ...], top: int,
                   output: str, config_path: Path | None) -> None:
    """Export a run's icebergs: briefs for product managers, problem records for ops.

    csv: overview, evidence, timeline and tickets tables, one file each (a folder or a
    .zip); xlsx: one workbook; md: GitHub-flavoured Markdown; html: a self-contained brief
    that opens offline and prints cleanly (a folder: an index and one file per brief);
    jira: a CSV for Jira's issue importer; servicenow / zendesk: JSON for their APIs.
    Nothing is sent anywhere: ops imports the files (see README, "For product managers").

    \b
    Examples:
      iceberg report --format html -o brief.html
      iceberg report --format html --iceberg ICE-0042 -o ICE-0042.html
      iceberg report --format xlsx --top 20 -o icebergs.xlsx
      iceberg report --format csv -o report/          # or -o report.zip
      iceberg report --format md -o - | less
      iceberg report --format jira --out nightly-out -o jira-problems.csv
      iceberg report --format servicenow --iceberg ICE-0042 -o problem.json
      iceberg report --format md --config iceberg.toml -o brief.md   # [dashboard] url: deep links

    \b
    Exit codes: 0 written; 2 unknown format or iceberg id; 3 damaged run folder;
    7 no finished run; 8 the output cannot be written.
    """
    from pipeline.reports import check_format, render
    from pipeline.reports.output import STDOUT, wants_split, write_rendered
    from pipeline.store import load_run

    check_format(fmt)
    run = load_run(out, run_id)
    rendered = render(run, fmt, list(iceberg_ids) or None, top, split=wants_split(output),
                      dashboard_url=_dashboard_url(run.config, config_path))
    written = write_rendered(rendered, output)
    if output != STDOUT:
        click.echo(f"Wrote {', '.join(written)}")


@cli.command("diff")
@click.argument("run_a", required=False)
@click.argument("run_b", required=False)
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (changes.json's format).")
def diff_command(run_a: str | None, run_b: str | None, out: Path, as_json: bool) -> None:
    """What changed between two runs: new, growing, fading, merged and split icebergs, alerts.

    With no run ids: the latest run against the one before it (its changes.json). With
    RUN_A only: RUN_A against the latest run. With both: RUN_A against RUN_B.

    \b
    Examples:
      iceberg diff
      iceberg diff 20240301T020000Z-a1b2c3 --json
      iceberg diff RUN_A RUN_B --out nightly-out
    """
    import json

    from pipeline.ops.history import changes_between

    changes = changes_between(out, run_a, run_b).to_dict()
    if as_json:
        click.echo(json.dumps(changes, indent=2, default=str))
    else:
        from pipeline.ops.changes import changes_text

        click.echo(changes_text(changes))


@cli.group("runs")
def runs_group() -> None:
    """Run history, from the manifests under OUT/runs/.

    \b
    Examples:
      iceberg runs list
      iceberg runs show --out out
    """


@runs_group.command("list")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="Show at most this many runs, newest last.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
def runs_list_command(out: Path, limit: int, as_json: bool) -> None:
    """One line per run: id, status, mode, tickets, icebergs, changes, seconds.

    \b
    Examples:
      iceberg runs list --out out --limit 7
      iceberg runs list --json
    """
    import json

    from pipeline.ops.history import run_rows, runs_table

    rows = run_rows(out)[-limit:]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str))
    elif not rows:
        click.echo(f"no runs in {str(out)!r}")
    else:
        click.echo(runs_table(rows))


@runs_group.command("show")
@click.argument("run_id", required=False)
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
def runs_show_command(run_id: str | None, out: Path) -> None:
    """Print one run's manifest as JSON (default: the latest finished run).

    \b
    Examples:
      iceberg runs show
      iceberg runs show 20240301T020000Z-a1b2c3 --out nightly-out
    """
    import json

    from pipeline.ops.history import run_manifest

    click.echo(json.dumps(run_manifest(out, run_id).to_dict(), indent=2, default=str))


def _dashboard_url(run_config, config_path: Path | None, assignments: tuple[str, ...] = ()) -> str:
    """``dashboard.url`` as set now (TOML, ICEBERG_DASHBOARD__URL, --set), else as the run recorded it."""
    now = load_config(config_path, parse_assignments(list(assignments))).dashboard.url
    return now or run_config.dashboard.url


def _dimension_values(pairs: tuple[str, ...]) -> dict[str, str]:
    given = {}
    for pair in pairs:
        dimension, sep, value = pair.partition("=")
        if not sep or not dimension.strip():
            raise click.UsageError(f"--set takes DIMENSION=VALUE, e.g. --set platform=iOS; got {pair!r}")
        given[dimension.strip()] = value.strip()
    return given


@cli.command("lookup")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--run", "run_id", default=None, help="Run id (default: the latest finished run).")
@click.option("--text", default=None, help="The ticket's text, as the customer wrote it.")
@click.option("--ticket-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read the ticket's text from this file (- for standard input).")
@click.option("--customer", default=None, metavar="ID",
              help="The customer's id as the helpdesk shows it (an e-mail too): their earlier tickets.")
@click.option("--set", "dimension_values", multiple=True, metavar="DIMENSION=VALUE",
              help="A value of the ticket's, e.g. --set platform=iOS: how common it is in the nearest "
                   "iceberg (repeatable).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="TOML file whose dashboard.url the links use (else the run's own setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (the API's format).")
def lookup_command(out: Path, run_id: str | None, text: str | None, ticket_file: Path | None,
                   customer: str | None, dimension_values: tuple[str, ...], config_path: Path | None,
                   as_json: bool) -> None:
    """Is this ticket a one-off? Where it would land among a run's icebergs, and what this
    customer wrote before.

    The text is cleaned, redacted and embedded with the run's settings and model, exactly
    as the dashboard's look-up page does; the run's assign rule says whether it would join
    an iceberg. Nothing given is stored.

    \b
    Examples:
      iceberg lookup --text "my PIN got blocked after three wrong tries"
      iceberg lookup --text "card declined at the shop" --customer C432559 --set platform=iOS
      iceberg lookup --ticket-file ticket.txt --out nightly-out --json

    \b
    Exit codes: 0 answered; 2 no text, both --text and --ticket-file, or an unknown
    dimension; 5 the run's model cannot be loaded; 7 no finished run.
    """
    import json

    from pipeline.lookup import open_lookup
    from pipeline.lookup.text import answer_text
    from pipeline.store import load_run

    if (text is None) == (ticket_file is None):
        raise click.UsageError("give the ticket as --text TEXT or --ticket-file FILE (one of them)")
    if ticket_file is not None:
        text = (sys.stdin.read() if str(ticket_file) == "-" else
                ticket_file.read_text(encoding="utf-8", errors="replace"))
    given = _dimension_values(dimension_values)
    run = load_run(out, run_id)
    lookup = open_lookup(out, run.run_id, dashboard_url=_dashboard_url(run.config, config_path))
    answer = lookup(text or "", customer=customer, dimensions=given)
    click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if as_json else answer_text(answer))


@cli.command("serve")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--run", "run_id", default=None, help="Run id to answer from (default: the latest finished run).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; beyond localhost only with ICEBERG_API_TOKEN set.")
@click.option("--port", default=8502, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="TOML file with [serve] limits and dashboard.url.")
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a setting, e.g. --set serve.rate_per_minute=120 (repeatable).")
def serve_command(out: Path, run_id: str | None, host: str, port: int, config_path: Path | None,
                  assignments: tuple[str, ...]) -> None:
    """Serve the look-up as a JSON HTTP API, for a helpdesk sidebar app or a macro.

    POST /lookup answers what `iceberg lookup --json` prints; GET /icebergs/ID gives one
    iceberg; GET /openapi.json describes both. Requests need `Authorization: Bearer
    $ICEBERG_API_TOKEN` when the variable is set; without it the server binds to
    localhost only. The run and the model are loaded once, at start; nothing posted is
    stored or logged (only counts). Runs until Ctrl-C.

    \b
    Examples:
      iceberg serve --out out
      ICEBERG_API_TOKEN=$(openssl rand -hex 32) iceberg serve --host 0.0.0.0 --port 8502
      iceberg serve --out nightly-out --set serve.rate_per_minute=120
    """
    import uvicorn

    from pipeline.lookup import open_lookup
    from pipeline.serve import TOKEN_ENV, api_app, check_binding
    from pipeline.store import load_run

    config = load_config(config_path, parse_assignments(list(assignments)))
    token = os.environ.get(TOKEN_ENV, "")
    check_binding(host, token)
    _configure_logging(quiet=False)
    run = load_run(out, run_id)
    lookup = open_lookup(out, run.run_id, dashboard_url=config.dashboard.url or run.config.dashboard.url)
    lookup.embedder.encode(["warm up"])          # the first look-up is as quick as the next
    from dashboard.launch import dashboard_url as shown_url

    click.echo(f"Iceberg look-up API for {out} (run {run.run_id}): {shown_url(host, port)}  "
               f"(OpenAPI: /openapi.json; {'token required' if token else 'no token: localhost only'}; "
               "Ctrl-C to stop)")
    sys.stdout.flush()
    uvicorn.run(api_app(lookup, token=token, config=config.serve), host=host, port=port,
                log_level="warning", access_log=False, server_header=False)


@cli.command("dashboard")
@click.option("--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
              help="Output folder given to iceberg run.")
@click.option("--run", "run_id", default=None, help="Run id to open on (default: the latest finished run).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; 0.0.0.0 serves other machines too (set a password, see README).")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
def dashboard_command(out: Path, run_id: str | None, host: str, port: int) -> None:
    """Open the support leads' dashboard (Streamlit) on a run store, and print its URL.

    Runs `streamlit run dashboard/streamlit_app.py -- --out OUT [--run RUN_ID]` until
    Ctrl-C. It reads finished runs and writes only curation (OUT/curation.jsonl).

    \b
    Examples:
      iceberg dashboard
      iceberg dashboard --out cfpb-out --port 8600
      iceberg dashboard --run 20240301T020000Z-a1b2c3
      ICEBERG_DASHBOARD_PASSWORD=... iceberg dashboard --host 0.0.0.0
    """
    from dashboard.launch import dashboard_url, streamlit_argv, supervised

    where = " (on every interface)" if host in ("0.0.0.0", "::") else ""
    click.echo(f"Iceberg dashboard for {out}{where}: {dashboard_url(host, port)}  (Ctrl-C to stop)")
    sys.stdout.flush()
    code = supervised(streamlit_argv(out, run_id, host, port))   # never leaves Streamlit running
    if code not in (0, -2, -15, 130):
        raise click.exceptions.Exit(code)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        code = cli.main(args=argv, prog_name="iceberg", standalone_mode=False)
    except IcebergError as exc:
        click.echo(f"iceberg: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("iceberg: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:   # usage errors from click itself
        exc.show()
        return EXIT_USAGE
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
