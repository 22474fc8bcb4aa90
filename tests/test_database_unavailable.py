"""An unreachable database answers 503 with Retry-After, from a view (every webhook)
or from a middleware (a signed-in page's session and account lookups). The real thing,
with PostgreSQL stopped and a statement past its timeout, is in
tests/reliability/test_database_unavailable.py."""

from unittest import mock

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error", [OperationalError("server closed the connection"), InterfaceError("closed")]
)
def test_a_webhook_answers_503_with_retry_after(client, error):
    with mock.patch("channels.views.webhook_channel", side_effect=error):
        response = client.post("/hooks/telegram/some-key/", data=b"{}", content_type="text/plain")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert b"nothing was stored" in response.content


def test_a_page_answers_503_when_a_middleware_cannot_reach_the_database(cast):
    page = cast.admin_client
    page.raise_request_exception = False
    with mock.patch(
        "accounts.middleware.memberships_for_request", side_effect=OperationalError("down")
    ):
        response = page.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"


def test_our_own_database_bugs_stay_500s(cast):
    page = cast.admin_client
    page.raise_request_exception = False
    with mock.patch("accounts.middleware.memberships_for_request", side_effect=IntegrityError()):
        response = page.get("/")
    assert response.status_code == 500
