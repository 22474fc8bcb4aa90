"""/healthz and /readyz as a load balancer sees them (octopods/health.py). The tests of
a stopped PostgreSQL and Redis are in tests/reliability/test_readiness.py, those of
the backlog in tests/relay/test_backlog_age.py."""

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from octopods import health

# What a probe sends: the container's own address as Host, over plain http.
PROBE = {"HTTP_HOST": "10.1.2.3:8000"}


@pytest.fixture
def production_host_rules(settings):
    settings.ALLOWED_HOSTS = ["octopods.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_liveness_answers_without_touching_anything(client):
    # No django_db mark: a query would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"process": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_a_probe_by_ip_over_http_is_answered_not_refused_or_redirected(
    client, production_host_rules
):
    # Without the exemption these are what the probe would get.
    assert client.get("/auth/login/", **PROBE).status_code == 400  # Host not allowed
    allowed = {"HTTP_HOST": "octopods.example.com"}
    assert client.get("/auth/login/", **allowed).status_code == 301  # to https
    for path in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
        response = client.get(path, **PROBE)
        assert response.status_code == 200, (path, response.content)


@pytest.mark.django_db
def test_readiness_answers_each_check_ok(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"database", "migrations", "backlog"} | ({"redis"} if settings.REDIS_URL else set())
    assert response.json() == dict.fromkeys(expected, "ok")


@pytest.mark.django_db
def test_an_unapplied_migration_is_not_ready_and_named_only_in_the_log(client, caplog):
    recorder = MigrationRecorder(connection)
    # The newest migration of an app, as if this release's deploy had not run it yet
    # (rolled back with the test).
    recorder.record_unapplied("octopods_channels", "0012_contact_address")
    response = client.get("/readyz", **PROBE)
    assert response.status_code == 503
    assert response.json()["migrations"] == "not ok"
    assert response.json()["database"] == "ok"
    assert b"octopods_channels" not in response.content
    assert "not applied: octopods_channels.0012_contact_address" in caplog.text


@pytest.mark.django_db
def test_a_database_error_is_not_ok_and_its_text_stays_in_the_log(client, monkeypatch, caplog):
    def broken(run):
        raise RuntimeError("password authentication failed for user octopods")

    monkeypatch.setattr(health, "_query", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "not ok"
    assert response.json()["migrations"] == response.json()["backlog"] == "not ok"
    assert b"password" not in response.content
    assert "password authentication failed" in caplog.text
