"""HTTP to HubSpot, and nothing else (PROVIDERS.md §2)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..base import ProviderError, TokenSet
from ..errors import provider_call
from ..http import ProviderOAuth2Session, ProviderSession

LABEL = "HubSpot"
# HubSpot's OAuth errors that mean the grant itself is gone (uninstalled, revoked).
_DEAD_GRANT = {"BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", "invalid_grant"}


def describe_error(response) -> ProviderError:
    """HubSpot's error bodies (classic and OAuth formats) → ProviderError."""
    code, message = "", response.reason
    try:
        body = response.json()
        code = body.get("status") or body.get("error") or body.get("category") or ""
        message = body.get("message") or body.get("error_description") or message
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    return ProviderError(
        f"HubSpot answered {status}: {message}",
        status=status,
        code=code,
        unauthorized=status == 401 or code in _DEAD_GRANT,
        permanent=status in (400, 401, 403, 404, 410, 422),
        retry_after=_retry_after(response) if status == 429 else None,
    )


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _token_set(token: dict) -> TokenSet:
    expires_in = int(token["expires_in"])
    return TokenSet(
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )


def _oauth_session(redirect_uri: str | None = None) -> ProviderOAuth2Session:
    return ProviderOAuth2Session(
        settings.HUBSPOT_CLIENT_ID, redirect_uri=redirect_uri, scope=settings.HUBSPOT_SCOPES
    )


def authorization_url(*, state: str, redirect_uri: str, code_challenge: str) -> str:
    url, _ = _oauth_session(redirect_uri).authorization_url(
        settings.HUBSPOT_AUTHORIZE_URL,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256",
    )
    return url


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
    with provider_call(LABEL, describe_error):
        token = _oauth_session(redirect_uri).fetch_token(
            f"{settings.HUBSPOT_API_URL}/oauth/v1/token",
            code=code,
            code_verifier=code_verifier,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            include_client_id=True,
        )
        return _token_set(token)


def refresh(*, refresh_token: str) -> TokenSet:
    with provider_call(LABEL, describe_error):
        token = _oauth_session().refresh_token(
            f"{settings.HUBSPOT_API_URL}/oauth/v1/token",
            refresh_token=refresh_token,
            client_id=settings.HUBSPOT_CLIENT_ID,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
        )
        return _token_set(token)


def token_info(*, access_token: str) -> dict:
    """Who the token belongs to: ``hub_id`` (the portal), ``hub_domain``, scopes, …"""
    with provider_call(LABEL, describe_error):
        response = ProviderSession().get(
            f"{settings.HUBSPOT_API_URL}/oauth/v1/access-tokens/{access_token}",
            headers={"Accept": "application/json"},
        )
        if response.status_code == 404:
            # HubSpot answers 404 for a token it no longer knows.
            raise ProviderError(
                "HubSpot does not know this access token",
                permanent=True,
                status=404,
                unauthorized=True,
            )
        response.raise_for_status()
        return response.json()


def delete_refresh_token(*, refresh_token: str) -> None:
    with provider_call(LABEL, describe_error):
        response = ProviderSession().delete(
            f"{settings.HUBSPOT_API_URL}/oauth/v1/refresh-tokens/{refresh_token}"
        )
        response.raise_for_status()
