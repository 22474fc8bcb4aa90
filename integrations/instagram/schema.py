"""Meta's Instagram messaging webhook payload (``object: "instagram"``), as far as we read it.

Written from Meta's "Webhooks for Instagram Messaging" reference and its feature pages
(story mentions, reactions, the Send API); the sources are listed in
docs/channels/instagram.md. Fields we do not read are not modelled and are ignored.

As on Messenger, a ``messaging[]`` event is one kind, named by the key it carries
(message, postback, reaction, read), and an attachment is one kind, named by its
``type``; each kind is read by its own model, so only what that kind uses is checked. An
echo of the account's own send (``is_echo``) and kinds we do not relay (referral, optin…)
are not read at all.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, model_validator

from ..meta import LooseStr, Millis, Postback, Reaction, empty_as_list, empty_as_none
from ..meta import NonEmpty as Id
from ..payload import OptStr, Payload


def _flag(value: Any) -> bool:
    # Meta's own unsend example sends "is_deleted": "true", a string.
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# A flag Meta sets only when it applies (is_deleted, is_unsupported): true or "true".
Flag = Annotated[bool, BeforeValidator(_flag)]


class Igsid(Payload):
    """A person on Instagram: their Instagram-scoped id (IGSID)."""

    id: Id


# ---- attachments (message.attachments[]) ---------------------------------------------


class MediaPayload(Payload):
    url: Id


class MediaAttachment(Payload):
    """image, video, audio, file: a URL on Meta's CDN to fetch."""

    type: Id
    payload: MediaPayload


class SharedPayload(Payload):
    url: LooseStr = ""
    title: LooseStr = ""


class SharedAttachment(Payload):
    """story_mention, share (a post), ig_reel, reel, ig_post and any type Meta adds: kept
    as unsupported, with whatever link or title it carries."""

    type: Id
    payload: Annotated[
        SharedPayload, BeforeValidator(lambda value: value if isinstance(value, dict) else {})
    ] = SharedPayload()


MEDIA_KINDS = ("image", "video", "audio", "file")


def _read_attachment(data: object) -> Payload:
    kind = data.get("type") if isinstance(data, dict) else None
    model = MediaAttachment if kind in MEDIA_KINDS else SharedAttachment
    return model.model_validate(data)


Attachment = Annotated[MediaAttachment | SharedAttachment, PlainValidator(_read_attachment)]


# ---- the events (entry[].messaging[]) ------------------------------------------------


class Story(Payload):
    url: LooseStr = ""
    id: OptStr = ""


class ReplyTo(Payload):
    """A reply quotes one of the conversation's messages (``mid``) or one of the
    business's stories (``story``)."""

    mid: OptStr = ""
    story: Annotated[Story | None, empty_as_none] = None


class QuickReply(Payload):
    payload: OptStr = ""


class Message(Payload):
    mid: Id
    text: OptStr = ""
    reply_to: Annotated[ReplyTo | None, empty_as_none] = None
    quick_reply: QuickReply | None = None
    attachments: Annotated[list[Attachment], empty_as_list] = []
    # The customer unsent this message (the event repeats its mid).
    is_deleted: Flag = False
    # A message Instagram does not give apps (a GIF, a sticker…).
    is_unsupported: Flag = False

    @model_validator(mode="before")
    @classmethod
    def _nothing_more_to_read(cls, data: Any) -> Any:
        # An unsend names only the message; a quick reply is read as its payload.
        if isinstance(data, dict) and _flag(data.get("is_deleted")) and "mid" in data:
            return {"mid": data["mid"], "is_deleted": True}
        if isinstance(data, dict) and data.get("quick_reply"):
            return {key: value for key, value in data.items() if key != "attachments"}
        return data


class MessageEvent(Payload):
    sender: Igsid
    timestamp: Millis
    message: Message


class PostbackEvent(Payload):
    sender: Igsid
    timestamp: Millis
    postback: Postback


class ReactionEvent(Payload):
    sender: Igsid
    timestamp: Millis
    reaction: Reaction


class Read(Payload):
    """messaging_seen: Instagram names the message read (``mid``); a Messenger-style
    ``watermark`` is read too, should one come."""

    mid: OptStr = ""
    watermark: Annotated[Millis | None, empty_as_none] = None

    @model_validator(mode="after")
    def _names_something(self) -> "Read":
        if not self.mid and self.watermark is None:
            raise ValueError("names no message (no mid, no watermark)")
        return self


class ReadEvent(Payload):
    sender: Igsid
    timestamp: Millis
    read: Read


class UnreadEvent(Payload):
    """referral, optin, policy_enforcement…, and the echo of the account's own send (ours,
    or a person's in the Instagram app): not customer messages."""


# The first of these keys an event carries is its kind.
EVENT_KINDS: dict[str, type[Payload]] = {
    "message": MessageEvent,
    "postback": PostbackEvent,
    "reaction": ReactionEvent,
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
    MessageEvent | PostbackEvent | ReactionEvent | ReadEvent | UnreadEvent,
    PlainValidator(_read_event),
]


class Entry(Payload):
    # Only `messaging` is ours: `standby` (another app owns the thread) and `changes`
    # (comments, mentions) are not relayed, so they are not read.
    messaging: list[Event] = []


class Envelope(Payload):
    object: str
    entry: list[Entry]

    @model_validator(mode="before")
    @classmethod
    def _other_objects_are_not_read(cls, data: Any) -> Any:
        # Pages ("page"), WhatsApp and other Meta objects are other channels' webhooks.
        other = (
            isinstance(data, dict)
            and isinstance(data.get("object"), str)
            and data["object"] != "instagram"
        )
        return {"object": data["object"], "entry": []} if other else data
