"""The health check that asks the socket before sending SELECT 1
(octopods/postgresql/base.py), against the suite's PostgreSQL."""

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

from octopods.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL only (CI always has it)"
    ),
]


@pytest.fixture
def own():
    """A connection of the test's own, outside the test's transaction handling."""
    wrapper = DatabaseWrapper(connections["default"].settings_dict, alias="health-check-test")
    wrapper.connect()
    yield wrapper
    wrapper.close()


@pytest.fixture
def selects(monkeypatch):
    """How often Django's own check (SELECT 1) ran."""
    calls = []
    real = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(self.alias)
        return real(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def test_the_backend_is_the_projects():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_connection_is_usable_without_a_round_trip(own, selects):
    with own.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert own.is_usable()
    assert selects == []


def test_a_connection_the_server_ended_is_not_usable(own, selects):
    with own.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with connection.cursor() as cursor:
        # Waits (up to 10 s) until that backend has exited: its FATAL message and the
        # end of the stream are on our socket by then.
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
        assert cursor.fetchone() == (True,)
    assert own.is_usable() is False
    assert selects == ["health-check-test"]  # the socket spoke: SELECT 1 decided


def test_a_closed_connection_is_not_usable(own):
    own.connection.close()
    assert own.is_usable() is False
