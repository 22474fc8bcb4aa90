"""Uninstall, 401 → Needs reconnect, disconnect, reconnect, remove."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from channels.models import Channel
from workspaces.models import Provider, Status, Workspace

from .conftest import hubspot_api, intercom_api, mock_intercom, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def intercom_ws(cast):
    return Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme-app",
        name="Acme Help",
        connected_by=cast.admin,
        access_token="tok-acme",
    )


@pytest.fixture
def hubspot_ws(cast):
    return Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="9000001",
        name="acme.hubspot.com",
        connected_by=cast.admin,
        access_token="hs-access",
        refresh_token="hs-refresh",
        token_expires_at=timezone.now() + timedelta(minutes=30),
    )


def signed(body: bytes, secret: str | None = None) -> str:
    key = (secret or settings.INTERCOM_CLIENT_SECRET).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def uninstall(client, body: bytes, signature: str):
    return client.post(
        "/hooks/intercom/uninstall/",
        data=body,
        content_type="application/json",
        headers={"X-Body-Signature": signature},
    )


def test_an_uninstall_notice_disconnects_the_workspace(client, intercom_ws):
    before = intercom_ws.updated_at
    body = json.dumps({"app_id": "acme-app"}).encode()
    response = uninstall(client, body, signed(body))
    assert response.status_code == 200
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.DISCONNECTED
    assert intercom_ws.access_token == ""
    assert intercom_ws.updated_at > before


@pytest.mark.parametrize("signature", ["", "00" * 32, "wrong", "é" * 64, "\xff" * 64])
def test_a_badly_signed_uninstall_is_a_403_and_changes_nothing(client, intercom_ws, signature):
    body = json.dumps({"app_id": "acme-app"}).encode()
    assert uninstall(client, body, signature).status_code == 403
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE


def test_an_uninstall_signed_with_another_secret_is_a_403(client, intercom_ws):
    body = json.dumps({"app_id": "acme-app"}).encode()
    assert uninstall(client, body, signed(body, "not-our-secret")).status_code == 403


def test_a_malformed_uninstall_is_a_400(client, intercom_ws):
    for body in (b"not json", b"[]", b'{"app": "x"}', b'{"app_id": 5}'):
        assert uninstall(client, body, signed(body)).status_code == 400
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE


def test_an_uninstall_for_an_unknown_workspace_is_acknowledged(client, intercom_ws):
    body = json.dumps({"app_id": "someone-else"}).encode()
    assert uninstall(client, body, signed(body)).status_code == 200
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE


def test_an_oversized_uninstall_is_a_413(client, intercom_ws):
    body = json.dumps({"app_id": "acme-app", "pad": "x" * 20000}).encode()
    assert uninstall(client, body, signed(body)).status_code == 413


def test_a_401_from_intercom_marks_needs_reconnect_with_a_banner(cast, intercom_ws, mocked):
    client = cast.admin_client
    mocked.get(
        intercom_api("/me"),
        status=401,
        json={
            "type": "error.list",
            "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}],
        },
    )
    response = client.post(f"/workspaces/{intercom_ws.pk}/check/", follow=True)
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.NEEDS_RECONNECT
    html = response.content.decode()
    assert "no longer accepts Octopods" in html
    assert '<span class="badge status-needs_reconnect">Needs reconnect</span>' in html
    assert ">Reconnect</button>" in html
    assert "needs reconnecting" in client.get("/").content.decode()
    # Members see the state, not the button.
    member_html = cast.member_client.get(f"/workspaces/{intercom_ws.pk}/").content.decode()
    assert "Needs reconnect" in member_html
    assert ">Reconnect</button>" not in member_html


def test_a_provider_outage_does_not_mark_needs_reconnect(cast, intercom_ws, mocked):
    mocked.get(intercom_api("/me"), status=503)
    response = cast.admin_client.post(f"/workspaces/{intercom_ws.pk}/check/", follow=True)
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE
    assert "could not be reached just now" in response.content.decode()


def test_a_working_connection_checks_out(cast, intercom_ws, mocked):
    mock_intercom(mocked)
    response = cast.admin_client.post(f"/workspaces/{intercom_ws.pk}/check/", follow=True)
    assert "The connection to Acme Help works." in response.content.decode()


def test_reconnect_restores_a_needs_reconnect_workspace(cast, intercom_ws, mocked):
    Workspace.objects.filter(pk=intercom_ws.pk).update(status=Status.NEEDS_RECONNECT)
    client = cast.admin_client
    state = start(client, "intercom")["state"]
    mock_intercom(mocked, token="fresh")
    client.get("/oauth/intercom/callback/", {"code": "c", "state": state})
    intercom_ws.refresh_from_db()
    assert (intercom_ws.status, intercom_ws.access_token) == (Status.ACTIVE, "fresh")


def test_disconnect_keeps_channels_and_reconnect_restores(cast, intercom_ws, mocked):
    Channel.objects.create(workspace=intercom_ws, kind="telegram", name="Bot")
    client = cast.admin_client
    response = client.post(f"/workspaces/{intercom_ws.pk}/disconnect/", follow=True)
    assert "is disconnected" in response.content.decode()
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.DISCONNECTED
    assert intercom_ws.access_token == ""
    assert intercom_ws.channels.count() == 1
    assert len(mocked.calls) == 0  # Intercom offers no revocation call

    state = start(client, "intercom")["state"]
    mock_intercom(mocked, token="back")
    client.get("/oauth/intercom/callback/", {"code": "c", "state": state})
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE
    assert intercom_ws.channels.count() == 1


def test_disconnecting_hubspot_deletes_the_refresh_token(cast, hubspot_ws, mocked):
    mocked.delete(hubspot_api("/oauth/v1/refresh-tokens/hs-refresh"), status=204)
    cast.admin_client.post(f"/workspaces/{hubspot_ws.pk}/disconnect/")
    assert len(mocked.calls) == 1
    hubspot_ws.refresh_from_db()
    assert hubspot_ws.status == Status.DISCONNECTED
    assert hubspot_ws.refresh_token == ""


def test_disconnect_works_when_revoking_fails(cast, hubspot_ws, mocked):
    mocked.delete(hubspot_api("/oauth/v1/refresh-tokens/hs-refresh"), status=500)
    cast.admin_client.post(f"/workspaces/{hubspot_ws.pk}/disconnect/")
    hubspot_ws.refresh_from_db()
    assert hubspot_ws.status == Status.DISCONNECTED


def test_remove_confirms_naming_what_goes_then_deletes(cast, intercom_ws):
    Channel.objects.create(workspace=intercom_ws, kind="whatsapp", name="Sales line")
    client = cast.admin_client
    page = client.get(f"/workspaces/{intercom_ws.pk}/remove/").content.decode()
    assert "Remove Acme Help?" in page
    assert "Sales line (WhatsApp)" in page
    assert "1 channel" in page
    assert Workspace.objects.filter(pk=intercom_ws.pk).exists()
    response = client.post(f"/workspaces/{intercom_ws.pk}/remove/", follow=True)
    assert "Acme Help and its channels were removed." in response.content.decode()
    assert not Workspace.objects.filter(pk=intercom_ws.pk).exists()
    assert not Channel.objects.filter(name="Sales line").exists()


@pytest.mark.parametrize("action", ["disconnect", "check", "remove"])
def test_members_get_403_and_outsiders_404(cast, intercom_ws, action):
    assert cast.member_client.post(f"/workspaces/{intercom_ws.pk}/{action}/").status_code == 403
    assert cast.outsider_client.post(f"/workspaces/{intercom_ws.pk}/{action}/").status_code == 404
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE


def test_members_see_status_but_no_buttons(cast, intercom_ws):
    html = cast.member_client.get(f"/workspaces/{intercom_ws.pk}/").content.decode()
    assert "Active" in html
    for label in ("Disconnect", "Remove", "Check connection", "Reconnect"):
        assert f">{label}" not in html


def test_the_scheduled_check_marks_rejected_tokens_and_skips_inactive(cast, intercom_ws, mocked):
    from integrations.tasks import check_connections

    Workspace.objects.filter(pk=cast.other_workspace.pk).update(status=Status.DISCONNECTED)
    mocked.get(
        intercom_api("/me"),
        status=401,
        json={"type": "error.list", "errors": [{"code": "unauthorized", "message": "revoked"}]},
    )
    check_connections.delay()  # eager in the tests: runs each check in turn
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.NEEDS_RECONNECT
    assert len(mocked.calls) == 1  # the disconnected workspace was not checked


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"app_id": "acme\\u0000app"}',
        b'{"app_id": "' + b"a" * 300 + b'"}',
    ],
    ids=["deep", "nul", "over-long"],
)
def test_a_hostile_but_signed_uninstall_is_answered_without_a_500(client, intercom_ws, body):
    assert uninstall(client, body, signed(body)).status_code in (200, 400)
    intercom_ws.refresh_from_db()
    assert intercom_ws.status == Status.ACTIVE
