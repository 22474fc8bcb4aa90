"""The Intercom stand-in: consent screen, token exchange, /me, /admins and uninstall."""

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.conf import settings
from django.urls import NoReverseMatch

from sandbox import intercom, tokens

AUTHORIZE = "/sandbox/intercom/oauth"
TOKEN = "/sandbox/intercom/api/auth/eagle/token"
ME = "/sandbox/intercom/api/me"
ADMINS = "/sandbox/intercom/api/admins"
UNINSTALL = "/sandbox/intercom/uninstall"
CALLBACK = "http://127.0.0.1:8000/oauth/intercom/callback/?next=home"
HOOK = "http://octopods.test/hooks/intercom/uninstall/"


def authorize_params(**overrides):
    return {
        "client_id": settings.INTERCOM_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "state": "st-123",
        **overrides,
    }


def query_of(response) -> dict:
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def approve(client, workspace="sbx-acme") -> str:
    response = client.post(
        AUTHORIZE, {**authorize_params(), "choice": workspace, "decision": "approve"}
    )
    return query_of(response)["code"]


def exchange(client, code, *, secret=None):
    return client.post(
        TOKEN,
        {
            "code": code,
            "client_id": settings.INTERCOM_CLIENT_ID,
            "client_secret": secret or settings.INTERCOM_CLIENT_SECRET,
        },
    )


def connect(client, workspace="sbx-acme") -> str:
    response = exchange(client, approve(client, workspace))
    assert response.status_code == 200
    return response.json()["access_token"]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_shows_a_consent_screen_listing_the_fake_workspaces(client):
    response = client.get(AUTHORIZE, authorize_params())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sandbox Intercom" in html
    assert "local stand-in" in html.lower()
    for name in ("Acme Support", "Globex Help Desk", "Initech Care"):
        assert name in html
    assert 'value="sbx-acme"' in html
    assert html.count(" checked") == 1
    assert "<legend>Workspace to connect</legend>" in html
    assert "Read and write conversations" in html
    assert 'value="approve"' in html and 'value="deny"' in html
    assert "csrfmiddlewaretoken" in html


def test_it_keeps_inline_styles_and_scripts_out_of_the_consent_screen(client):
    html = client.get(AUTHORIZE, authorize_params()).content.decode()
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert '<html lang="en">' in html


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        ({"client_id": "someone-else"}, "someone-else"),
        ({"redirect_uri": ""}, "no redirect_uri"),
        ({"redirect_uri": "/oauth/intercom/callback/"}, "absolute"),
        ({"redirect_uri": "javascript:alert(1)"}, "absolute"),
    ],
)
def test_it_refuses_an_unknown_client_or_a_bad_redirect_uri(client, overrides, phrase):
    params = authorize_params(**overrides)
    assert client.get(AUTHORIZE, params).status_code == 400
    response = client.post(AUTHORIZE, {**params, "choice": "sbx-acme", "decision": "approve"})
    assert response.status_code == 400
    assert phrase in response.content.decode()


def test_it_redirects_back_with_a_code_and_the_state_keeping_the_query(client):
    response = client.post(
        AUTHORIZE, {**authorize_params(), "choice": "sbx-globex", "decision": "approve"}
    )
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK.split("?")[0]
    query = query_of(response)
    assert query["state"] == "st-123"
    assert query["next"] == "home"
    assert query["code"]


def test_it_redirects_back_with_access_denied_on_deny(client):
    response = client.post(AUTHORIZE, {**authorize_params(), "decision": "deny"})
    query = query_of(response)
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "st-123"
    assert "code" not in query


def test_it_refuses_an_unknown_workspace_on_approve(client):
    response = client.post(
        AUTHORIZE, {**authorize_params(), "choice": "sbx-nope", "decision": "approve"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
def test_it_exchanges_a_code_sent_as_json_form_or_query(client, encoding):
    params = {
        "code": approve(client),
        "client_id": settings.INTERCOM_CLIENT_ID,
        "client_secret": settings.INTERCOM_CLIENT_SECRET,
    }
    if encoding == "json":
        response = client.post(TOKEN, json.dumps(params), content_type="application/json")
    elif encoding == "form":
        response = client.post(TOKEN, params)
    else:
        response = client.post(f"{TOKEN}?{'&'.join(f'{k}={v}' for k, v in params.items())}")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["token"] == body["access_token"]
    assert "refresh_token" not in body and "expires_in" not in body


def test_it_answers_me_and_admins_for_the_chosen_workspace(client):
    token = connect(client, "sbx-globex")
    me = client.get(ME, **bearer(token))
    assert me.status_code == 200
    body = me.json()
    assert body["type"] == "admin"
    assert body["id"] == "2001"
    assert body["email"] == "gina@globex.example"
    assert body["app"]["type"] == "app"
    assert body["app"]["id_code"] == "sbx-globex"
    assert body["app"]["name"] == "Globex Help Desk"
    assert body["app"]["region"] == "US"

    admins = client.get(ADMINS, **bearer(token)).json()
    assert admins["type"] == "admin.list"
    assert [a["id"] for a in admins["admins"]] == ["2001", "2002"]
    assert {a["type"] for a in admins["admins"]} == {"admin"}


def test_it_refuses_a_code_used_twice(client):
    code = approve(client)
    assert exchange(client, code).status_code == 200
    response = exchange(client, code)
    assert response.status_code == 400
    assert response.json()["type"] == "error.list"
    assert response.json()["errors"][0]["code"] == "parameter_invalid"


def test_it_refuses_a_code_older_than_five_minutes(client, monkeypatch):
    code = approve(client)
    issued = tokens.now()
    monkeypatch.setattr(tokens, "now", lambda: issued + 301)
    response = exchange(client, code)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parameter_invalid"


@pytest.mark.parametrize("code", ["", "not-a-code"])
def test_it_refuses_a_forged_code(client, code):
    assert exchange(client, code).status_code == 400


def test_it_refuses_a_token_passed_off_as_a_code(client):
    token = connect(client)
    assert exchange(client, token).status_code == 400


def test_it_answers_401_to_a_wrong_client_secret(client):
    response = exchange(client, approve(client), secret="wrong-secret")
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "error.list"
    assert body["request_id"]
    assert body["errors"][0]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [{}, {"HTTP_AUTHORIZATION": "Bearer forged"}])
def test_it_answers_401_without_a_valid_token(client, header):
    for url in (ME, ADMINS):
        response = client.get(url, **header)
        assert response.status_code == 401
        assert response.json()["errors"][0] == {
            "code": "unauthorized",
            "message": "Access Token Invalid",
        }


def test_it_refuses_a_code_as_a_bearer_token(client):
    assert client.get(ME, **bearer(approve(client))).status_code == 401


@responses.activate
def test_it_revokes_the_workspace_tokens_and_notifies_octopods_on_uninstall(client, monkeypatch):
    monkeypatch.setattr(intercom, "uninstall_target_url", lambda: HOOK)
    responses.add(responses.POST, HOOK, status=200)
    acme, globex = connect(client, "sbx-acme"), connect(client, "sbx-globex")

    page = client.get(UNINSTALL)
    assert page.status_code == 200
    assert page.content.decode().count("Uninstall Octopods</button>") == 3

    result = client.post(UNINSTALL, {"id_code": "sbx-acme"})
    assert result.status_code == 200
    assert "HTTP status <strong>200</strong>" in result.content.decode()
    assert len(responses.calls) == 1
    assert json.loads(responses.calls[0].request.body) == {"app_id": "sbx-acme"}

    me = client.get(ME, **bearer(acme))
    assert me.status_code == 401
    assert me.json()["errors"][0]["message"] == "Access Token Invalid"
    assert client.get(ME, **bearer(globex)).status_code == 200
    # Installing again gives a token that works.
    assert client.get(ME, **bearer(connect(client, "sbx-acme"))).status_code == 200


@responses.activate
def test_it_signs_the_uninstall_notification_with_the_client_secret(monkeypatch):
    monkeypatch.setattr(intercom, "uninstall_target_url", lambda: HOOK)
    responses.add(responses.POST, HOOK, status=204)

    assert intercom.send_intercom_uninstall("sbx-initech") == 204

    request = responses.calls[0].request
    body = request.body
    assert body == b'{"app_id":"sbx-initech"}'
    expected = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256)
    assert request.headers["X-Body-Signature"] == expected.hexdigest()
    assert request.headers["Content-Type"] == "application/json"


def test_it_targets_the_product_uninstall_url_under_the_public_base_url(monkeypatch):
    monkeypatch.setattr(intercom, "reverse", lambda name: "/hooks/intercom/uninstall/")
    assert intercom.uninstall_target_url() == (
        f"{settings.PUBLIC_BASE_URL}/hooks/intercom/uninstall/"
    )


def test_it_explains_when_the_product_has_no_uninstall_url_yet(client, monkeypatch):
    def missing():
        raise NoReverseMatch("integrations:intercom_uninstall")

    monkeypatch.setattr(intercom, "uninstall_target_url", missing)
    token = connect(client)
    response = client.post(UNINSTALL, {"id_code": "sbx-acme"})
    assert response.status_code == 200
    assert "no Intercom uninstall URL yet" in response.content.decode()
    assert client.get(ME, **bearer(token)).status_code == 401


@responses.activate
def test_it_shows_the_connection_error_when_octopods_cannot_be_reached(client, monkeypatch):
    monkeypatch.setattr(intercom, "uninstall_target_url", lambda: HOOK)
    responses.add(responses.POST, HOOK, body=requests.ConnectionError("refused"))
    response = client.post(UNINSTALL, {"id_code": "sbx-globex"})
    assert response.status_code == 200
    assert "Could not reach Octopods: refused" in response.content.decode()


def test_it_refuses_to_uninstall_an_unknown_workspace(client):
    assert client.post(UNINSTALL, {"id_code": "sbx-nope"}).status_code == 400
