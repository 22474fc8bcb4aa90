"""HTTP to HubSpot, and nothing else (PROVIDERS.md §2)."""

from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from ..base import ProviderError, TokenSet
from ..errors import provider_call
from ..http import ProviderOAuth2Session, ProviderSession

LABEL = "HubSpot"
# HubSpot's OAuth errors that mean the grant itself is gone (uninstalled, revoked).
_DEAD_GRANT = {"BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", "invalid_grant"}
# How long each rate-limit policy's window runs (PROVIDERS.md §2.5), for a 429 that
# names its policy but carries no interval header. Public apps only meet the ten-second
# one; DAILY belongs to private apps and resets at the portal's midnight, which we
# cannot see, so an hour is a patient guess rather than a promise.
_POLICY_WINDOWS = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0, "DAILY": 3600.0}


def describe_error(response) -> ProviderError:
    """HubSpot's error bodies (the API's ``category`` format and OAuth's) →
    ProviderError."""
    code, message, policy, details = "", response.reason, "", []
    try:
        body = response.json()
        if isinstance(body, dict):
            code = _error_code(body)
            message = body.get("message") or body.get("error_description") or message
            policy = str(body.get("policyName") or "")
            details = [
                str(error["message"])
                for error in body.get("errors") or []
                if isinstance(error, dict) and error.get("message")
            ]
    except (ValueError, AttributeError, TypeError):
        pass
    status = response.status_code
    text = f"HubSpot answered {status}: {message}"
    # A validation error names the offending field only in ``errors`` ("… is required").
    extra = [detail for detail in details if detail not in message]
    if extra:
        text += f" ({'; '.join(extra)})"
    return ProviderError(
        text,
        status=status,
        code=code,
        unauthorized=status == 401 or code in _DEAD_GRANT,
        permanent=status in (400, 401, 403, 404, 410, 422) or code == "VALIDATION_ERROR",
        retry_after=_retry_after(response, policy) if status == 429 else None,
    )


def _error_code(body: dict) -> str:
    # The API's errors say "status": "error" and put the kind in "category"; OAuth's
    # put the kind in "status" (BAD_REFRESH_TOKEN) or "error" (invalid_grant).
    if body.get("category"):
        return str(body["category"])
    status = body.get("status")
    if status and status != "error":
        return str(status)
    return str(body.get("error") or status or "")


def _retry_after(response, policy: str) -> float | None:
    """Seconds to wait after a 429: Retry-After where given, else the rate-limit
    window's length (waiting one whole window always finds it renewed)."""
    for header, scale in (
        ("Retry-After", 1.0),
        ("X-HubSpot-RateLimit-Interval-Milliseconds", 1000.0),
    ):
        try:
            return max(0.0, float(response.headers[header]) / scale)
        except (KeyError, ValueError, TypeError):
            continue
    return _POLICY_WINDOWS.get(policy)


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


# --- custom channels (PROVIDERS.md §2.2) -----------------------------------------------


def _segment(value: str) -> str:
    # Ids come from HubSpot and from our settings; quoting keeps each one path segment.
    return quote(str(value), safe="")


def _object(response) -> dict:
    response.raise_for_status()
    if response.status_code == 204 or not response.content:
        return {}
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def _developer_params() -> dict:
    # The custom channel belongs to the app, not to a portal: it is managed with the
    # developer account's API key, which HubSpot takes only as a query parameter (the
    # HTTP seam never logs query strings).
    return {"hapikey": settings.HUBSPOT_DEVELOPER_API_KEY, "appId": settings.HUBSPOT_APP_ID}


def create_custom_channel(definition: dict) -> dict:
    """Register the app's custom channel; HubSpot answers with it (``id`` …)."""
    with provider_call(LABEL, describe_error):
        return _object(
            ProviderSession().post(
                f"{settings.HUBSPOT_API_URL}/conversations/v3/custom-channels",
                params=_developer_params(),
                json=definition,
                headers={"Accept": "application/json"},
            )
        )


def update_custom_channel(channel_id: str, definition: dict) -> dict:
    with provider_call(LABEL, describe_error):
        return _object(
            ProviderSession().patch(
                f"{settings.HUBSPOT_API_URL}/conversations/v3/custom-channels/"
                f"{_segment(channel_id)}",
                params=_developer_params(),
                json=definition,
                headers={"Accept": "application/json"},
            )
        )


class HubSpotClient:
    """HubSpot's conversations API with one portal's access token."""

    def __init__(self, access_token: str):
        self.session = ProviderSession()
        self.session.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    def _request(self, method: str, path: str, json: dict | None = None) -> dict:
        with provider_call(LABEL, describe_error):
            return _object(
                self.session.request(method, f"{settings.HUBSPOT_API_URL}{path}", json=json)
            )

    def inboxes(self) -> list[dict]:
        """The portal's conversations inboxes and help desks (first page; archived ones
        are left out by default)."""
        body = self._request("GET", "/conversations/v3/conversations/inboxes")
        with provider_call(LABEL, describe_error):
            results = body["results"]
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise ValueError("results is not a list of objects")
            return results

    def create_channel_account(self, channel_id: str, account: dict) -> dict:
        return self._request("POST", f"{_channel_path(channel_id)}/channel-accounts", json=account)

    def update_channel_account(self, channel_id: str, account_id: str, changes: dict) -> dict:
        return self._request(
            "PATCH",
            f"{_channel_path(channel_id)}/channel-accounts/{_segment(account_id)}",
            json=changes,
        )

    def publish_message(self, channel_id: str, message: dict) -> dict:
        """Publish a message in one of the channel's threads; HubSpot answers with the
        message (its ``id`` and ``conversationsThreadId``)."""
        return self._request("POST", f"{_channel_path(channel_id)}/messages", json=message)

    def update_message(self, channel_id: str, message_id: str, changes: dict) -> dict:
        return self._request(
            "PATCH",
            f"{_channel_path(channel_id)}/messages/{_segment(message_id)}",
            json=changes,
        )


def _channel_path(channel_id: str) -> str:
    return f"/conversations/v3/custom-channels/{_segment(channel_id)}"
