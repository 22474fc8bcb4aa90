"""Telegram webhooks: check the secret token header, turn an Update into events.

Telegram posts one ``Update`` per request: ``update_id`` plus exactly one field naming
its kind (``message``, ``callback_query``, ``message_reaction``, …). It sends no
delivery statuses, so ``parse`` only ever returns ``InboundMessage`` events.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..channel import (
    ButtonTapToAnswer,
    ContactCard,
    ContentType,
    InboundEvent,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from ..payload import (
    as_dict,
    dict_at,
    float_at,
    int_at,
    list_at,
    load_json,
    opt_str_at,
    str_at,
)
from ..webhook_guard import digests_equal
from .credentials import Credentials

AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Telegram executes a Bot API method sent back as JSON in the webhook reply; an empty
# body keeps our 200 a plain acknowledgement.
ACK = (b"", "text/plain")


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    # Telegram signs nothing: the header echoes the secret_token we gave setWebhook, so
    # it proves the sender but not the body (there is no body digest to check).
    given = request.header(AUTH_HEADER)
    if not given:
        raise WebhookRejected(f"missing {AUTH_HEADER} header")
    if not digests_equal(credentials.secret_token, given):
        raise WebhookRejected("wrong secret token")


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    update = _load(request.body)
    update_id = int_at(update, "update_id")
    kind = next((key for key in UPDATE_HANDLERS if key in update), None)
    if kind is None:
        # channel_post / edited_channel_post: broadcasts to subscribers, not a customer.
        # business_message: chats of a Telegram Business account, which we do not connect.
        # my_chat_member (user blocked or restarted the bot) and any future kind: no
        # message to relay; the view logs it as unknown and answers 200.
        return []
    return UPDATE_HANDLERS[kind](update_id, dict_at(update, kind))


# --- updates -------------------------------------------------------------------------


def _on_message(update_id: int, message: dict) -> list[InboundEvent]:
    chat = dict_at(message, "chat")
    # Only a private chat is one customer talking to the bot; relaying groups or
    # channels would pour strangers' chatter into the inbox.
    if str_at(chat, "type") != "private":
        return []
    chat_id = int_at(chat, "id")
    user = dict_at(message, "from")
    kind = next((key for key in CONTENT_HANDLERS if key in message), None)
    if kind is None:
        content: dict[str, Any] = {
            "type": ContentType.UNSUPPORTED,
            "provider_type": _content_kind(message),
        }
    else:
        content = CONTENT_HANDLERS[kind](message)
        content.setdefault("provider_type", kind)
    reply_to = ""
    if "reply_to_message" in message:
        # external_reply (a quote of a message in another chat) has no id in this
        # conversation, so only same-chat replies are linked.
        reply_to = _message_ref(chat_id, int_at(dict_at(message, "reply_to_message"), "message_id"))
    return [
        InboundMessage(
            provider_message_id=_message_ref(chat_id, int_at(message, "message_id")),
            sender=_sender(user, phone=_own_phone(message, user)),
            sent_at=_time(message, "date"),
            reply_to=reply_to,
            **content,
        )
    ]


def _on_edited_message(update_id: int, message: dict) -> list[InboundEvent]:
    # The new version of a message the bot already has (Bot API, Update.edited_message;
    # edit_date is when it was changed). A customer can change only a text or a
    # caption; a live location's moves also arrive as edits, and carry no words, so
    # they are not carried. Inboxes cannot edit a part, so the edit is a message of its
    # own naming the one it replaces.
    events = _on_message(update_id, message)
    if not events or not events[0].text:
        return []
    original = events[0]
    return [
        replace(
            original,
            # A retried update is the same edit; two edits of one message are two updates.
            provider_message_id=f"edit:{update_id}:{original.provider_message_id}",
            sent_at=_time(message, "edit_date") if "edit_date" in message else original.sent_at,
            type=ContentType.TEXT,
            media=None,
            provider_type="edited_message",
            edits=original.provider_message_id,
            reply_to="",
        )
    ]


def _on_callback_query(update_id: int, query: dict) -> list[InboundEvent]:
    # Bot API CallbackQuery: id, from, and message only when the button was on a
    # message the bot sent in a chat (inline-mode buttons carry inline_message_id
    # instead); exactly one of data / game_short_name. Whatever it is, the customer's
    # button spins until it is answered.
    query_id = str_at(query, "id")
    answer = ButtonTapToAnswer(query_id=query_id)
    base: dict[str, Any] = {
        "provider_message_id": f"cb:{query_id}",
        "sender": _sender(dict_at(query, "from")),
        # A callback query carries no timestamp; it is sent the moment the button is
        # tapped, so its arrival time is the best we have.
        "sent_at": _now(),
    }
    message = dict_at(query, "message") if "message" in query else None
    if message is not None:
        chat = dict_at(message, "chat")
        if str_at(chat, "type") != "private":
            # Same reason as for messages: groups carry no customers (but the tapper's
            # button still stops spinning).
            return [answer]
        base["reply_to"] = _message_ref(int_at(chat, "id"), int_at(message, "message_id"))
    if "data" not in query:
        # Games are not a reply.
        return [
            InboundMessage(
                **base, type=ContentType.UNSUPPORTED, provider_type="callback_query.game"
            ),
            answer,
        ]
    data = str_at(query, "data")
    return [
        InboundMessage(
            **base,
            type=ContentType.INTERACTIVE,
            # Without the message there is no button label to show: the data is what
            # the customer chose.
            text=(_button_title(message, data) if message is not None else "") or data,
            payload=data,
            provider_type="callback_query",
        ),
        answer,
    ]


def _on_message_reaction(update_id: int, reaction: dict) -> list[InboundEvent]:
    chat = dict_at(reaction, "chat")
    if str_at(chat, "type") != "private":
        return []  # reactions in groups come from members, not a customer conversation
    base = {
        # One update per change: a user can react, change and remove on one message,
        # so the update id is the only unique key.
        "provider_message_id": f"reaction:{update_id}",
        # Only group members can react anonymously (actor_chat); a private chat always
        # names the user.
        "sender": _sender(dict_at(reaction, "user")),
        "sent_at": _time(reaction, "date"),
        "reacted_to": _message_ref(int_at(chat, "id"), int_at(reaction, "message_id")),
    }
    new = [_reaction_type(item) for item in list_at(reaction, "new_reaction")]
    old = [_reaction_type(item) for item in list_at(reaction, "old_reaction")]
    if not new:
        return [InboundMessage(**base, type=ContentType.REACTION, provider_type="reaction")]
    # Premium users may keep several reactions; we keep one, the one just added (or, if
    # one was taken away, one that is left).
    chosen = next((item for item in new if item not in old), new[0])
    if chosen["type"] != "emoji":
        # custom_emoji (an id, no Unicode) and paid (Telegram Stars) have no emoji to show.
        return [
            InboundMessage(
                **base, type=ContentType.UNSUPPORTED, provider_type=f"reaction.{chosen['type']}"
            )
        ]
    return [
        InboundMessage(
            **base,
            type=ContentType.REACTION,
            reaction_emoji=str_at(chosen, "emoji"),
            provider_type="reaction",
        )
    ]


UPDATE_HANDLERS: dict[str, Callable[[int, dict], list[InboundEvent]]] = {
    "message": _on_message,
    "edited_message": _on_edited_message,
    "callback_query": _on_callback_query,
    "message_reaction": _on_message_reaction,
}


# --- message contents ----------------------------------------------------------------


def _text(message: dict) -> dict[str, Any]:
    return {"type": ContentType.TEXT, "text": str_at(message, "text")}


def _photo(message: dict) -> dict[str, Any]:
    sizes = [as_dict(size, "photo[]") for size in list_at(message, "photo")]
    if not sizes:
        raise MalformedPayload("photo has no sizes")
    # The array lists the same picture at several sizes; fetch the biggest.
    largest = max(sizes, key=lambda size: int_at(size, "width") * int_at(size, "height"))
    return {
        "type": ContentType.IMAGE,
        "text": opt_str_at(message, "caption"),
        # Telegram re-encodes every photo as JPEG and states no mime type for it.
        "media": _media(largest, mime_type="image/jpeg"),
    }


def _file(field_name: str, content_type: ContentType) -> Callable[[dict], dict[str, Any]]:
    def handler(message: dict) -> dict[str, Any]:
        return {
            "type": content_type,
            "text": opt_str_at(message, "caption"),
            "media": _media(dict_at(message, field_name)),
        }

    return handler


def _animation(message: dict) -> dict[str, Any]:
    # A "GIF" in Telegram is a silent MP4; the customer sees a video, so we relay one.
    return {
        "type": ContentType.VIDEO,
        "text": opt_str_at(message, "caption"),
        "media": _media(dict_at(message, "animation")),
    }


def _video_note(message: dict) -> dict[str, Any]:
    # A round video message: no caption, no mime type, no file name.
    return {"type": ContentType.VIDEO, "media": _media(dict_at(message, "video_note"))}


def _sticker(message: dict) -> dict[str, Any]:
    sticker = dict_at(message, "sticker")
    # Stickers state no mime type; the format follows from these flags.
    if sticker.get("is_animated") is True:
        mime_type = "application/x-tgsticker"
    elif sticker.get("is_video") is True:
        mime_type = "video/webm"
    else:
        mime_type = "image/webp"
    return {"type": ContentType.STICKER, "media": _media(sticker, mime_type=mime_type)}


def _location(message: dict) -> dict[str, Any]:
    # A live location arrives once here; its moves come as edited_message (ignored).
    return {"type": ContentType.LOCATION, "location": _point(dict_at(message, "location"))}


def _venue(message: dict) -> dict[str, Any]:
    venue = dict_at(message, "venue")
    point = _point(dict_at(venue, "location"))
    return {
        "type": ContentType.LOCATION,
        "location": Location(
            latitude=point.latitude,
            longitude=point.longitude,
            name=str_at(venue, "title"),
            address=str_at(venue, "address"),
        ),
    }


def _contact(message: dict) -> dict[str, Any]:
    contact = dict_at(message, "contact")
    card = ContactCard(
        name=_full_name(contact),
        phones=(str_at(contact, "phone_number"),),
        emails=_vcard_emails(opt_str_at(contact, "vcard")),
    )
    return {"type": ContentType.CONTACTS, "contacts": (card,)}


# Order matters: Telegram also sets `document` on an animation and `location` on a
# venue for old clients, so the richer field must be looked at first.
CONTENT_HANDLERS: dict[str, Callable[[dict], dict[str, Any]]] = {
    "text": _text,
    "photo": _photo,
    "animation": _animation,
    "document": _file("document", ContentType.DOCUMENT),
    "video": _file("video", ContentType.VIDEO),
    "video_note": _video_note,
    "audio": _file("audio", ContentType.AUDIO),
    "voice": _file("voice", ContentType.VOICE),
    "sticker": _sticker,
    "venue": _venue,
    "location": _location,
    "contact": _contact,
}

# Message fields that describe a message rather than carry its content; whatever key is
# left names the kind of an unsupported message (poll, dice, game, story, …).
ENVELOPE_FIELDS = frozenset(
    {
        "message_id",
        "message_thread_id",
        "direct_messages_topic",
        "from",
        "sender_chat",
        "sender_boost_count",
        "sender_business_bot",
        "sender_tag",
        "date",
        "business_connection_id",
        "chat",
        "forward_origin",
        "forward_from",
        "forward_from_chat",
        "forward_from_message_id",
        "forward_signature",
        "forward_sender_name",
        "forward_date",
        "is_topic_message",
        "is_automatic_forward",
        "reply_to_message",
        "external_reply",
        "quote",
        "reply_to_story",
        "reply_to_checklist_task_id",
        "via_bot",
        "edit_date",
        "has_protected_content",
        "is_from_offline",
        "is_paid_post",
        "media_group_id",
        "author_signature",
        "paid_star_count",
        "entities",
        "caption",
        "caption_entities",
        "show_caption_above_media",
        "has_media_spoiler",
        "link_preview_options",
        "effect_id",
        "reply_markup",
        "suggested_post_info",
    }
)


def _content_kind(message: dict) -> str:
    return next((key for key in message if key not in ENVELOPE_FIELDS), "unknown")


# --- pieces --------------------------------------------------------------------------


def _message_ref(chat_id: int, message_id: int) -> str:
    # Telegram numbers messages per chat, so the chat id makes them unique per bot.
    return f"{chat_id}:{message_id}"


def _sender(user: dict, *, phone: str = "") -> Sender:
    return Sender(
        external_id=str(int_at(user, "id")),
        phone=phone,
        name=_full_name(user),
        username=opt_str_at(user, "username"),
    )


def _own_phone(message: dict, user: dict) -> str:
    # Telegram never tells a bot a user's number, except when they share their own
    # contact (the "share my phone number" button): then the card's user_id is theirs.
    contact = message.get("contact")
    if isinstance(contact, dict) and contact.get("user_id") == user.get("id"):
        return str_at(contact, "phone_number")
    return ""


def _full_name(person: dict) -> str:
    return " ".join(filter(None, (str_at(person, "first_name"), opt_str_at(person, "last_name"))))


def _media(file: dict, *, mime_type: str = "") -> Media:
    # Telegram gives no checksum; file_unique_id cannot be downloaded, file_id can
    # (through getFile), so file_id is the reference.
    return Media(
        ref=str_at(file, "file_id"),
        mime_type=opt_str_at(file, "mime_type") or mime_type,
        filename=opt_str_at(file, "file_name"),
        size=_opt_int(file, "file_size"),
    )


def _point(location: dict) -> Location:
    return Location(
        latitude=float_at(location, "latitude"), longitude=float_at(location, "longitude")
    )


def _vcard_emails(vcard: str) -> tuple[str, ...]:
    emails = []
    for line in vcard.splitlines():
        name, _, value = line.partition(":")
        # "EMAIL;TYPE=INTERNET:…", possibly behind an Apple-style group ("item1.EMAIL").
        if name.split(";")[0].split(".")[-1].strip().upper() == "EMAIL" and value.strip():
            emails.append(value.strip())
    return tuple(emails)


def _button_title(message: dict, data: str) -> str:
    # The query carries only the button's data; its label is on the message we sent,
    # unless that message is too old to be included (then it has no reply_markup).
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else ():
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text if isinstance(text, str) else ""
    return ""


def _reaction_type(item: object) -> dict:
    reaction = as_dict(item, "reaction")
    str_at(reaction, "type")
    return reaction


def _now() -> datetime:
    return datetime.now(UTC)


# --- typed access: anything not shaped like Telegram's is a MalformedPayload ----------


def _load(body: bytes) -> dict:
    return as_dict(load_json(body), "update")


def _opt_int(obj: dict, key: str) -> int | None:
    return None if obj.get(key) is None else int_at(obj, key)


def _time(obj: dict, key: str) -> datetime:
    try:
        return datetime.fromtimestamp(int_at(obj, key), tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedPayload(f"{key} is out of range for a date") from error
