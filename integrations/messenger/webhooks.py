"""Messenger webhooks: Meta's subscribe handshake, the POST signature, and the Page
events (``object: "page"``, ``entry[].messaging[]``) parsed into normalized events.

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
    Location,
    Media,
    Sender,
    Watermark,
    WebhookRequest,
)
from ..payload import load_json, parse_as
from .credentials import Credentials
from .schema import (
    DeliveryEvent,
    Envelope,
    LocationAttachment,
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
    return meta.messaging_events(envelope, object_name="page", handlers=EVENT_HANDLERS)


# ---- event handlers (one per messaging[] event kind) -------------------------------


def _on_message(event: MessageEvent) -> list[InboundEvent]:
    message = event.message
    mid = message.mid
    text = message.text
    common = {
        "sender": Sender(external_id=event.sender.external_id),
        "sent_at": event.timestamp,
        "reply_to": message.reply_to.mid if message.reply_to else "",
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

    if not message.attachments:
        return meta.text_or_nothing(mid=mid, text=text, common=common)

    return meta.attachment_messages(
        mid=mid,
        text=text,
        attachments=message.attachments,
        fields_of=lambda attachment: ATTACHMENT_HANDLERS.get(attachment.type, _on_other_attachment)(
            attachment
        ),
        common=common,
    )


def _on_postback(event: PostbackEvent) -> list[InboundEvent]:
    return meta.postback_message(
        sender=event.sender.external_id, at=event.timestamp, postback=event.postback
    )


def _on_reaction(event: ReactionEvent) -> list[InboundEvent]:
    return meta.reaction_message(
        sender=event.sender.external_id, at=event.timestamp, reaction=event.reaction
    )


def _on_delivery(event: DeliveryEvent) -> list[InboundEvent]:
    delivery = event.delivery
    # Meta's own example has no event timestamp; the watermark then dates it.
    at = event.timestamp or delivery.watermark
    if not delivery.mids:
        # A delivery naming no message: everything sent before the watermark has
        # arrived ("mids" may be absent, message-deliveries reference).
        if event.sender is None:
            return []
        return [
            Watermark(
                customer_external_id=event.sender.external_id,
                watermark=delivery.watermark,
                state=DeliveryState.DELIVERED,
            )
        ]
    return [
        DeliveryStatus(provider_message_id=mid, state=DeliveryState.DELIVERED, at=at)
        for mid in delivery.mids
    ]


def _on_read(event: ReadEvent) -> list[InboundEvent]:
    # Reads carry only a watermark ("everything sent before this was read"), no mids:
    # the domain marks that customer's earlier messages on this Page read.
    return [
        Watermark(customer_external_id=event.sender.external_id, watermark=event.read.watermark)
    ]


EVENT_HANDLERS = {
    MessageEvent: _on_message,
    PostbackEvent: _on_postback,
    ReactionEvent: _on_reaction,
    DeliveryEvent: _on_delivery,
    ReadEvent: _on_read,
}


# ---- attachment handlers: each returns InboundMessage fields ------------------------


def _on_image(attachment: MediaAttachment) -> dict:
    kind = ContentType.STICKER if attachment.payload.sticker_id else ContentType.IMAGE
    return {"type": kind, "media": Media(ref=attachment.payload.url)}


def _media(kind: ContentType):
    def handler(attachment: MediaAttachment) -> dict:
        return {"type": kind, "media": Media(ref=attachment.payload.url)}

    return handler


def _on_file(attachment: MediaAttachment) -> dict:
    url = attachment.payload.url
    # File URLs end in the uploaded name (…/<id>_n.pdf/<name>.pdf?…); keep it if present.
    filename = unquote(PurePosixPath(urlsplit(url).path).name)
    return {"type": ContentType.DOCUMENT, "media": Media(ref=url, filename=filename)}


def _on_location(attachment: LocationAttachment) -> dict:
    coordinates = attachment.payload.coordinates
    return {
        "type": ContentType.LOCATION,
        "location": Location(
            latitude=coordinates.lat,
            longitude=coordinates.long,
            name=attachment.title,
            url=attachment.url,
        ),
    }


def _on_other_attachment(attachment: SharedAttachment) -> dict:
    # fallback (a shared link, or an unsupported share with no payload), reel, ig_reel,
    # post, template, product…: kept as UNSUPPORTED with whatever link it carries.
    payload = attachment.payload
    text = attachment.url or payload.url or attachment.title or payload.title
    return {"type": ContentType.UNSUPPORTED, "provider_type": attachment.type, "text": text}


ATTACHMENT_HANDLERS = {
    "image": _on_image,
    "sticker": _media(ContentType.STICKER),
    "video": _media(ContentType.VIDEO),
    # Voice notes are plain audio attachments; Messenger does not mark them apart.
    "audio": _media(ContentType.AUDIO),
    "file": _on_file,
    "location": _on_location,
}
