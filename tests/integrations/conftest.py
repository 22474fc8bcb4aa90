from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.conf import settings


@pytest.fixture
def mocked():
    """Every provider call is mocked at the HTTP level; an unexpected one fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def start(client, provider: str) -> dict:
    """Click Connect; returns the authorize URL's query (state, client_id, …)."""
    response = client.post(f"/connect/{provider}/")
    assert response.status_code == 302, response.content
    location = response["Location"]
    authorize = {
        "intercom": settings.INTERCOM_AUTHORIZE_URL,
        "hubspot": settings.HUBSPOT_AUTHORIZE_URL,
    }[provider]
    assert location.startswith(authorize + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def intercom_api(path: str) -> str:
    return f"{settings.INTERCOM_API_URL}{path}"


def hubspot_api(path: str) -> str:
    return f"{settings.HUBSPOT_API_URL}{path}"


def mock_intercom(
    mocked,
    *,
    token="tok-acme",  # noqa: S107
    id_code="acme-app",
    name="Acme Help",
    admins=None,
):
    mocked.post(
        intercom_api("/auth/eagle/token"),
        json={"token": token, "access_token": token, "token_type": "Bearer"},
    )
    mocked.get(
        intercom_api("/me"),
        json={
            "type": "admin",
            "id": "991",
            "email": "ann@acme.example",
            "name": "Ann",
            "app": {"type": "app", "id_code": id_code, "name": name, "region": "US"},
        },
    )
    mocked.get(
        intercom_api("/admins"),
        json={
            "type": "admin.list",
            "admins": admins
            if admins is not None
            else [
                {"type": "admin", "id": "991", "name": "Ann", "email": "ann@acme.example"},
                {"type": "admin", "id": "992", "name": "Bo", "email": "bo@acme.example"},
            ],
        },
    )


def mock_hubspot(mocked, *, hub_id=9000001, domain="acme.hubspot.com", access="hs-access"):
    mocked.post(
        hubspot_api("/oauth/v1/token"),
        json={
            "access_token": access,
            "refresh_token": "hs-refresh",
            "expires_in": 1800,
            "token_type": "bearer",
        },
    )
    mocked.get(
        hubspot_api(f"/oauth/v1/access-tokens/{access}"),
        json={
            "token": access,
            "user": "ann@acme.example",
            "hub_domain": domain,
            "scopes": ["oauth"],
            "hub_id": hub_id,
            "app_id": 1,
            "expires_in": 1700,
            "user_id": 5,
            "token_type": "access",
        },
    )
