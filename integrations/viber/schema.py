"""The parts of a Viber REST bot API callback that the webhook reads.

Written from https://developers.viber.com/docs/api/rest-bot-api/#callbacks and the
event pages of https://creators.viber.com/docs/bots-api/ (conversation_started, seen, …),
checked against the official SDK's request classes (github.com/Viber/viber-bot-python,
viberbot/api/viber_requests). Fields we do not read are ignored.

Every callback carries ``event`` and ``timestamp`` (Unix milliseconds); the rest
depends on the event. ``message_token`` is a 64-bit integer in Viber's examples
(4912661846655238145) and a string in the SDK's tests, so it is read as an ``Id``.
"""

from ..payload import Id, OptId, OptStr, Payload, UnixMillis


class User(Payload):
    """``sender`` of a message, ``user`` of subscribed / conversation_started. ``name``
    and ``avatar`` come only when set_webhook asked for them (send_name, send_photo)."""

    id: str
    name: OptStr = ""
    avatar: OptStr = ""
    country: OptStr = ""
    language: OptStr = ""


class Location(Payload):
    lat: float
    lon: float


class Contact(Payload):
    name: OptStr = ""
    phone_number: OptStr = ""


class Message(Payload):
    """``message`` of a message callback: ``type`` says which other fields are set."""

    type: str
    text: OptStr = ""
    # picture, video, file, sticker: a URL on Viber's servers; url: the shared link.
    media: OptStr = ""
    file_name: OptStr = ""
    size: int | None = None
    sticker_id: OptId = ""
    location: Location | None = None
    contact: Contact | None = None


class Event(Payload):
    """What every callback has: enough to route it to its event's model. (The time is
    read per event: the SDK's own signed ``webhook`` example has a timestamp no clock
    holds, and that check needs nothing but our 200.)"""

    event: str


class Callback(Event):
    timestamp: UnixMillis


class MessageCallback(Callback):
    message_token: Id
    sender: User
    message: Message


class StatusCallback(Callback):
    """delivered, seen and failed (failed adds ``desc``)."""

    message_token: Id
    user_id: str
    desc: OptStr = ""


class SubscribedCallback(Callback):
    user: User


class UnsubscribedCallback(Callback):
    user_id: str


class ConversationStartedCallback(Callback):
    user: User
    type: OptStr = ""
    subscribed: bool | None = None
