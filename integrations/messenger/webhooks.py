"""Messenger webhooks: Meta's subscribe handshake, the POST signature, and the Page
events (``object: "page"``, ``entry[].messaging[]``) parsed into normalized events.

Meta signs no timestamp, so a replayed POST verifies: the ids built here are the
dedupe keys (RELIABILITY.md §1.1).
"""

from datetime import UTC, datetime, timedelta
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
    MalformedPayload,
    Media,
    ReadWatermark,
    Sender,
    WebhookRequest,
)
from ..payload import load_json
from .credentials import Credentials

# Meta only looks at the status code; any 200 body will do.
ACK = (b"ok", "text/plain")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def handshake(*, credentials: Credentials, request: WebhookRequest) -> str:
    return meta.handshake(verify_token=credentials.verify_token, request=request)


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    meta.verify_signature(app_secret=credentials.app_secret, request=request)


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    data = load_json(request.body)
    if not isinstance(data, dict):
        raise MalformedPayload("body is not a JSON object")
    if not isinstance(data.get("object"), str):
        raise MalformedPayload("missing 'object'")
    if data["object"] != "page":
        # Instagram ("instagram") and other Meta objects are other channels' webhooks.
        return []
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("missing 'entry' list")
    events: list[InboundEvent] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedPayload("an entry is not an object")
        # Only `messaging` is ours: `standby` (another app owns the thread under the
        # handover protocol) and `changes` (Page feed) are not ours to relay.
        messaging = entry.get("messaging", [])
        if not isinstance(messaging, list):
            raise MalformedPayload("'messaging' is not a list")
        for event in messaging:
            if not isinstance(event, dict):
                raise MalformedPayload("a messaging event is not an object")
            events.extend(_parse_event(event))
    return events


def _parse_event(event: dict) -> list[InboundEvent]:
    for key, handler in EVENT_HANDLERS.items():
        if key in event:
            return handler(event)
    # optin, referral, account_linking, policy_enforcement, game_play…: not messages.
    return []


# ---- event handlers (one per messaging[] event kind) -------------------------------


def _on_message(event: dict) -> list[InboundEvent]:
    message = _object(event, "message")
    if message.get("is_echo"):
        # The Page's own send (ours, or an agent's in Meta's inbox): not customer input.
        return []
    mid = _string(message, "mid")
    sender = _sender(event)
    sent_at = _millis(event, "timestamp")
    text = _string(message, "text", required=False)
    reply_to = message.get("reply_to")
    reply_mid = _string(_as_object(reply_to, "reply_to"), "mid") if reply_to else ""
    common = {"sender": sender, "sent_at": sent_at, "reply_to": reply_mid}

    quick_reply = message.get("quick_reply")
    if quick_reply is not None:
        payload = _string(_as_object(quick_reply, "quick_reply"), "payload", required=False)
        return [
            InboundMessage(
                provider_message_id=mid,
                type=ContentType.INTERACTIVE,
                text=text,
                payload=payload,
                **common,
            )
        ]

    attachments = message.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise MalformedPayload("'attachments' is not a list of objects")
    attachments = _without_transition_stickers(attachments)
    if not attachments:
        if text:
            return [
                InboundMessage(provider_message_id=mid, type=ContentType.TEXT, text=text, **common)
            ]
        return [
            InboundMessage(
                provider_message_id=mid,
                type=ContentType.UNSUPPORTED,
                provider_type="message",
                **common,
            )
        ]

    # One message per attachment; the first keeps the mid so a single-attachment
    # message dedupes on the plain mid, the rest get "<mid>:<n>".
    messages: list[InboundEvent] = []
    for n, attachment in enumerate(attachments):
        kind = _string(attachment, "type")
        fields = ATTACHMENT_HANDLERS.get(kind, _on_other_attachment)(attachment)
        # Messenger has no captions; text that comes with attachments (a shared link's
        # URL) rides on the first one.
        own_text = fields.pop("text", "")
        messages.append(
            InboundMessage(
                provider_message_id=mid if n == 0 else f"{mid}:{n}",
                text=(text if n == 0 else "") or own_text,
                **fields,
                **common,
            )
        )
    return messages


def _on_postback(event: dict) -> list[InboundEvent]:
    postback = _object(event, "postback")
    sender = _sender(event)
    timestamp = _int(event, "timestamp")
    # Older postbacks carry no mid; sender + timestamp is then the stable dedupe key.
    mid = _string(postback, "mid", required=False)
    return [
        InboundMessage(
            provider_message_id=mid or f"postback:{sender.external_id}:{timestamp}",
            sender=sender,
            sent_at=_from_millis(timestamp),
            type=ContentType.INTERACTIVE,
            text=_string(postback, "title", required=False),
            payload=_string(postback, "payload", required=False),
        )
    ]


def _on_reaction(event: dict) -> list[InboundEvent]:
    reaction = _object(event, "reaction")
    sender = _sender(event)
    timestamp = _int(event, "timestamp")
    mid = _string(reaction, "mid")
    if _string(reaction, "action", required=False) == "unreact":
        emoji = ""
    else:
        # A react must never read as a removal, so fall back to Meta's word ("like").
        emoji = _string(reaction, "emoji", required=False) or _string(
            reaction, "reaction", required=False
        )
    return [
        InboundMessage(
            # Reactions have no id of their own; one person's react/unreact on one
            # message at one instant is unique.
            provider_message_id=f"reaction:{mid}:{sender.external_id}:{timestamp}",
            sender=sender,
            sent_at=_from_millis(timestamp),
            type=ContentType.REACTION,
            reaction_emoji=emoji,
            reacted_to=mid,
        )
    ]


def _on_delivery(event: dict) -> list[InboundEvent]:
    delivery = _object(event, "delivery")
    watermark = _millis(delivery, "watermark")
    # Meta's own example has no event timestamp; the watermark then dates it.
    at = _millis(event, "timestamp") if "timestamp" in event else watermark
    mids = delivery.get("mids") or []
    if not isinstance(mids, list) or not all(isinstance(m, str) and m for m in mids):
        raise MalformedPayload("'delivery.mids' is not a list of ids")
    # Watermark-only deliveries (older clients) name no message: nothing per-message to
    # record here; the domain may apply watermarks later.
    return [
        DeliveryStatus(provider_message_id=mid, state=DeliveryState.DELIVERED, at=at)
        for mid in mids
    ]


def _on_read(event: dict) -> list[InboundEvent]:
    read = _object(event, "read")
    # Reads carry only a watermark ("everything sent before this was read"), no mids:
    # the domain marks that customer's earlier messages on this Page read.
    return [
        ReadWatermark(
            customer_external_id=_sender(event).external_id, watermark=_millis(read, "watermark")
        )
    ]


EVENT_HANDLERS = {
    "message": _on_message,
    "postback": _on_postback,
    "reaction": _on_reaction,
    "delivery": _on_delivery,
    "read": _on_read,
}


# ---- attachment handlers: each returns InboundMessage fields ------------------------


def _on_image(attachment: dict) -> dict:
    payload = _object(attachment, "payload")
    # Stickers (the "like" thumb too) arrive as image attachments carrying a sticker_id.
    kind = ContentType.STICKER if payload.get("sticker_id") else ContentType.IMAGE
    return {"type": kind, "media": Media(ref=_string(payload, "url"))}


def _media(kind: ContentType):
    def handler(attachment: dict) -> dict:
        return {"type": kind, "media": Media(ref=_string(_object(attachment, "payload"), "url"))}

    return handler


def _on_file(attachment: dict) -> dict:
    url = _string(_object(attachment, "payload"), "url")
    # File URLs end in the uploaded name (…/<id>_n.pdf/<name>.pdf?…); keep it if present.
    filename = unquote(PurePosixPath(urlsplit(url).path).name)
    return {"type": ContentType.DOCUMENT, "media": Media(ref=url, filename=filename)}


def _on_location(attachment: dict) -> dict:
    # Legacy location shares (pre-2019 clients / location quick replies).
    coordinates = _object(_object(attachment, "payload"), "coordinates")
    latitude, longitude = coordinates.get("lat"), coordinates.get("long")
    numbers = (latitude, longitude)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        raise MalformedPayload("location coordinates are not numbers")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except OverflowError as exc:  # an integer beyond any float
        raise MalformedPayload("location coordinates are out of range") from exc
    return {
        "type": ContentType.LOCATION,
        "location": Location(
            latitude=latitude,
            longitude=longitude,
            name=_string(attachment, "title", required=False),
            url=_string(attachment, "url", required=False),
        ),
    }


def _on_other_attachment(attachment: dict) -> dict:
    # fallback (a shared link, or an unsupported share with no payload), reel, ig_reel,
    # post, template, product…: kept as UNSUPPORTED with whatever link it carries.
    payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
    text = next(
        (
            value
            for value in (
                attachment.get("url"),
                payload.get("url"),
                attachment.get("title"),
                payload.get("title"),
            )
            if isinstance(value, str) and value
        ),
        "",
    )
    return {"type": ContentType.UNSUPPORTED, "provider_type": attachment["type"], "text": text}


ATTACHMENT_HANDLERS = {
    "image": _on_image,
    "sticker": _media(ContentType.STICKER),
    "video": _media(ContentType.VIDEO),
    # Voice notes are plain audio attachments; Messenger does not mark them apart.
    "audio": _media(ContentType.AUDIO),
    "file": _on_file,
    "location": _on_location,
}


def _without_transition_stickers(attachments: list[dict]) -> list[dict]:
    # Until the sticker transition ends (2026-08-30) a sticker comes twice: as a
    # "sticker" attachment and as the old "image" one with sticker_id. Keep one.
    if not any(a.get("type") == "sticker" for a in attachments):
        return attachments
    return [
        a
        for a in attachments
        if not (
            a.get("type") == "image"
            and isinstance(a.get("payload"), dict)
            and a["payload"].get("sticker_id")
        )
    ]


# ---- shape helpers --------------------------------------------------------------------


def _sender(event: dict) -> Sender:
    sender = _object(event, "sender")
    # Chat-plugin guests have a user_ref instead of a PSID; it is their only stable id.
    external_id = _string(sender, "id", required=False) or _string(sender, "user_ref")
    return Sender(external_id=external_id)


def _object(container: dict, key: str) -> dict:
    return _as_object(container.get(key), key)


def _as_object(value: object, key: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedPayload(f"'{key}' is not an object")
    return value


def _string(container: dict, key: str, *, required: bool = True) -> str:
    value = container.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedPayload(f"'{key}' is not a string")
    return value


def _int(container: dict, key: str) -> int:
    value = container.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedPayload(f"'{key}' is not an integer")
    return value


def _millis(container: dict, key: str) -> datetime:
    return _from_millis(_int(container, key))


def _from_millis(value: int) -> datetime:
    # Messenger timestamps are Unix milliseconds.
    try:
        return EPOCH + timedelta(milliseconds=value)
    except OverflowError as exc:
        raise MalformedPayload("timestamp out of range") from exc
