import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.utils import timezone

from workspaces.models import Provider, Status, Workspace

from .conftest import hubspot_api, mock_hubspot, start

pytestmark = pytest.mark.django_db


def callback(client, **params):
    return client.get("/oauth/hubspot/callback/", params)


def test_start_asks_for_the_custom_channel_scopes_with_pkce(cast):
    query = start(cast.admin_client, "hubspot")
    assert query["client_id"] == settings.HUBSPOT_CLIENT_ID
    assert query["redirect_uri"] == f"{settings.PUBLIC_BASE_URL}/oauth/hubspot/callback/"
    assert set(query["scope"].split()) >= {
        "conversations.custom_channels.read",
        "conversations.custom_channels.write",
        "conversations.read",
    }
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43


def test_a_new_portal_is_connected_with_the_pkce_verifier(cast, mocked):
    client = cast.admin_client
    query = start(client, "hubspot")
    mock_hubspot(mocked)
    response = callback(client, code="hs-code", state=query["state"])
    assert response.status_code == 302

    workspace = Workspace.objects.get(provider=Provider.HUBSPOT, external_id="9000001")
    assert workspace.name == "acme.hubspot.com"
    assert workspace.status == Status.ACTIVE
    assert workspace.connected_by == cast.admin
    assert workspace.access_token == "hs-access"
    assert workspace.refresh_token == "hs-refresh"
    assert workspace.token_expires_at - timezone.now() > timedelta(minutes=29)

    sent = parse_qs(mocked.calls[0].request.body)
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["code"] == ["hs-code"]
    assert sent["client_secret"] == [settings.HUBSPOT_CLIENT_SECRET]
    verifier = sent["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"]

    page = client.get("/").content.decode()
    assert "acme.hubspot.com" in page
    assert "<td>HubSpot</td>" in page


def test_a_portal_of_another_account_is_refused_with_the_seed_message(cast, mocked):
    theirs = Workspace.objects.create(
        account=cast.other_account,
        provider=Provider.HUBSPOT,
        external_id="9000001",
        name="Theirs",
        refresh_token="their-refresh",
    )
    client = cast.admin_client
    state = start(client, "hubspot")["state"]
    mock_hubspot(mocked)
    callback(client, code="c", state=state)
    assert (
        "This HubSpot Portal has been activated under a different account."
        in client.get("/").content.decode()
    )
    theirs.refresh_from_db()
    assert (theirs.account, theirs.refresh_token) == (cast.other_account, "their-refresh")


def test_a_declined_authorization_explains_a_hubspot_admin_must_approve(cast, mocked):
    client = cast.admin_client
    state = start(client, "hubspot")["state"]
    callback(client, error="access_denied", state=state)
    assert "A HubSpot admin must approve" in client.get("/").content.decode()
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_a_bad_token_answer_is_an_unknown_error(cast, mocked):
    client = cast.admin_client
    state = start(client, "hubspot")["state"]
    mocked.post(
        hubspot_api("/oauth/v1/token"),
        status=400,
        json={"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"},
    )
    response = callback(client, code="c", state=state)
    assert response.status_code == 502
    assert "unknown error occurred" in response.content.decode()
    assert not Workspace.objects.filter(account=cast.account).exists()
