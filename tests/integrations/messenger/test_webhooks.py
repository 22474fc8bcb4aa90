import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    Watermark,
    WebhookRejected,
    WebhookRequest,
)
from integrations.messenger.credentials import Credentials
from integrations.messenger.webhooks import ACK, handshake, parse, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://octopods.example/hooks/messenger/4f9c1e2ab7d34c55/"
PSID = "7423051946112835"
SENDER = Sender(external_id=PSID)
# 1718012345678 ms
SENT_AT = datetime(2024, 6, 10, 9, 39, 5, 678000, tzinfo=UTC)

CREDENTIALS = Credentials(
    page_id="108526731234567",
    page_access_token="EAAGm0PX4ZCpsBAKZCtest",
    app_secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    verify_token="octopods-verify-7c2b",
)


def body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def sign(raw: bytes, secret: str = CREDENTIALS.app_secret) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post(raw: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        url=URL,
        headers={"Content-Type": "application/json"} if headers is None else headers,
        body=raw,
    )


def signed(raw: bytes) -> WebhookRequest:
    return post(raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)})


def parsed(name: str):
    return parse(request=post(body(name)))


def get(query: dict[str, list[str]]) -> WebhookRequest:
    return WebhookRequest(method="GET", url=URL, headers={}, body=b"", query=query)


# ---- credentials --------------------------------------------------------------------


def test_it_round_trips_credentials():
    assert Credentials.from_dict(CREDENTIALS.to_dict()) == CREDENTIALS


def test_it_names_a_missing_credential():
    data = CREDENTIALS.to_dict()
    del data["app_secret"]
    with pytest.raises(ValueError, match="app_secret"):
        Credentials.from_dict(data)


def test_it_keeps_secrets_out_of_repr():
    shown = repr(CREDENTIALS)
    assert CREDENTIALS.page_id in shown
    for secret in (CREDENTIALS.app_secret, CREDENTIALS.page_access_token, CREDENTIALS.verify_token):
        assert secret not in shown


# ---- handshake ----------------------------------------------------------------------


def test_it_answers_the_subscribe_handshake_with_the_challenge():
    request = get(
        {
            "hub.mode": ["subscribe"],
            "hub.verify_token": [CREDENTIALS.verify_token],
            "hub.challenge": ["1158201444"],
        }
    )
    assert handshake(credentials=CREDENTIALS, request=request) == "1158201444"


def test_it_rejects_a_handshake_with_the_wrong_verify_token():
    request = get(
        {
            "hub.mode": ["subscribe"],
            "hub.verify_token": ["guess"],
            "hub.challenge": ["1158201444"],
        }
    )
    with pytest.raises(WebhookRejected):
        handshake(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_handshake_that_is_not_subscribe():
    request = get(
        {
            "hub.mode": ["unsubscribe"],
            "hub.verify_token": [CREDENTIALS.verify_token],
            "hub.challenge": ["1158201444"],
        }
    )
    with pytest.raises(WebhookRejected):
        handshake(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_handshake_without_parameters():
    with pytest.raises(WebhookRejected):
        handshake(credentials=CREDENTIALS, request=get({}))


# ---- signature ----------------------------------------------------------------------


def test_it_accepts_a_good_signature():
    verify(credentials=CREDENTIALS, request=signed(body("text")))


def test_it_accepts_an_uppercase_hex_signature():
    raw = body("text")
    header = "sha256=" + sign(raw).removeprefix("sha256=").upper()
    verify(credentials=CREDENTIALS, request=post(raw, {"x-hub-signature-256": header}))


def test_it_rejects_a_missing_signature():
    with pytest.raises(WebhookRejected, match="missing"):
        verify(credentials=CREDENTIALS, request=post(body("text")))


def test_it_rejects_a_signature_made_with_another_secret():
    raw = body("text")
    request = post(raw, {"X-Hub-Signature-256": sign(raw, "another-apps-secret")})
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_body_with_one_byte_changed():
    raw = body("text")
    header = sign(raw)
    tampered = raw.replace(b"shipped", b"shipper")
    assert len(tampered) == len(raw) and tampered != raw
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=post(tampered, {"X-Hub-Signature-256": header}))


def test_it_rejects_the_same_json_re_serialized():
    raw = body("text")
    header = sign(raw)
    reserialized = json.dumps(json.loads(raw), separators=(",", ":"), sort_keys=True).encode()
    assert json.loads(reserialized) == json.loads(raw)
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=post(reserialized, {"X-Hub-Signature-256": header}))


def test_it_rejects_a_sha1_signature():
    raw = body("text")
    legacy = "sha1=" + hmac.new(CREDENTIALS.app_secret.encode(), raw, hashlib.sha1).hexdigest()
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=post(raw, {"X-Hub-Signature-256": legacy}))


def test_it_rejects_a_non_ascii_signature():
    with pytest.raises(WebhookRejected):
        request = post(body("text"), {"X-Hub-Signature-256": "sha256=\u00e9"})
        verify(credentials=CREDENTIALS, request=request)


def test_it_acks_with_an_empty_ok():
    assert ACK == (b"ok", "text/plain")


# ---- malformed and foreign bodies ---------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": ["x"]}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": {}}]}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"mid": "m_1"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": "1",'
        b' "message": {"mid": "m_1", "text": "hi"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "message": {"text": "hi"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "message": {"mid": "m_1", "attachments": [{"type": "image", "payload": {}}]}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "delivery": {"mids": [1], "watermark": 1}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "message": {"mid": "m_1", "attachments": [{"type": ["image"]}]}}]}]}',
    ],
    ids=[
        "empty",
        "not-json",
        "not-utf8",
        "array",
        "no-object",
        "no-entry",
        "entry-not-list",
        "entry-not-object",
        "messaging-not-list",
        "no-sender",
        "string-timestamp",
        "no-mid",
        "image-without-url",
        "delivery-mid-not-string",
        "attachment-type-not-string",
    ],
)
def test_it_raises_malformed_payload_for_bodies_messenger_does_not_send(raw):
    with pytest.raises(MalformedPayload):
        parse(request=post(raw))


def test_it_returns_nothing_for_an_unknown_event_shape():
    raw = b'{"object": "page", "entry": [{"id": "1", "messaging": [{"sender": {"id": "1"}}]}]}'
    assert parse(request=post(raw)) == []


# ---- one test per fixture -----------------------------------------------------------


def test_it_parses_a_text_message():
    assert parsed("text") == [
        InboundMessage(
            provider_message_id="m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789text",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.TEXT,
            text="Hi, is my order shipped yet?",
        )
    ]


def test_it_parses_a_reply_to_an_earlier_message():
    assert parsed("text_reply_to") == [
        InboundMessage(
            provider_message_id="m_ReplyMid0123456789abcdefghijklmnopqrst",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.TEXT,
            text="Yes, that one",
            reply_to="m_QuotedMid987654321zyxwvutsrqponmlkjihgf",
        )
    ]


def test_it_parses_a_quick_reply_as_interactive():
    assert parsed("quick_reply") == [
        InboundMessage(
            provider_message_id="m_QuickReplyMid0123456789abcdefghijklmn",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.INTERACTIVE,
            text="Track my order",
            payload="TRACK_ORDER",
        )
    ]


def test_it_parses_an_image_with_its_url_as_media_ref():
    (message,) = parsed("image")
    assert message == InboundMessage(
        provider_message_id="m_ImageMid0123456789abcdefghijklmnopqrstu",
        sender=SENDER,
        sent_at=SENT_AT,
        type=ContentType.IMAGE,
        media=Media(ref=message.media.ref),
    )
    assert message.media.ref.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/448311234_")
    assert "oe=66A1B2C3" in message.media.ref


def test_it_parses_a_video():
    (message,) = parsed("video")
    assert message.provider_message_id == "m_VideoMid0123456789abcdefghijklmnopqrstu"
    assert message.type == ContentType.VIDEO
    assert message.media.ref.startswith("https://video.xx.fbcdn.net/v/t42.3356-2/")
    assert (message.sender, message.sent_at, message.text) == (SENDER, SENT_AT, "")


def test_it_parses_an_audio_clip_as_audio():
    (message,) = parsed("audio")
    assert message.provider_message_id == "m_AudioMid0123456789abcdefghijklmnopqrstu"
    assert message.type == ContentType.AUDIO
    assert message.media.ref.startswith("https://cdn.fbsbx.com/v/t59.3654-21/")
    assert (message.sender, message.sent_at) == (SENDER, SENT_AT)


def test_it_parses_a_file_as_a_document_named_from_its_url():
    (message,) = parsed("file")
    assert message.provider_message_id == "m_FileMid0123456789abcdefghijklmnopqrstuv"
    assert message.type == ContentType.DOCUMENT
    assert message.media.ref.startswith("https://cdn.fbsbx.com/v/t59.2708-21/")
    assert message.media.filename == "Invoice 2291.pdf"
    assert (message.sender, message.sent_at) == (SENDER, SENT_AT)


def test_it_parses_an_image_with_a_sticker_id_as_a_sticker():
    (message,) = parsed("sticker")
    assert message.provider_message_id == "m_StickerMid0123456789abcdefghijklmnopqr"
    assert message.type == ContentType.STICKER
    assert message.media.ref.startswith("https://scontent.xx.fbcdn.net/v/t39.1997-6/")
    assert (message.sender, message.sent_at) == (SENDER, SENT_AT)


def test_it_keeps_one_sticker_when_the_transition_sends_it_twice():
    (message,) = parsed("sticker_transition")
    assert message.provider_message_id == "m_StickerBothMid0123456789abcdefghijklm"
    assert message.type == ContentType.STICKER
    assert message.media.ref.startswith("https://scontent.xx.fbcdn.net/v/t39.1997-6/")


def test_it_parses_a_legacy_location_share():
    (message,) = parsed("location")
    assert message.provider_message_id == "m_LocationMid0123456789abcdefghijklmnopq"
    assert message.type == ContentType.LOCATION
    assert message.location == Location(
        latitude=52.370216,
        longitude=4.895168,
        name="Pinned Location",
        url=message.location.url,
    )
    assert message.location.url.startswith("https://l.facebook.com/l.php?u=")
    assert message.media is None


def test_it_keeps_a_shared_link_as_unsupported_fallback():
    assert parsed("fallback") == [
        InboundMessage(
            provider_message_id="m_FallbackMid0123456789abcdefghijklmnopq",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.UNSUPPORTED,
            text="https://shop.example.com/p/blue-mug",
            provider_type="fallback",
        )
    ]


def test_it_keeps_a_shared_reel_as_unsupported_with_its_link():
    assert parsed("reel") == [
        InboundMessage(
            provider_message_id="m_ReelMid0123456789abcdefghijklmnopqrstuv",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.UNSUPPORTED,
            text="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18034567890123456&signature=AbCdEf",
            provider_type="reel",
        )
    ]


def test_it_splits_several_attachments_into_one_message_each():
    first, second, third = parsed("multiple_attachments")
    mid = "m_MultiMid0123456789abcdefghijklmnopqrstu"
    assert [m.provider_message_id for m in (first, second, third)] == [mid, f"{mid}:1", f"{mid}:2"]
    assert [m.type for m in (first, second, third)] == [
        ContentType.IMAGE,
        ContentType.IMAGE,
        ContentType.DOCUMENT,
    ]
    assert "448311234_" in first.media.ref
    assert "448311299_" in second.media.ref
    assert third.media.filename == "Invoice 2291.pdf"
    assert {(m.sender, m.sent_at) for m in (first, second, third)} == {(SENDER, SENT_AT)}


def test_it_parses_a_postback_as_interactive():
    assert parsed("postback") == [
        InboundMessage(
            provider_message_id="m_PostbackMid0123456789abcdefghijklmnopq",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.INTERACTIVE,
            text="Talk to a person",
            payload="HUMAN_AGENT",
        )
    ]


def test_it_ids_a_postback_without_mid_by_sender_and_time():
    assert parsed("postback_without_mid") == [
        InboundMessage(
            provider_message_id=f"postback:{PSID}:1718012345678",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.INTERACTIVE,
            text="Get Started",
            payload="GET_STARTED",
        )
    ]


def test_it_parses_a_reaction():
    mid = "m_OurSentMid0123456789abcdefghijklmnopqr"
    assert parsed("reaction") == [
        InboundMessage(
            provider_message_id=f"reaction:{mid}:{PSID}:1718012345678",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.REACTION,
            reaction_emoji="\u2764\ufe0f",
            reacted_to=mid,
        )
    ]


def test_it_parses_an_unreact_as_an_empty_emoji():
    mid = "m_OurSentMid0123456789abcdefghijklmnopqr"
    assert parsed("unreaction") == [
        InboundMessage(
            provider_message_id=f"reaction:{mid}:{PSID}:1718012345678",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.REACTION,
            reaction_emoji="",
            reacted_to=mid,
        )
    ]


def test_it_parses_a_delivery_into_one_status_per_mid():
    assert parsed("delivery") == [
        DeliveryStatus(
            provider_message_id="m_OurSentMid0123456789abcdefghijklmnopqr",
            state=DeliveryState.DELIVERED,
            at=SENT_AT,
        ),
        DeliveryStatus(
            provider_message_id="m_OurSentMid2abcdefghijklmnopqrstuvwxyz01",
            state=DeliveryState.DELIVERED,
            at=SENT_AT,
        ),
    ]


def test_a_watermark_only_delivery_is_the_customers_delivered_watermark():
    """message-deliveries reference: ``mids`` may be absent; ``watermark`` says every
    message before it was delivered."""
    assert parsed("delivery_watermark_only") == [
        Watermark(
            customer_external_id="7423051946112835",
            watermark=datetime(2024, 6, 10, 9, 39, 4, 678000, tzinfo=UTC),
            state=DeliveryState.DELIVERED,
        )
    ]


def test_it_reads_a_read_watermark_as_the_customers_and_in_milliseconds():
    # Meta's message_reads reference: read.watermark, Unix ms; sender.id is the PSID.
    assert parsed("read") == [
        Watermark(
            customer_external_id="7423051946112835",
            watermark=datetime(2024, 6, 10, 9, 39, 5, 178000, tzinfo=UTC),
        )
    ]


def test_it_returns_nothing_for_an_echo_of_the_pages_own_message():
    assert parsed("echo") == []


def test_it_parses_every_event_of_a_batch_in_order():
    assert parsed("batch") == [
        InboundMessage(
            provider_message_id="m_BatchFirstMid0123456789abcdefghijklmn",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.TEXT,
            text="Hello?",
        ),
        InboundMessage(
            provider_message_id="m_BatchSecondMid0123456789abcdefghijklm",
            sender=SENDER,
            sent_at=datetime(2024, 6, 10, 9, 39, 8, 178000, tzinfo=UTC),
            type=ContentType.TEXT,
            text="Anyone there?",
        ),
    ]


def test_it_returns_nothing_for_an_instagram_webhook():
    assert parsed("instagram") == []


def test_it_returns_nothing_for_an_optin():
    assert parsed("optin") == []


def test_it_returns_nothing_for_standby_events_of_a_thread_another_app_owns():
    assert parsed("standby") == []


# ---- typed reading: Meta's payload as documented ----------------------------------------
# Shapes from Meta's Messenger Platform webhook references, developers.facebook.com/
# documentation/business-messaging/messenger-platform/webhooks/webhook-events/… (messages,
# message-deliveries, message-reads, messaging_postbacks).


def fixture_json(name: str) -> dict:
    return json.loads(body(name))


def event_of(document: dict) -> dict:
    return document["entry"][0]["messaging"][0]


def parse_json(document: dict):
    return parse(request=post(json.dumps(document).encode()))


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (
            "text",
            lambda event: event["sender"].update(id=7423051946112835),
            "entry.0.messaging.0.sender.id is not a string",
        ),
        (
            "text",
            lambda event: event["message"].update(mid=""),
            "entry.0.messaging.0.message.mid is empty",
        ),
        (
            "text",
            lambda event: event.update(timestamp=True),
            "entry.0.messaging.0.timestamp is not an integer",
        ),
        (
            "image",
            lambda event: event["message"]["attachments"][0]["payload"].update(url=["x"]),
            "entry.0.messaging.0.message.attachments.0.payload.url is not a string",
        ),
        (
            "location",
            lambda event: event["message"]["attachments"][0]["payload"]["coordinates"].update(
                lat="52.37"
            ),
            "entry.0.messaging.0.message.attachments.0.payload.coordinates.lat is not a number",
        ),
        (
            "delivery",
            lambda event: event["delivery"].update(mids=["m_1", 2]),
            "entry.0.messaging.0.delivery.mids.1 is not a string",
        ),
        (
            "read",
            lambda event: event["read"].pop("watermark"),
            "entry.0.messaging.0.read.watermark is missing",
        ),
    ],
    ids=[
        "sender-id-number",
        "mid-empty",
        "timestamp-bool",
        "image-url-list",
        "latitude-string",
        "delivery-mid-number",
        "read-without-watermark",
    ],
)
def test_it_names_the_path_of_a_field_that_is_not_as_documented(name, change, reason):
    """A field we read is a string (ids), a JSON integer (Unix ms times), an array
    (delivery.mids) or a number (legacy location coordinates) in Meta's messages,
    message-deliveries and message-reads references: anything else is refused, with the
    path to it, however deep."""
    document = fixture_json(name)
    change(event_of(document))
    with pytest.raises(MalformedPayload) as refused:
        parse_json(document)
    assert str(refused.value) == reason


def test_it_reads_null_optional_fields_as_empty():
    """messaging_postbacks reference: an older postback carries no mid, and title and
    payload are optional text; null reads as absent."""
    document = fixture_json("postback")
    event_of(document)["postback"].update(mid=None, title=None, payload=None)
    assert parse_json(document) == [
        InboundMessage(
            provider_message_id=f"postback:{PSID}:1718012345678",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.INTERACTIVE,
            text="",
            payload="",
        )
    ]


def test_it_reads_a_null_reply_to_and_text_as_absent():
    """messages reference: text and reply_to are optional parts of a message."""
    document = fixture_json("image")
    event_of(document)["message"].update(text=None, reply_to=None)
    (message,) = parse_json(document)
    assert (message.type, message.text, message.reply_to) == (ContentType.IMAGE, "", "")


def test_it_ignores_fields_it_does_not_read():
    """Meta adds fields without notice (messages reference: reply_to.is_self_reply,
    message.nlp, commands…); anything we do not read is ignored at every level."""
    document = fixture_json("multiple_attachments")
    document["hub"] = {"version": 25}
    document["entry"][0]["changes"] = [{"field": "feed", "value": 1}]
    event = event_of(document)
    event["recipient"]["name"] = "Octopods Shop"
    event["sender"]["community"] = {"id": "1"}
    event["message"].update(nlp={"entities": {}}, is_echo=False, commands=[{"name": "x"}])
    event["message"]["attachments"][0]["payload"]["is_reusable"] = True
    event["message"]["attachments"][2]["title"] = 42
    assert parse_json(document) == parsed("multiple_attachments")


def test_it_still_parses_a_delivery_dated_by_its_watermark_when_it_has_no_timestamp():
    """message-deliveries reference: delivery.mids (may be absent) and delivery.watermark
    (always present, Unix ms); Meta's own example carries no event timestamp."""
    document = fixture_json("delivery")
    event = event_of(document)
    del event["timestamp"]
    event["delivery"]["watermark"] = 1718012345678
    assert parse_json(document) == [
        DeliveryStatus(provider_message_id=mid, state=DeliveryState.DELIVERED, at=SENT_AT)
        for mid in event["delivery"]["mids"]
    ]


def test_it_still_parses_a_read_watermark_in_milliseconds():
    """message-reads reference: read.watermark, Unix ms; sender.id is the PSID."""
    document = fixture_json("read")
    event_of(document)["read"]["watermark"] = 1718012345678
    assert parse_json(document) == [
        Watermark(customer_external_id=PSID, watermark=SENT_AT),
    ]


def test_it_does_not_read_other_objects_or_standby_events():
    """Another Meta object (Instagram) and standby events (another app owns the thread)
    are not ours: they are not read at all, so not refused either."""
    instagram = {"object": "instagram", "entry": "not ours to read"}
    standby = {"object": "page", "entry": [{"id": "1", "standby": [{"sender": 5}]}]}
    assert parse_json(instagram) == []
    assert parse_json(standby) == []


def test_it_does_not_read_an_event_of_a_kind_it_does_not_relay():
    """An optin or an echo of the Page's own send is not read: no 400 for its fields."""
    optin = {"recipient": {"id": "1"}, "timestamp": "soon", "optin": {"ref": 5}}
    echo = {"sender": None, "message": {"is_echo": True, "mid": 5}}
    document = {"object": "page", "entry": [{"messaging": [optin, echo]}]}
    assert parse_json(document) == []
