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
from ..payload import load_json, parse_as
from ..webhook_guard import digests_equal
from . import schema
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
    data = load_json(request.body)
    update = parse_as(schema.Update, data)
    kind = next((key for key in UPDATE_HANDLERS if getattr(update, key) is not None), None)
    if kind is None:
        # channel_post / edited_channel_post: broadcasts to subscribers, not a customer.
        # business_message: chats of a Telegram Business account, which we do not connect.
        # my_chat_member (user blocked or restarted the bot) and any future kind: no
        # message to relay; the view logs it as unknown and answers 200.
        return []
    # The raw document rides along only to name an unsupported message's kind.
    return UPDATE_HANDLERS[kind](update, data[kind])  # type: ignore[index]


# --- updates -------------------------------------------------------------------------


def _on_message(update: schema.Update, raw: dict) -> list[InboundEvent]:
    message = update.message or update.edited_message
    # Only a private chat is one customer talking to the bot; relaying groups or
    # channels would pour strangers' chatter into the inbox.
    if message.chat.type != "private":
        return []
    user = message.from_
    if user is None:
        kind = "message" if update.message is not None else "edited_message"
        raise MalformedPayload(f"{kind}.from is missing")
    chat_id = message.chat.id
    kind = next((key for key in CONTENT_HANDLERS if getattr(message, key) is not None), None)
    if kind is None:
        content: dict[str, Any] = {
            "type": ContentType.UNSUPPORTED,
            "provider_type": _content_kind(raw),
        }
    else:
        content = CONTENT_HANDLERS[kind](message)
        content.setdefault("provider_type", kind)
    reply_to = ""
    if message.reply_to_message is not None:
        # external_reply (a quote of a message in another chat) has no id in this
        # conversation, so only same-chat replies are linked.
        reply_to = _message_ref(chat_id, message.reply_to_message.message_id)
    return [
        InboundMessage(
            provider_message_id=_message_ref(chat_id, message.message_id),
            sender=_sender(user, phone=_own_phone(message, user)),
            sent_at=message.date,
            reply_to=reply_to,
            **content,
        )
    ]


def _on_edited_message(update: schema.Update, raw: dict) -> list[InboundEvent]:
    # The new version of a message the bot already has (Bot API, Update.edited_message;
    # edit_date is when it was changed). A customer can change only a text or a
    # caption; a live location's moves also arrive as edits, and carry no words, so
    # they are not carried. Inboxes cannot edit a part, so the edit is a message of its
    # own naming the one it replaces.
    events = _on_message(update, raw)
    if not events or not events[0].text:
        return []
    original = events[0]
    edit_date = update.edited_message.edit_date
    return [
        replace(
            original,
            # A retried update is the same edit; two edits of one message are two updates.
            provider_message_id=f"edit:{update.update_id}:{original.provider_message_id}",
            sent_at=edit_date if edit_date is not None else original.sent_at,
            type=ContentType.TEXT,
            media=None,
            provider_type="edited_message",
            edits=original.provider_message_id,
            reply_to="",
        )
    ]


def _on_callback_query(update: schema.Update, raw: dict) -> list[InboundEvent]:
    # Bot API CallbackQuery: id, from, and message only when the button was on a
    # message the bot sent in a chat (inline-mode buttons carry inline_message_id
    # instead); exactly one of data / game_short_name. Whatever it is, the customer's
    # button spins until it is answered.
    query = update.callback_query
    answer = ButtonTapToAnswer(query_id=query.id)
    base: dict[str, Any] = {
        "provider_message_id": f"cb:{query.id}",
        "sender": _sender(query.from_),
        # A callback query carries no timestamp; it is sent the moment the button is
        # tapped, so its arrival time is the best we have.
        "sent_at": _now(),
    }
    message = query.message
    if message is not None:
        if message.chat.type != "private":
            # Same reason as for messages: groups carry no customers (but the tapper's
            # button still stops spinning).
            return [answer]
        base["reply_to"] = _message_ref(message.chat.id, message.message_id)
    if query.data is None:
        # Games are not a reply.
        return [
            InboundMessage(
                **base, type=ContentType.UNSUPPORTED, provider_type="callback_query.game"
            ),
            answer,
        ]
    data = query.data
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


def _on_message_reaction(update: schema.Update, raw: dict) -> list[InboundEvent]:
    reaction = update.message_reaction
    if reaction.chat.type != "private":
        return []  # reactions in groups come from members, not a customer conversation
    # Only group members can react anonymously (actor_chat); a private chat always
    # names the user.
    if reaction.user is None:
        raise MalformedPayload("message_reaction.user is missing")
    base = {
        # One update per change: a user can react, change and remove on one message,
        # so the update id is the only unique key.
        "provider_message_id": f"reaction:{update.update_id}",
        "sender": _sender(reaction.user),
        "sent_at": reaction.date,
        "reacted_to": _message_ref(reaction.chat.id, reaction.message_id),
    }
    new, old = reaction.new_reaction, reaction.old_reaction
    if not new:
        return [InboundMessage(**base, type=ContentType.REACTION, provider_type="reaction")]
    # Premium users may keep several reactions; we keep one, the one just added (or, if
    # one was taken away, one that is left).
    chosen = next((item for item in new if item not in old), new[0])
    if chosen.type != "emoji":
        # custom_emoji (an id, no Unicode) and paid (Telegram Stars) have no emoji to show.
        return [
            InboundMessage(
                **base, type=ContentType.UNSUPPORTED, provider_type=f"reaction.{chosen.type}"
            )
        ]
    if chosen.emoji is None:
        raise MalformedPayload("message_reaction.new_reaction.emoji is not a string")
    return [
        InboundMessage(
            **base,
            type=ContentType.REACTION,
            reaction_emoji=chosen.emoji,
            provider_type="reaction",
        )
    ]


UPDATE_HANDLERS: dict[str, Callable[[schema.Update, dict], list[InboundEvent]]] = {
    "message": _on_message,
    "edited_message": _on_edited_message,
    "callback_query": _on_callback_query,
    "message_reaction": _on_message_reaction,
}


# --- message contents ----------------------------------------------------------------


def _text(message: schema.Message) -> dict[str, Any]:
    return {"type": ContentType.TEXT, "text": message.text}


def _photo(message: schema.Message) -> dict[str, Any]:
    if not message.photo:
        raise MalformedPayload("photo has no sizes")
    # The array lists the same picture at several sizes; fetch the biggest.
    largest = max(message.photo, key=lambda size: size.width * size.height)
    return {
        "type": ContentType.IMAGE,
        "text": message.caption,
        # Telegram re-encodes every photo as JPEG and states no mime type for it.
        "media": _media(largest, mime_type="image/jpeg"),
    }


def _file(field_name: str, content_type: ContentType) -> Callable[[schema.Message], dict]:
    def handler(message: schema.Message) -> dict[str, Any]:
        return {
            "type": content_type,
            "text": message.caption,
            "media": _media(getattr(message, field_name)),
        }

    return handler


def _animation(message: schema.Message) -> dict[str, Any]:
    # A "GIF" in Telegram is a silent MP4; the customer sees a video, so we relay one.
    return {"type": ContentType.VIDEO, "text": message.caption, "media": _media(message.animation)}


def _video_note(message: schema.Message) -> dict[str, Any]:
    # A round video message: no caption, no mime type, no file name.
    return {"type": ContentType.VIDEO, "media": _media(message.video_note)}


def _sticker(message: schema.Message) -> dict[str, Any]:
    sticker = message.sticker
    # Stickers state no mime type; the format follows from these flags.
    if sticker.is_animated:
        mime_type = "application/x-tgsticker"
    elif sticker.is_video:
        mime_type = "video/webm"
    else:
        mime_type = "image/webp"
    return {"type": ContentType.STICKER, "media": _media(sticker, mime_type=mime_type)}


def _location(message: schema.Message) -> dict[str, Any]:
    # A live location arrives once here; its moves come as edited_message (ignored).
    return {"type": ContentType.LOCATION, "location": _point(message.location)}


def _venue(message: schema.Message) -> dict[str, Any]:
    venue = message.venue
    return {
        "type": ContentType.LOCATION,
        "location": Location(
            latitude=venue.location.latitude,
            longitude=venue.location.longitude,
            name=venue.title,
            address=venue.address,
        ),
    }


def _contact(message: schema.Message) -> dict[str, Any]:
    contact = message.contact
    card = ContactCard(
        name=_full_name(contact),
        phones=(contact.phone_number,),
        emails=_vcard_emails(contact.vcard),
    )
    return {"type": ContentType.CONTACTS, "contacts": (card,)}


# Order matters: Telegram also sets `document` on an animation and `location` on a
# venue for old clients, so the richer field must be looked at first.
CONTENT_HANDLERS: dict[str, Callable[[schema.Message], dict[str, Any]]] = {
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


def _sender(user: schema.User, *, phone: str = "") -> Sender:
    return Sender(
        external_id=str(user.id),
        phone=phone,
        name=_full_name(user),
        username=user.username,
    )


def _own_phone(message: schema.Message, user: schema.User) -> str:
    # Telegram never tells a bot a user's number, except when they share their own
    # contact (the "share my phone number" button): then the card's user_id is theirs.
    contact = message.contact
    if contact is not None and contact.user_id == user.id:
        return contact.phone_number
    return ""


def _full_name(person: schema.User | schema.Contact) -> str:
    return " ".join(filter(None, (person.first_name, person.last_name)))


def _media(file: schema.File, *, mime_type: str = "") -> Media:
    # Telegram gives no checksum; file_unique_id cannot be downloaded, file_id can
    # (through getFile), so file_id is the reference.
    return Media(
        ref=file.file_id,
        mime_type=file.mime_type or mime_type,
        filename=file.file_name,
        size=file.file_size,
    )


def _point(location: schema.Location) -> Location:
    return Location(latitude=location.latitude, longitude=location.longitude)


def _vcard_emails(vcard: str) -> tuple[str, ...]:
    emails = []
    for line in vcard.splitlines():
        name, _, value = line.partition(":")
        # "EMAIL;TYPE=INTERNET:…", possibly behind an Apple-style group ("item1.EMAIL").
        if name.split(";")[0].split(".")[-1].strip().upper() == "EMAIL" and value.strip():
            emails.append(value.strip())
    return tuple(emails)


def _button_title(message: schema.ButtonMessage, data: str) -> str:
    # The query carries only the button's data; its label is on the message we sent,
    # unless that message is too old to be included (then it has no reply_markup).
    markup = message.reply_markup
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else ():
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text if isinstance(text, str) else ""
    return ""


def _now() -> datetime:
    return datetime.now(UTC)
