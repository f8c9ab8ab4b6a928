"""``iceberg serve`` under load: look-up latency warm, then many clients at once.

Starts ``iceberg serve`` on a run store (a subprocess, its own process group, stopped at
the end whatever happens), warms it, then

1. latency: ``--requests`` look-ups one after another (real ticket texts of the run, each
   with its customer) — median and p95 in milliseconds;
2. load: ``--clients`` clients posting look-ups back to back for ``--seconds`` s — requests,
   errors (anything but HTTP 200), throughput, median/p95 latency under load, and the
   server's resident memory before and after (bounded memory: it should not grow).

    python bench/serve.py --out out [--requests 200] [--clients 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.store import load_run  # noqa: E402

TOKEN = "bench-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bodies(out: str, n: int) -> list[dict]:
    tickets = load_run(out).tickets.sample(n=n, replace=True, random_state=0)
    customers = tickets["customer_id"] if "customer_id" in tickets else [None] * len(tickets)
    return [{"text": t, "customer": None if c is None else str(c)} for t, c in zip(tickets["text"], customers)]


def start(out: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "ICEBERG_API_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--out", out, "--port", str(port),
                                "--set", "serve.rate_per_minute=0"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise SystemExit(f"iceberg serve exited with {process.returncode}")
    stop(process)
    raise SystemExit("iceberg serve did not come up within 120 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    port = _free_port()
    samples = bodies(args.out, max(args.requests, 500))
    process = start(args.out, port)
    url = f"http://127.0.0.1:{port}/lookup"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(headers=headers, timeout=60) as client:
            for body in samples[:10]:                          # warm
                client.post(url, json=body).raise_for_status()
            latencies = []
            for body in samples[:args.requests]:
                started = time.perf_counter()
                client.post(url, json=body).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
        tickets = load_run(args.out).manifest.counts.tickets
        print(f"run: {args.out} ({tickets:,} tickets)")
        print(f"latency, one client, {len(latencies)} look-ups: median {statistics.median(latencies):.1f} ms, "
              f"p95 {percentile(latencies, 0.95):.1f} ms")

        rss_before = rss_mb(process.pid)
        stop_at = time.monotonic() + args.seconds
        under_load: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client_loop(index: int) -> None:
            with httpx.Client(headers=headers, timeout=120) as client:
                i = index
                while time.monotonic() < stop_at:
                    body = samples[i % len(samples)]
                    i += args.clients
                    started = time.perf_counter()
                    try:
                        answer = client.post(url, json=body)
                        failed = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
                    except httpx.HTTPError as exc:
                        failed = type(exc).__name__
                    with lock:
                        (errors.append(failed) if failed else
                         under_load.append((time.perf_counter() - started) * 1000))

        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        rss_after = rss_mb(process.pid)
        done = len(under_load) + len(errors)
        print(f"load, {args.clients} clients × {args.seconds:g} s: {done:,} requests, {len(errors)} errors, "
              f"{done / elapsed:.1f} req/s; latency median {statistics.median(under_load):.0f} ms, "
              f"p95 {percentile(under_load, 0.95):.0f} ms; server RSS {rss_before:.0f} → {rss_after:.0f} MB")
    finally:
        stop(process)
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
