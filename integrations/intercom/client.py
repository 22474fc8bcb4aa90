"""HTTP to Intercom, and nothing else (PROVIDERS.md §1)."""

import time

from django.conf import settings

from ..base import ProviderError, TokenSet
from ..errors import provider_call
from ..http import ProviderOAuth2Session, ProviderSession

LABEL = "Intercom"


def describe_error(response) -> ProviderError:
    """Intercom's error.list body → ProviderError."""
    code, message = "", response.reason
    try:
        first = response.json()["errors"][0]
        code, message = first.get("code", ""), first.get("message", message)
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    status = response.status_code
    retry_after = None
    if status == 429:
        retry_after = _seconds_until_reset(response)
    return ProviderError(
        f"Intercom answered {status}: {message}",
        status=status,
        code=code,
        unauthorized=status == 401,
        permanent=status in (400, 401, 403, 404, 410, 422),
        retry_after=retry_after,
    )


def _seconds_until_reset(response) -> float | None:
    reset = response.headers.get("X-RateLimit-Reset")
    try:
        return max(0.0, float(reset) - time.time())
    except (TypeError, ValueError):
        return None


def authorization_url(*, state: str, redirect_uri: str) -> str:
    # Intercom takes no scope parameter: the app's permissions are set in its
    # Developer Hub. PKCE is not documented for Intercom, so `state` is the defence.
    session = ProviderOAuth2Session(settings.INTERCOM_CLIENT_ID, redirect_uri=redirect_uri)
    url, _ = session.authorization_url(settings.INTERCOM_AUTHORIZE_URL, state=state)
    return url


def exchange_code(*, code: str, redirect_uri: str) -> TokenSet:
    session = ProviderOAuth2Session(settings.INTERCOM_CLIENT_ID, redirect_uri=redirect_uri)
    with provider_call(LABEL, describe_error):
        token = session.fetch_token(
            f"{settings.INTERCOM_API_URL}/auth/eagle/token",
            code=code,
            client_secret=settings.INTERCOM_CLIENT_SECRET,
            include_client_id=True,
        )
        # The answer carries the same value as `token` and `access_token`; it never
        # expires and comes with no refresh token.
        return TokenSet(access_token=token.get("access_token") or token["token"])


class IntercomClient:
    """Intercom's REST API with one workspace's token."""

    def __init__(self, access_token: str):
        self.session = ProviderSession()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                "Intercom-Version": settings.INTERCOM_API_VERSION,
            }
        )

    def _get(self, path: str) -> dict:
        with provider_call(LABEL, describe_error):
            response = self.session.get(f"{settings.INTERCOM_API_URL}{path}")
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return body

    def me(self) -> dict:
        return self._get("/me")

    def admins(self) -> list[dict]:
        return self._get("/admins")["admins"]
