"""The parts of a HubSpot custom-channel webhook that the webhook reads.

HubSpot documents the event names (the custom channels v3 guide,
https://developers.hubspot.com/docs/api-reference/legacy/conversations/custom-channels/guide:
OUTGOING_CHANNEL_MESSAGE_CREATED, CHANNEL_ACCOUNT_CREATED/UPDATED) and the message object
(the "Publish a message" response: id, conversationsThreadId, direction,
client{clientType, integrationAppId}, senders[]{actorId, name}, createdAt, createdBy,
attachments[]{type, url, name}, text, richText), but not the webhook body
itself; its fields come from third-party integrations (PROVIDERS.md §2.3), so where
they have been seen in two places (the event or the message) both are read. Fields we
do not read are ignored.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from ..payload import Id, OptId, OptStr, Payload


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time, or milliseconds since the epoch (both have been seen)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise ValueError("is out of range") from error
    if not isinstance(value, str):
        raise ValueError("is not a time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError("is not an ISO 8601 time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _strings(value: Any) -> Any:
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(item, str) for item in value)
    ):
        raise ValueError("is not a list of strings")
    return value


def _text_or_nothing(value: Any) -> str:
    return value if isinstance(value, str) else ""


OptTime = Annotated[datetime | None, BeforeValidator(_time)]
# HubSpot's optional ids: absent, null or "" is no id.
BlankId = Annotated[OptId, BeforeValidator(lambda value: None if value == "" else value)]
ThreadIds = Annotated[list[str] | None, BeforeValidator(_strings)]
# An object or a list that may be absent, null or any empty value ("", 0, false): none.
_EmptyObject = BeforeValidator(lambda value: value or {})
_EmptyList = BeforeValidator(lambda value: value or [])


class Envelope(Payload):
    """What every event has: its type, under one name or the other."""

    # Read leniently: the first of the two that is a non-empty string is the type.
    type: Annotated[str, BeforeValidator(_text_or_nothing)] = ""
    eventType: Annotated[str, BeforeValidator(_text_or_nothing)] = ""

    @property
    def event_type(self) -> str:
        return self.type or self.eventType


class Batch(Payload):
    """HubSpot's webhooks send a list of events; one event alone is read as a list of one."""

    events: list[Envelope]


class Client(Payload):
    clientType: OptStr = ""  # HUBSPOT, SYSTEM, INTEGRATION, UNKNOWN
    integrationAppId: BlankId = ""


class Sender(Payload):
    actorId: BlankId = ""
    name: OptStr = ""


class Attachment(Payload):
    type: OptStr = ""  # FILE, LOCATION, …
    # Only a file with a link has something to send on: anything but a string is none.
    url: Annotated[str, BeforeValidator(_text_or_nothing)] = ""
    name: OptStr = ""


class Message(Payload):
    id: Id
    conversationsThreadId: Id
    direction: OptStr = ""
    client: Annotated[Client, _EmptyObject] = Client()
    senders: Annotated[list[Sender], _EmptyList] = []
    createdBy: BlankId = ""
    createdAt: OptTime = None
    channelAccountId: BlankId = ""
    channelIntegrationThreadIds: ThreadIds = None
    integrationThreadId: OptStr = ""
    richText: OptStr = ""
    text: OptStr = ""
    attachments: Annotated[list[Attachment], _EmptyList] = []


class OutgoingMessageEvent(Payload):
    """OUTGOING_CHANNEL_MESSAGE_CREATED: an agent wrote in a thread of our channel."""

    portalId: Id
    message: Message
    eventTimestamp: OptTime = None
    # Some payloads carry these on the event rather than on the message.
    channelAccountId: BlankId = ""
    channelIntegrationThreadIds: ThreadIds = None
