"""Dashboard speed on a 100,000-ticket run, measured in headless Chromium (not a test).

The run is built once and kept in ``bench/results/dashboard-100k/`` (git-ignored): the
export from real texts (``bench/dashboard_data.py``: Banking77 and CFPB narratives, with
the perturbations and metadata its docstring states), then ``iceberg run`` on it —
minutes on two cores, so it is reused when it is there (``--rebuild`` to start over).

Then ``iceberg dashboard`` serves it and Playwright drives Debian's ``/usr/bin/chromium``
through each page once to warm the server (caches filled, model not involved), then
``--repeat`` times more, reporting the median of:

- *overview*: from navigation until the KPI tiles and the ranked table are drawn and the
  script has finished;
- *filter change*: from picking a trend in the filter until the re-ranked table's heading
  shows the new count and the script has finished;
- *detail*: ``/?iceberg=ID`` for an iceberg not opened before, until "Who is affected?"
  is drawn and the script has finished;
- *map*: ``/map`` until the WebGL canvas of 10,000 sampled points is drawn;

and the server's resident memory (the Streamlit process) after all of them. Targets
(issue #11): overview ≤ 3 s, filter ≤ 1 s, detail ≤ 2 s, map ≤ 3 s.

    python bench/dashboard.py                    # builds the run the first time
    python bench/dashboard.py --repeat 5 --json bench/results/dashboard.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import shared_data  # noqa: E402

FOLDER = REPO / "bench" / "results" / "dashboard-100k"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
TARGETS = {"overview_s": 3.0, "filter_s": 1.0, "detail_s": 2.0, "map_s": 3.0}
WAIT_MS = 300_000



def built_run(folder: Path, data: Path, n_tickets: int, rebuild: bool) -> Path:
    """``folder/out`` with a finished run of the export; built when missing."""
    out = folder / "out"
    if not rebuild and (out / "latest").is_file():
        return out
    from bench.dashboard_data import dashboard_export

    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "tickets.csv"
    if rebuild or not export.is_file():
        print(f"building the {n_tickets:,}-ticket export from {data} …", flush=True)
        tickets, truth = dashboard_export(data, n_tickets=n_tickets)
        tickets.to_csv(export, index=False)
        (folder / "tickets.truth.json").write_text(json.dumps(truth, default=str))
    print("running the pipeline on it (minutes) …", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", str(export), "--out", str(out),
                    "--mode", "full", "--quiet"], cwd=REPO, check=True)
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settled(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=WAIT_MS)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=WAIT_MS)


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(url: str, out: Path, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    from pipeline.schemas import IcebergCols
    from pipeline.store import load_run

    icebergs = load_run(out).icebergs
    ids = icebergs.sort_values(IcebergCols.rank)[IcebergCols.iceberg_id].tolist()
    problems = icebergs[~icebergs[IcebergCols.boilerplate].fillna(False).astype(bool)]
    expected = problems[IcebergCols.trend].value_counts().to_dict()
    trends = [t for t in ("growing", "fading", "new", "stable") if t in expected]
    timings: dict[str, list[float]] = {k: [] for k in TARGETS}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def overview():
            page.goto(url)
            page.get_by_text("most important first").wait_for(timeout=WAIT_MS)
            page.locator("[data-testid='stDataFrame']").last.wait_for(timeout=WAIT_MS)
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=WAIT_MS)
            _settled(page)

        def filter_change(trend: str):
            page.locator("[data-testid='stMultiSelect']").nth(1).click()
            page.get_by_role("option", name=trend, exact=True).click()
            page.keyboard.press("Escape")   # the multiselect commits when its list closes
            page.get_by_text(f"{expected[trend]:,} icebergs, most important first").wait_for(timeout=WAIT_MS)
            _settled(page)

        def detail(iceberg_id: str):
            page.goto(f"{url}?iceberg={iceberg_id}")
            page.get_by_role("heading", name="Who is affected?").wait_for(timeout=WAIT_MS)
            _settled(page)

        def map_page():
            page.goto(url + "map")
            page.locator("[data-testid='stPlotlyChart'] canvas").first.wait_for(timeout=WAIT_MS)
            _settled(page)

        overview(), filter_change(trends[0]), detail(ids[-1]), map_page()   # warm-up
        for i in range(repeat):
            timings["overview_s"].append(_timed(overview))
            timings["filter_s"].append(_timed(lambda: filter_change(trends[i % len(trends)])))
            timings["detail_s"].append(_timed(lambda: detail(ids[i % (len(ids) - 1)])))
            timings["map_s"].append(_timed(map_page))
        browser.close()
    return {k: round(statistics.median(v), 2) for k, v in timings.items()} | {
        f"{k}_all": [round(x, 2) for x in v] for k, v in timings.items()}


def server_memory_mb(pid: int) -> float:
    import psutil

    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return round(max(p.memory_info().rss for p in processes) / 2**20, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=shared_data(), help="folder with banking77/ and cfpb_complaints/")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the export and its run are kept")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="build the export and run again")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} missing: run scripts/install-chromium.sh", file=sys.stderr)
        return 2
    try:
        out = built_run(args.folder, args.data, args.tickets, args.rebuild)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    from pipeline.store import load_run

    run = load_run(out)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICEBERG_DASHBOARD_")}
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "dashboard", "--out", str(out), "--port", str(port)],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                with urlopen(url + "_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        results = measure(url, out, args.repeat)
        results["server_rss_mb"] = server_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results.update(tickets=run.manifest.counts.tickets, icebergs=run.manifest.counts.icebergs, run_id=run.run_id,
                   load_average=[round(x, 2) for x in os.getloadavg()])
    print(f"\n{results['tickets']:,} tickets, {results['icebergs']} icebergs (run {results['run_id']})")
    print(f"{'page':<10} {'median s':>9} {'target s':>9}  all")
    for key, target in TARGETS.items():
        print(f"{key[:-2]:<10} {results[key]:>9.2f} {target:>9.1f}  {results[key + '_all']}")
    print(f"server memory (RSS): {results['server_rss_mb']:,.0f} MB; load average {results['load_average']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
