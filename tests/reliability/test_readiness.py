"""/readyz against real servers of the test's own (octopods/health.py): a stopped
Redis and a stopped PostgreSQL answer "not ready" within the checks' timeout, and
"ready" again once they are back, without a restart of the process."""

import socket
import time

import pytest
from django.db import connection, connections

from harness.services import RedisServer

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# A probe's own timeout is a few seconds; the checks answer well within it. Generous
# for a machine whose cores are busy with other tests: a hang would take minutes.
PROMPT = 8


def probe(client):
    started = time.monotonic()
    response = client.get("/readyz", HTTP_HOST="10.1.2.3:8000")
    return response.status_code, response.json(), time.monotonic() - started


def all_ok(client):
    status, checks, _ = probe(client)
    return status == 200 and set(checks.values()) == {"ok"}


@pytest.fixture
def own_redis(settings):
    server = RedisServer().start()
    settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
    try:
        yield server
    finally:
        server.stop()


def test_a_stopped_redis_and_a_stopped_postgres_are_not_ready(
    own_postgres, own_redis, client, settings
):
    settings.READY_CHECK_TIMEOUT = 1
    status, checks, _ = probe(client)
    assert status == 200
    assert checks == {"database": "ok", "migrations": "ok", "backlog": "ok", "redis": "ok"}

    own_redis.stop()
    status, checks, seconds = probe(client)
    assert status == 503
    assert checks == {"database": "ok", "migrations": "ok", "backlog": "ok", "redis": "not ok"}
    assert seconds < PROMPT

    own_redis.start()  # the same port
    wait_for(lambda: all_ok(client), what="ready again after Redis came back")

    own_postgres.stop(mode="immediate")
    status, checks, seconds = probe(client)
    assert status == 503
    assert checks == {
        "database": "not ok",
        "migrations": "not ok",
        "backlog": "not ok",
        "redis": "ok",
    }
    assert seconds < PROMPT

    own_postgres.start()
    wait_for(lambda: all_ok(client), what="ready again after PostgreSQL came back")


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel completes them) and never says a
    word: a server hung, or a network that swallows replies."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield silent.getsockname()[1]


def test_a_redis_that_never_answers_cannot_hold_the_probe_up(
    own_postgres, client, settings, silent_port
):
    settings.READY_CHECK_TIMEOUT = 1
    settings.REDIS_URL = settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_port}/0"
    status, checks, seconds = probe(client)
    assert status == 503
    assert checks["redis"] == "not ok"
    assert checks["database"] == "ok"
    assert seconds < PROMPT


def test_a_postgres_that_never_answers_cannot_hold_the_probe_up(own_postgres, client, silent_port):
    """The connection attempt is bounded by DB_CONNECT_TIMEOUT (libpq's connect_timeout,
    3 s by default; 2 s is its least)."""
    db = connection.settings_dict
    saved = db["PORT"], dict(db["OPTIONS"])
    connections.close_all()
    db["PORT"] = silent_port
    db["OPTIONS"]["connect_timeout"] = 2
    try:
        status, checks, seconds = probe(client)
    finally:
        connections.close_all()
        db["PORT"], db["OPTIONS"] = saved
    assert status == 503
    assert checks["database"] == "not ok"
    assert seconds < PROMPT
