"""HTTP to the LINE Messaging API, and nothing else (docs/channels/line.md).

Two hosts: ``api.line.me`` for everything but files, ``api-data.line.me`` for the
content customers send. Every call carries the channel access token as a Bearer
header (never in the URL). Every error is mapped here, once, to a ProviderError worded
for whoever reads it: the admin adding the channel, or the agent whose reply it
becomes a note for.
"""

import uuid
from urllib.parse import quote, urlsplit

from django.conf import settings

from ..base import ProviderError
from ..channel import MalformedPayload
from ..errors import provider_call
from ..http import ProviderSession
from ..media import Download, download, host_matches
from ..payload import parse_as
from . import schema

LABEL = "LINE"

# A retry key is "a hexadecimal UUID" of our choosing; deriving it from the queued
# message's idempotency key makes every attempt at one message carry the same key.
_RETRY_KEY_NAMESPACE = uuid.UUID("6f1d0c2e-5b7a-4e43-9a55-2f8f6c1e7a10")


def api_url() -> str:
    # The registry defines both settings (integrations/registry.py).
    return settings.LINE_API_URL.rstrip("/")


def data_api_url() -> str:
    return settings.LINE_DATA_API_URL.rstrip("/")


def retry_key(idempotency_key: str) -> str:
    """The ``X-Line-Retry-Key`` for one queued message: the same on every attempt."""
    return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, idempotency_key))


# --- errors ----------------------------------------------------------------------------

_MONTHLY_LIMIT = "monthly limit"

_REFUSED_CREDENTIAL = (
    "LINE did not accept the channel access token: it was mistyped, reissued or revoked. "
    "In the LINE Developers Console, open the channel's Messaging API tab, issue (or copy) "
    "the long-lived channel access token, and connect the channel again with it."
)
_RECONNECT = (
    "LINE no longer accepts this channel's access token: it was reissued or revoked in "
    "the LINE Developers Console, or the channel was deleted. Reconnect the channel in "
    "Octopods with the current long-lived token from the channel's Messaging API tab. "
    "The reply was not sent."
)
QUOTA_USED_UP = (
    "LINE refused the reply because this LINE Official Account has used up the messages "
    "its plan allows this month{usage}. Octopods answers customers with push messages, and "
    "every one counts against that monthly allowance. The reply was not sent. The "
    "account's admin can raise the limit or change plan in LINE Official Account Manager "
    "(Settings, then Activity and billing); otherwise sending works again from the "
    "first day of next month. Send the reply again then, or reach the customer another "
    "way."
)


def _body(response) -> tuple[str, list[dict]]:
    """LINE's error body: ``{"message": …, "details": [{"message", "property"}]}``."""
    try:
        body = response.json()
    except ValueError:
        return str(response.reason or ""), []
    if not isinstance(body, dict):
        return str(response.reason or ""), []
    details = body.get("details")
    details = (
        [item for item in details if isinstance(item, dict)] if isinstance(details, list) else []
    )
    return str(body.get("message") or response.reason or ""), details


def _said(message: str, details: list[dict]) -> str:
    parts = [
        f"{item.get('property')}: {item.get('message')}"
        if item.get("property")
        else str(item.get("message"))
        for item in details
        if item.get("message")
    ]
    return f"{message} ({'; '.join(parts)})" if parts else message


def _retry_after(response) -> float | None:
    try:
        value = response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def describe_error(response) -> ProviderError:
    """Any LINE error answer → ProviderError (setting up, or any call's common cases)."""
    status = response.status_code
    message, details = _body(response)
    common = {"status": status, "code": str(status)}
    if status == 401:
        return ProviderError(
            _REFUSED_CREDENTIAL,
            permanent=True,
            unauthorized=True,
            field="channel_access_token",
            **common,
        )
    if status == 429:
        if _MONTHLY_LIMIT in message.lower():
            return ProviderError(
                QUOTA_USED_UP.format(usage=""), permanent=True, **{**common, "code": "quota"}
            )
        retry_after = _retry_after(response)
        wait = f"in {retry_after:.0f} seconds" if retry_after else "in a minute"
        return ProviderError(
            f"LINE asked us to slow down (too many requests for this channel); Octopods "
            f"tries again {wait}.",
            permanent=False,
            retry_after=retry_after,
            **common,
        )
    if status >= 500:
        return ProviderError(
            f"LINE could not be reached (HTTP {status}); Octopods tries again in a few minutes.",
            permanent=False,
            **common,
        )
    if status == 403:
        return ProviderError(
            "LINE says this channel is not allowed to use that feature of the Messaging "
            f"API ({_said(message, details)}). Check the LINE Official Account's plan and "
            "the channel's settings in the LINE Developers Console.",
            permanent=True,
            **common,
        )
    return ProviderError(
        f"LINE refused the request: {_said(message, details)}", permanent=True, **common
    )


def describe_message_error(response) -> ProviderError:
    """A push or file download's error, worded for the agent who reads it in the inbox."""
    error = describe_error(response)
    if error.unauthorized:
        return ProviderError(
            _RECONNECT, permanent=True, unauthorized=True, status=error.status, code=error.code
        )
    if error.status != 400:
        return error
    message, details = _body(response)
    said = _said(message, details)
    if any(item.get("property") == "to" for item in details) or "to' in the request" in message:
        return ProviderError(
            f"LINE does not know this customer for this LINE Official Account ({said}); a "
            "reply can only go to someone who has added the account as a friend and written "
            "to it.",
            permanent=True,
            status=400,
            code="400",
        )
    if any("originalContentUrl" in str(item.get("property")) for item in details):
        return ProviderError(
            f"LINE could not take the attached file ({said}). LINE only sends JPEG or PNG "
            "images and MP4 videos from a public HTTPS address; send the file as a link.",
            permanent=True,
            status=400,
            code="400",
        )
    return ProviderError(
        f"LINE refused the message: {said}", permanent=True, status=400, code="400"
    )


def _describe_content_error(response) -> ProviderError:
    # The content of a message is kept for a limited time; after that (or for a message
    # id that never had any), LINE answers 404.
    if response.status_code == 404:
        return ProviderError(
            "LINE no longer has the customer's file (LINE keeps what customers send only "
            "for a limited time). Ask the customer to send it again.",
            permanent=True,
            status=404,
            code="404",
        )
    return describe_message_error(response)


def _describe_external_error(response) -> ProviderError:
    return ProviderError(
        f"The customer's file could not be fetched from the address their LINE app gave "
        f"(HTTP {response.status_code}). Ask the customer to send it again.",
        permanent=response.status_code < 500,
        status=response.status_code,
        code=str(response.status_code),
    )


# --- the client ---------------------------------------------------------------------------


class LineClient:
    """The Messaging API as one channel."""

    def __init__(self, channel_access_token: str):
        self.session = ProviderSession()
        self.session.headers["Authorization"] = f"Bearer {channel_access_token}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        payload: dict | None = None,
        headers: dict | None = None,
        describe=describe_error,
        base: str | None = None,
    ):
        url = f"{base or api_url()}{path}"
        with provider_call(LABEL, describe):
            response = self.session.request(method, url, json=payload, headers=headers)
            response.raise_for_status()
            return response

    # --- setting up ----------------------------------------------------------------------

    def bot_info(self) -> schema.BotInfo:
        """GET /v2/bot/info: the bot's user id, basic id and display name. Reads
        nothing but proves the token is the channel's."""
        response = self._call("GET", "/v2/bot/info")
        with provider_call(LABEL, describe_error):
            return _read(schema.BotInfo, response.json())

    def set_webhook_endpoint(self, url: str) -> None:
        self._call("PUT", "/v2/bot/channel/webhook/endpoint", payload={"endpoint": url})

    def test_webhook_endpoint(self, url: str) -> schema.WebhookTest:
        """POST /v2/bot/channel/webhook/test: LINE sends our webhook a signed request
        with no events and reports what came back."""
        response = self._call("POST", "/v2/bot/channel/webhook/test", payload={"endpoint": url})
        with provider_call(LABEL, describe_error):
            return _read(schema.WebhookTest, response.json())

    def webhook_endpoint(self) -> schema.WebhookEndpoint:
        response = self._call("GET", "/v2/bot/channel/webhook/endpoint")
        with provider_call(LABEL, describe_error):
            return _read(schema.WebhookEndpoint, response.json())

    # --- the message path ----------------------------------------------------------------

    def push(self, *, to: str, messages: list[dict], idempotency_key: str = "") -> str:
        """POST /v2/bot/message/push → the id of the first message sent.

        With an idempotency key, the request carries ``X-Line-Retry-Key``: LINE runs it
        once however often it is sent, and answers a repeat of an accepted one with 409
        (and the first request's id in ``X-Line-Accepted-Request-Id``), which means the
        message is already in the customer's chat."""
        headers = {"X-Line-Retry-Key": retry_key(idempotency_key)} if idempotency_key else {}
        url = f"{api_url()}/v2/bot/message/push"
        with provider_call(LABEL, describe_message_error):
            response = self.session.post(
                url, json={"to": to, "messages": messages}, headers=headers
            )
            if response.status_code == 409 and idempotency_key:
                accepted = response.headers.get("X-Line-Accepted-Request-Id", "")
                return f"request:{accepted or retry_key(idempotency_key)}"
            response.raise_for_status()
            answer = _read(schema.PushAnswer, response.json())
            return answer.sentMessages[0].id

    def quota_usage(self) -> tuple[int | None, int]:
        """(the month's limit, None when there is none; messages counted so far)."""
        quota = self._call("GET", "/v2/bot/message/quota")
        used = self._call("GET", "/v2/bot/message/quota/consumption")
        with provider_call(LABEL, describe_error):
            limit = _read(schema.Quota, quota.json())
            consumption = _read(schema.QuotaConsumption, used.json())
        return (limit.value if limit.type == "limited" else None), consumption.totalUsage

    def content(self, message_id: str, *, max_bytes: int) -> Download:
        """GET api-data.line.me/v2/bot/message/{id}/content: a file a customer sent."""
        base = data_api_url()
        url = f"{base}/v2/bot/message/{quote(message_id, safe='')}/content"
        return download(
            url,
            session=self.session,
            label=LABEL,
            describe=_describe_content_error,
            max_bytes=max_bytes,
            allowed=lambda address: host_matches(address, api_url=base),
            # LINE may hand the file over from another of its hosts; the token stays
            # behind on any other host (download drops the session there).
            redirect_allowed=lambda address: host_matches(
                address, api_url=base, hosts=("*.line.me", "*.line-scdn.net")
            ),
        )


def download_external(url: str, *, max_bytes: int) -> Download:
    """A file the customer's app sent as its own URL (``contentProvider.type`` external):
    fetched without our token, and only over HTTPS."""
    return download(
        url,
        session=ProviderSession(),
        label=LABEL,
        describe=_describe_external_error,
        max_bytes=max_bytes,
        allowed=_https,
        redirect_allowed=_https,
    )


def _https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and parts.username is None


def _read[M: schema.Payload](model: type[M], data: object) -> M:
    try:
        return parse_as(model, data)
    except MalformedPayload as error:
        raise ProviderError(
            f"{LABEL} sent an answer we could not read ({error})", permanent=False
        ) from None
