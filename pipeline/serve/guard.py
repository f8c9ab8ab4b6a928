"""What stands before every request of ``iceberg serve``: the token, the rate limit, the
body size. Plain functions and one small class, no framework.

- The token (``ICEBERG_API_TOKEN``) is compared in constant time (``hmac.compare_digest``)
  with the request's ``Authorization: Bearer …``; a server bound beyond the loopback
  interface refuses to start without one (``check_binding``).
- The rate limit is a token bucket per client address: ``rate_per_minute`` requests a
  minute, as a burst or spread out.
- A body over ``max_body_bytes`` is refused (413) from its ``Content-Length`` and, when it
  has none, while it is being read.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time

from pipeline.errors import ConfigError

TOKEN_ENV = "ICEBERG_API_TOKEN"
MAX_CLIENTS = 10_000      # buckets kept; the oldest go first


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str) -> None:
    """Refuse to serve other machines without a token."""
    if not token and not is_loopback(host):
        raise ConfigError(f"iceberg serve --host {host} would answer other machines without a token: set "
                          f"{TOKEN_ENV} (e.g. {TOKEN_ENV}=$(openssl rand -hex 32)) or bind to 127.0.0.1")


def token_matches(header: str | None, token: str) -> bool:
    """Whether ``header`` (the request's Authorization) carries ``token``; any header when no token is set."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class RateLimit:
    """A token bucket per client: ``per_minute`` requests, refilled continuously; 0 = no limit."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when ``client`` may go on; else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now, rate = self._clock(), self.per_minute / 60.0
        with self._lock:
            tokens, since = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - since) * rate)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.pop(next(iter(self._buckets)))
        return 0.0 if allowed else (1.0 - tokens) / rate


class BodyTooLarge(Exception):
    pass


async def limited_body(request, max_bytes: int) -> bytes:
    """The request's body, or ``BodyTooLarge`` as soon as it is over ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
