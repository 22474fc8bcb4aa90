"""Instagram webhooks: Meta's subscribe handshake, the POST signature (both shared with
Messenger and WhatsApp in ``integrations.meta``), and the messaging events
(``object: "instagram"``, ``entry[].messaging[]``) parsed into normalized events.

Meta signs no timestamp, so a replayed POST verifies: the ids built here are the
dedupe keys (RELIABILITY.md §1.1).
"""

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from .. import meta
from ..channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Media,
    Sender,
    Watermark,
    WebhookRequest,
)
from ..payload import load_json, parse_as
from .credentials import Credentials
from .schema import (
    Envelope,
    MediaAttachment,
    MessageEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    SharedAttachment,
)

# Meta only looks at the status code; any 200 body will do.
ACK = (b"ok", "text/plain")


def handshake(*, credentials: Credentials, request: WebhookRequest) -> str:
    return meta.handshake(verify_token=credentials.verify_token, request=request)


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    meta.verify_signature(app_secret=credentials.app_secret, request=request)


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    envelope = parse_as(Envelope, load_json(request.body))
    return meta.messaging_events(envelope, object_name="instagram", handlers=EVENT_HANDLERS)


# ---- event handlers (one per messaging[] event kind) -------------------------------


def _on_message(event: MessageEvent) -> list[InboundEvent]:
    message = event.message
    mid = message.mid
    sender = Sender(external_id=event.sender.id)

    if message.is_deleted:
        # The unsend repeats the original mid: its own id must differ to be stored.
        return [
            InboundMessage(
                provider_message_id=f"deleted:{mid}",
                sender=sender,
                sent_at=event.timestamp,
                type=ContentType.UNSUPPORTED,
                provider_type="unsend",
                provider_note="The customer unsent (deleted) one of their earlier messages; "
                "Instagram no longer shows it to them.",
                reply_to=mid,
            )
        ]

    reply_to = message.reply_to
    text = message.text
    if reply_to is not None and reply_to.story is not None:
        # A reply to one of the business's stories: the story is not a message here, so
        # say which one in words (its link stops working when the story expires).
        story = reply_to.story
        what = f"your story: {story.url}" if story.url else "your story"
        text = "\n".join(part for part in (text, f"(Replied to {what})") if part)
    common = {
        "sender": sender,
        "sent_at": event.timestamp,
        "reply_to": reply_to.mid if reply_to is not None else "",
    }

    if message.quick_reply is not None:
        return [
            InboundMessage(
                provider_message_id=mid,
                type=ContentType.INTERACTIVE,
                text=text,
                payload=message.quick_reply.payload,
                **common,
            )
        ]

    if message.is_unsupported and not message.attachments:
        return [
            InboundMessage(
                provider_message_id=mid,
                type=ContentType.UNSUPPORTED,
                text=text,
                provider_type="unsupported",
                provider_note="Instagram does not give apps this kind of message (a GIF or "
                "sticker, for example); it shows only in the Instagram app.",
                **common,
            )
        ]

    if not message.attachments:
        return meta.text_or_nothing(mid=mid, text=text, common=common)

    return meta.attachment_messages(
        mid=mid,
        text=text,
        attachments=message.attachments,
        fields_of=lambda attachment: (
            _on_media(attachment)
            if isinstance(attachment, MediaAttachment)
            else _on_shared(attachment)
        ),
        common=common,
    )


def _on_postback(event: PostbackEvent) -> list[InboundEvent]:
    return meta.postback_message(
        sender=event.sender.id, at=event.timestamp, postback=event.postback
    )


def _on_reaction(event: ReactionEvent) -> list[InboundEvent]:
    return meta.reaction_message(
        sender=event.sender.id, at=event.timestamp, reaction=event.reaction
    )


def _on_read(event: ReadEvent) -> list[InboundEvent]:
    read = event.read
    if read.mid:
        # messaging_seen names the message the customer saw.
        return [
            DeliveryStatus(
                provider_message_id=read.mid, state=DeliveryState.READ, at=event.timestamp
            )
        ]
    return [Watermark(customer_external_id=event.sender.id, watermark=read.watermark)]


EVENT_HANDLERS = {
    MessageEvent: _on_message,
    PostbackEvent: _on_postback,
    ReactionEvent: _on_reaction,
    ReadEvent: _on_read,
}


# ---- attachments: each returns InboundMessage fields --------------------------------

_MEDIA_TYPES = {
    "image": ContentType.IMAGE,
    "video": ContentType.VIDEO,
    # Voice notes come as audio attachments; Instagram does not mark them apart.
    "audio": ContentType.AUDIO,
    "file": ContentType.DOCUMENT,
}


def _on_media(attachment: MediaAttachment) -> dict:
    url = attachment.payload.url
    kind = _MEDIA_TYPES[attachment.type]
    if kind is ContentType.DOCUMENT:
        filename = unquote(PurePosixPath(urlsplit(url).path).name)
        return {"type": kind, "media": Media(ref=url, filename=filename)}
    return {"type": kind, "media": Media(ref=url)}


_SHARED_NOTES = {
    "story_mention": "The customer mentioned your account in their story. The link works "
    "until the story expires (24 hours) or is deleted.",
    "share": "The customer shared an Instagram post.",
    "ig_reel": "The customer shared a reel.",
    "reel": "The customer shared a reel.",
    "ig_post": "The customer shared an Instagram post.",
}


def _on_shared(attachment: SharedAttachment) -> dict:
    # Story mentions, shared posts and reels carry a link (Meta's terms allow keeping the
    # link, not the file: it is not fetched). Any other type is named as it came.
    payload = attachment.payload
    return {
        "type": ContentType.UNSUPPORTED,
        "provider_type": attachment.type,
        "provider_note": _SHARED_NOTES.get(attachment.type, ""),
        "text": payload.url or payload.title,
    }
