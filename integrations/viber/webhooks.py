"""Viber webhooks: check the body's signature, turn a callback into events.

Viber posts one callback per request, named by ``event`` (REST bot API, Callbacks):
``message`` (the customer wrote), ``delivered`` / ``seen`` / ``failed`` (what became of
a message we sent), ``subscribed`` / ``unsubscribed`` / ``conversation_started`` (the
customer's standing with the bot) and ``webhook`` (set_webhook's check of our URL).
What the team sees of each is in docs/channels/viber.md.
"""

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from ..channel import (
    ContactCard,
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from ..payload import load_json, parse_as
from ..webhook_guard import digests_equal
from . import schema
from .credentials import Credentials

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Viber-Content-Signature"

# Viber wants a 200; a JSON body answering conversation_started would be sent to the
# customer as a welcome message, so the acknowledgement is empty.
ACK = (b"", "text/plain")


def signature(auth_token: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body keyed with the bot's auth token."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    # Signed over the exact bytes Viber sent: re-serialised JSON would not match.
    given = request.header(SIGNATURE_HEADER).strip().lower()
    if not given:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    if not digests_equal(signature(credentials.auth_token, request.body), given):
        raise WebhookRejected("wrong signature")


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    data = load_json(request.body)
    callback = parse_as(schema.Event, data)
    handler = EVENT_HANDLERS.get(callback.event)
    if handler is None:
        # webhook (set_webhook's check, which only needs our 200), client_status and
        # any event Viber adds later: nothing to relay.
        logger.info("Viber callback %r carries nothing to relay", callback.event)
        return []
    return handler(data)


# --- events --------------------------------------------------------------------------


def _on_message(data: Any) -> list[InboundEvent]:
    callback = parse_as(schema.MessageCallback, data)
    message = callback.message
    content_handler = CONTENT_HANDLERS.get(message.type)
    if content_handler is None:
        # rich_media and anything newer: the customer sent something, the team sees
        # that it could not be shown.
        content: dict[str, Any] = {"type": ContentType.UNSUPPORTED}
    else:
        content = content_handler(message)
    content.setdefault("provider_type", message.type)
    return [
        InboundMessage(
            provider_message_id=callback.message_token,
            sender=_sender(callback.sender),
            sent_at=callback.timestamp,
            **content,
        )
    ]


_STATES = {
    "delivered": DeliveryState.DELIVERED,
    "seen": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}


def _on_status(data: Any) -> list[InboundEvent]:
    callback = parse_as(schema.StatusCallback, data)
    state = _STATES[callback.event]
    return [
        DeliveryStatus(
            provider_message_id=callback.message_token,
            state=state,
            at=callback.timestamp,
            error_code="failed" if state is DeliveryState.FAILED else "",
            error_text=callback.desc if state is DeliveryState.FAILED else "",
        )
    ]


def _on_subscribed(data: Any) -> list[InboundEvent]:
    # The customer subscribed: from now on the bot may write to them. No message.
    parse_as(schema.SubscribedCallback, data)
    logger.info("Viber: a customer subscribed to the bot")
    return []


def _on_unsubscribed(data: Any) -> list[InboundEvent]:
    # Replies to this customer will be refused (receiverNotSubscribed) until they write
    # again; the refusal is explained to the agent then, in the conversation it affects.
    parse_as(schema.UnsubscribedCallback, data)
    logger.info("Viber: a customer unsubscribed from the bot")
    return []


def _on_conversation_started(data: Any) -> list[InboundEvent]:
    # The customer opened the chat; they have written nothing and are not subscribed,
    # so send_message to them is refused: only a welcome message in the answer to this
    # very callback could reach them. An empty conversation in the inbox that no one
    # can answer helps nobody; the customer's first message starts the conversation.
    callback = parse_as(schema.ConversationStartedCallback, data)
    logger.info(
        "Viber: a customer opened the chat with the bot (subscribed: %s)", callback.subscribed
    )
    return []


EVENT_HANDLERS: dict[str, Callable[[Any], list[InboundEvent]]] = {
    "message": _on_message,
    "delivered": _on_status,
    "seen": _on_status,
    "failed": _on_status,
    "subscribed": _on_subscribed,
    "unsubscribed": _on_unsubscribed,
    "conversation_started": _on_conversation_started,
}


# --- message contents ----------------------------------------------------------------


def _text(message: schema.Message) -> dict[str, Any]:
    return {"type": ContentType.TEXT, "text": message.text}


def _file(content_type: ContentType) -> Callable[[schema.Message], dict[str, Any]]:
    def handler(message: schema.Message) -> dict[str, Any]:
        if not message.media:
            return _unsupported(message, "Viber sent no address for the file.")
        return {"type": content_type, "text": message.text, "media": _media(message)}

    return handler


def _sticker(message: schema.Message) -> dict[str, Any]:
    if not message.media:
        return _unsupported(message, f"Viber sent the sticker's id ({message.sticker_id}) only.")
    return {"type": ContentType.STICKER, "media": _media(message)}


def _location(message: schema.Message) -> dict[str, Any]:
    if message.location is None:
        return _unsupported(message, "Viber sent no coordinates.")
    point = message.location
    return {
        "type": ContentType.LOCATION,
        "location": Location(latitude=point.lat, longitude=point.lon),
    }


def _contact(message: schema.Message) -> dict[str, Any]:
    if message.contact is None:
        return _unsupported(message, "Viber sent no contact card.")
    contact = message.contact
    phones = (contact.phone_number,) if contact.phone_number else ()
    card = ContactCard(name=contact.name, phones=phones)
    return {"type": ContentType.CONTACTS, "contacts": (card,)}


def _url(message: schema.Message) -> dict[str, Any]:
    # A shared link: the address is in ``media``; shown as the text the customer sent.
    return {"type": ContentType.TEXT, "text": message.media or message.text}


CONTENT_HANDLERS: dict[str, Callable[[schema.Message], dict[str, Any]]] = {
    "text": _text,
    "picture": _file(ContentType.IMAGE),
    "video": _file(ContentType.VIDEO),
    "file": _file(ContentType.DOCUMENT),
    "sticker": _sticker,
    "location": _location,
    "contact": _contact,
    "url": _url,
}


# --- pieces --------------------------------------------------------------------------


def _unsupported(message: schema.Message, note: str) -> dict[str, Any]:
    return {"type": ContentType.UNSUPPORTED, "provider_note": note}


def _sender(user: schema.User) -> Sender:
    return Sender(external_id=user.id, name=user.name)


def _media(message: schema.Message) -> Media:
    # Viber gives a URL on its own servers (no id to resolve, no checksum, no mime type).
    return Media(ref=message.media, filename=message.file_name, size=message.size)
