"""Meta's Messenger Platform webhook payload, as far as we read it.

Written from Meta's Messenger Platform webhook references (developers.facebook.com/
documentation/business-messaging/messenger-platform/webhooks/webhook-events/…:
messages, message-echoes, message-deliveries, message-reads, message-reactions,
messaging-postbacks). Fields we do not read are not modelled and are ignored.

A ``messaging[]`` event is one kind, named by the key it carries; an attachment is one
kind, named by its ``type``. Each kind is read by its own model (``_read_event``,
``_read_attachment`` pick it), so only what that kind uses is checked: an event of a kind
we do not relay (optin, referral…) or an echo of the Page's own send is not read at all.
"""

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..meta import LooseStr, Millis, Postback, Reaction, empty_as_list, empty_as_none
from ..meta import NonEmpty as Id
from ..payload import OptStr, Payload

# A value Meta sets only when it applies (sticker_id, a number): read as truthy.
Flag = Annotated[bool, BeforeValidator(bool)]


# ---- who sent it ---------------------------------------------------------------------


class Psid(Payload):
    """A person on Messenger: their Page-scoped id."""

    id: OptStr = ""

    @property
    def external_id(self) -> str:
        return self.id


class Guest(Payload):
    """A chat-plugin guest: no PSID, and ``user_ref`` is their only stable id."""

    user_ref: Id

    @property
    def external_id(self) -> str:
        return self.user_ref


def _read_sender(data: object) -> Psid | Guest:
    sender = Psid.model_validate(data)
    return sender if sender.id else Guest.model_validate(data)


Sender = Annotated[Psid | Guest, PlainValidator(_read_sender)]


# ---- attachments (message.attachments[]) ---------------------------------------------


class MediaPayload(Payload):
    url: Id
    # Stickers (the "like" thumb too) arrive as image attachments carrying a sticker_id.
    sticker_id: Flag = False


class MediaAttachment(Payload):
    """image, sticker, video, audio (voice notes too) and file: a URL to fetch."""

    type: Id
    payload: MediaPayload


class Coordinates(Payload):
    lat: float
    long: float


class LocationPayload(Payload):
    coordinates: Coordinates


class LocationAttachment(Payload):
    """A legacy location share (pre-2019 clients, location quick replies)."""

    type: Id
    payload: LocationPayload
    title: OptStr = ""
    url: OptStr = ""


class SharedPayload(Payload):
    url: LooseStr = ""
    title: LooseStr = ""


class SharedAttachment(Payload):
    """Any other kind (fallback, reel, ig_reel, post, template, product…): kept as
    unsupported, with whatever link or title it carries."""

    type: Id
    url: LooseStr = ""
    title: LooseStr = ""
    payload: Annotated[
        SharedPayload, BeforeValidator(lambda value: value if isinstance(value, dict) else {})
    ] = SharedPayload()


ATTACHMENT_KINDS: dict[str, type[Payload]] = {
    "image": MediaAttachment,
    "sticker": MediaAttachment,
    "video": MediaAttachment,
    "audio": MediaAttachment,
    "file": MediaAttachment,
    "location": LocationAttachment,
}


def _read_attachment(data: object) -> Payload:
    kind = data.get("type") if isinstance(data, dict) else None
    model = ATTACHMENT_KINDS.get(kind) if isinstance(kind, str) else None
    return (model or SharedAttachment).model_validate(data)


Attachment = Annotated[
    MediaAttachment | LocationAttachment | SharedAttachment, PlainValidator(_read_attachment)
]


def _is_transition_image(attachment: dict) -> bool:
    payload = attachment.get("payload")
    return (
        attachment.get("type") == "image"
        and isinstance(payload, dict)
        and bool(payload.get("sticker_id"))
    )


# ---- the events (entry[].messaging[]) ------------------------------------------------


class ReplyTo(Payload):
    mid: Id


class QuickReply(Payload):
    payload: OptStr = ""


class Message(Payload):
    mid: Id
    text: OptStr = ""
    reply_to: Annotated[ReplyTo | None, empty_as_none] = None
    quick_reply: QuickReply | None = None
    attachments: Annotated[list[Attachment], empty_as_list] = []

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments_read(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("quick_reply") is not None:
            # A quick reply is read as its payload; attachments are not looked at.
            return []
        # Until the sticker transition ends (2026-08-30) a sticker comes twice: as a
        # "sticker" attachment and as the old "image" one with sticker_id. Keep one.
        if (
            isinstance(value, list)
            and all(isinstance(a, dict) for a in value)
            and any(a.get("type") == "sticker" for a in value)
        ):
            return [a for a in value if not _is_transition_image(a)]
        return value


class MessageEvent(Payload):
    sender: Sender
    timestamp: Millis
    message: Message


class PostbackEvent(Payload):
    sender: Sender
    timestamp: Millis
    postback: Postback


class ReactionEvent(Payload):
    sender: Sender
    timestamp: Millis
    reaction: Reaction


class Delivery(Payload):
    # Absent from older clients' deliveries, which then carry only the watermark.
    mids: Annotated[list[Id], empty_as_list] = []
    watermark: Millis


class DeliveryEvent(Payload):
    # Read only for a delivery naming no message (its watermark is the customer's).
    sender: Sender | None = None
    # Meta's own example has no event timestamp.
    timestamp: Millis | None = None
    delivery: Delivery

    @field_validator("timestamp", mode="before")
    @classmethod
    def _sent_is_read(cls, value: Any) -> Any:
        # Absent, the watermark dates the delivery; present, it must be a time (null too).
        if value is None:
            raise ValueError("is not an integer")
        return value


class Read(Payload):
    watermark: Millis


class ReadEvent(Payload):
    sender: Sender
    read: Read


class UnreadEvent(Payload):
    """optin, referral, account_linking, policy_enforcement, game_play…, and the echo of
    the Page's own send (ours, or an agent's in Meta's inbox): not customer messages."""


# The first of these keys an event carries is its kind.
EVENT_KINDS: dict[str, type[Payload]] = {
    "message": MessageEvent,
    "postback": PostbackEvent,
    "reaction": ReactionEvent,
    "delivery": DeliveryEvent,
    "read": ReadEvent,
}


def _read_event(data: object) -> Payload:
    if not isinstance(data, dict):
        return UnreadEvent.model_validate(data)  # refused as not an object
    kind = next((key for key in EVENT_KINDS if key in data), None)
    if kind is None:
        return UnreadEvent()
    message = data.get("message")
    if kind == "message" and isinstance(message, dict) and message.get("is_echo"):
        return UnreadEvent()
    return EVENT_KINDS[kind].model_validate(data)


Event = Annotated[
    MessageEvent | PostbackEvent | ReactionEvent | DeliveryEvent | ReadEvent | UnreadEvent,
    PlainValidator(_read_event),
]


class Entry(Payload):
    # Only `messaging` is ours: `standby` (another app owns the thread under the handover
    # protocol) and `changes` (Page feed) are not ours to relay, so they are not read.
    messaging: list[Event] = []


class Envelope(Payload):
    object: str
    entry: list[Entry]

    @model_validator(mode="before")
    @classmethod
    def _other_objects_are_not_read(cls, data: Any) -> Any:
        # Instagram ("instagram") and other Meta objects are other channels' webhooks.
        other = (
            isinstance(data, dict)
            and isinstance(data.get("object"), str)
            and data["object"] != "page"
        )
        return {"object": data["object"], "entry": []} if other else data
