"""Prometheus metrics: what Octopods counts, and where a scraper reads it.

The web process answers ``/metrics`` (octopods/wsgi.py, before Django: no host check,
no https redirect, which a scraper talking to a pod over plain http would trip on) to a
request carrying ``Authorization: Bearer <METRICS_TOKEN>``; without METRICS_TOKEN it is
off and Django answers the path as any other (404). gunicorn's workers are separate
processes, so under gunicorn every process writes its counters to files in
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes and clears it) and a scrape adds them
up. A Celery worker serves its own on METRICS_PORT (``worker_exporter_start``).

Label values come from short fixed sets only — channel kinds, inbox providers,
directions, outcomes, route names, templated provider paths — never an id, a webhook
key or a token: each value is a time series for as long as Prometheus keeps it.
"""

import hmac
import logging
import os
import re
import threading
import time
from functools import lru_cache, wraps
from urllib.parse import urlsplit

# prometheus_client picks its way of storing values (in memory, or in files shared by
# a server's processes) when it is first imported, from this variable.
if _multiprocess_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(_multiprocess_dir, exist_ok=True)

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

PATHS = frozenset({"/metrics", "/metrics/"})

WEBHOOKS = Counter(
    "octopods_webhooks",
    "Webhook requests answered, by channel kind or inbox provider and outcome.",
    ["kind", "outcome"],
)
MESSAGES_STORED = Counter(
    "octopods_messages_stored",
    "Messages stored from webhooks: customers' (in) and agents' replies (out). A "
    "provider's redelivery of a message is counted again; its row is stored once.",
    ["direction", "kind"],
)
MESSAGES_RELAYED = Counter(
    "octopods_messages_relayed",
    "Messages the relay delivered: into the inbox (in) or out on the channel (out).",
    ["direction", "kind"],
)
MESSAGES_FAILED = Counter(
    "octopods_messages_failed",
    "Messages the relay gave up on (refused for good, or out of attempts).",
    ["direction", "kind"],
)
RELAY_ATTEMPTS = Counter(
    "octopods_relay_attempts", "Relay attempts started (a call to a provider).", ["direction"]
)
RELAY_BACKOFFS = Counter(
    "octopods_relay_backoffs",
    "Attempts that failed for now: the message waits and is tried again later.",
    ["direction"],
)
PROVIDER_SECONDS = Histogram(
    "octopods_provider_call_seconds",
    "Calls to providers' APIs (integrations/http.py), by provider, method and templated "
    "path, answered or not.",
    ["provider", "method", "endpoint"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PROVIDER_ERRORS = Counter(
    "octopods_provider_call_errors",
    "Provider calls that failed: the HTTP status (4xx, 5xx) or the error that stopped "
    "the call (Timeout, ConnectionError, ...).",
    ["provider", "method", "endpoint", "reason"],
)
REQUEST_SECONDS = Histogram(
    "octopods_http_request_seconds",
    "Requests served by the web process, by route name and status class.",
    ["route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Computed at scrape time by BacklogCollector.
BACKLOG = "octopods_relay_backlog_messages"
OLDEST_DUE = "octopods_relay_oldest_due_age_seconds"
WAITING = "octopods_relay_waiting_messages"
BACKLOG_UP = "octopods_relay_backlog_query_ok"


def metric_names() -> set[str]:
    """Every series name this module can export (what the dashboard may query)."""
    names = {BACKLOG, OLDEST_DUE, WAITING, BACKLOG_UP}
    for metric in (WEBHOOKS, MESSAGES_STORED, MESSAGES_RELAYED, MESSAGES_FAILED):
        names.add(metric._name + "_total")
    for metric in (RELAY_ATTEMPTS, RELAY_BACKOFFS, PROVIDER_ERRORS):
        names.add(metric._name + "_total")
    for metric in (PROVIDER_SECONDS, REQUEST_SECONDS):
        names.update(metric._name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


DIRECTIONS = {"in": "in", "out": "out"}


def _children(metric):
    """``metric.labels(...)`` memoised: a label lookup takes a lock and builds a key,
    which the webhook path need not pay for on every request."""
    cache: dict = {}

    def child(*values):
        found = cache.get(values)
        if found is None:
            found = cache[values] = metric.labels(*values)
        return found

    return child


_webhook = _children(WEBHOOKS)
_stored = _children(MESSAGES_STORED)
_relayed = _children(MESSAGES_RELAYED)
_failed = _children(MESSAGES_FAILED)
_attempt = _children(RELAY_ATTEMPTS)
_backoff = _children(RELAY_BACKOFFS)
_request = _children(REQUEST_SECONDS)
_provider_seconds = _children(PROVIDER_SECONDS)
_provider_errors = _children(PROVIDER_ERRORS)


# --- webhooks -------------------------------------------------------------------------

_OUTCOMES = {
    200: "accepted",
    400: "malformed",
    403: "rejected_signature",
    404: "unknown_channel",
    405: "wrong_method",
    413: "too_large",
    503: "unavailable",
}


@lru_cache(maxsize=1)
def _webhook_kinds() -> frozenset:
    from integrations.registry import CHANNELS
    from workspaces.models import Provider

    return frozenset(CHANNELS) | frozenset(Provider.values)


def _outcome(method: str, status: int) -> str:
    if method != "POST":
        # Meta's GET handshake, Intercom's HEAD check of the URL.
        return {200: "verified", 403: "verify_refused"}.get(status) or _OUTCOMES.get(
            status, f"{status // 100}xx"
        )
    return _OUTCOMES.get(status) or f"{status // 100}xx"


_webhook_outcomes: dict = {}


def _webhook_child(kind: str, method: str, status: int):
    """The counter child for one answer, found in one dict lookup after its first."""
    key = (kind, method, status)
    child = _webhook_outcomes.get(key)
    if child is None:
        if kind not in _webhook_kinds():
            kind = "unknown"
        child = _webhook_outcomes[key] = _webhook(kind, _outcome(method, status))
    return child


def webhook_counted(view):
    """Count each answer of a webhook view by kind (the URL's ``kind`` or ``provider``,
    if it is one we have; ``unknown`` otherwise) and outcome (from its status)."""
    from django.http import Http404

    @wraps(view)
    def counted(request, *args, **kwargs):
        kind = kwargs.get("kind") or kwargs.get("provider") or ""
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            _webhook_child(kind, request.method, 404).inc()
            raise
        _webhook_child(kind, request.method, response.status_code).inc()
        return response

    return counted


_inbound_message = None


def messages_stored(kind: str, events) -> None:
    """A channel webhook's customer messages, once stored."""
    global _inbound_message
    if _inbound_message is None:
        from integrations.channel import InboundMessage

        _inbound_message = InboundMessage
    count = 0
    for event in events:
        if type(event) is _inbound_message or isinstance(event, _inbound_message):
            count += 1
    if count:
        _stored("in", kind).inc(count)


def replies_stored(kind: str, count: int) -> None:
    """Agents' replies from an inbox webhook, stored to go out on a channel of ``kind``."""
    _stored("out", kind).inc(count)


# --- the relay --------------------------------------------------------------------------


def relayed(kind: str, direction: str, count: int = 1) -> None:
    if count:
        _relayed(DIRECTIONS[direction], kind).inc(count)


def failed(kind: str, direction: str, count: int = 1) -> None:
    if count:
        _failed(DIRECTIONS[direction], kind).inc(count)


def attempt(direction: str) -> None:
    _attempt(DIRECTIONS[direction]).inc()


def backoff(direction: str) -> None:
    _backoff(DIRECTIONS[direction]).inc()


# --- provider calls ---------------------------------------------------------------------

# Each inbox provider's API base setting; a call under one of them is that provider's.
# The channel providers' come from the registry.
_PROVIDER_BASES = {
    "INTERCOM_API_URL": "intercom",
    "HUBSPOT_API_URL": "hubspot",
}
# Anything else (OAuth token endpoints, media downloads) by its host.
_PROVIDER_HOSTS = (
    ("intercom.io", "intercom"),
    ("hubapi.com", "hubspot"),
    ("hubspot.com", "hubspot"),
)


@lru_cache(maxsize=1)
def _provider_bases() -> dict[str, str]:
    from integrations.registry import channel_apis

    return _PROVIDER_BASES | {api.setting: api.provider for api in channel_apis()}


@lru_cache(maxsize=1)
def _provider_hosts() -> tuple[tuple[str, str], ...]:
    from integrations.registry import channel_apis

    channel_hosts = tuple((host, api.provider) for api in channel_apis() for host in api.hosts)
    return _PROVIDER_HOSTS + channel_hosts


def provider_endpoint(url: str) -> tuple[str, str]:
    """(provider, templated path) of a provider call: every segment that could be an
    id or a credential (digits, long, or hex-like) becomes ``:id``."""
    from django.conf import settings

    best = ""
    provider = ""
    for name, candidate in _provider_bases().items():
        base = str(getattr(settings, name, "")).rstrip("/")
        if base and len(base) > len(best) and (url == base or url.startswith(base + "/")):
            best, provider = base, candidate
    if provider:
        path = urlsplit("http://x" + url[len(best) :]).path
    else:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        provider = next(
            (name for suffix, name in _provider_hosts() if host.endswith(("." + suffix, suffix))),
            "other",
        )
        path = parts.path
    return provider, endpoint_template(path)


_WORD = re.compile(r"[A-Za-z][A-Za-z_.\-]*\Z")
_VERSION = re.compile(r"(v\d{1,2}(\.\d{1,2})?|\d{4}-\d{2}-\d{2})\Z")
_HEXISH = re.compile(r"[A-Fa-f\-]{8,}\Z")
_LONGEST_WORD = 32
_MOST_SEGMENTS = 8


@lru_cache(maxsize=2048)
def endpoint_template(path: str) -> str:
    segments = []
    for segment in path.split("/")[1 : _MOST_SEGMENTS + 1]:
        if (
            not segment
            or _VERSION.match(segment)
            or (
                len(segment) <= _LONGEST_WORD
                and _WORD.match(segment)
                and not _HEXISH.match(segment)
            )
        ):
            segments.append(segment)
        else:
            segments.append(":id")
    return "/" + "/".join(segments)


def provider_call(method: str, url: str, seconds: float, outcome) -> None:
    """One call through the provider seam: ``outcome`` is the HTTP status, or the
    exception that ended the call."""
    try:
        provider, endpoint = provider_endpoint(url)
        method = method.upper() if method.upper() in _METHODS else "OTHER"
        _provider_seconds(provider, method, endpoint).observe(seconds)
        if isinstance(outcome, BaseException):
            reason = type(outcome).__name__
        elif outcome >= 400:
            reason = str(outcome) if outcome == 429 else f"{outcome // 100}xx"
        else:
            return
        _provider_errors(provider, method, endpoint, reason).inc()
    except Exception:  # counting must never be why a call to a provider failed
        logger.exception("provider call not counted")


_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})


# --- web requests -----------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Time every request, labelled by its route's name (``channels:webhook``) rather
    than its path, which holds ids and webhook keys."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        key = (match.view_name if match is not None else None, response.status_code)
        child = _routes.get(key)
        if child is None:
            route = (match.view_name or "unnamed") if match is not None else "unmatched"
            status = _STATUS_CLASSES.get(response.status_code // 100, "other")
            child = _routes[key] = _request(route, status)
        child.observe(time.perf_counter() - started)
        return response


_routes: dict = {}


_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


# --- the backlog, read at scrape time ------------------------------------------------------


class BacklogCollector:
    """What the relay still owes, per inbox provider and direction, in one query:
    messages due now (relay/backlog.py's waiting statuses, no later retry time set),
    the age of the oldest of them, and everything waiting (backing off included)."""

    def collect(self):
        from django.db import DatabaseError
        from django.db.models import Count, Min, Q
        from django.utils import timezone

        from channels.models import Direction, Message
        from relay.backlog import WAITING_STATUS, waiting_filter
        from workspaces.models import Provider

        now = timezone.now()
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        labels = ["inbox", "direction"]
        backlog = GaugeMetricFamily(BACKLOG, "Messages due for the relay now.", labels=labels)
        oldest = GaugeMetricFamily(
            OLDEST_DUE,
            "Seconds since the oldest message due for the relay was stored (0: none due).",
            labels=labels,
        )
        waiting = GaugeMetricFamily(
            WAITING, "Messages not yet relayed, due or backing off.", labels=labels
        )
        ok = GaugeMetricFamily(BACKLOG_UP, "1 when the backlog could be read at this scrape.")
        try:
            rows = list(
                # The status list as the sweeper's partial index (message_due) names it,
                # so the query reads that index: waiting rows only, never the history.
                Message.objects.filter(status__in=list(WAITING_STATUS.values()))
                .filter(waiting_filter(WAITING_STATUS))
                .order_by()
                .values("channel__workspace__provider", "direction")
                .annotate(
                    waiting=Count("pk"),
                    due=Count("pk", filter=due),
                    oldest=Min("created_at", filter=due),
                )
            )
        except DatabaseError as error:
            logger.warning("relay backlog not read for /metrics: %s", error)
            ok.add_metric([], 0)
            yield ok
            return
        found = {(row["channel__workspace__provider"], row["direction"]): row for row in rows}
        for provider in Provider.values:
            for direction in (Direction.INBOUND, Direction.OUTBOUND):
                row = found.get((provider, direction.value), {})
                values = [provider, DIRECTIONS[direction.value]]
                backlog.add_metric(values, row.get("due", 0))
                waiting.add_metric(values, row.get("waiting", 0))
                first = row.get("oldest")
                oldest.add_metric(values, max(0.0, (now - first).total_seconds()) if first else 0)
        ok.add_metric([], 1)
        yield from (backlog, oldest, waiting, ok)


class _Together:
    """Several collectors read as one registry (all generate_latest needs)."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def web_collectors():
    """What the web's /metrics shows: every process's counters (all of gunicorn's
    workers, from PROMETHEUS_MULTIPROC_DIR; this process's alone without it) and the
    backlog."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    counters = MultiProcessCollector(None, path=path) if path else REGISTRY
    return _Together(counters, BacklogCollector())


# --- serving ------------------------------------------------------------------------------


def _authorized(environ, token: str) -> bool:
    given = environ.get("HTTP_AUTHORIZATION", "")
    try:
        given_bytes = given.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given_bytes, f"Bearer {token}".encode())


def _answer(environ, start_response, token: str, collectors):
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET")])
        return [b"Use GET.\n"]
    if not _authorized(environ, token):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"A bearer token is required.\n"]
    body = generate_latest(collectors)
    start_response(
        "200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))]
    )
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def scrape(environ, start_response):
    """The web's /metrics; None when it is off (no METRICS_TOKEN): Django answers."""
    from django.conf import settings
    from django.core import signals

    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        return None
    # A request as far as the database connection goes (Django's handler is not on
    # this path): a connection a restart broke is replaced before the backlog's query,
    # and one that aged out is closed after it.
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        return _answer(environ, start_response, token, web_collectors())
    finally:
        signals.request_finished.send(sender=__name__)


# --- Celery workers ---------------------------------------------------------------------


def worker_exporter_start():
    """A Celery worker's own metrics on METRICS_PORT (any path, the same bearer token),
    served by a thread of the worker process. Off without METRICS_PORT or
    METRICS_TOKEN. Returns the server, or None."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.conf import settings

    port = getattr(settings, "METRICS_PORT", 0)
    token = getattr(settings, "METRICS_TOKEN", "")
    if not port:
        return None
    if not token:
        logger.warning("METRICS_PORT is set but METRICS_TOKEN is not: no worker metrics")
        return None

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):  # one line per scrape is noise
            pass

    def app(environ, start_response):
        return _answer(environ, start_response, token, REGISTRY)

    server = make_server(settings.METRICS_ADDR, port, app, Server, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("worker metrics on %s:%s", settings.METRICS_ADDR, port)
    return server
