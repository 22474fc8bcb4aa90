"""HubSpot's custom-channel webhooks (PROVIDERS.md §2.3, §2.4): verify the v3 signature,
turn events into inbox events.

The custom channel belongs to the app, so one URL hears every portal; each event names
its portal in ``portalId``. HubSpot's retry policy for these webhooks is not
documented, so every ``AgentReply`` keeps the message id as its dedupe key
(RELIABILITY.md §2.3). The payload's field list comes from third-party integrations,
not from HubSpot's guide: the parser takes the fields where any of them found them.
"""

import base64
import hashlib
import hmac
import html
import mimetypes
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings

from ..base import AgentReply, InboxAttachment, InboxEvent
from ..channel import MalformedPayload, WebhookRejected, WebhookRequest
from ..payload import load_json, parse_as
from ..webhook_guard import digests_equal
from . import schema

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
# HubSpot refuses to let a signed request be replayed later than this.
MAX_AGE_SECONDS = 5 * 60

# HubSpot signs the URI with these escapes decoded (its request-validation guide); a
# URL we serve with any of them in its query must be decoded the same way to match.
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPE = re.compile("|".join(_DECODED), re.IGNORECASE)


def signed_uri(url: str) -> str:
    """The URI as HubSpot puts it in the signed string."""
    return _ESCAPE.sub(lambda match: _DECODED[match.group(0).upper()], url)


def signature(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64 HMAC-SHA256(secret, method + URI + body + timestamp), as HubSpot sends it."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify(*, secret: str, request: WebhookRequest) -> None:
    """Raise ``WebhookRejected`` unless ``X-HubSpot-Signature-v3`` is the v3 signature of
    this request with ``secret`` (the app's OAuth client secret), made in the last five
    minutes."""
    if not secret:
        raise WebhookRejected("no HubSpot client secret configured")
    given = request.header(SIGNATURE_HEADER).strip()
    if not given:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
    timestamp = request.header(TIMESTAMP_HEADER).strip()
    if not timestamp.isdigit():
        raise WebhookRejected(f"missing or malformed {TIMESTAMP_HEADER}")
    # Milliseconds. A timestamp from the future is held to the same bound, so a
    # signature cannot be made to last longer by post-dating it.
    if abs(time.time() - int(timestamp) / 1000) > MAX_AGE_SECONDS:
        raise WebhookRejected("timestamp is more than five minutes away from now")
    # The documented decoding first; the URL exactly as we got it as well, in case
    # HubSpot signs what it sent (the two differ only for a query with those escapes).
    candidates = dict.fromkeys((signed_uri(request.url), request.url))
    for uri in candidates:
        expected = signature(
            secret=secret, method=request.method, uri=uri, body=request.body, timestamp=timestamp
        )
        if digests_equal(expected, given):
            return
    raise WebhookRejected("signature mismatch")


# --- events ----------------------------------------------------------------------------


def parse(*, request: WebhookRequest) -> list[InboxEvent]:
    data = load_json(request.body)
    # One event per request as far as anyone has seen; HubSpot's other webhooks batch
    # them in a list, so a list is read too.
    items = data if isinstance(data, list) else [data]
    envelopes = parse_as(schema.Batch, {"events": items}).events
    events: list[InboxEvent] = []
    for index, (envelope, item) in enumerate(zip(envelopes, items, strict=True)):
        if not envelope.event_type:
            raise MalformedPayload(f"events.{index} has no type")
        handler = EVENT_HANDLERS.get(envelope.event_type)
        # CHANNEL_ACCOUNT_CREATED / _UPDATED (an admin connected or changed an account
        # in HubSpot; ours are made through the API) and whatever HubSpot adds: nothing
        # to send to a customer.
        if handler is not None:
            events.extend(handler(item))
    return events


def _on_outgoing_message(item: dict) -> list[InboxEvent]:
    event = parse_as(schema.OutgoingMessageEvent, item)
    message = event.message
    if message.direction not in ("", "OUTGOING"):
        return []
    if _our_own_write(message.client):
        return []
    sender = message.senders[0] if message.senders else schema.Sender()
    return [
        AgentReply(
            workspace_external_id=event.portalId,
            conversation_id=message.conversationsThreadId,
            part_id=message.id,
            admin_id=sender.actorId or message.createdBy,
            admin_name=sender.name,
            body_html=_body_html(message),
            attachments=_attachments(message),
            at=message.createdAt or event.eventTimestamp,
            customer_external_id=_thread_ids(event),
            channel_account_id=message.channelAccountId or event.channelAccountId,
        )
    ]


EVENT_HANDLERS: dict[str, Callable[[dict], list[InboxEvent]]] = {
    "OUTGOING_CHANNEL_MESSAGE_CREATED": _on_outgoing_message,
}


def _our_own_write(client: schema.Client) -> bool:
    """A message our integration published (the app's id on an INTEGRATION client)
    must not go back out to the customer. With HUBSPOT_APP_ID set only ours are
    skipped; unset, every integration-written one is (the safe side)."""
    if client.clientType != "INTEGRATION":
        return False
    ours = settings.HUBSPOT_APP_ID
    return not ours or client.integrationAppId == str(ours)


def _thread_ids(event: schema.OutgoingMessageEvent) -> str:
    """Our ``integrationThreadId`` for the customer; integrations have seen the list on
    the message and on the event."""
    for ids in (event.message.channelIntegrationThreadIds, event.channelIntegrationThreadIds):
        if ids:
            return ids[0]
    return event.message.integrationThreadId


def _body_html(message: schema.Message) -> str:
    if message.richText.strip():
        return message.richText
    return text_to_html(message.text)


def text_to_html(text: str) -> str:
    """Plain text as simple HTML: escaped, a paragraph per blank-line separated block,
    single line breaks kept as ``<br>``."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block.strip()
    )


def _attachments(message: schema.Message) -> tuple[InboxAttachment, ...]:
    return tuple(
        InboxAttachment(
            url=attachment.url,
            name=attachment.name,
            content_type=_content_type(attachment.name, attachment.url),
        )
        for attachment in message.attachments
        # Only files come with something to send on, and only when HubSpot gave a link
        # (a bare fileId would need the Files API).
        if attachment.type == "FILE" and attachment.url
    )


def _content_type(name: str, url: str) -> str:
    # HubSpot gives a file's usage (IMAGE, AUDIO, …), not its type: the name tells.
    for candidate in (name, urlsplit(url).path):
        guessed, _ = mimetypes.guess_type(candidate)
        if guessed:
            return guessed
    return ""
