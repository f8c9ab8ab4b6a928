"""``iceberg serve`` over real HTTP: the CLI started as a user would (real model, the sample
run), called with httpx, and stopped — its whole process group — when the module ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jsonschema
import pytest

from conftest import ROOT, iceberg, stop_process_group
from pipeline.errors import EXIT_CONFIG
from pipeline.serve.guard import RateLimit, is_loopback, token_matches

TOKEN = "s3cret-token-for-the-tests"
MAX_BODY = 4096
PIN_TEXT = "my PIN got blocked after three wrong tries"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_run, tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "ICEBERG_API_TOKEN": TOKEN}
    printed = tmp_path_factory.mktemp("serve") / "printed.txt"
    sink = printed.open("w")
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--out", str(sample_run.out),
                                "--port", str(port), "--set", f"serve.max_body_bytes={MAX_BODY}",
                                "--set", "serve.rate_per_minute=100000",
                                "--set", "dashboard.url=https://iceberg.example.com"],
                               cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the API did not come up within 90 s:\n{printed.read_text()}")
        assert f"{url}/" in printed.read_text()
        yield url, printed
    finally:
        stop_process_group(process)
        sink.close()
    assert process.poll() is not None


@pytest.fixture
def client(server):
    url, _ = server
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        yield c


def _validator(name: str):
    from pipeline.serve import openapi_schema

    document = openapi_schema()
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", **document})


def test_a_lookup_names_the_pin_iceberg_and_matches_its_schema(client, sample_run):
    answer = client.post("/lookup", json={"text": PIN_TEXT, "dimensions": {"platform": "iOS"}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    _validator("LookupAnswer").validate(body)
    cli = json.loads(iceberg("lookup", "--out", str(sample_run.out), "--text", PIN_TEXT,
                             "--set", "platform=iOS", "--json").stdout)
    assert body["placed_in"] == cli["placed_in"] is not None
    assert [t["ticket_id"] for t in body["tickets"]] == [t["ticket_id"] for t in cli["tickets"]]
    assert body["icebergs"][0]["url"] == (f"https://iceberg.example.com/?iceberg={body['placed_in']}"
                                          f"&run={body['run_id']}")


def test_an_iceberg_by_id_and_an_unknown_one(client):
    placed = client.post("/lookup", json={"text": PIN_TEXT}).json()["placed_in"]
    found = client.get(f"/icebergs/{placed}")
    assert found.status_code == 200
    _validator("Iceberg").validate(found.json())
    assert found.json()["iceberg_id"] == placed and found.json()["evidence"]
    missing = client.get("/icebergs/ICE-9999")
    assert missing.status_code == 404 and "ICE-9999" in missing.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_a_missing_or_wrong_token_is_refused(server, headers):
    url, _ = server
    answer = httpx.post(f"{url}/lookup", json={"text": PIN_TEXT}, headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{url}/icebergs/ICE-0001", headers=headers).status_code == 401


def test_health_and_the_openapi_description_need_no_token(server):
    url, _ = server
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    document = httpx.get(f"{url}/openapi.json").json()
    assert document["openapi"].startswith("3.1") and {"/lookup", "/icebergs/{iceberg_id}"} <= set(document["paths"])
    jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"]["LookupAnswer"])


def test_an_oversized_body_is_refused(client):
    big = {"text": "card declined " * (MAX_BODY // 10)}
    assert client.post("/lookup", json=big).status_code == 413

    def chunks():          # no Content-Length: refused while it is read
        for _ in range(MAX_BODY // 512 + 2):
            yield b" " * 512

    answer = client.post("/lookup", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "serve.max_body_bytes" in answer.json()["error"]


@pytest.mark.parametrize("body, status, says", [
    (b'{"text": ', 400, "not JSON"),
    (b"\xff\xfe", 400, "not JSON"),
    (b'["a list"]', 400, "JSON object"),
    (b'{"txt": "typo"}', 400, "unknown field 'txt'"),
    (b'{"text": ""}', 422, '"text"'),
    (b'{"text": "x", "n_tickets": 0}', 422, "n_tickets"),
    (b'{"text": "x", "customer": 7}', 422, "customer"),
    (b'{"text": "x", "dimensions": {"colour": "red"}}', 422, "unknown dimension 'colour'"),
])
def test_a_malformed_body_gets_a_clear_error(client, body, status, says):
    answer = client.post("/lookup", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and says in answer.json()["error"], answer.text


def test_concurrent_requests_all_answer_the_same(server):
    url, _ = server
    texts = [PIN_TEXT, "my card payment was declined at the shop", "where is my top-up?"] * 10

    def ask(text):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
            answer = c.post("/lookup", json={"text": text, "customer": "C100000"})
            return answer.status_code, answer.json().get("placed_in"), text

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, texts))
    assert {status for status, _, _ in results} == {200}
    by_text = {}
    for _, placed, text in results:
        by_text.setdefault(text, set()).add(placed)
    assert all(len(placed) == 1 for placed in by_text.values())
    counts = httpx.get(f"{url}/health").json()["counts"]
    assert counts["lookups"] >= len(texts) and "http_500" not in counts


def test_nothing_posted_is_logged_or_stored(server, client, sample_run):
    marker = "unique-marker-zebra-quokka"
    before = sorted(p.name for p in sample_run.out.rglob("*"))
    assert client.post("/lookup", json={"text": f"my card broke {marker}", "customer": marker}).status_code == 200
    assert client.post("/lookup", content=f'{{"text": "{marker}'.encode()).status_code == 400
    assert sorted(p.name for p in sample_run.out.rglob("*")) == before
    _, printed = server
    assert marker not in printed.read_text()


def test_it_refuses_other_machines_without_a_token(sample_run):
    env_token = os.environ.pop("ICEBERG_API_TOKEN", None)
    try:
        process = iceberg("serve", "--out", str(sample_run.out), "--host", "0.0.0.0", timeout=60)
    finally:
        if env_token is not None:
            os.environ["ICEBERG_API_TOKEN"] = env_token
    assert process.returncode == EXIT_CONFIG and "ICEBERG_API_TOKEN" in process.stderr


def test_the_guards():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("example.com")
    assert token_matches(None, "") and token_matches("Bearer t", "t") and token_matches("bearer  t", "t")
    assert not token_matches("Bearer t2", "t") and not token_matches(None, "t") and not token_matches("t", "t")
    now = [0.0]
    limit = RateLimit(3, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(3)] == [0.0] * 3
    assert limit.allow("a") == pytest.approx(20.0) and limit.allow("b") == 0.0
    now[0] = 20.0
    assert limit.allow("a") == 0.0
    assert RateLimit(0).allow("a") == 0.0


def test_the_rate_limit_answers_429_with_retry_after():
    from starlette.testclient import TestClient

    from pipeline.config import ServeConfig
    from pipeline.serve import api_app

    class Stub:
        run_id = "r1"

        def iceberg(self, iceberg_id):
            return {"iceberg_id": iceberg_id}

    with TestClient(api_app(Stub(), config=ServeConfig(rate_per_minute=2))) as c:
        assert [c.get("/icebergs/ICE-1").status_code for _ in range(3)] == [200, 200, 429]
        assert int(c.get("/icebergs/ICE-1").headers["retry-after"]) >= 1
