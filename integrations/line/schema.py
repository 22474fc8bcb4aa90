"""The parts of LINE's webhook body and API answers that Octopods reads.

Written from the Messaging API reference, https://developers.line.biz/en/reference/
messaging-api/ (Webhook event objects: common properties, message event and its message
objects, unsend, follow, unfollow, postback, join, leave; Get bot info; Send push
message; Test webhook endpoint), cross-read with the official SDK's generated models
(line-bot-sdk-python, ``linebot/v3/webhooks/models``). Fields we do not read are
ignored: LINE adds properties without notice and asks bots to tolerate them.

The body is ``{"destination": <bot user id>, "events": [...]}``; ``events`` is empty
when LINE only checks that the webhook URL answers. Each event is read by its ``type``
with the model below, so a refusal names the event ("events.0.message.id is missing").
"""

from typing import Any, Literal

from pydantic import Field

from ..payload import OptStr, Payload, UnixMillis


class Envelope(Payload):
    destination: str
    events: list[dict[str, Any]]


class EventHead(Payload):
    """Enough of any event to know what it is."""

    type: str


class Source(Payload):
    """``user`` (one-on-one chat), ``group`` or ``room`` (multi-person chat). ``userId``
    may be absent in a group when the member has not agreed to share it."""

    type: str
    userId: OptStr = ""  # LINE's own names, read as they are
    groupId: OptStr = ""
    roomId: OptStr = ""


class DeliveryContext(Payload):
    isRedelivery: bool


class Event(Payload):
    """The common properties of every webhook event."""

    type: str
    timestamp: UnixMillis
    # "active" or "standby" (another channel of a module holds the chat); not read.
    mode: OptStr = ""
    # A ULID, the same when LINE redelivers the event: the key to drop duplicates.
    webhookEventId: str
    deliveryContext: DeliveryContext
    # Absent only on events that have no sender (none we read).
    source: Source = None  # type: ignore[assignment]
    # Free, single-use and short-lived: Octopods answers with push messages instead.
    replyToken: OptStr = ""


class ContentProvider(Payload):
    # "line": the file is on LINE's servers (GET the content endpoint); "external": the
    # customer's app sent a URL of its own (originalContentUrl).
    type: Literal["line", "external"]
    originalContentUrl: OptStr = ""
    previewImageUrl: OptStr = ""


class MessageContent(Payload):
    """A message object: ``id`` and ``type``, then the fields of its type."""

    id: str
    type: str
    # text: the words (LINE emoji appear in it as placeholders named by ``emojis``;
    # a mention's "@name" is part of it).
    text: OptStr = ""
    # The message the customer quoted (text, sticker, image, video messages).
    quotedMessageId: OptStr = ""
    # image, video, audio
    contentProvider: ContentProvider = None  # type: ignore[assignment]
    duration: int | None = None  # video, audio: milliseconds
    # file
    fileName: OptStr = ""
    fileSize: int | None = None
    # location
    title: OptStr = ""
    address: OptStr = ""
    latitude: float | None = None
    longitude: float | None = None
    # sticker
    packageId: OptStr = ""
    stickerId: OptStr = ""
    keywords: list[str] | None = None


class MessageEvent(Event):
    message: MessageContent


class UnsendDetail(Payload):
    messageId: str


class UnsendEvent(Event):
    unsend: UnsendDetail


class Postback(Payload):
    data: str
    # Set by date/time pickers and rich menu switches; not read.
    params: dict[str, Any] | None = None


class PostbackEvent(Event):
    postback: Postback


# --- API answers ---------------------------------------------------------------------


class BotInfo(Payload):
    userId: str
    basicId: str
    displayName: str
    premiumId: OptStr = ""
    # "chat" (Chat on in LINE Official Account Manager) or "bot"; not read.
    chatMode: OptStr = ""


class SentMessage(Payload):
    id: str
    quoteToken: OptStr = ""


class PushAnswer(Payload):
    sentMessages: list[SentMessage] = Field(min_length=1)


class WebhookTest(Payload):
    success: bool | None = None
    statusCode: int
    reason: OptStr = ""
    detail: OptStr = ""


class WebhookEndpoint(Payload):
    endpoint: str
    active: bool


class Quota(Payload):
    # "none" (no limit set) or "limited" (value is the limit).
    type: str
    value: int | None = None


class QuotaConsumption(Payload):
    totalUsage: int
