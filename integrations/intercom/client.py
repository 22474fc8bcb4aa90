"""HTTP to Intercom, and nothing else (PROVIDERS.md §1)."""

import time
from urllib.parse import quote

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
    text = f"Intercom answered {status}: {message}"
    if code == "api_plan_restricted":
        # Intercom's own words ("Active subscription needed.") read as our bug in a note.
        text = (
            "Intercom refused the call because the workspace's Intercom plan does not "
            f"include API access ({message}). An Intercom admin needs to reactivate or "
            "upgrade the subscription."
        )
    return ProviderError(
        text,
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

    def _request(self, method: str, path: str, json: dict | None = None) -> dict:
        with provider_call(LABEL, describe_error):
            response = self.session.request(method, f"{settings.INTERCOM_API_URL}{path}", json=json)
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return body

    def _get(self, path: str) -> dict:
        return self._request("GET", path)

    def _post(self, path: str, body: dict) -> dict:
        return self._request("POST", path, json=body)

    def me(self) -> dict:
        return self._get("/me")

    def admins(self) -> list[dict]:
        return self._get("/admins")["admins"]

    # --- contacts (§1.4) ---------------------------------------------------------------

    def search_contacts(self, query: dict, *, per_page: int) -> list[dict]:
        """The first page of contacts matching ``query`` (Intercom's search language)."""
        body = self._post(
            "/contacts/search", {"query": query, "pagination": {"per_page": per_page}}
        )
        with provider_call(LABEL, describe_error):
            return _objects(body["data"])

    def create_contact(self, fields: dict) -> dict:
        return self._post("/contacts", fields)

    def unarchive_contact(self, contact_id: str) -> dict:
        return self._post(f"/contacts/{_segment(contact_id)}/unarchive", {})

    # --- conversations (§1.5) ----------------------------------------------------------

    def create_conversation(self, body: dict) -> dict:
        """Open a conversation from a contact; Intercom answers with the Message (its
        ``id`` and the new ``conversation_id``), not the conversation."""
        return self._post("/conversations", body)

    def create_message(self, body: dict) -> dict:
        """An admin-initiated message; with ``create_conversation_without_contact_reply``
        Intercom opens its conversation at once and answers with its ``conversation_id``."""
        return self._post("/messages", body)

    def assign(self, conversation_id: str, *, admin_id: str, assignee_id: str) -> dict:
        return self._post(
            f"/conversations/{_segment(conversation_id)}/parts",
            {
                "message_type": "assignment",
                "type": "admin",
                "admin_id": admin_id,
                "assignee_id": assignee_id,
            },
        )

    def reply(self, conversation_id: str, body: dict) -> dict:
        """Add a part; Intercom answers with the whole conversation."""
        return self._post(f"/conversations/{_segment(conversation_id)}/reply", body)

    def conversation(self, conversation_id: str) -> dict:
        return self._get(f"/conversations/{_segment(conversation_id)}")

    def search_conversations(self, query: dict, *, per_page: int) -> list[dict]:
        body = self._post(
            "/conversations/search", {"query": query, "pagination": {"per_page": per_page}}
        )
        with provider_call(LABEL, describe_error):
            return _objects(body["conversations"])

    # --- tags --------------------------------------------------------------------------

    def close(self, conversation_id: str, *, admin_id: str) -> dict:
        return self._post(
            f"/conversations/{conversation_id}/parts",
            {"message_type": "close", "type": "admin", "admin_id": admin_id},
        )

    def delete_contact(self, contact_id: str) -> dict:
        return self._request("DELETE", f"/contacts/{contact_id}")

    def tag(self, name: str) -> dict:
        """The workspace's tag called ``name``: Intercom creates it when there is none and
        otherwise returns the existing one (names are case-insensitive)."""
        return self._post("/tags", {"name": name})

    def tag_conversation(self, conversation_id: str, *, tag_id: str, admin_id: str) -> dict:
        return self._post(
            f"/conversations/{_segment(conversation_id)}/tags",
            {"id": tag_id, "admin_id": admin_id},
        )


def _segment(value: str) -> str:
    # Ids come from Intercom and from our rows; quoting keeps any of them one path segment.
    return quote(str(value), safe="")


def _objects(value) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("not a list of objects")
    return value
