"""Twilio Messaging webhooks: verify ``X-Twilio-Signature``, parse inbound messages and
status callbacks.

Twilio posts ``application/x-www-form-urlencoded`` forms and signs the *decoded*
parameters (URL + sorted name/value pairs), not the raw bytes. So ``verify`` and
``parse`` both decode the one ``request.body`` themselves, the same way, rather than
trusting a form decoded elsewhere: what is parsed is exactly what was verified.

Twilio's message and status webhooks carry no timestamp, so ``sent_at`` / ``at`` is the
time we received the request (UTC).

An MMS with N media becomes N messages: the first under the MessageSid (typed by its
media, the body as caption), the others as "<MessageSid>:1" … "<MessageSid>:N-1".
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from integrations.twilio.credentials import Credentials
from integrations.webhook_guard import digests_equal

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's Webhooks configuration API (public beta; twilio.com/docs/usage/webhooks/
# webhook-shared-keys): when a Webhook Rule matches the URL, Twilio signs with that
# Setting's SharedKey instead of the Auth Token and says so here, as
# "key=<SharedKey id>,algorithm=HMAC_SHA256". The signed string is unchanged (URL +
# sorted parameters); only the key and the hash differ. Rules match any outbound
# webhook by its URL, so this covers the Messaging webhooks too.
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
_ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}

# Twilio expects TwiML back; an empty <Response> sends no auto-reply to the customer.
ACK = (b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml")

# Twilio sends a few dozen fields; anything far beyond that is not Twilio.
_MAX_FIELDS = 1000

Params = dict[str, list[str]]


def _now() -> datetime:
    return datetime.now(UTC)


def _params(request: WebhookRequest) -> Params:
    """The parameters Twilio signed: the POST form, or for a webhook configured as GET,
    the URL's query. Raises ValueError when they are not a UTF-8 form."""
    if request.method.upper() == "GET":
        raw = urlparse(request.url).query
    else:
        raw = request.body.decode("utf-8")
    return parse_qs(
        raw,
        keep_blank_values=True,  # an empty Body is still signed, as "Body"
        strict_parsing=True,
        errors="strict",
        max_num_fields=_MAX_FIELDS,
    )


def _one(params: Params, name: str) -> str:
    values = params.get(name)
    return values[0] if values else ""


# --- verify -----------------------------------------------------------------------------


def _url_variants(url: str) -> set[str]:
    """The URL as given, with its port removed and with the default port added.

    Twilio's own signing is inconsistent about ``:443`` / ``:80``, so twilio-python's
    RequestValidator accepts both forms (removing any port, default or not); we match it.
    """
    parts = urlparse(url)
    try:
        port = parts.port
    except ValueError:  # a malformed port: only the literal URL can have been signed
        return {url}
    if port:
        host = parts.netloc.rsplit(":", 1)[0]
        return {url, parts._replace(netloc=host).geturl(), parts.geturl()}
    default = 443 if parts.scheme == "https" else 80
    return {url, parts.geturl(), parts._replace(netloc=f"{parts.netloc}:{default}").geturl()}


def _signing(credentials: Credentials, settings: str) -> tuple[str, Callable]:
    """The secret and hash the request was signed with: without the settings header, the
    Auth Token and HMAC-SHA1; with it, the channel's shared key and the header's
    algorithm, read as twilio-python's ``get_signature_algorithm`` reads it (HMAC-SHA1
    when it names none)."""
    if not settings.strip():
        return credentials.auth_token, hashlib.sha1
    named = dict(
        (name.strip(), value.strip())
        for name, sep, value in (part.partition("=") for part in settings.split(","))
        if sep
    )
    algorithm = named.get("algorithm") or "HMAC_SHA1"
    hash_function = _ALGORITHMS.get(algorithm.upper())
    if hash_function is None:
        raise WebhookRejected(f"unsupported signature algorithm {algorithm[:40]!r}")
    if not credentials.webhook_shared_key:
        raise WebhookRejected(
            "signed with a Twilio shared key, but the channel has none: remove the Webhook "
            "Rule at Twilio, or add the channel again with the key's secret"
        )
    return credentials.webhook_shared_key, hash_function


def _signature(
    secret: str, url: str, params: Params, hash_function: Callable = hashlib.sha1
) -> bytes:
    # Names sorted, then each name's values sorted. Identical repeated values count once:
    # twilio-python's RequestValidator dedupes them (sorted(set(values))) and we follow it.
    data = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(secret.encode(), data.encode(), hash_function).digest()
    return base64.b64encode(digest)


def verify(*, credentials: Credentials, request: WebhookRequest) -> None:
    given = request.header(SIGNATURE_HEADER).strip()
    if not given:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
    try:
        params = _params(request)
    except ValueError as exc:
        raise WebhookRejected("body is not a UTF-8 form") from exc
    # A GET webhook's parameters are in the URL, which is signed as it stands.
    signed = {} if request.method.upper() == "GET" else params
    secret, hash_function = _signing(credentials, request.header(SIGNATURE_SETTINGS_HEADER))
    expected = [
        _signature(secret, url, signed, hash_function) for url in _url_variants(request.url)
    ]
    # Every candidate is compared (no early exit), so the time taken says nothing.
    if not any([digests_equal(candidate, given) for candidate in expected]):
        raise WebhookRejected(f"bad {SIGNATURE_HEADER}")
    # The signature proves the sender knows this account's Auth Token; the AccountSid says
    # the traffic is this account's (a subaccount's number signs with its own token and SID).
    if params.get("AccountSid") != [credentials.account_sid]:
        raise WebhookRejected("AccountSid is not this channel's account")


# --- parse: status callbacks --------------------------------------------------------------

# MessageStatus values we track. Not listed, so no event (the view logs them):
# queued/accepted/scheduled/sending are still on Twilio's side; receiving/received are
# statuses of inbound messages; partially_delivered has no single outcome to show
# (its meaning is UNCONFIRMED beyond the status enum); anything Twilio adds later.
STATUS_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,  # WhatsApp (and RCS) senders only
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    # Only a scheduled message can be canceled; it will never go out.
    "canceled": DeliveryState.FAILED,
}

# Short texts for the codes agents will see most, used when the callback carries no
# ErrorMessage. Our own wording after Twilio's error dictionary titles; every line is
# UNCONFIRMED as to Twilio's exact wording, and 21408/30005 as to meaning (PROVIDERS §4.5).
ERROR_TEXTS = {
    "21211": "Invalid 'To' phone number",
    "21408": "Sending to this region is not enabled on the Twilio account",
    "21610": "The recipient has unsubscribed (replied STOP)",
    "21612": "The 'To' number cannot be reached from this sender",
    "21614": "The 'To' number is not a mobile number that can receive SMS",
    "30003": "Unreachable handset (off, out of coverage or blocked)",
    "30005": "Unknown handset (the number does not exist or is inactive)",
    "30006": "Landline or unreachable carrier",
    "30007": "Filtered by the carrier as spam or unregistered traffic",
}


def _status_events(params: Params) -> list[InboundEvent]:
    status = _one(params, "MessageStatus").strip().lower()
    state = STATUS_STATES.get(status)
    if state is None:
        return []
    error_code = error_text = ""
    if state is DeliveryState.FAILED:
        error_code = _one(params, "ErrorCode").strip()
        error_text = _one(params, "ErrorMessage").strip() or ERROR_TEXTS.get(error_code, "")
        if status == "canceled" and not error_text:
            error_text = "Canceled before it was sent"
    return [
        DeliveryStatus(
            provider_message_id=_one(params, "MessageSid"),
            state=state,
            at=_now(),
            error_code=error_code,
            error_text=error_text,
        )
    ]


# --- parse: inbound messages --------------------------------------------------------------

# Twilio has no sub-type beyond the MIME type: a WhatsApp voice note arrives as audio, a
# vCard (text/vcard) as a file we would have to download to read, so both are DOCUMENT /
# AUDIO here.
_MEDIA_FAMILIES = {
    "image": ContentType.IMAGE,
    "video": ContentType.VIDEO,
    "audio": ContentType.AUDIO,
}
_WHATSAPP_PREFIX = "whatsapp:"
_E164 = re.compile(r"\+[0-9]{1,15}")
_COUNT = re.compile(r"[0-9]{1,3}")


def _sender(params: Params) -> Sender:
    address = _one(params, "From")
    phone = address
    if address.startswith(_WHATSAPP_PREFIX):
        # WhatsApp users can appear without a number (a business-scoped user id after
        # "whatsapp:"; seen in Chatwoot's Twilio code, UNCONFIRMED in Twilio's docs).
        number = address.removeprefix(_WHATSAPP_PREFIX)
        phone = number if _E164.fullmatch(number) else ""
    return Sender(external_id=address, phone=phone, name=_one(params, "ProfileName"))


def _body(params: Params) -> str:
    # A NUL in it is made storable (U+FFFD) with every other value, where events are stored.
    return _one(params, "Body")


def _media_list(params: Params) -> list[Media]:
    count = _one(params, "NumMedia").strip() or "0"
    if not _COUNT.fullmatch(count):
        raise MalformedPayload(f"NumMedia is not a count: {count!r}")
    media = []
    for n in range(int(count)):
        url = _one(params, f"MediaUrl{n}")
        if not url:
            raise MalformedPayload(f"NumMedia is {count} but MediaUrl{n} is missing")
        media.append(Media(ref=url, mime_type=_one(params, f"MediaContentType{n}").strip()))
    return media


def _media_type(mime_type: str) -> ContentType:
    family = mime_type.split("/", 1)[0].strip().lower()
    return _MEDIA_FAMILIES.get(family, ContentType.DOCUMENT)


def _text_message(params: Params, base: dict) -> list[InboundMessage]:
    return [InboundMessage(**base, type=ContentType.TEXT, text=_body(params))]


def _media_messages(params: Params, base: dict) -> list[InboundMessage]:
    # One Twilio message can carry up to 10 media but our model holds one per message:
    # the first media rides on the message itself (with the body as its caption) under
    # the MessageSid; each further one becomes its own message "<MessageSid>:<n>" (n from
    # 1), so every id stays stable across Twilio's retries and dedupes.
    first, *others = _media_list(params)
    first_type = _media_type(first.mime_type)
    if _one(params, "MessageType") == "sticker":  # WhatsApp stickers arrive as image/webp
        first_type = ContentType.STICKER
    messages = [InboundMessage(**base, type=first_type, text=_body(params), media=first)]
    for n, media in enumerate(others, start=1):
        extra = {
            **base,
            "provider_message_id": f"{base['provider_message_id']}:{n}",
            "reply_to": "",  # the quote belongs to the message, carried by the first part
        }
        messages.append(InboundMessage(**extra, type=_media_type(media.mime_type), media=media))
    return messages


def _location_message(params: Params, base: dict) -> list[InboundMessage]:
    # WhatsApp senders only: a shared pin arrives as flat Latitude/Longitude (+ Address
    # and Label for a named place; the latter two UNCONFIRMED beyond third-party code).
    try:
        latitude = float(_one(params, "Latitude"))
        longitude = float(_one(params, "Longitude"))
    except ValueError as exc:
        raise MalformedPayload("Latitude/Longitude are not numbers") from exc
    location = Location(
        latitude=latitude,
        longitude=longitude,
        name=_one(params, "Label"),
        address=_one(params, "Address"),
    )
    return [
        InboundMessage(**base, type=ContentType.LOCATION, text=_body(params), location=location)
    ]


def _reply_message(params: Params, base: dict) -> list[InboundMessage]:
    # WhatsApp senders only: a tapped quick-reply button gives ButtonPayload (our id) and
    # ButtonText (its title); a list row gives ListId/ListTitle (UNCONFIRMED names).
    payload = _one(params, "ButtonPayload") or _one(params, "ListId")
    title = _one(params, "ButtonText") or _one(params, "ListTitle") or _body(params)
    return [
        InboundMessage(
            **base,
            type=ContentType.INTERACTIVE,
            text=title,
            payload=payload,
            provider_type=_one(params, "MessageType"),
        )
    ]


def _unsupported_message(params: Params, base: dict) -> list[InboundMessage]:
    return [
        InboundMessage(
            **base,
            type=ContentType.UNSUPPORTED,
            text=_body(params),
            provider_type=_one(params, "MessageType"),
        )
    ]


MESSAGE_HANDLERS: dict[str, Callable[[Params, dict], list[InboundMessage]]] = {
    "text": _text_message,
    "media": _media_messages,
    "location": _location_message,
    "reply": _reply_message,
    "unsupported": _unsupported_message,
}


def _message_kind(params: Params) -> str:
    # MessageType is set by WhatsApp (and newer) senders; plain SMS/MMS may lack it.
    message_type = _one(params, "MessageType")
    if message_type == "location" or ("Latitude" in params and "Longitude" in params):
        return "location"
    if message_type in {"button", "interactive"} or "ButtonPayload" in params or "ListId" in params:
        return "reply"
    if _one(params, "NumMedia").strip() not in {"", "0"}:
        return "media"
    if message_type in {"", "text"}:
        return "text"
    return "unsupported"


def _message_events(params: Params) -> list[InboundEvent]:
    if not _one(params, "From"):
        raise MalformedPayload("inbound message without From")
    base = {
        "provider_message_id": _one(params, "MessageSid"),
        "sender": _sender(params),
        "sent_at": _now(),
        "reply_to": _one(params, "OriginalRepliedMessageSid"),  # WhatsApp swipe-to-reply
    }
    return MESSAGE_HANDLERS[_message_kind(params)](params, base)


def _event_kind(params: Params) -> str:
    # A status callback has MessageStatus and no Body; an inbound message has a Body
    # (possibly empty) and SmsStatus=received.
    return "status" if "MessageStatus" in params and "Body" not in params else "message"


EVENT_HANDLERS: dict[str, Callable[[Params], list[InboundEvent]]] = {
    "status": _status_events,
    "message": _message_events,
}


def parse(*, request: WebhookRequest) -> list[InboundEvent]:
    try:
        params = _params(request)
    except ValueError as exc:
        raise MalformedPayload("body is not a UTF-8 form") from exc
    if not _one(params, "MessageSid"):
        raise MalformedPayload("no MessageSid")
    return EVENT_HANDLERS[_event_kind(params)](params)
