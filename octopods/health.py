"""Health endpoints for a load balancer and an orchestrator.

``/healthz`` — liveness: the process answers. No I/O at all, so a database or Redis
outage never gets a healthy web process restarted.

``/readyz`` — readiness: this process can do its work. Each check answers "ok" or
"not ok"; 200 when all are ok, 503 otherwise:

- ``database``: PostgreSQL answers a query;
- ``redis``: the broker (and the cache, when it is another server) answers PING;
- ``migrations``: every migration this release has on disk is applied;
- ``backlog``: the oldest message due to be relayed has waited less than
  READY_MAX_BACKLOG_AGE seconds (relay/backlog.py, ``due_messages``).

Every check is bounded by READY_CHECK_TIMEOUT seconds (socket timeouts for Redis, a
statement timeout for PostgreSQL, whose connection attempt DB_CONNECT_TIMEOUT bounds),
so a stopped or unreachable server answers "not ready" instead of hanging the probe.
The answers say only ok or not ok, to whoever asks (the endpoints are unauthenticated);
what went wrong goes to the log.

Both are answered by ``HealthMiddleware``, first in MIDDLEWARE, before anything that
validates the Host header or redirects to https: a probe addresses the container by
its IP over plain http, which ALLOWED_HOSTS (CommonMiddleware's ``get_host()``) would
answer 400 and SECURE_SSL_REDIRECT 301.
"""

import functools
import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.utils import timezone

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
OK = "ok"
NOT_OK = "not ok"
# The database alias the checks use (a test points it at a server of its own).
DATABASE = "default"


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path == LIVENESS_PATH:
            return answer({"process": OK})
        if path == READINESS_PATH:
            return answer(readiness())
        return self.get_response(request)


def answer(checks: dict[str, str]) -> JsonResponse:
    response = JsonResponse(checks, status=200 if all(v == OK for v in checks.values()) else 503)
    response["Cache-Control"] = "no-store"
    return response


def readiness() -> dict[str, str]:
    checks = {"database": _check("database", _database)}
    if checks["database"] == OK:
        checks["migrations"] = _check("migrations", _migrations)
        checks["backlog"] = _check("backlog", _backlog)
    else:
        # Nothing to ask a database that does not answer; not asked twice more.
        checks["migrations"] = checks["backlog"] = NOT_OK
    if _redis_urls():
        checks["redis"] = _check("redis", _redis)
    return checks


def _check(name: str, check) -> str:
    try:
        problem = check()
    except Exception:
        logger.warning("readiness: %s check failed", name, exc_info=True)
        return NOT_OK
    if problem:
        logger.warning("readiness: %s: %s", name, problem)
        return NOT_OK
    return OK


def _timeout() -> int:
    return max(1, settings.READY_CHECK_TIMEOUT)


def _query(run):
    """``run(connection)`` in a transaction whose statements stop after the timeout."""
    connection = connections[DATABASE]
    with transaction.atomic(using=DATABASE):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [_timeout() * 1000])
        return run(connection)


def _database() -> str:
    def select_one(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()

    return "" if _query(select_one) == (1,) else "SELECT 1 did not answer 1"


@functools.cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    """The release's migrations (a squash stands for those it replaces), read once per
    process: they do not change while it runs."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(
        (key, frozenset(loader.disk_migrations[key].replaces or ())) for key in loader.graph.nodes
    )


def _migrations() -> str:
    applied = _query(lambda connection: set(MigrationRecorder(connection).applied_migrations()))
    missing = sorted(
        f"{app}.{name}"
        for (app, name), replaces in _migrations_on_disk()
        if (app, name) not in applied and not (replaces and replaces <= applied)
    )
    return f"not applied: {', '.join(missing)}" if missing else ""


def _backlog() -> str:
    from relay.backlog import due_messages

    now = timezone.now()
    oldest = _query(
        lambda connection: (
            due_messages(now)
            .using(DATABASE)
            .aggregate(since=Min(Coalesce("next_attempt_at", "created_at")))["since"]
        )
    )
    limit = timedelta(seconds=settings.READY_MAX_BACKLOG_AGE)
    if oldest is not None and now - oldest > limit:
        return f"the oldest due message has waited {now - oldest} (more than {limit})"
    return ""


def _redis_urls() -> list[str]:
    return list(
        dict.fromkeys(url for url in (settings.CELERY_BROKER_URL, settings.REDIS_URL) if url)
    )


def _redis() -> str:
    for url in _redis_urls():
        client = redis.Redis.from_url(
            url, socket_connect_timeout=_timeout(), socket_timeout=_timeout()
        )
        try:
            client.ping()
        finally:
            client.close()
    return ""
