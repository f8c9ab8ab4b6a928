"""The dashboard in a real browser: ``iceberg dashboard`` served, headless Debian Chromium
driven by Playwright, on the runs of ``dashboard_store`` (real pipeline, sample data).

One server for the module. Pages are waited for as Streamlit's own e2e suite does (the
app connected, its script not running). Screenshots go to tests/screenshots/ (git-ignored).
Skipped when /usr/bin/chromium is missing (``make test`` installs it: scripts/install-chromium.sh).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from conftest import ROOT, SAMPLE_TRUTH, stop_process_group
from dashboard_fixtures import RENAMED, XSS_NAME
from pipeline.schemas import IcebergCols as I
from pipeline.schemas import TicketCols as T
from pipeline.store import load_run

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOTS = ROOT / "tests" / "screenshots"
WAIT_MS = 180_000

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian chromium missing: run scripts/install-chromium.sh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(dashboard_store):
    """``iceberg dashboard`` in a process group of its own, so the teardown stops the CLI and
    the Streamlit server it started — whatever happened while it came up."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICEBERG_DASHBOARD_")}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "dashboard", "--out", str(dashboard_store.out),
                                "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        first_line = process.stdout.readline()
        assert url in first_line, first_line
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urlopen(url + "_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not come up within 120 s")
        yield url
    finally:
        stop_process_group(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def settled(page) -> None:
    """Wait until the app is connected and its script has finished (twice: a rerun may follow)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=WAIT_MS)
    for _ in range(2):
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=WAIT_MS)
        page.wait_for_timeout(500)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_from_the_overview_to_the_top_icebergs_where_what_and_who(server, page, dashboard_store):
    page.goto(server)
    settled(page)
    page.get_by_text(f"#1 {RENAMED}").wait_for(timeout=WAIT_MS)
    shot(page, "overview")
    page.get_by_role("link", name="Open its where / what caused / who").click()
    settled(page)
    page.get_by_role("heading", name="Who is affected?").wait_for(timeout=WAIT_MS)
    assert "/iceberg" in page.url and dashboard_store.renamed_id in page.url
    shot(page, "detail")

    run = load_run(dashboard_store.out)
    row = run.icebergs.set_index(I.iceberg_id).loc[dashboard_store.renamed_id]
    evidence = run.evidence(dashboard_store.renamed_id).iloc[0]
    text = main_text(page)
    assert RENAMED in text
    # where: the top evidence row's shares; what caused: the onset; who: customers and agents
    assert (f"{evidence['share']:.0%} of its tickets have {evidence['dimension']}={evidence['value']}, "
            f"against {evidence['baseline_share']:.0%} of all tickets") in text
    assert f"started on {row[I.onset]}" in text
    assert f"{row[I.n_customers]:,}" in page.locator("[data-testid='stMetric']").all_inner_texts()[1]
    assert f"Seen by {row[I.n_agents]} agents, none more than {row[I.max_tickets_per_agent]} times." in text
    assert not page.dialogs


def test_the_lookup_puts_a_planted_problems_ticket_in_its_iceberg(server, page, dashboard_store):
    truth = json.loads(SAMPLE_TRUTH.read_text())
    planted = next(p for p in truth["planted"] if p["intent"] == "unable_to_verify_identity")
    tickets = load_run(dashboard_store.out).tickets.set_index(T.ticket_id)
    holder = tickets.loc[planted["ticket_ids"], T.iceberg_id].mode().iloc[0]
    page.goto(server + "lookup")
    settled(page)
    page.locator("[data-testid='stTextArea'] textarea").fill(tickets.at[planted["ticket_ids"][-2], T.text])
    page.get_by_role("button", name="Look it up").click()
    page.get_by_text("Not a one-off").wait_for(timeout=WAIT_MS)
    settled(page)
    assert f"would put it in {holder}" in page.locator("[data-testid='stAlert']").first.inner_text()
    shot(page, "lookup")


def test_hostile_text_never_runs(server, page, dashboard_store):
    run = load_run(dashboard_store.out)
    tickets = run.tickets.set_index(T.ticket_id)
    hostile = tickets.loc[dashboard_store.xss_ticket_ids]
    holder = hostile[T.iceberg_id].dropna().mode()
    visits = [server, server + f"?iceberg={dashboard_store.xss_named_id}", server + "map", server + "runs"]
    if len(holder):
        visits.append(server + f"?iceberg={holder.iloc[0]}")
    for url in visits:
        page.goto(url)
        settled(page)
        page.mouse.move(700, 500)   # hover the map / tables
        page.wait_for_timeout(300)
    page.goto(server + f"?iceberg={dashboard_store.xss_named_id}")
    settled(page)
    assert XSS_NAME in page.locator("h1").first.inner_text()       # the curated name, literally
    page.goto(server + "lookup")
    settled(page)
    # Entity-escaped, as exports write it: cleaning turns it into literal markup, which must show as text.
    pasted = "card declined &lt;script&gt;alert(2)&lt;/script&gt; [x](javascript:alert(3)) &lt;img src=x onerror=alert(1)&gt;"
    page.locator("[data-testid='stTextArea'] textarea").fill(pasted)
    page.get_by_role("button", name="Look it up").click()
    page.get_by_text("As the pipeline prepared it").wait_for(timeout=WAIT_MS)
    settled(page)
    prepared = page.get_by_text("As the pipeline prepared it").inner_text()
    for literal in ("<script>alert(2)</script>", "[x](javascript:alert(3))", "<img src=x onerror=alert(1)>"):
        assert literal in prepared
    assert page.locator("script:has-text('alert(2)')").count() == 0
    shot(page, "xss")
    assert not page.dialogs, page.dialogs


def test_the_map_draws_with_webgl(server, page):
    page.goto(server + "map")
    settled(page)
    page.locator("[data-testid='stPlotlyChart'] canvas").first.wait_for(timeout=WAIT_MS)
    shot(page, "map")
    assert page.locator("[data-testid='stPlotlyChart'] .gl-container canvas, [data-testid='stPlotlyChart'] canvas").count() >= 1
