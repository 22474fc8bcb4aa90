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
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings

from ..base import AgentReply, InboxAttachment, InboxEvent
from ..channel import MalformedPayload, WebhookRejected, WebhookRequest
from ..payload import as_dict, dict_at, load_json, opt_str_at
from ..webhook_guard import digests_equal

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
    events: list[InboxEvent] = []
    for event in _events(request.body):
        handler = EVENT_HANDLERS.get(_event_type(event))
        # CHANNEL_ACCOUNT_CREATED / _UPDATED (an admin connected or changed an account
        # in HubSpot; ours are made through the API) and whatever HubSpot adds: nothing
        # to send to a customer.
        if handler is not None:
            events.extend(handler(event))
    return events


def _on_outgoing_message(event: dict) -> list[InboxEvent]:
    message = dict_at(event, "message")
    if opt_str_at(message, "direction") not in ("", "OUTGOING"):
        return []
    if _our_own_write(as_dict(message.get("client") or {}, "client")):
        return []
    sender = _first_sender(message)
    return [
        AgentReply(
            workspace_external_id=_id(event, "portalId"),
            conversation_id=_id(message, "conversationsThreadId"),
            part_id=_id(message, "id"),
            admin_id=_opt_id(sender, "actorId") or _opt_id(message, "createdBy"),
            admin_name=opt_str_at(sender, "name"),
            body_html=_body_html(message),
            attachments=_attachments(message),
            at=_opt_time(message, "createdAt") or _opt_time(event, "eventTimestamp"),
            customer_external_id=_thread_ids(event, message),
            channel_account_id=_opt_id(message, "channelAccountId")
            or _opt_id(event, "channelAccountId"),
        )
    ]


EVENT_HANDLERS: dict[str, Callable[[dict], list[InboxEvent]]] = {
    "OUTGOING_CHANNEL_MESSAGE_CREATED": _on_outgoing_message,
}


def _our_own_write(client: dict) -> bool:
    """A message our integration published (the app's id on an INTEGRATION client)
    must not go back out to the customer. With HUBSPOT_APP_ID set only ours are
    skipped; unset, every integration-written one is (the safe side)."""
    if opt_str_at(client, "clientType") != "INTEGRATION":
        return False
    ours = settings.HUBSPOT_APP_ID
    return not ours or _opt_id(client, "integrationAppId") == str(ours)


def _first_sender(message: dict) -> dict:
    senders = message.get("senders") or []
    if not isinstance(senders, list):
        raise MalformedPayload("senders is not a list")
    return as_dict(senders[0], "sender") if senders else {}


def _thread_ids(event: dict, message: dict) -> str:
    """Our ``integrationThreadId`` for the customer; integrations have seen the list on
    the message and on the event."""
    for holder in (message, event):
        ids = holder.get("channelIntegrationThreadIds")
        if ids is None:
            continue
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise MalformedPayload("channelIntegrationThreadIds is not a list of strings")
        if ids:
            return ids[0]
    return opt_str_at(message, "integrationThreadId")


def _body_html(message: dict) -> str:
    rich = opt_str_at(message, "richText")
    if rich.strip():
        return rich
    return text_to_html(opt_str_at(message, "text"))


def text_to_html(text: str) -> str:
    """Plain text as simple HTML: escaped, a paragraph per blank-line separated block,
    single line breaks kept as ``<br>``."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block.strip()
    )


def _attachments(message: dict) -> tuple[InboxAttachment, ...]:
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise MalformedPayload("attachments is not a list")
    found = []
    for attachment in (as_dict(a, "attachment") for a in attachments):
        url = attachment.get("url")
        # Only files come with something to send on, and only when HubSpot gave a link
        # (a bare fileId would need the Files API).
        if opt_str_at(attachment, "type") != "FILE" or not isinstance(url, str) or not url:
            continue
        name = opt_str_at(attachment, "name")
        found.append(InboxAttachment(url=url, name=name, content_type=_content_type(name, url)))
    return tuple(found)


def _content_type(name: str, url: str) -> str:
    # HubSpot gives a file's usage (IMAGE, AUDIO, …), not its type: the name tells.
    for candidate in (name, urlsplit(url).path):
        guessed, _ = mimetypes.guess_type(candidate)
        if guessed:
            return guessed
    return ""


# --- shapes: anything else is MalformedPayload -----------------------------------------


def _events(body: bytes) -> list[dict]:
    data = load_json(body)
    # One event per request as far as anyone has seen; HubSpot's other webhooks batch
    # them in a list, so a list is read too.
    items = data if isinstance(data, list) else [data]
    return [as_dict(item, "event") for item in items]


def _event_type(event: dict) -> str:
    for key in ("type", "eventType"):
        if isinstance(event.get(key), str) and event[key]:
            return event[key]
    raise MalformedPayload("event has no type")


def _id(obj: dict, key: str) -> str:
    # HubSpot's ids are strings in some payloads and numbers in others.
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{key} is not an id")
    return str(value)


def _opt_id(obj: dict, key: str) -> str:
    return "" if obj.get(key) in (None, "") else _id(obj, key)


def _opt_time(obj: dict, key: str) -> datetime | None:
    """An ISO 8601 time, or milliseconds since the epoch."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise MalformedPayload(f"{key} is out of range") from error
    if not isinstance(value, str):
        raise MalformedPayload(f"{key} is not a time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedPayload(f"{key} is not an ISO 8601 time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
