"""LINE webhooks: check the body's signature, turn its events into Octopods events.

LINE posts ``{"destination": <bot user id>, "events": [...]}`` signed with the
channel secret (``X-Line-Signature``: the Base64 HMAC-SHA256 of the raw body). An empty
``events`` list is LINE checking that the URL answers (when the webhook is set, tested
or verified in the console): it is answered 200 and yields nothing.

What becomes what (docs/channels/line.md):

- ``message`` from a one-on-one chat: one InboundMessage keyed by LINE's message id,
  which stays the same when LINE redelivers the event, so a redelivery is a duplicate
  the store ignores. A quoted message is ``reply_to``; a type we do not model is
  UNSUPPORTED naming it.
- ``messageEdited`` from a one-on-one chat (LINE has edits only in groups so far): a
  message naming the one it replaces, as the other kinds carry edits.
- ``unsend``: the customer took a message back. Not dropped: an UNSUPPORTED message
  saying which one, so the agent knows the words they may have read are withdrawn.
- ``postback``: a tap on a postback action (a rich menu the account's admin set up):
  INTERACTIVE with its data.
- ``follow``/``unfollow`` (added or blocked the account), ``join``/``leave`` (the bot in
  a group) and any other event carry no customer words: nothing (the view logs them).
- Anything from a group or multi-person chat: nothing. Octopods relays one customer's
  conversation; a group's chatter has no one customer to answer.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..channel import (
    ContentType,
    InboundEvent,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from ..payload import load_json, parse_as
from ..webhook_guard import digests_equal
from . import schema
from .credentials import Credentials

SIGNATURE_HEADER = "X-Line-Signature"

# LINE reads only the status code; an empty body keeps the 200 plain.
ACK = (b"", "text/plain")


def signature(secret: str, body: bytes) -> str:
    """What LINE puts in X-Line-Signature for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    # Over the raw bytes as they came: the same JSON re-serialised signs differently.
    if not digests_equal(signature(credentials.channel_secret, request.body), given):
        raise WebhookRejected("wrong signature")


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    envelope = parse_as(schema.Envelope, load_json(request.body))
    events: list[InboundEvent] = []
    for index, raw in enumerate(envelope.events):
        try:
            kind = parse_as(schema.EventHead, raw).type
            handler = EVENT_HANDLERS.get(kind)
            if handler is not None:
                events.extend(handler(raw))
        except MalformedPayload as error:
            raise MalformedPayload(f"events.{index}.{error}") from None
    return events


# --- events --------------------------------------------------------------------------


def _customer(event: schema.Event) -> Sender | None:
    """The customer of a one-on-one chat, or None for a group or multi-person chat."""
    source = event.source
    if source is None:
        raise MalformedPayload("source is missing")
    if source.type != "user":
        return None
    if not source.userId:
        raise MalformedPayload("source.userId is missing")
    # The webhook names no one; a display name needs a profile call, and the inbox
    # shows the contact by id until then.
    return Sender(external_id=source.userId)


def _on_message(raw: dict) -> list[InboundEvent]:
    event = parse_as(schema.MessageEvent, raw)
    sender = _customer(event)
    if sender is None:
        return []
    message = event.message
    handler = CONTENT_HANDLERS.get(message.type)
    if handler is None:
        content: dict[str, Any] = {"type": ContentType.UNSUPPORTED}
    else:
        content = handler(message)
    return [
        InboundMessage(
            # LINE's message id: the same when the event is redelivered.
            provider_message_id=message.id,
            sender=sender,
            sent_at=event.timestamp,
            reply_to=message.quotedMessageId,
            provider_type=message.type,
            **content,
        )
    ]


def _on_message_edited(raw: dict) -> list[InboundEvent]:
    # messageEdited: a customer changed a text message. LINE says this happens only in
    # group chats for now (which are not relayed), so a one-on-one edit is read ahead
    # of time the way the other kinds carry edits: a message of its own naming the one
    # it replaces. Several edits may arrive out of order; each is kept by its event id.
    events = _on_message(raw)
    if not events:
        return []
    (edited,) = events
    event = parse_as(schema.MessageEvent, raw)
    return [
        replace(
            edited,
            provider_message_id=f"edit:{event.webhookEventId}:{edited.provider_message_id}",
            provider_type="messageEdited",
            edits=edited.provider_message_id,
            reply_to="",
        )
    ]


def _on_unsend(raw: dict) -> list[InboundEvent]:
    event = parse_as(schema.UnsendEvent, raw)
    sender = _customer(event)
    if sender is None:
        return []
    unsent = event.unsend.messageId
    return [
        InboundMessage(
            # One unsend per message: keyed by it, so a redelivery is the same event.
            provider_message_id=f"unsend:{unsent}",
            sender=sender,
            sent_at=event.timestamp,
            type=ContentType.UNSUPPORTED,
            provider_type="unsend",
            provider_note=(
                f"The customer unsent (took back) their message {unsent}; it is no longer "
                "in their LINE chat. Do not act on what it said without asking them."
            ),
            reply_to=unsent,
        )
    ]


def _on_postback(raw: dict) -> list[InboundEvent]:
    event = parse_as(schema.PostbackEvent, raw)
    sender = _customer(event)
    if sender is None:
        return []
    data = event.postback.data
    return [
        InboundMessage(
            # A postback has no message id; the event id is kept across redeliveries.
            provider_message_id=f"postback:{event.webhookEventId}",
            sender=sender,
            sent_at=event.timestamp,
            type=ContentType.INTERACTIVE,
            # The button's label is not in the event; its data is what was chosen.
            text=data,
            payload=data,
            provider_type="postback",
        )
    ]


def _nothing(raw: dict) -> list[InboundEvent]:
    parse_as(schema.Event, raw)  # still refused when it is not an event as documented
    return []


EVENT_HANDLERS: dict[str, Callable[[dict], list[InboundEvent]]] = {
    "message": _on_message,
    "messageEdited": _on_message_edited,
    "unsend": _on_unsend,
    "postback": _on_postback,
    "follow": _nothing,
    "unfollow": _nothing,
    "join": _nothing,
    "leave": _nothing,
}


# --- message contents ----------------------------------------------------------------


def _text(message: schema.MessageContent) -> dict[str, Any]:
    # LINE emoji stay as the placeholders LINE wrote in the text; a mention is its
    # "@name" in the text.
    return {"type": ContentType.TEXT, "text": message.text}


def _file_of(content_type: ContentType, mime_type: str = "") -> Callable[..., dict[str, Any]]:
    def handler(message: schema.MessageContent) -> dict[str, Any]:
        return {"type": content_type, "media": _media(message, mime_type=mime_type)}

    return handler


def _file(message: schema.MessageContent) -> dict[str, Any]:
    return {
        "type": ContentType.DOCUMENT,
        "media": Media(ref=message.id, filename=message.fileName, size=message.fileSize),
    }


def _location(message: schema.MessageContent) -> dict[str, Any]:
    if message.latitude is None or message.longitude is None:
        raise MalformedPayload("message.latitude is missing")
    return {
        "type": ContentType.LOCATION,
        "location": Location(
            latitude=message.latitude,
            longitude=message.longitude,
            name=message.title,
            address=message.address,
        ),
    }


def _sticker(message: schema.MessageContent) -> dict[str, Any]:
    # A sticker's picture is not among the contents the API hands out; what it shows
    # is described by its keywords, when LINE gives them.
    words = ", ".join(message.keywords or ())
    return {"type": ContentType.STICKER, "text": f"(sticker: {words})" if words else ""}


CONTENT_HANDLERS: dict[str, Callable[[schema.MessageContent], dict[str, Any]]] = {
    "text": _text,
    # LINE re-encodes what customers send: JPEG images, MP4 videos, M4A audio.
    "image": _file_of(ContentType.IMAGE, "image/jpeg"),
    "video": _file_of(ContentType.VIDEO, "video/mp4"),
    "audio": _file_of(ContentType.AUDIO, "audio/m4a"),
    "file": _file,
    "location": _location,
    "sticker": _sticker,
}


def _media(message: schema.MessageContent, *, mime_type: str) -> Media:
    provider = message.contentProvider
    if provider is None:
        raise MalformedPayload("message.contentProvider is missing")
    if provider.type == "external":
        # The customer's app gave its own URL; fetch_media takes it only over HTTPS.
        if not provider.originalContentUrl:
            raise MalformedPayload("message.contentProvider.originalContentUrl is missing")
        return Media(ref=provider.originalContentUrl, mime_type=mime_type)
    # On LINE's servers: the message id is what the content endpoint takes.
    return Media(ref=message.id, mime_type=mime_type)
