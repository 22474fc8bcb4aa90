"""WhatsApp Cloud API webhooks: the GET subscribe handshake, the POST signature, and the
``whatsapp_business_account`` envelope parsed into normalized events (PROVIDERS.md
§3.2-3.4)."""

from collections.abc import Callable
from datetime import UTC, datetime

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
from ..payload import load_json
from .credentials import Credentials

# Meta only looks at the status code; any 200 body will do.
ACK = (b"", "text/plain")

OBJECT = "whatsapp_business_account"

_REQUIRED = object()


# --- verification -----------------------------------------------------------------------


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    meta.verify_signature(app_secret=credentials.app_secret, request=request)


def handshake(*, credentials: Credentials, request: WebhookRequest) -> str:
    return meta.handshake(verify_token=credentials.verify_token, request=request)


# --- parsing: envelope ------------------------------------------------------------------


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    """Every message and status in the POST, in payload order."""
    body = load_json(request.body)
    if not isinstance(body, dict):
        raise MalformedPayload("body is not a JSON object")
    if _get(body, "object", str) != OBJECT:
        # The same Meta app can be subscribed to other objects (page, instagram, …);
        # they are not WhatsApp traffic.
        return []
    events: list[InboundEvent] = []
    for entry in _items(body, "entry"):
        for change in _items(entry, "changes"):
            handler = CHANGE_HANDLERS.get(_get(change, "field", str))
            if handler is None:
                # Quality, account and other management updates: nothing we keep.
                continue
            events.extend(handler(_get(change, "value", dict)))
    return events


def _parse_value(value: dict) -> list[InboundEvent]:
    _get(_get(value, "metadata", dict), "phone_number_id", str)
    people = _people(_items(value, "contacts", []))
    events: list[InboundEvent] = [
        _parse_message(message, people) for message in _items(value, "messages", [])
    ]
    for status in _items(value, "statuses", []):
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


def _parse_template_status(value: dict) -> list[InboundEvent]:
    """``message_template_status_update``: ``{event, message_template_id,
    message_template_name, message_template_language, reason}`` (Meta's webhook
    reference "message_template_status_update"). The same field also carries quality
    changes (``new_quality_score``, no ``event``): nothing to apply."""
    event = _get(value, "event", str, "")
    if not event:
        return []
    template_id = _get(value, "message_template_id", (int, str))
    reason = _get(value, "reason", str, "")
    status = event.strip().upper()[:32]
    return [
        TemplateStatusUpdate(
            template_id=str(template_id)[:64],
            name=_get(value, "message_template_name", str, "")[:_TEMPLATE_TEXT_MAX],
            language=_get(value, "message_template_language", str, "")[:16],
            status=_TEMPLATE_EVENT_STATUS.get(status, status),
            reason="" if reason.upper() == "NONE" else reason[:200],
        )
    ]


# --- parsing: messages ------------------------------------------------------------------


def _people(contacts: list[dict]) -> dict[str, Sender]:
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
        wa_id = _get(contact, "wa_id", str, "")
        user_id = _get(contact, "user_id", str, "")
        if not (wa_id or user_id):
            raise MalformedPayload("a contact with neither 'wa_id' nor 'user_id'")
        profile = _get(contact, "profile", dict, {})
        sender = Sender(
            external_id=user_id or wa_id,
            phone=f"+{wa_id}" if wa_id else "",
            # Replies go to the wa_id where the BSUID keys them (external_id otherwise).
            address=wa_id if user_id else "",
            name=_get(profile, "name", str, ""),
            username=_get(profile, "username", str, ""),
        )
        for key in (wa_id, user_id):
            if key:
                people[key] = sender
    return people


def _message_sender(message: dict, people: dict[str, Sender]) -> Sender:
    """The sender of ``message``: by ``from`` (the number) or ``from_user_id``, or the
    webhook's one contact when the message names neither (a username without a
    number)."""
    wa_id = _get(message, "from", str, "")
    user_id = _get(message, "from_user_id", str, "")
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


def _parse_message(message: dict, people: dict[str, Sender]) -> InboundMessage:
    message_type = _get(message, "type", str)
    handler = MESSAGE_HANDLERS.get(message_type)
    if handler is None or message.get(message_type) is None:
        # Never drop a customer's message: types we do not model (order, system,
        # request_welcome, …) and known types Meta delivered without their body (it
        # then explains in value.errors) are kept as UNSUPPORTED.
        content = {
            "type": ContentType.UNSUPPORTED,
            "provider_type": message_type,
            # Meta says why in the message's own errors[] (e.g. 131051 "Message type
            # unknown"); the agent needs that to ask the customer for something else.
            "provider_note": _error_text(_items(message, "errors", [])),
        }
    else:
        content = handler(message)
    context = _get(message, "context", dict, {})
    return InboundMessage(
        provider_message_id=_get(message, "id", str),
        # The profile name, wa_id and user_id ride in value.contacts.
        sender=_message_sender(message, people),
        sent_at=_timestamp(message),
        # A forwarded message has a context without an id: it quotes nothing.
        reply_to=_get(context, "id", str, ""),
        **content,
    )


def _text(message: dict) -> dict:
    return {"type": ContentType.TEXT, "text": _get(_get(message, "text", dict), "body", str)}


def _media(content_type: ContentType) -> Callable[[dict], dict]:
    def handle(message: dict) -> dict:
        body = _get(message, _get(message, "type", str), dict)
        media = Media(
            # The id is resolved to a short-lived download URL by GET /{media-id}; it
            # expires 7 days after the webhook (PROVIDERS.md §3.6).
            ref=_get(body, "id", str),
            mime_type=_get(body, "mime_type", str, ""),
            filename=_get(body, "filename", str, ""),
            # Passed through as Meta gives it (base64 in captured payloads).
            sha256=_get(body, "sha256", str, ""),
        )
        return {"type": content_type, "text": _get(body, "caption", str, ""), "media": media}

    return handle


def _audio(message: dict) -> dict:
    # Voice notes are audio recorded in WhatsApp, flagged with voice: true.
    voice = _get(message, "audio", dict).get("voice") is True
    return _media(ContentType.VOICE if voice else ContentType.AUDIO)(message)


def _location(message: dict) -> dict:
    body = _get(message, "location", dict)
    location = Location(
        latitude=_coordinate(body, "latitude"),
        longitude=_coordinate(body, "longitude"),
        name=_get(body, "name", str, ""),
        address=_get(body, "address", str, ""),
        url=_get(body, "url", str, ""),
    )
    return {"type": ContentType.LOCATION, "location": location}


def _coordinate(body: dict, key: str) -> float:
    try:
        return float(_get(body, key, (int, float)))
    except OverflowError as exc:  # an integer beyond any float
        raise MalformedPayload(f"{key!r} is out of range") from exc


def _contacts(message: dict) -> dict:
    return {
        "type": ContentType.CONTACTS,
        "contacts": tuple(_contact_card(card) for card in _items(message, "contacts")),
    }


def _contact_card(card: dict) -> ContactCard:
    name = _get(card, "name", dict, {})
    full = " ".join(
        part for part in (_get(name, key, str, "") for key in ("first_name", "last_name")) if part
    )
    return ContactCard(
        name=_get(name, "formatted_name", str, "") or full,
        phones=tuple(_get(phone, "phone", str) for phone in _items(card, "phones", [])),
        emails=tuple(_get(email, "email", str) for email in _items(card, "emails", [])),
    )


def _interactive(message: dict) -> dict:
    body = _get(message, "interactive", dict)
    reply_type = _get(body, "type", str)
    if reply_type not in ("button_reply", "list_reply"):
        # Flow submissions (nfm_reply) and anything newer: keep, naming the subtype.
        return {"type": ContentType.UNSUPPORTED, "provider_type": f"interactive.{reply_type}"}
    reply = _get(body, reply_type, dict)
    return {
        "type": ContentType.INTERACTIVE,
        "payload": _get(reply, "id", str),
        "text": _get(reply, "title", str, ""),
    }


def _button(message: dict) -> dict:
    # A quick-reply button on one of our templates (not an interactive message).
    body = _get(message, "button", dict)
    return {
        "type": ContentType.INTERACTIVE,
        "payload": _get(body, "payload", str, ""),
        "text": _get(body, "text", str, ""),
    }


def _reaction(message: dict) -> dict:
    body = _get(message, "reaction", dict)
    return {
        "type": ContentType.REACTION,
        # Meta sends an empty or absent emoji when the customer removes a reaction.
        "reaction_emoji": _get(body, "emoji", str, ""),
        "reacted_to": _get(body, "message_id", str),
    }


MESSAGE_HANDLERS: dict[str, Callable[[dict], dict]] = {
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


CHANGE_HANDLERS: dict[str, Callable[[dict], list[InboundEvent]]] = {
    "messages": _parse_value,
    "message_template_status_update": _parse_template_status,
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


def _parse_status(status: dict) -> DeliveryStatus | None:
    state = STATUS_STATES.get(_get(status, "status", str))
    if state is None:
        # Other statuses (e.g. "deleted", "warning" on catalog sends) are not a
        # delivery state of a message we sent.
        return None
    error_code, error_text = _status_error(status)
    return DeliveryStatus(
        provider_message_id=_get(status, "id", str),
        state=state,
        at=_timestamp(status),
        error_code=error_code,
        error_text=error_text,
    )


def _status_error(status: dict) -> tuple[str, str]:
    errors = _items(status, "errors", [])
    if not errors:
        return "", ""
    return str(_get(errors[0], "code", (int, str), "")), _error_text(errors)


def _error_text(errors: list[dict]) -> str:
    """Meta's explanation in the first of ``errors``: its title and details."""
    if not errors:
        return ""
    first = errors[0]
    title = _get(first, "title", str, "") or _get(first, "message", str, "")
    details = _get(_get(first, "error_data", dict, {}), "details", str, "")
    return f"{title}: {details}" if title and details and details != title else title or details


# --- typed access -----------------------------------------------------------------------


def _get(data: dict, key: str, kind: type | tuple[type, ...], default=_REQUIRED):
    """``data[key]`` checked to be ``kind``; a missing or null key gives ``default``.
    Anything else is not what Meta sends: ``MalformedPayload``."""
    value = data.get(key)
    if value is None:
        if default is _REQUIRED:
            raise MalformedPayload(f"missing {key!r}")
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"{key!r} has the wrong type")
    return value


def _items(data: dict, key: str, default=_REQUIRED) -> list[dict]:
    """A list of JSON objects under ``key``."""
    items = _get(data, key, list, default)
    if not all(isinstance(item, dict) for item in items):
        raise MalformedPayload(f"{key!r} holds something other than objects")
    return items


def _timestamp(data: dict) -> datetime:
    # Unix seconds, as a string in every payload seen so far.
    raw = _get(data, "timestamp", (str, int))
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedPayload("'timestamp' is not Unix seconds") from exc
