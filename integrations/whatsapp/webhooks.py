"""WhatsApp Cloud API webhooks: the GET subscribe handshake, the POST signature, and the
``whatsapp_business_account`` envelope parsed into normalized events (PROVIDERS.md
§3.2-3.4)."""

from collections.abc import Callable, Sequence
from typing import Any

from .. import meta
from ..channel import (
    ContactCard,
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    TemplateStatusUpdate,
    WebhookRequest,
)
from ..payload import load_json, parse_as
from . import schema
from .credentials import Credentials

# Meta only looks at the status code; any 200 body will do.
ACK = (b"", "text/plain")


# --- verification -----------------------------------------------------------------------


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    meta.verify_signature(app_secret=credentials.app_secret, request=request)


def handshake(*, credentials: Credentials, request: WebhookRequest) -> str:
    return meta.handshake(verify_token=credentials.verify_token, request=request)


# --- parsing: envelope ------------------------------------------------------------------


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    """Every message and status in the POST, in payload order."""
    envelope = parse_as(schema.Envelope, load_json(request.body))
    # Another Meta object (page, instagram, …) is read with no entries: not WhatsApp.
    events: list[InboundEvent] = []
    for entry in envelope.entry:
        for change in entry.changes:
            # Quality, account and other management updates are read as neither value:
            # nothing we keep.
            if change.messages is not None:
                events.extend(_parse_value(change.messages))
            elif change.template_status is not None:
                events.extend(_parse_template_status(change.template_status))
    return events


def _parse_value(value: schema.MessagesValue) -> list[InboundEvent]:
    people = _people(value.contacts)
    events: list[InboundEvent] = [_parse_message(message, people) for message in value.messages]
    for status in value.statuses:
        event = _parse_status(status)
        if event is not None:
            events.append(event)
    # value.errors alone (no messages/statuses) reports a problem on Meta's side with no
    # message of the customer's to keep; a message it concerns arrives as UNSUPPORTED.
    return events


# --- parsing: template status ------------------------------------------------------------

# Meta's events that are not a status of their own: a reinstated template is approved
# again. FLAGGED (quality dropped, not yet paused) and the rest are kept as Meta says.
_TEMPLATE_EVENT_STATUS = {"REINSTATED": "APPROVED"}
_TEMPLATE_TEXT_MAX = 512


def _parse_template_status(value: schema.TemplateStatusValue) -> list[InboundEvent]:
    """``message_template_status_update``: ``{event, message_template_id,
    message_template_name, message_template_language, reason}`` (Meta's webhook
    reference "message_template_status_update"). The same field also carries quality
    changes (``new_quality_score``, no ``event``): nothing to apply."""
    if not value.event or value.message_template_id is None:
        return []
    status = value.event.strip().upper()[:32]
    reason = value.reason
    return [
        TemplateStatusUpdate(
            template_id=value.message_template_id[:64],
            name=value.message_template_name[:_TEMPLATE_TEXT_MAX],
            language=value.message_template_language[:16],
            status=_TEMPLATE_EVENT_STATUS.get(status, status),
            reason="" if reason.upper() == "NONE" else reason[:200],
        )
    ]


# --- parsing: messages ------------------------------------------------------------------


def _people(contacts: list[schema.Person]) -> dict[str, Sender]:
    """``value.contacts[]`` as senders, under each id a message may name them by.

    ``wa_id`` is the id replies go to; Meta warns it "may not match" the phone number
    (for a Brazilian mobile it is often the form without the ninth digit,
    integrations/phone_identity.py). ``user_id`` is the business-scoped user id (BSUID,
    e.g. ``BR.1502576394655843``) Meta adds to every messages webhook from 2026, and
    the only id left when a user with a username withholds their number (Meta,
    "Business-scoped user IDs", developers.facebook.com/documentation/business-messaging/
    whatsapp/business-scoped-user-ids/; 360dialog, "Usernames & BSUID"). It keys the
    customer when present; the number, when there is one, still finds a contact first
    known by it."""
    people: dict[str, Sender] = {}
    for contact in contacts:
        wa_id, user_id = contact.wa_id, contact.user_id
        if not (wa_id or user_id):
            raise MalformedPayload("a contact with neither 'wa_id' nor 'user_id'")
        profile = contact.profile or _NO_PROFILE
        sender = Sender(
            external_id=user_id or wa_id,
            phone=f"+{wa_id}" if wa_id else "",
            # Replies go to the wa_id where the BSUID keys them (external_id otherwise).
            address=wa_id if user_id else "",
            name=profile.name,
            username=profile.username,
        )
        for key in (wa_id, user_id):
            if key:
                people[key] = sender
    return people


_NO_PROFILE = schema.Profile()


def _message_sender(message: schema.Message, people: dict[str, Sender]) -> Sender:
    """The sender of ``message``: by ``from`` (the number) or ``from_user_id``, or the
    webhook's one contact when the message names neither (a username without a
    number)."""
    wa_id, user_id = message.from_, message.from_user_id
    for key in (user_id, wa_id):
        if key and key in people:
            return people[key]
    if wa_id:
        return Sender(external_id=wa_id, phone=f"+{wa_id}")
    if user_id:
        return Sender(external_id=user_id)
    distinct = set(people.values())
    if len(distinct) == 1:
        return distinct.pop()
    raise MalformedPayload("a message without a sender")


def _parse_message(message: schema.Message, people: dict[str, Sender]) -> InboundMessage:
    body = message.body()
    if body is None:
        # Never drop a customer's message: types we do not model (order, system,
        # request_welcome, …) and known types Meta delivered without their body (it
        # then explains in value.errors) are kept as UNSUPPORTED.
        content = {
            "type": ContentType.UNSUPPORTED,
            "provider_type": message.type,
            # Meta says why in the message's own errors[] (e.g. 131051 "Message type
            # unknown"); the agent needs that to ask the customer for something else.
            "provider_note": _error_text(message.errors),
        }
    else:
        content = MESSAGE_HANDLERS[message.type](body)
    return InboundMessage(
        provider_message_id=message.id,
        # The profile name, wa_id and user_id ride in value.contacts.
        sender=_message_sender(message, people),
        sent_at=message.timestamp,
        # A forwarded message has a context without an id: it quotes nothing.
        reply_to=message.context.id if message.context else "",
        **content,
    )


def _text(body: schema.Text) -> dict:
    return {"type": ContentType.TEXT, "text": body.body}


def _media(content_type: ContentType) -> Callable[[schema.MediaBody], dict]:
    def handle(body: schema.MediaBody) -> dict:
        media = Media(
            # The id is resolved to a short-lived download URL by GET /{media-id}; it
            # expires 7 days after the webhook (PROVIDERS.md §3.6).
            ref=body.id,
            mime_type=body.mime_type,
            filename=body.filename,
            # Passed through as Meta gives it (base64 in captured payloads).
            sha256=body.sha256,
        )
        return {"type": content_type, "text": body.caption, "media": media}

    return handle


def _audio(body: schema.MediaBody) -> dict:
    # Voice notes are audio recorded in WhatsApp, flagged with voice: true.
    return _media(ContentType.VOICE if body.voice else ContentType.AUDIO)(body)


def _location(body: schema.Place) -> dict:
    location = Location(
        latitude=body.latitude,
        longitude=body.longitude,
        name=body.name,
        address=body.address,
        url=body.url,
    )
    return {"type": ContentType.LOCATION, "location": location}


def _contacts(cards: list[schema.Card]) -> dict:
    return {"type": ContentType.CONTACTS, "contacts": tuple(_contact_card(c) for c in cards)}


def _contact_card(card: schema.Card) -> ContactCard:
    name = card.name or _NO_NAME
    full = " ".join(part for part in (name.first_name, name.last_name) if part)
    return ContactCard(
        name=name.formatted_name or full,
        phones=tuple(phone.phone for phone in card.phones),
        emails=tuple(email.email for email in card.emails),
    )


_NO_NAME = schema.CardName()


def _interactive(body: schema.Interactive) -> dict:
    reply = body.button_reply if body.type == "button_reply" else body.list_reply
    if body.type not in ("button_reply", "list_reply") or reply is None:
        # Flow submissions (nfm_reply) and anything newer: keep, naming the subtype.
        return {"type": ContentType.UNSUPPORTED, "provider_type": f"interactive.{body.type}"}
    return {"type": ContentType.INTERACTIVE, "payload": reply.id, "text": reply.title}


def _button(body: schema.Button) -> dict:
    # A quick-reply button on one of our templates (not an interactive message).
    return {"type": ContentType.INTERACTIVE, "payload": body.payload, "text": body.text}


def _reaction(body: schema.Reaction) -> dict:
    return {
        "type": ContentType.REACTION,
        # Meta sends an empty or absent emoji when the customer removes a reaction.
        "reaction_emoji": body.emoji,
        "reacted_to": body.message_id,
    }


MESSAGE_HANDLERS: dict[str, Callable[[Any], dict]] = {
    "text": _text,
    "image": _media(ContentType.IMAGE),
    "video": _media(ContentType.VIDEO),
    "sticker": _media(ContentType.STICKER),
    "document": _media(ContentType.DOCUMENT),
    "audio": _audio,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
}


# --- parsing: statuses ------------------------------------------------------------------

STATUS_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    # "played" follows "read" for a voice note the customer listened to; we have no
    # PLAYED state and listening implies having read it.
    "played": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}


def _parse_status(status: schema.Status) -> DeliveryStatus | None:
    state = STATUS_STATES.get(status.status)
    if state is None:
        # Other statuses (e.g. "deleted", "warning" on catalog sends) are not a
        # delivery state of a message we sent.
        return None
    return DeliveryStatus(
        provider_message_id=status.id,
        state=state,
        at=status.timestamp,
        error_code=status.errors[0].code if status.errors else "",
        error_text=_error_text(status.errors),
    )


def _error_text(errors: Sequence[schema.Error]) -> str:
    """Meta's explanation in the first of ``errors``: its title and details."""
    if not errors:
        return ""
    first = errors[0]
    title = first.title or first.message
    details = first.error_data.details if first.error_data else ""
    return f"{title}: {details}" if title and details and details != title else title or details
