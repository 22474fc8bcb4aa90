"""Sessions come from the cache and are written through to the database
(accounts/sessions.py): no query for them on a page, and as revocable as before."""

from unittest import mock

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import sessions
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(email: str) -> Client:
    """A browser that signed in through the sign-in form."""
    client = Client()
    response = client.post("/auth/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def copy_of(client: Client) -> Client:
    """Another browser holding the same session cookie (a stolen or copied cookie)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


def is_signed_in(client: Client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def test_a_signed_in_page_reads_its_session_from_the_cache(cast):
    client = signed_in("admin@acme.test")
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(cast):
    client = signed_in("admin@acme.test")
    stolen = copy_of(client)
    assert is_signed_in(stolen)
    client.post("/auth/logout/")
    assert not is_signed_in(stolen)
    assert stolen.get("/")["Location"].startswith("/auth/login/")


def test_changing_the_password_ends_the_other_sessions(cast):
    here = signed_in("admin@acme.test")
    elsewhere = signed_in("admin@acme.test")
    assert is_signed_in(elsewhere)
    response = here.post(
        "/auth/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-pass-4567", "password2": "a-new-pass-4567"},
    )
    assert response.status_code == 302, response.content
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)


def test_the_cache_answers_for_a_session_five_minutes_at_most(cast):
    with mock.patch.object(LocMemCache, "set", autospec=True) as cache_set:
        signed_in("admin@acme.test")
    timeouts = [call.args[3] for call in cache_set.call_args_list if "session" in call.args[1]]
    assert timeouts and max(timeouts) <= sessions.CACHE_SECONDS == 300


def test_pages_work_while_the_cache_is_down(cast):
    client = signed_in("admin@acme.test")
    down = ConnectionError("Redis is down")
    with (
        mock.patch.object(LocMemCache, "get", side_effect=down),
        mock.patch.object(LocMemCache, "set", side_effect=down),
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.get("/")
    assert response.status_code == 200
    assert "admin@acme.test" in response.content.decode()
    # Read from the database instead.
    assert [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_signing_out_while_the_cache_is_down_fails_rather_than_pretends(cast):
    client = signed_in("admin@acme.test")
    client.raise_request_exception = False
    with mock.patch.object(LocMemCache, "delete", side_effect=ConnectionError("down")):
        response = client.post("/auth/logout/")
    assert response.status_code == 500
