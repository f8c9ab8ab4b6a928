"""``iceberg serve``: the look-up as a small JSON HTTP API (Starlette, served by uvicorn).

- ``POST /lookup`` — body ``{"text": …, "customer": …, "dimensions": {…}, "n_tickets": 10,
  "n_icebergs": 5}``; answers ``Answer.to_dict()`` (what ``iceberg lookup --json`` prints).
- ``GET /icebergs/{iceberg_id}`` — one iceberg of the run: figures, name, status, evidence.
- ``GET /health`` and ``GET /openapi.json`` — open without the token.

The run and the model are loaded once, before the server starts (``Lookup``); a look-up
runs in a worker thread, one at a time. Nothing posted is stored or logged: the server
keeps counts only (requests per status, look-ups), shown by ``/health`` and logged at exit.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipeline.config import ServeConfig
from pipeline.errors import UsageError
from pipeline.serve.guard import BodyTooLarge, RateLimit, limited_body, token_matches
from pipeline.serve.openapi import openapi_schema

log = logging.getLogger("iceberg")
MAX_TICKETS = 50
MAX_ICEBERGS = 20
FIELDS = {"text", "customer", "dimensions", "n_tickets", "n_icebergs"}


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def lookup_arguments(body: bytes) -> dict[str, Any]:
    """The look-up's arguments from a request body, checked; ``BadRequest`` names what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not JSON ({type(exc).__name__}: {exc}); send "
                         '{"text": "the ticket text"} with Content-Type: application/json') from None
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object such as {"text": "the ticket text"}')
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(FIELDS))}")
    text, customer, dims = data.get("text"), data.get("customer"), data.get("dimensions") or {}
    if not isinstance(text, str) or not text.strip():
        raise BadRequest('"text" must be the ticket\'s text (a non-empty string)', 422)
    if customer is not None and not isinstance(customer, str):
        raise BadRequest('"customer" must be a string (the customer id as the helpdesk shows it) or null', 422)
    if not isinstance(dims, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in dims.items()):
        raise BadRequest('"dimensions" must map dimension names to values, e.g. {"platform": "iOS"}', 422)
    counts = {}
    for name, default, most in (("n_tickets", 10, MAX_TICKETS), ("n_icebergs", 5, MAX_ICEBERGS)):
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise BadRequest(f'"{name}" must be a whole number from 1 to {most}', 422)
        counts[name] = value
    return {"text": text, "customer": customer, "dimensions": dims, **counts}


def api_app(lookup, *, token: str = "", config: ServeConfig | None = None) -> Starlette:
    """The API over ``lookup`` (a loaded ``pipeline.lookup.Lookup``)."""
    config = config or ServeConfig()
    rate = RateLimit(config.rate_per_minute)
    counts: Counter[str] = Counter()
    one_at_a_time = threading.Lock()

    def answer(arguments: dict) -> dict:
        with one_at_a_time:
            return lookup(arguments["text"], customer=arguments["customer"], dimensions=arguments["dimensions"],
                          n_icebergs=arguments["n_icebergs"], n_tickets=arguments["n_tickets"]).to_dict()

    def guarded(handler):
        async def endpoint(request: Request):
            client = request.client.host if request.client else "?"
            wait = rate.allow(client)
            if wait:
                response = _error(429, "too many requests from this address; retry later",
                                  {"Retry-After": str(max(1, math.ceil(wait)))})
            elif not token_matches(request.headers.get("authorization"), token):
                response = _error(401, "missing or wrong token: send Authorization: Bearer <ICEBERG_API_TOKEN>",
                                  {"WWW-Authenticate": "Bearer"})
            else:
                try:
                    response = await handler(request)
                except BadRequest as exc:
                    response = _error(exc.status, str(exc))
                except BodyTooLarge:
                    response = _error(413, f"the body is over {config.max_body_bytes:,} bytes "
                                           "(serve.max_body_bytes)")
                except UsageError as exc:
                    response = _error(422, str(exc))
                except Exception as exc:   # noqa: BLE001 — say nothing of what was posted
                    log.error("look-up API: %s in %s", type(exc).__name__, handler.__name__,
                              extra={"event": "serve_error"})
                    response = _error(500, "internal error")
            counts[f"http_{response.status_code}"] += 1
            return response
        return endpoint

    async def post_lookup(request: Request):
        arguments = lookup_arguments(await limited_body(request, config.max_body_bytes))
        body = await run_in_threadpool(answer, arguments)
        counts["lookups"] += 1
        return JSONResponse(body)

    async def get_iceberg(request: Request):
        found = lookup.iceberg(request.path_params["iceberg_id"])
        if found is None:
            raise BadRequest(f"no iceberg {request.path_params['iceberg_id']!r} in run {lookup.run_id}", 404)
        return JSONResponse(found)

    async def health(request: Request):
        return JSONResponse({"status": "ok", "run_id": lookup.run_id, "counts": dict(counts)})

    async def schema(request: Request):
        return JSONResponse(openapi_schema())

    @asynccontextmanager
    async def lifespan(app):
        yield
        log.info("look-up API stopped; served %s", dict(counts), extra={"event": "serve_counts",
                                                                          "counts": dict(counts)})

    app = Starlette(routes=[
        Route("/lookup", guarded(post_lookup), methods=["POST"]),
        Route("/icebergs/{iceberg_id}", guarded(get_iceberg), methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", schema, methods=["GET"]),
    ], lifespan=lifespan)
    app.state.counts = counts
    return app
