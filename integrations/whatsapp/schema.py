"""Meta's WhatsApp Cloud API webhook payload, as typed models: only the fields the parser
reads (everything else Meta sends is ignored).

Written from Meta's webhook references (developers.facebook.com/documentation/
business-messaging/whatsapp/webhooks/reference/messages/…: "text", "image", "contacts",
"interactive", "reaction", "status", "unsupported"…; and
".../webhooks/reference/message_template_status_update"); PROVIDERS.md §3.4.

A message's ``type`` is read as any string and each type's body as an optional field, so
a type we do not model (order, system, request_welcome, …) is still read and kept as
UNSUPPORTED, never refused.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ..payload import OptStr, Payload, UnixSeconds

OBJECT = "whatsapp_business_account"
MESSAGES = "messages"
TEMPLATE_STATUS = "message_template_status_update"


def _null_as_empty(value: object) -> object:
    return [] if value is None else value


def _int_or_str(value: object) -> str:
    # Meta's ids and error codes: a number in some payloads, its digits in others.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("is not a string or an integer")
    return str(value)


def _coordinate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("is not a number")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        raise ValueError("is out of range") from None


# An optional list: absent or null read as empty (default_factory: a shared [] default
# would be deep-copied for every model, the webhook path's largest cost).
NullAsEmpty = BeforeValidator(_null_as_empty)
# An id or code Meta sends as an integer or a string, read as its string.
IntOrStr = Annotated[str, BeforeValidator(_int_or_str)]
OptIntOrStr = Annotated[str, BeforeValidator(lambda v: "" if v is None else _int_or_str(v))]
# Degrees, sent as a JSON integer or float (true is not a number).
Coordinate = Annotated[float, BeforeValidator(_coordinate)]


# --- value.contacts[]: the people the messages are from ---------------------------------


class Profile(Payload):
    name: OptStr = ""
    username: OptStr = ""


class Person(Payload):
    """``wa_id`` (the number replies go to) and/or ``user_id`` (the business-scoped
    user id, the only one left when a user with a username withholds the number)."""

    wa_id: OptStr = ""
    user_id: OptStr = ""
    profile: Profile | None = None


# --- value.messages[] ---------------------------------------------------------------------


class ErrorData(Payload):
    details: OptStr = ""


class Error(Payload):
    """Meta's explanation: ``title`` (older payloads: ``message``) and details."""

    title: OptStr = ""
    message: OptStr = ""
    error_data: ErrorData | None = None


class Context(Payload):
    # Absent on a forwarded message's context: it quotes nothing.
    id: OptStr = ""


class Text(Payload):
    body: str


class MediaBody(Payload):
    """image, video, sticker, document and audio alike."""

    id: str
    mime_type: OptStr = ""
    sha256: OptStr = ""
    caption: OptStr = ""
    filename: OptStr = ""
    # Audio recorded in WhatsApp is a voice note; anything but true is not one.
    voice: Annotated[bool, BeforeValidator(lambda value: value is True)] = False


class Place(Payload):
    latitude: Coordinate
    longitude: Coordinate
    name: OptStr = ""
    address: OptStr = ""
    url: OptStr = ""


class CardName(Payload):
    formatted_name: OptStr = ""
    first_name: OptStr = ""
    last_name: OptStr = ""


class CardPhone(Payload):
    phone: str


class CardEmail(Payload):
    email: str


class Card(Payload):
    name: CardName | None = None
    phones: Annotated[list[CardPhone], NullAsEmpty] = Field(default_factory=list)
    emails: Annotated[list[CardEmail], NullAsEmpty] = Field(default_factory=list)


class Reply(Payload):
    id: str
    title: OptStr = ""


class Interactive(Payload):
    """A reply to one of our interactive messages: ``type`` names the reply's key
    (``button_reply``, ``list_reply``; ``nfm_reply`` for a flow and newer kinds we keep
    as UNSUPPORTED)."""

    type: str
    button_reply: Reply | None = Field(None, validate_default=True)
    list_reply: Reply | None = Field(None, validate_default=True)

    @field_validator("button_reply", "list_reply", mode="before")
    @classmethod
    def _read_for_its_type(cls, reply: Any, info: ValidationInfo) -> Any:
        # Only the reply the type names is read (required then); any other is ignored.
        if info.data.get("type") != info.field_name:
            return None
        if reply is None:
            raise ValueError("is missing")
        return reply


class Button(Payload):
    # A quick-reply button on one of our templates.
    payload: OptStr = ""
    text: OptStr = ""


class Reaction(Payload):
    message_id: str
    # Empty or absent when the customer removes their reaction.
    emoji: OptStr = ""


class Message(Payload):
    from_: OptStr = Field("", alias="from")
    from_user_id: OptStr = ""
    id: str
    timestamp: UnixSeconds
    type: str
    context: Context | None = None
    text: Text | None = None
    image: MediaBody | None = None
    video: MediaBody | None = None
    audio: MediaBody | None = None
    document: MediaBody | None = None
    sticker: MediaBody | None = None
    location: Place | None = None
    contacts: list[Card] | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    reaction: Reaction | None = None
    # Why Meta could not deliver the message's content (131051 "Message type unknown"…).
    errors: Annotated[list[Error], NullAsEmpty] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _only_the_body_of_its_type(cls, data: Any) -> Any:
        # The body under another type's key is not this message's: not read, as for a
        # type we do not model.
        if isinstance(data, dict):
            kind = data.get("type")
            bodies = _BODIES.intersection(data)
            # (Compared, not looked up: a type that is not a string is refused later.)
            if bodies and (len(bodies) > 1 or next(iter(bodies)) != kind):
                return {key: v for key, v in data.items() if key not in _BODIES or key == kind}
        return data

    def body(self) -> Any:
        """The body under the message's type; None for a type we do not model, or a
        known type Meta delivered without its body."""
        return getattr(self, self.type, None) if self.type in _BODIES else None


_BODIES = frozenset(
    {"text", "image", "video", "audio", "document", "sticker", "location", "contacts"}
    | {"interactive", "button", "reaction"}
)


# --- value.statuses[] ---------------------------------------------------------------------


class StatusError(Error):
    code: OptIntOrStr = ""


class Status(Payload):
    id: str
    status: str
    timestamp: UnixSeconds
    errors: Annotated[list[StatusError], NullAsEmpty] = Field(default_factory=list)


# --- the envelope -------------------------------------------------------------------------


class Metadata(Payload):
    # The business number the messages came to.
    phone_number_id: str


class MessagesValue(Payload):
    """``field: "messages"``: messages, statuses, or ``errors`` alone (a problem on
    Meta's side with nothing of the customer's to keep, not read)."""

    metadata: Metadata
    contacts: Annotated[list[Person], NullAsEmpty] = Field(default_factory=list)
    messages: Annotated[list[Message], NullAsEmpty] = Field(default_factory=list)
    statuses: Annotated[list[Status], NullAsEmpty] = Field(default_factory=list)


class TemplateStatusValue(Payload):
    """``field: "message_template_status_update"``. The same field carries quality
    changes (``new_quality_score``, no ``event``), which name no status."""

    event: OptStr = ""
    message_template_id: IntOrStr | None = Field(None, validate_default=True)
    message_template_name: OptStr = ""
    message_template_language: OptStr = ""
    reason: OptStr = ""

    @field_validator("message_template_id", mode="before")
    @classmethod
    def _read_with_an_event(cls, template_id: Any, info: ValidationInfo) -> Any:
        # A quality change names its template too, but there is nothing to apply.
        if not info.data.get("event"):
            return None
        if template_id is None:
            raise ValueError("is missing")
        return template_id


_FIELD_OF = {"messages": MESSAGES, "template_status": TEMPLATE_STATUS}


class Change(Payload):
    """One change; its ``value`` is read as the model of its ``field``, and not at all
    for the fields we do not keep (quality, account and other management updates)."""

    field: str
    messages: MessagesValue | None = Field(None, alias="value")
    template_status: TemplateStatusValue | None = Field(None, alias="value")

    @model_validator(mode="before")
    @classmethod
    def _value_always_checked(cls, data: Any) -> Any:
        # A missing value is then refused as "value", like a null one.
        if isinstance(data, dict) and "value" not in data:
            return {**data, "value": None}
        return data

    @field_validator("messages", "template_status", mode="before")
    @classmethod
    def _value_of_its_field(cls, value: Any, info: ValidationInfo) -> Any:
        if _FIELD_OF.get(info.field_name) != info.data.get("field"):
            return None
        if value is None:
            raise ValueError("is missing")
        return value


class Entry(Payload):
    changes: list[Change]


class Envelope(Payload):
    """The POST body. Only ``whatsapp_business_account`` is read: the same Meta app can
    be subscribed to other objects (page, instagram, …), whose entries are not looked
    at."""

    object: str
    entry: list[Entry]

    @model_validator(mode="before")
    @classmethod
    def _only_whatsapp_entries(cls, data: Any) -> Any:
        if isinstance(data, dict) and "object" in data and data["object"] != OBJECT:
            return {"object": data["object"], "entry": []}
        return data
