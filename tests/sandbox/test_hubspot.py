"""The HubSpot stand-in: consent screen, PKCE code exchange, refresh, token info, revoke."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from sandbox import tokens

AUTHORIZE = "/sandbox/hubspot/oauth/authorize"
TOKEN = "/sandbox/hubspot/api/oauth/v1/token"
INFO = "/sandbox/hubspot/api/oauth/v1/access-tokens/"
REFRESH = "/sandbox/hubspot/api/oauth/v1/refresh-tokens/"
CALLBACK = "http://127.0.0.1:8000/oauth/hubspot/callback/"
VERIFIER = "a-code-verifier-of-at-least-forty-three-characters-0123456789"
SCOPES = "oauth conversations.read conversations.custom_channels.read"


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(**overrides):
    return {
        "client_id": settings.HUBSPOT_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": SCOPES,
        "state": "hs-state",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }


def query_of(response) -> dict:
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def approve(client, hub_id=9000001, **overrides) -> str:
    params = {**authorize_params(**overrides), "choice": str(hub_id), "decision": "approve"}
    query = query_of(client.post(AUTHORIZE, params))
    assert query["state"] == "hs-state"
    return query["code"]


def exchange(client, code, /, **overrides):
    return client.post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "client_secret": settings.HUBSPOT_CLIENT_SECRET,
            "code_verifier": VERIFIER,
            **overrides,
        },
    )


def refresh(client, refresh_token, **overrides):
    return client.post(
        TOKEN,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "client_secret": settings.HUBSPOT_CLIENT_SECRET,
            **overrides,
        },
    )


def connect(client, hub_id=9000001) -> dict:
    response = exchange(client, approve(client, hub_id))
    assert response.status_code == 200
    return response.json()


def assert_oauth_error(response, status):
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == status
    assert body["message"]
    assert body["error"]
    assert body["error_description"]


def test_it_shows_a_consent_screen_listing_the_portals_and_scopes(client):
    response = client.get(AUTHORIZE, authorize_params())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sandbox HubSpot" in html
    for domain in ("acme-sandbox.hubspot.com", "globex-sandbox", "initech-sandbox"):
        assert domain in html
    for scope in SCOPES.split():
        assert f"<li>{scope}</li>" in html
    assert html.count(" checked") == 1
    assert 'name="code_challenge"' in html
    assert "style=" not in html and "<script" not in html


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": ""},
        {"redirect_uri": "ftp://example.com/cb"},
        {"scope": ""},
        {"code_challenge_method": "plain"},
    ],
)
def test_it_refuses_a_bad_authorize_request(client, overrides):
    assert client.get(AUTHORIZE, authorize_params(**overrides)).status_code == 400


def test_it_redirects_back_with_access_denied_on_deny(client):
    query = query_of(client.post(AUTHORIZE, {**authorize_params(), "decision": "deny"}))
    assert query["error"] == "access_denied"
    assert query["state"] == "hs-state"
    assert "code" not in query


def test_it_exchanges_a_code_with_the_right_verifier_and_reports_the_portal(client):
    body = connect(client, 9000002)
    assert body["expires_in"] == 1800
    assert body["token_type"] == "bearer"
    assert body["access_token"] != body["refresh_token"]
    assert len(body["access_token"]) < 300

    info = client.get(INFO + body["access_token"])
    assert info.status_code == 200
    data = info.json()
    assert data["hub_id"] == 9000002
    assert data["hub_domain"] == "globex-sandbox.hubspot.com"
    assert data["user"] == "gina@globex.example"
    assert data["scopes"] == SCOPES.split()
    assert data["token_type"] == "access"
    assert data["token"] == body["access_token"]
    assert 1790 <= data["expires_in"] <= 1800
    assert data["app_id"] and data["user_id"]


def test_it_accepts_a_code_without_pkce_when_none_was_asked(client):
    code = approve(client, code_challenge="", code_challenge_method="")
    assert exchange(client, code, code_verifier="").status_code == 200


@pytest.mark.parametrize("verifier", ["", "the-wrong-verifier-" * 3])
def test_it_refuses_a_wrong_or_missing_verifier(client, verifier):
    code = approve(client)
    assert_oauth_error(exchange(client, code, code_verifier=verifier), "BAD_AUTH_CODE")
    # A failed attempt does not burn the code.
    assert exchange(client, code).status_code == 200


def test_it_refuses_a_code_used_twice(client):
    code = approve(client)
    assert exchange(client, code).status_code == 200
    assert_oauth_error(exchange(client, code), "BAD_AUTH_CODE")


def test_it_refuses_a_redirect_uri_other_than_the_code_was_issued_for(client):
    response = exchange(client, approve(client), redirect_uri="http://elsewhere.test/cb")
    assert_oauth_error(response, "BAD_REDIRECT_URI")


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"client_id": "someone-else"}, "BAD_CLIENT_ID"),
        ({"client_secret": "wrong"}, "BAD_CLIENT_SECRET"),
        ({"grant_type": "password"}, "BAD_GRANT_TYPE"),
        ({"code": "forged"}, "BAD_AUTH_CODE"),
    ],
)
def test_it_refuses_bad_token_requests(client, overrides, status):
    assert_oauth_error(exchange(client, approve(client), **overrides), status)


def test_it_refuses_a_code_older_than_five_minutes(client, monkeypatch):
    code = approve(client)
    issued = tokens.now()
    monkeypatch.setattr(tokens, "now", lambda: issued + 301)
    assert_oauth_error(exchange(client, code), "BAD_AUTH_CODE")


def test_it_refreshes_to_a_new_access_token_with_the_same_refresh_token(client):
    first = connect(client)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]
    assert second["expires_in"] == 1800
    assert client.get(INFO + second["access_token"]).json()["hub_id"] == 9000001


def test_it_refuses_an_access_token_as_a_refresh_token(client):
    assert_oauth_error(refresh(client, connect(client)["access_token"]), "BAD_REFRESH_TOKEN")


def test_it_deletes_a_refresh_token_so_it_no_longer_refreshes(client):
    body = connect(client)
    other = connect(client, 9000003)
    assert client.delete(REFRESH + body["refresh_token"]).status_code == 204

    assert_oauth_error(refresh(client, body["refresh_token"]), "BAD_REFRESH_TOKEN")
    missing = client.delete(REFRESH + body["refresh_token"])
    assert missing.status_code == 404
    assert missing.json()["status"] == "error"
    # Only that grant is gone.
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_it_answers_404_to_deleting_an_unknown_refresh_token(client):
    assert client.delete(REFRESH + "forged").status_code == 404


def test_it_answers_404_for_an_expired_access_token(client, monkeypatch):
    access_token = connect(client)["access_token"]
    issued = tokens.now()
    monkeypatch.setattr(tokens, "now", lambda: issued + 1799)
    assert client.get(INFO + access_token).status_code == 200
    monkeypatch.setattr(tokens, "now", lambda: issued + 1801)
    response = client.get(INFO + access_token)
    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert response.json()["message"]


def test_it_answers_404_for_a_forged_access_token(client):
    assert client.get(INFO + "forged").status_code == 404
