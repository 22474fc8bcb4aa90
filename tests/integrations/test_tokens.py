import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.utils import timezone

from integrations.base import ProviderError
from integrations.services import workspace_tokens
from workspaces.models import Provider, Status, Workspace

from .conftest import hubspot_api


def hubspot_workspace(account, *, expires_in: timedelta) -> Workspace:
    return Workspace.objects.create(
        account=account,
        provider=Provider.HUBSPOT,
        external_id="9000001",
        name="acme.hubspot.com",
        access_token="old-access",
        refresh_token="the-refresh",
        token_expires_at=timezone.now() + expires_in,
    )


def mock_refresh(mocked, *, access="new-access"):
    mocked.post(
        hubspot_api("/oauth/v1/token"),
        json={
            "access_token": access,
            "refresh_token": "the-refresh",
            "expires_in": 1800,
            "token_type": "bearer",
        },
    )


@pytest.mark.django_db
def test_a_token_far_from_expiry_is_used_as_is(cast, mocked):
    workspace = hubspot_workspace(cast.account, expires_in=timedelta(minutes=20))
    assert workspace_tokens(workspace=workspace).access_token == "old-access"
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_a_token_near_expiry_is_refreshed_ahead_of_time(cast, mocked):
    workspace = hubspot_workspace(cast.account, expires_in=timedelta(minutes=2))
    mock_refresh(mocked)
    tokens = workspace_tokens(workspace=workspace)
    assert tokens.access_token == "new-access"
    sent = parse_qs(mocked.calls[0].request.body)
    assert sent["grant_type"] == ["refresh_token"]
    assert sent["refresh_token"] == ["the-refresh"]
    stored = Workspace.objects.get(pk=workspace.pk)
    assert stored.access_token == "new-access"
    assert stored.token_expires_at - timezone.now() > timedelta(minutes=29)


@pytest.mark.django_db
def test_a_dead_refresh_token_marks_needs_reconnect(cast, mocked):
    workspace = hubspot_workspace(cast.account, expires_in=timedelta(minutes=-5))
    mocked.post(
        hubspot_api("/oauth/v1/token"),
        status=400,
        json={"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token"},
    )
    with pytest.raises(ProviderError) as caught:
        workspace_tokens(workspace=workspace)
    assert caught.value.unauthorized
    workspace.refresh_from_db()
    assert workspace.status == Status.NEEDS_RECONNECT
    assert workspace.access_token == "old-access"


@pytest.mark.django_db
def test_an_outage_during_refresh_changes_nothing(cast, mocked):
    workspace = hubspot_workspace(cast.account, expires_in=timedelta(minutes=-5))
    mocked.post(hubspot_api("/oauth/v1/token"), status=502)
    with pytest.raises(ProviderError) as caught:
        workspace_tokens(workspace=workspace)
    assert not caught.value.permanent
    workspace.refresh_from_db()
    assert workspace.status == Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_callers_cause_one_refresh(cast, mocked):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI always runs on it)")
    workspace = hubspot_workspace(cast.account, expires_in=timedelta(seconds=30))
    mock_refresh(mocked)
    callers = 20
    # Every caller holds a stale copy that says the token is due, as concurrent
    # requests would; they all ask at the same moment.
    stale = [Workspace.objects.get(pk=workspace.pk) for _ in range(callers)]
    barrier = threading.Barrier(callers)
    results, errors = [], []

    def call(copy):
        try:
            barrier.wait(timeout=30)
            results.append(workspace_tokens(workspace=copy).access_token)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(copy,)) for copy in stale]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == ["new-access"] * callers
    assert len(mocked.calls) == 1
