"""HTTP to the Messenger Platform (Meta Graph), and nothing else (PROVIDERS.md §6)."""

from functools import partial

from ..base import ProviderError
from ..media import Download
from ..meta import (
    OutsideWindow,
    download_from_cdn,
    graph_error,
    graph_error_detail,
    graph_request,
    graph_session,
    outside_window,
    require_success,
    send_message,
)

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


# --- the message path (PROVIDERS.md §6.2-6.3) --------------------------------------------------

# Where Meta serves the files customers send (attachment payload URLs).
MEDIA_HOSTS = ("*.fbcdn.net", "*.fbsbx.com")


def describe_message_error(response, *, tagged: bool = False) -> ProviderError:
    """Graph's error body on a send → ProviderError worded for the agent who reads it
    as a note in the inbox. ``tagged`` says the send already carried HUMAN_AGENT."""
    error = graph_error(response)
    detail = graph_error_detail(response)
    common = {"status": error.status, "code": str(error.code or "")}
    if error.token_rejected:
        return error.provider_error(
            "Meta no longer accepts the channel's Page access token: it expired or was "
            "revoked (for example when a Page admin changed their password). Reconnect the "
            "channel in Octopods with a new Page access token."
        )
    if outside_window(response):
        return OutsideWindow(
            "Messenger only lets a Page reply within 24 hours of the customer's last "
            "message, or within 7 days when a person replies (the Human Agent tag, which "
            "the Meta app must have been granted). This conversation is past that, so the "
            "reply was not delivered; it can go out once the customer writes again."
            if tagged
            else "Messenger refused the reply: more than 24 hours have passed since the "
            "customer's last message.",
            permanent=True,
            **common,
        )
    if error.code == 551:
        return ProviderError(
            "This customer cannot receive messages from the Page right now (they may have "
            "blocked it or left Messenger). The reply was not delivered.",
            permanent=True,
            **common,
        )
    if error.code == 100 and detail.subcode == 2018001:
        return ProviderError(
            "Messenger knows no customer with this id for the Page; they may have deleted "
            "their conversation or account. The reply was not delivered.",
            permanent=True,
            **common,
        )
    if error.permission_missing:
        return error.provider_error(
            "The channel's Page access token may no longer send messages (it lacks "
            "pages_messaging). Reconnect the channel in Octopods with a Page token that "
            "has it."
        )
    if error.transient and error.status < 500:
        return error.provider_error(
            f"Meta asked us to send more slowly ({error.message}); Octopods tries again shortly."
        )
    return error.provider_error()


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

    def send_message(self, page_id: str, *, recipient: str, message: dict) -> str:
        """Send one message from the Page to the customer (PSID) → its ``message_id``.

        A reply outside the 24-hour window is sent once more with the HUMAN_AGENT tag,
        which Meta allows for a person's reply up to 7 days after the customer's last
        message (and refuses with the same error past that).
        """
        payload = {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": message}
        return send_message(self.session, page_id, payload, describe=describe_message_error)


def download_attachment(url: str, *, max_bytes: int) -> Download:
    """A customer's attachment from Meta's CDN, without the token."""
    return download_from_cdn(url, label="Messenger", hosts=MEDIA_HOSTS, max_bytes=max_bytes)
