"""The parts of a Telegram Bot API ``Update`` that the webhook reads.

Written from https://core.telegram.org/bots/api#update (Update, Message, User, Chat,
PhotoSize, Document, Sticker, Location, Venue, Contact, CallbackQuery,
MessageReactionUpdated, ReactionType). Fields we do not read are ignored.

A field Telegram documents as optional is either left out or present with a value; it
is never null. Such fields default to None but keep their type, so an explicit null is
refused ("message.text is not a string") just as a value of the wrong type is, while
``is None`` still means "absent".
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ..payload import OptStr, Payload, UnixSeconds


def _integer(value: Any) -> Any:
    # Telegram's dates are Unix times as integers; unlike Meta it never sends digits.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("is not an integer")
    return value


Date = Annotated[UnixSeconds, BeforeValidator(_integer)]

# Read only as "is it true?": anything but true (absent, null, false) is false.
Flag = Annotated[bool, BeforeValidator(lambda value: value is True)]


class User(Payload):
    id: int
    first_name: str
    last_name: OptStr = ""
    username: OptStr = ""


class Chat(Payload):
    id: int
    type: str


class File(Payload):
    """Document, Audio, Voice, Video, VideoNote, Animation, Sticker, PhotoSize: what is
    common to every downloadable file."""

    file_id: str
    file_name: OptStr = ""
    mime_type: OptStr = ""
    file_size: int | None = None


class PhotoSize(File):
    width: int
    height: int


class Sticker(File):
    is_animated: Flag = False
    is_video: Flag = False


class Location(Payload):
    latitude: float
    longitude: float


class Venue(Payload):
    location: Location
    title: str
    address: str


class Contact(Payload):
    phone_number: str
    first_name: str
    last_name: OptStr = ""
    vcard: OptStr = ""
    # Only compared with the sender's id (is this their own number?), never read as a
    # number, so whatever is there is kept as it is.
    user_id: Any = None


class MessageRef(Payload):
    message_id: int


class Message(Payload):
    message_id: int
    chat: Chat
    date: Date
    # Absent on messages sent on behalf of a channel; a private chat always has it.
    from_: User = Field(None, alias="from")  # type: ignore[assignment]
    edit_date: Date = None  # type: ignore[assignment]
    reply_to_message: MessageRef = None  # type: ignore[assignment]
    caption: OptStr = ""
    # The content: which of these is present says what kind of message it is.
    text: str = None  # type: ignore[assignment]
    photo: list[PhotoSize] = None  # type: ignore[assignment]
    animation: File = None  # type: ignore[assignment]
    document: File = None  # type: ignore[assignment]
    video: File = None  # type: ignore[assignment]
    video_note: File = None  # type: ignore[assignment]
    audio: File = None  # type: ignore[assignment]
    voice: File = None  # type: ignore[assignment]
    sticker: Sticker = None  # type: ignore[assignment]
    venue: Venue = None  # type: ignore[assignment]
    location: Location = None  # type: ignore[assignment]
    contact: Contact = None  # type: ignore[assignment]


class ButtonMessage(Payload):
    """CallbackQuery.message: the message the button was on (MaybeInaccessibleMessage:
    an old one comes with only chat, message_id and date 0)."""

    message_id: int
    chat: Chat
    # Read only for a button's label, a nicety: what is not shaped as documented just
    # gives no label, so it is kept as it came.
    reply_markup: Any = None


class CallbackQuery(Payload):
    id: str
    from_: User = Field(alias="from")
    message: ButtonMessage = None  # type: ignore[assignment]
    data: str = None  # type: ignore[assignment]


class ReactionType(Payload):
    """ReactionTypeEmoji, ReactionTypeCustomEmoji or ReactionTypePaid."""

    type: str
    emoji: str | None = None
    custom_emoji_id: str | None = None


class MessageReaction(Payload):
    chat: Chat
    message_id: int
    date: Date
    # Absent when an anonymous group admin reacts (actor_chat instead).
    user: User = None  # type: ignore[assignment]
    new_reaction: list[ReactionType]
    old_reaction: list[ReactionType]


class Update(Payload):
    update_id: int
    # At most one of these; any other kind (channel_post, my_chat_member, …) is ignored.
    message: Message = None  # type: ignore[assignment]
    edited_message: Message = None  # type: ignore[assignment]
    callback_query: CallbackQuery = None  # type: ignore[assignment]
    message_reaction: MessageReaction = None  # type: ignore[assignment]
