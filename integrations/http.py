"""The one HTTP seam to providers: timeouts on every call and a log line per attempt.

Log lines carry the method, host, path, status and duration — never query strings,
bodies or headers, and path segments long enough to be tokens are masked — and the
correlation id of the message the call is made for.
"""

import logging
import os
import threading
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session

from octopods import metrics

logger = logging.getLogger("integrations.http")

# Segments this long are credentials (HubSpot puts tokens in paths), not resource ids.
_SECRET_SEGMENT_LENGTH = 32


def loggable_url(url: str) -> str:
    parts = urlsplit(url)
    path = "/".join(
        "…" if len(segment) >= _SECRET_SEGMENT_LENGTH else segment
        for segment in parts.path.split("/")
    )
    return f"{parts.netloc}{path}"


class _Seam:
    """Mixed into requests sessions: a default timeout, and one log line per call."""

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = settings.PROVIDER_HTTP_TIMEOUT
        started = time.monotonic()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as error:
            logger.warning(
                "provider call failed: %s %s after %.0f ms: %s",
                method,
                loggable_url(url),
                (time.monotonic() - started) * 1000,
                type(error).__name__,
            )
            metrics.provider_call(method, url, time.monotonic() - started, error)
            raise
        elapsed = (time.monotonic() - started) * 1000
        # The correlation id of the message this call is for rides on the record
        # (octopods/logs.py); these fields make the line searchable as JSON.
        logger.info(
            "provider call: %s %s -> %s in %.0f ms",
            method,
            loggable_url(url),
            response.status_code,
            elapsed,
            extra={"status": response.status_code, "duration_ms": round(elapsed)},
        )
        metrics.provider_call(method, url, time.monotonic() - started, response.status_code)
        return response


# Hosts whose connections are kept, and connections kept per host: as many as the
# relay has threads calling one provider at once (RELAY_THREADS), with room to spare.
POOL_HOSTS = 32
POOL_PER_HOST = 64


class _SharedAdapter(HTTPAdapter):
    """The process's one connection pool (urllib3's pool manager is thread-safe)."""

    def close(self):
        # A session closing (or collected) must not close every session's connections.
        pass


_pool_lock = threading.Lock()
_pool: tuple[int, HTTPAdapter] | None = None


def shared_adapter() -> HTTPAdapter:
    """The connection pool every provider session of this process uses, so a
    provider's connections stay open between calls (HTTP keep-alive) rather than a TCP
    and TLS handshake per call. A forked child starts a pool of its own: sockets are
    not shared across processes."""
    global _pool
    pid = os.getpid()
    with _pool_lock:
        if _pool is None or _pool[0] != pid:
            _pool = (
                pid,
                _SharedAdapter(
                    pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST, max_retries=0
                ),
            )
        return _pool[1]


def reset_pool() -> None:
    """Close the process's kept connections; the next call opens anew (the tests, so
    that no test talks to a server thread a test before it kept open)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        HTTPAdapter.close(pool[1])


class ProviderSession(_Seam, requests.Session):
    """A session with its own headers, auth and cookies, over the shared pool."""

    def __init__(self):
        super().__init__()
        adapter = shared_adapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)


def _raise_for_status(response):
    # oauthlib reads any body as a token answer; an HTTP error must stay one, so the
    # provider's own error mapping sees its status and body.
    response.raise_for_status()
    return response


class ProviderOAuth2Session(_Seam, OAuth2Session):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adapter = shared_adapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.register_compliance_hook("access_token_response", _raise_for_status)
        self.register_compliance_hook("refresh_token_response", _raise_for_status)
