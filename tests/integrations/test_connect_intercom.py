import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
from django.conf import settings

from workspaces.models import InboxAdmin, Provider, Status, Workspace

from .conftest import intercom_api, mock_intercom, start

pytestmark = pytest.mark.django_db

UNKNOWN = "It looks like an unknown error occurred. Please contact us to help you fix this problem."


def callback(client, **params):
    return client.get("/oauth/intercom/callback/", params)


def test_start_redirects_to_intercom_with_client_id_state_and_redirect_uri(cast):
    query = start(cast.admin_client, "intercom")
    assert query["client_id"] == settings.INTERCOM_CLIENT_ID
    assert query["redirect_uri"] == f"{settings.PUBLIC_BASE_URL}/oauth/intercom/callback/"
    assert len(query["state"]) >= 40


def test_start_is_a_post_for_admins_only(cast):
    assert cast.admin_client.get("/connect/intercom/").status_code == 405
    assert cast.member_client.post("/connect/intercom/").status_code == 403


def test_a_new_workspace_is_created_active_and_added_by_the_admin(cast, mocked):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    mock_intercom(mocked)
    response = callback(client, code="the-code", state=state)
    assert response.status_code == 302
    assert response["Location"] == "/"

    workspace = Workspace.objects.get(provider=Provider.INTERCOM, external_id="acme-app")
    assert workspace.account == cast.account
    assert workspace.name == "Acme Help"
    assert workspace.status == Status.ACTIVE
    assert workspace.connected_by == cast.admin
    assert workspace.access_token == "tok-acme"
    assert sorted(
        InboxAdmin.objects.filter(workspace=workspace).values_list("external_id", "email")
    ) == [
        ("991", "ann@acme.example"),
        ("992", "bo@acme.example"),
    ]
    # The code went to Intercom's token endpoint with our client credentials.
    exchange = mocked.calls[0].request
    assert exchange.url == intercom_api("/auth/eagle/token")
    sent = parse_qs(exchange.body)
    assert sent["code"] == ["the-code"]
    assert sent["client_id"] == [settings.INTERCOM_CLIENT_ID]
    assert sent["client_secret"] == [settings.INTERCOM_CLIENT_SECRET]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer tok-acme"
    assert mocked.calls[1].request.headers["Intercom-Version"] == settings.INTERCOM_API_VERSION

    page = client.get("/").content.decode()
    assert "Acme Help is connected." in page
    assert f'href="/workspaces/{workspace.pk}/"' in page
    assert '<span class="badge status-active">Active</span>' in page
    assert "admin@acme.test" in page


def test_the_callback_accepts_a_post(cast, mocked):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    mock_intercom(mocked)
    response = client.post("/oauth/intercom/callback/", {"code": "c", "state": state})
    assert response.status_code == 302
    assert Workspace.objects.filter(external_id="acme-app").exists()


@pytest.mark.parametrize(
    "state",
    ["", "forged-state-value", "ünïcode-state"],
    ids=["missing", "wrong", "non-ascii"],
)
def test_a_missing_or_wrong_state_stores_nothing(cast, mocked, state):
    client = cast.admin_client
    start(client, "intercom")
    response = callback(client, code="c", state=state)
    assert response.status_code == 400
    assert "expired or was already used" in response.content.decode()
    assert len(mocked.calls) == 0
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_a_reused_state_stores_nothing_the_second_time(cast, mocked):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    mock_intercom(mocked)
    assert callback(client, code="c", state=state).status_code == 302
    Workspace.objects.filter(account=cast.account).delete()
    response = callback(client, code="c", state=state)
    assert response.status_code == 400
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_an_expired_state_stores_nothing(cast, mocked):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    session = client.session
    session["oauth_pending"][state]["created_at"] -= timedelta(minutes=10).total_seconds()
    session.save()
    mock_intercom(mocked)
    response = callback(client, code="c", state=state)
    assert response.status_code == 400
    assert len(mocked.calls) == 0
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_a_state_started_for_hubspot_is_refused_on_the_intercom_callback(cast, mocked):
    client = cast.admin_client
    state = start(client, "hubspot")["state"]
    response = callback(client, code="c", state=state)
    assert response.status_code == 400
    assert "another provider" in response.content.decode()
    assert len(mocked.calls) == 0


def test_a_state_from_another_session_is_refused(cast, mocked):
    state = start(cast.admin_client, "intercom")["state"]
    other_session = cast.admin_client  # each access signs in afresh: a new session
    response = callback(other_session, code="c", state=state)
    assert response.status_code == 400
    assert len(mocked.calls) == 0


def test_a_user_no_longer_admin_cannot_finish(cast, mocked):
    from accounts.models import Membership, Role

    client = cast.admin_client
    state = start(client, "intercom")["state"]
    Membership.objects.filter(user=cast.member).update(role=Role.ADMIN)
    Membership.objects.filter(user=cast.admin).update(role=Role.MEMBER)
    mock_intercom(mocked)
    response = callback(client, code="c", state=state)
    assert response.status_code == 403
    assert len(mocked.calls) == 0
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_a_declined_authorization_explains_an_intercom_admin_must_approve(cast, mocked):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    response = callback(client, error="access_denied", state=state)
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Access was not approved" in page
    assert "An Intercom admin must approve" in page
    assert len(mocked.calls) == 0
    assert not Workspace.objects.filter(account=cast.account).exists()


def test_reconnecting_in_the_same_account_refreshes_token_and_name(cast, mocked):
    client = cast.admin_client
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme-app",
        name="Old name",
        connected_by=cast.member,
        status=Status.NEEDS_RECONNECT,
        access_token="old-token",
    )
    before = workspace.updated_at
    state = start(client, "intercom")["state"]
    mock_intercom(mocked, token="new-token", name="Acme Help")
    response = callback(client, code="c", state=state)
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.status, workspace.access_token) == (
        "Acme Help",
        Status.ACTIVE,
        "new-token",
    )
    assert workspace.connected_by == cast.member  # still the one who added it
    assert workspace.updated_at > before
    assert Workspace.objects.count() == 2  # the cast's other workspace and this one
    assert "Acme Help is reconnected." in client.get("/").content.decode()


def test_a_workspace_of_another_account_is_refused_with_the_seed_message(cast, mocked):
    client = cast.admin_client
    theirs = cast.other_workspace
    state = start(client, "intercom")["state"]
    mock_intercom(mocked, token="stolen", id_code=theirs.external_id, name="Renamed")
    response = callback(client, code="c", state=state)
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "This Intercom Workspace has been activated under a different account." in page
    theirs.refresh_from_db()
    assert theirs.account == cast.other_account
    assert theirs.name == "Globex Intercom"
    assert theirs.access_token == "globex-secret-token"
    assert not Workspace.objects.filter(account=cast.account).exists()


def _unknown_error_for(cast, mocked, caplog):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    with caplog.at_level(logging.ERROR, logger="integrations.views"):
        response = callback(client, code="c", state=state)
    assert response.status_code == 502
    html = response.content.decode()
    assert UNKNOWN in html
    reference = html.split("<code>")[1].split("</code>")[0]
    assert len(reference) == 8
    assert reference in caplog.text
    assert not Workspace.objects.filter(account=cast.account).exists()
    return caplog.text


def test_a_provider_5xx_is_an_unknown_error_with_a_reference(cast, mocked, caplog):
    mocked.post(intercom_api("/auth/eagle/token"), status=503, json={"errors": []})
    _unknown_error_for(cast, mocked, caplog)


def test_a_timeout_is_an_unknown_error(cast, mocked, caplog):
    mocked.post(intercom_api("/auth/eagle/token"), body=requests.ReadTimeout("slow"))
    assert "did not answer in time" in _unknown_error_for(cast, mocked, caplog)


def test_malformed_json_is_an_unknown_error(cast, mocked, caplog):
    mocked.post(
        intercom_api("/auth/eagle/token"),
        json={"token": "t", "access_token": "t", "token_type": "Bearer"},
    )
    mocked.get(intercom_api("/me"), body="<html>oops</html>", content_type="text/html")
    _unknown_error_for(cast, mocked, caplog)


def test_a_me_without_app_is_an_unknown_error(cast, mocked, caplog):
    mocked.post(
        intercom_api("/auth/eagle/token"),
        json={"token": "t", "access_token": "t", "token_type": "Bearer"},
    )
    mocked.get(intercom_api("/me"), json={"type": "admin", "id": "1"})
    _unknown_error_for(cast, mocked, caplog)


def test_a_refused_code_is_an_unknown_error(cast, mocked, caplog):
    mocked.post(
        intercom_api("/auth/eagle/token"),
        status=401,
        json={"type": "error.list", "errors": [{"code": "unauthorized", "message": "Bad code"}]},
    )
    _unknown_error_for(cast, mocked, caplog)


def test_tokens_never_reach_the_log(cast, mocked, caplog):
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    mock_intercom(mocked, token="tok-very-secret-value")
    with caplog.at_level(logging.DEBUG):
        callback(client, code="the-secret-code", state=state)
    assert "tok-very-secret-value" not in caplog.text
    assert "the-secret-code" not in caplog.text
    assert settings.INTERCOM_CLIENT_SECRET not in caplog.text
    assert "provider call: POST" in caplog.text


def test_the_page_shows_the_not_configured_note_without_an_app(cast, settings):
    settings.INTERCOM_CLIENT_ID = ""
    response = cast.admin_client.post("/connect/intercom/")
    assert response.status_code == 503
    assert "Intercom is not configured" in response.content.decode()


def test_admins_without_an_email_are_kept(cast, mocked):
    client = cast.admin_client
    # Admins without an e-mail (bots, teams) are kept with an empty address.
    state = start(client, "intercom")["state"]
    mock_intercom(mocked, admins=[{"type": "admin", "id": "7", "name": "Fin"}])
    callback(client, code="c", state=state)
    assert list(InboxAdmin.objects.values_list("external_id", "name", "email")) == [
        ("7", "Fin", "")
    ]
