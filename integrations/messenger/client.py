"""HTTP to the Messenger Platform (Meta Graph), and nothing else (PROVIDERS.md §6)."""

from functools import partial

from ..base import ProviderError
from ..meta import graph_error, graph_request, graph_session, require_success

# The webhook fields the relay reads (messages and their statuses, taps, reactions, and
# echoes of what the Page sends from elsewhere).
SUBSCRIBED_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "message_echoes",
)
# What a Page token needs to receive and send messages and to subscribe our app.
REQUIRED_PERMISSIONS = ("pages_messaging", "pages_manage_metadata")


def describe_error(response, *, id_field: str = "") -> ProviderError:
    """Graph's error body → ProviderError worded for a Messenger admin."""
    error = graph_error(response)
    if error.token_rejected:
        return error.provider_error(
            "Meta did not accept this Page access token: it is invalid, expired or revoked. "
            "Generate a new one for this Page (Meta app dashboard → Messenger → Settings → "
            "Access tokens) and paste it here.",
            field="page_access_token",
        )
    if error.permission_missing:
        missing = " and ".join(error.permissions_named() or REQUIRED_PERMISSIONS)
        return error.provider_error(
            f"This Page access token lacks a permission Meta requires ({missing}). Grant "
            "pages_messaging and pages_manage_metadata to the app for this Page, then "
            "generate the Page token again.",
            field="page_access_token",
        )
    if error.object_missing and id_field:
        return error.provider_error(
            "Meta found no Page with this ID that this token can manage. Check the Page ID "
            "(the Page's About → Page transparency, or Meta Business Suite → Settings).",
            field=id_field,
        )
    return error.provider_error()


_about_page = partial(describe_error, id_field="page_id")


class MessengerClient:
    """Graph as one Facebook Page (Bearer Page access token)."""

    def __init__(self, page_access_token: str):
        self.session = graph_session(page_access_token)

    def me(self) -> dict:
        """Whom the token speaks for: a Page token answers with the Page (id, name)."""
        body = graph_request(
            self.session, "GET", "/me", params={"fields": "id,name"}, describe=describe_error
        )
        if not body.get("id"):
            raise ProviderError("Meta sent an answer we could not read", permanent=False)
        return body

    def subscribe_app(self, page_id: str) -> None:
        body = graph_request(
            self.session,
            "POST",
            f"/{page_id}/subscribed_apps",
            data={"subscribed_fields": ",".join(SUBSCRIBED_FIELDS)},
            describe=_about_page,
        )
        require_success(body, action="send this Page's messages to the app")

    def unsubscribe_app(self, page_id: str) -> None:
        body = graph_request(
            self.session, "DELETE", f"/{page_id}/subscribed_apps", describe=_about_page
        )
        require_success(body, action="stop sending this Page's messages to the app")
