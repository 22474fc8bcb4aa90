"""HTTP to Viber's REST bot API, and nothing else (docs/channels/viber.md).

Every method is a POST of JSON to ``<VIBER_API_URL>/<method>`` with the bot's token in
the ``X-Viber-Auth-Token`` header. Viber answers HTTP 200 even when it refuses: the body's
``status`` (0 is ok) and ``status_message`` say what happened.
"""

from urllib.parse import urlsplit

import requests
from django.conf import settings

from ..base import ProviderError
from ..errors import provider_call
from ..http import ProviderSession
from ..media import Download, download, host_matches

LABEL = "Viber"
AUTH_HEADER = "X-Viber-Auth-Token"

# The callbacks the relay turns into events (message is always sent; it cannot be
# filtered out). subscribed / unsubscribed / conversation_started are logged.
EVENT_TYPES = (
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
)

# Where Viber keeps customers' files (dl-media.viber.com in its examples); any other
# host is refused. Not documented as a list: see docs/channels/viber.md.
MEDIA_HOSTS = ("*.viber.com", "viber.com")


def api_url() -> str:
    # The registry's setting (integrations/registry.py): Viber's, or the sandbox's.
    return settings.VIBER_API_URL


# How long to wait after Viber's rate limit (status 12) before trying again, in seconds.
RATE_LIMIT_WAIT = 600.0

# --- errors ------------------------------------------------------------------------------

_KEY_REFUSED = (
    "Viber did not accept this auth token. Copy it again from your bot's Edit Info screen "
    "in Viber (Your app key), or from the Viber Admin Panel."
)
_RECONNECT = (
    "Viber no longer accepts the channel's auth token. Reconnect the channel in Octopods "
    "with the bot's current token (in Viber: your bot → Edit Info → Your app key)."
)
_NOT_SUBSCRIBED = (
    "The customer is not subscribed to the Viber bot (they only opened the chat, or they "
    "unsubscribed), and Viber lets a bot write only to subscribers. The reply was not "
    "sent; it can reach them once they write to the bot again."
)
_BOT_DOWN = (
    "Viber refused the message because the bot itself cannot send ({status_message}): it "
    "is blocked, suspended or not found at Viber. Check the bot in the Viber Admin Panel "
    "or ask Viber's support."
)
_OLD_APP = (
    "The customer's Viber app is too old to receive this message ({status_message}). It "
    "can reach them once they update Viber."
)

_BILLING = (
    "Viber refused the message because of the bot's account with Viber "
    "({status_message}): it may send no more messages for now. The bot's admin needs to "
    "settle this with Viber or its Viber partner; the reply was not sent."
)

# Viber's error codes (REST bot API, Error Codes; creators.viber.com/docs/bots-api/errors)
# that mean something to the agent: (permanent, message).
_MESSAGE_ERRORS: dict[int, tuple[bool, str]] = {
    3: (
        True,
        "Viber refused the message as malformed ({status_message}). If it had a file, send "
        "the file as a link in the text instead.",
    ),
    4: (True, "Viber refused the message: something it requires was missing ({status_message})."),
    5: (
        True,
        "The customer is no longer a Viber user (their account was deleted or moved to "
        "another number), so the reply cannot reach them.",
    ),
    6: (True, _NOT_SUBSCRIBED),
    7: (True, _BOT_DOWN),
    8: (True, _BOT_DOWN),
    9: (True, _BOT_DOWN),
    10: (
        True,
        "Viber has no webhook set for the bot, so it does not let the bot send. Connect the "
        "channel to Octopods again to set it.",
    ),
    11: (
        True,
        "The customer has no device that can receive Viber bot messages, so the reply "
        "cannot reach them.",
    ),
    13: (True, _OLD_APP),
    14: (True, _OLD_APP),
    21: (True, _BILLING),
    22: (True, _BILLING),
    23: (True, _BILLING),
    24: (True, _BILLING),
}


def _status(body: object) -> tuple[int, str]:
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    status = body.get("status")
    if isinstance(status, bool) or not isinstance(status, int):
        raise ValueError("no status")
    return status, str(body.get("status_message") or "")


def describe_error(status: int, status_message: str, *, http_status: int = 200) -> ProviderError:
    """Viber's ``{"status": N, "status_message": …}`` refusal → ProviderError, worded for
    whoever reads it (the admin at set-up, the agent as a note on a reply)."""
    common = {"status": http_status, "code": status_message or str(status)}
    if status == 2 or status_message in ("invalidAuthToken", "missing_auth_token"):
        return ProviderError(
            _KEY_REFUSED, permanent=True, unauthorized=True, field="auth_token", **common
        )
    if status == 12 or status_message.replace(" ", "").lower() == "toomanyrequests":
        # send_message: at most 100 messages to one customer within an hour without a
        # reply; the count starts again when they reply.
        return ProviderError(
            "Viber refused the message for now: a bot may send one customer at most 100 "
            "messages within an hour without a reply. Octopods tries again later; it goes "
            "through once the customer replies or the hour has passed.",
            permanent=False,
            retry_after=RATE_LIMIT_WAIT,
            **common,
        )
    if status == 1 or status_message == "invalidUrl":
        return ProviderError(
            "Viber refused our webhook address. Viber only calls a public HTTPS address with "
            "a certificate from a trusted authority: set PUBLIC_BASE_URL to one.",
            permanent=True,
            **common,
        )
    if status_message == "notSubscribed":
        return ProviderError(_NOT_SUBSCRIBED, permanent=True, **common)
    known = _MESSAGE_ERRORS.get(status)
    if known is not None:
        permanent, message = known
        return ProviderError(
            message.format(status_message=status_message or status),
            permanent=permanent,
            **common,
        )
    return ProviderError(
        f"Viber refused the request: {status_message or 'no reason given'} (status {status}).",
        permanent=True,
        **common,
    )


def describe_http_error(response) -> ProviderError:
    """A response that is not HTTP 2xx (Viber's own trouble, or its rate limit)."""
    http_status = response.status_code
    if http_status == 429:
        retry_after = _retry_after(response)
        wait = f"in {retry_after:.0f} seconds" if retry_after else "in a minute"
        return ProviderError(
            f"Viber asked us to slow down; try again {wait}.",
            permanent=False,
            status=429,
            code="429",
            retry_after=retry_after,
        )
    try:
        status, status_message = _status(response.json())
    except ValueError:
        status, status_message = None, ""
    if status is not None and http_status < 500:
        return describe_error(status, status_message, http_status=http_status)
    if http_status in (401, 403):
        return ProviderError(
            _KEY_REFUSED,
            permanent=True,
            unauthorized=True,
            field="auth_token",
            status=http_status,
            code=str(http_status),
        )
    if http_status >= 500:
        return ProviderError(
            f"Viber could not be reached (HTTP {http_status}); try again in a few minutes.",
            permanent=False,
            status=http_status,
            code=str(http_status),
        )
    return ProviderError(
        f"Viber refused the request (HTTP {http_status}).",
        permanent=True,
        status=http_status,
        code=str(http_status),
    )


def describe_message_error(status: int, status_message: str) -> ProviderError:
    error = describe_error(status, status_message)
    if error.unauthorized:
        return ProviderError(
            _RECONNECT, permanent=True, unauthorized=True, status=error.status, code=error.code
        )
    return error


def _retry_after(response) -> float | None:
    try:
        value = response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _describe_file_error(response) -> ProviderError:
    if response.status_code in (403, 404, 410):
        return ProviderError(
            "Viber no longer has the customer's file (Viber keeps files for a limited time). "
            "Ask the customer to send it again.",
            permanent=True,
            status=response.status_code,
            code=str(response.status_code),
        )
    return describe_http_error(response)


class ViberClient:
    """The REST bot API as one bot."""

    def __init__(self, auth_token: str):
        self.auth_token = auth_token
        self.session = ProviderSession()
        self.session.headers[AUTH_HEADER] = auth_token

    def _call(self, method: str, payload: dict, *, describe=describe_error) -> dict:
        with provider_call(LABEL, describe_http_error):
            response = self.session.post(f"{api_url()}/{method}", json=payload)
            response.raise_for_status()
            body = response.json()
            status, status_message = _status(body)
            if status != 0:
                raise describe(status, status_message)
            return body

    def get_account_info(self) -> dict:
        """The bot: ``id``, ``name``, ``uri``, … (and its webhook and event types)."""
        info = self._call("get_account_info", {})
        if (
            not isinstance(info.get("id"), str)
            or not info["id"]
            or not isinstance(info.get("name"), str)
        ):
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return info

    def set_webhook(self, *, url: str) -> None:
        payload: dict = {"url": url}
        if url:
            payload.update(event_types=list(EVENT_TYPES), send_name=True, send_photo=False)
        self._call("set_webhook", payload)

    def send_message(self, payload: dict) -> str:
        """Send one message → its ``message_token``, as text."""
        body = self._call("send_message", payload, describe=describe_message_error)
        token = body.get("message_token")
        if isinstance(token, bool) or not isinstance(token, int | str) or token == "":
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return str(token)

    def file_size(self, url: str) -> int | None:
        """The size of the file at ``url`` (a reply's attachment), which Viber's video and
        file messages require; None when it cannot be learned. Only the headers of a GET
        are read (our media links answer GET only): no body, no redirect, HTTPS only."""
        if urlsplit(url).scheme != "https":
            return None
        try:
            with ProviderSession().get(url, stream=True, allow_redirects=False) as response:
                response.raise_for_status()
                size = int(response.headers["Content-Length"])
        except (requests.RequestException, KeyError, ValueError):
            return None
        return size if size > 0 else None

    def download(self, url: str, *, max_bytes: int) -> Download:
        # Viber's media URLs are public (no token); the session's token header must not
        # go to them, so a plain session downloads.
        return download(
            url,
            session=ProviderSession(),
            label=LABEL,
            describe=_describe_file_error,
            max_bytes=max_bytes,
            allowed=_media_host,
            redirect_allowed=_media_host,
        )


def _media_host(url: str) -> bool:
    return host_matches(url, api_url=api_url(), hosts=MEDIA_HOSTS)
