"""The parts of an Intercom webhook notification that the webhook reads.

Written from Intercom's webhook models (the notification_event and its data.item,
https://developers.intercom.com/docs/references/2.5/webhooks/webhook-models) and its
conversation model (conversation_parts, conversation_part, author, part_attachment in
the REST API spec); PROVIDERS.md §1.5 and §1.6 has both. Fields we do not read are
ignored.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from ..payload import Id, OptId, OptStr, Payload


def _non_empty(value: Any) -> Any:
    if value == "":
        raise ValueError("is empty")
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("is not a timestamp")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise ValueError("is out of range") from error


# Unix seconds as an integer; absent or null is no time.
OptTime = Annotated[datetime | None, BeforeValidator(_timestamp)]


class Notification(Payload):
    """What every notification has, whatever its topic."""

    class Data(Payload):
        # The object the topic is about, with its own "type"; read per topic.
        item: dict[str, Any]

    topic: str
    app_id: Annotated[str, BeforeValidator(_non_empty)]  # the workspace (its id_code)
    created_at: OptTime = None
    data: Data


class Author(Payload):
    type: OptStr = ""
    id: OptId = ""
    name: OptStr = ""


class Attachment(Payload):
    # An attachment without a link has nothing to send on: anything but a string is none.
    url: Annotated[str, BeforeValidator(lambda value: value if isinstance(value, str) else "")] = ""
    name: OptStr = ""
    content_type: OptStr = ""


class Part(Payload):
    id: Id
    part_type: str
    body: OptStr = ""
    # Bot and system parts may come with no author (null or an empty value).
    author: Annotated[Author, BeforeValidator(lambda value: value or {})] = Author()
    attachments: Annotated[list[Attachment], BeforeValidator(lambda value: value or [])] = []
    created_at: OptTime = None
    # "The app package code if this part was created via API; null otherwise."
    app_package_code: Annotated[
        str | None, BeforeValidator(lambda value: None if value is None else str(value))
    ] = None


class PartList(Payload):
    conversation_parts: list[Part]


class Conversation(Payload):
    # Both may be left out (a topic without parts; an id is asked for where it is
    # used), but never null.
    id: Id = None  # type: ignore[assignment]
    conversation_parts: PartList = None  # type: ignore[assignment]


class ConversationNotification(Notification):
    """A conversation.* topic: data.item is a Conversation."""

    class Data(Payload):
        item: Conversation

    data: Data
