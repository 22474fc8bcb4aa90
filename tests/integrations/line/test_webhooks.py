"""LINE webhooks: the signature over the raw body, and every event shape we read.

Fixtures follow the examples of the Messaging API reference, "Webhook event objects"
(https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.channel import (
    ContentType,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from integrations.line.adapter import LineAdapter
from integrations.line.credentials import Credentials
from integrations.line.webhooks import parse, signature, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/line/chn_3f9a1c2b7d/"
SECRET = "8c0f3a7e1b2d4c5f6a7b8c9d0e1f2a3b"
CUSTOMER = Sender(external_id="U4af4980629a0b7c2d0e1f2a3b4c5d6e7")
AT = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)

CREDENTIALS = Credentials(
    channel_access_token="eyJhbGciOiJIUzI1NiJ9.tokenForAcme/w1cDnyilFU=",
    channel_secret=SECRET,
    bot_user_id="Ub1b2c3d4e5f60718293a4b5c6d7e8f90",
    basic_id="@acme",
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature(SECRET, body)}
    return WebhookRequest(method="POST", url=URL, headers=headers, body=body)


def parsed(name: str) -> list:
    return parse(request=request(fixture(name)))


# --- signature (https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/)


def test_a_body_signed_with_the_channel_secret_is_accepted():
    """Verify webhook signature: Base64 of HMAC-SHA256(channel secret, raw body)."""
    verify(credentials=CREDENTIALS, request=request(fixture("text.json")))


def test_the_signature_header_is_read_whatever_its_case():
    """Verify webhook signature: LINE sends it as x-line-signature."""
    body = fixture("text.json")
    headers = {"x-line-signature": signature(SECRET, body)}
    verify(credentials=CREDENTIALS, request=request(body, headers))


def test_a_request_without_a_signature_is_rejected():
    """Verify webhook signature: unsigned requests are not from LINE."""
    with pytest.raises(WebhookRejected, match="missing X-Line-Signature"):
        verify(credentials=CREDENTIALS, request=request(fixture("text.json"), {}))


def test_a_body_with_one_byte_changed_is_rejected():
    """Verify webhook signature: the digest covers every byte of the body."""
    body = fixture("text.json")
    headers = {"X-Line-Signature": signature(SECRET, body)}
    changed = body.replace(b"Hello", b"Hellp", 1)
    assert len(changed) == len(body) and changed != body
    with pytest.raises(WebhookRejected, match="wrong signature"):
        verify(credentials=CREDENTIALS, request=request(changed, headers))


def test_the_same_json_serialised_again_is_rejected():
    """Verify webhook signature: the raw body is signed, not its JSON meaning."""
    body = fixture("text.json")
    headers = {"X-Line-Signature": signature(SECRET, body)}
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    assert json.loads(reserialised) == json.loads(body)
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(reserialised, headers))


def test_a_signature_made_with_another_secret_is_rejected():
    """Verify webhook signature: only the channel's own secret signs its webhooks."""
    body = fixture("text.json")
    headers = {"X-Line-Signature": signature("0" * 32, body)}
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(body, headers))


def test_a_signature_that_is_not_even_text_is_rejected():
    body = fixture("text.json")
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(body, {"X-Line-Signature": "\ud800"}))


# --- the URL check (https://developers.line.biz/en/docs/messaging-api/verify-webhook-url/)


def test_the_empty_events_check_yields_nothing():
    """Verify webhook URL: LINE posts {"destination", "events": []} and wants a 200."""
    assert parsed("verification.json") == []
    assert LineAdapter().ack == (b"", "text/plain")


# --- message events (https://developers.line.biz/en/reference/messaging-api/#message-event)


def test_a_text_message():
    """Message event, text message object (with LINE emoji and a mention in the text)."""
    assert parsed("text.json") == [
        InboundMessage(
            provider_message_id="468789577898262530",
            sender=CUSTOMER,
            sent_at=AT,
            type=ContentType.TEXT,
            text="@example Hello, world! (love)",
            provider_type="text",
        )
    ]


def test_a_quoted_message_is_the_reply_to():
    """Text message object: quotedMessageId names the message the customer quoted."""
    (message,) = parsed("text_quoting.json")
    assert message.reply_to == "468789532432007169"
    assert message.text == "Yes, that one"


def test_an_image_on_lines_servers_is_fetched_by_message_id():
    """Image message object, contentProvider.type line: GET the content endpoint."""
    (message,) = parsed("image.json")
    assert message.type == ContentType.IMAGE
    assert message.media == Media(ref="354718705033693859", mime_type="image/jpeg")


def test_an_external_image_is_fetched_from_its_own_url():
    """Image message object, contentProvider.type external: originalContentUrl."""
    (message,) = parsed("image_external.json")
    assert message.media == Media(ref="https://example.com/original.jpg", mime_type="image/jpeg")


def test_a_video():
    """Video message object (duration in milliseconds, external provider)."""
    (message,) = parsed("video.json")
    assert message.type == ContentType.VIDEO
    assert message.media == Media(ref="https://example.com/original.mp4", mime_type="video/mp4")


def test_a_video_on_lines_servers():
    """Video message object, contentProvider.type line."""
    (message,) = parsed("video_line.json")
    assert message.media == Media(ref="325709", mime_type="video/mp4")


def test_an_audio_message():
    """Audio message object."""
    (message,) = parsed("audio.json")
    assert message.type == ContentType.AUDIO
    assert message.media == Media(ref="325710", mime_type="audio/m4a")


def test_a_file_keeps_its_name_and_size():
    """File message object: fileName and fileSize."""
    (message,) = parsed("file.json")
    assert message.type == ContentType.DOCUMENT
    assert message.media == Media(ref="325711", filename="file.txt", size=2138)


def test_a_location():
    """Location message object: title, address, latitude, longitude."""
    (message,) = parsed("location.json")
    assert message.type == ContentType.LOCATION
    assert message.location == Location(
        latitude=35.67966,
        longitude=139.73669,
        name="my location",
        address="1-3 Kioicho, Chiyoda-ku, Tokyo, 102-8282, Japan",
    )


def test_a_sticker_is_told_by_its_keywords():
    """Sticker message object: packageId, stickerId, keywords (no downloadable content)."""
    (message,) = parsed("sticker.json")
    assert message.type == ContentType.STICKER
    assert message.media is None
    assert message.text == "(sticker: Happy, Smiling)"


def test_a_message_type_we_do_not_model_is_unsupported_and_named():
    """Message event: a type LINE adds later is kept, named, not dropped."""
    (message,) = parsed("unknown_type.json")
    assert message.type == ContentType.UNSUPPORTED
    assert message.provider_type == "hologram"
    assert message.provider_message_id == "325714"


def test_a_group_message_is_not_relayed():
    """Source user/group/room: only one-on-one chats are a customer conversation."""
    assert parsed("group_text.json") == []


# --- other events ----------------------------------------------------------------------


def test_an_unsend_tells_the_agent_which_message_was_taken_back():
    """Unsend event (https://developers.line.biz/en/reference/messaging-api/#unsend-event)."""
    (message,) = parsed("unsend.json")
    assert message.provider_message_id == "unsend:325708"
    assert message.type == ContentType.UNSUPPORTED
    assert message.provider_type == "unsend"
    assert message.reply_to == "325708"
    assert "unsent" in message.provider_note and "325708" in message.provider_note


def test_a_postback_is_the_data_the_customer_chose():
    """Postback event (https://developers.line.biz/en/reference/messaging-api/#postback-event)."""
    (message,) = parsed("postback.json")
    assert message.type == ContentType.INTERACTIVE
    assert message.payload == "action=buy&itemid=111"
    assert message.provider_message_id == "postback:01H0ABCDEF0123456789ABCDEF"


@pytest.mark.parametrize("name", ["follow.json", "unfollow.json", "join.json", "leave.json"])
def test_events_without_customer_words_yield_nothing(name):
    """Follow, unfollow, join and leave events
    (https://developers.line.biz/en/reference/messaging-api/#follow-event)."""
    assert parsed(name) == []


# --- redelivery (https://developers.line.biz/en/docs/messaging-api/receiving-messages/)


def test_a_redelivered_event_keeps_the_same_ids():
    """Common properties: webhookEventId and deliveryContext.isRedelivery; a redelivery
    is the same event, so it is stored once."""
    assert json.loads(fixture("text_redelivered.json"))["events"][0]["deliveryContext"] == {
        "isRedelivery": True
    }
    assert parsed("text_redelivered.json") == parsed("text.json")


# --- refusals name the path --------------------------------------------------------------


def _body_with(change) -> bytes:
    data = json.loads(fixture("text.json"))
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: data.pop("events"), "events is missing"),
        (lambda data: data["events"][0]["message"].pop("id"), "events.0.message.id is missing"),
        (
            lambda data: data["events"][0].update(timestamp="soon"),
            "events.0.timestamp is not a Unix time",
        ),
        (
            lambda data: data["events"][0]["source"].pop("userId"),
            "events.0.source.userId is missing",
        ),
        (
            lambda data: data["events"][0].update(deliveryContext={"isRedelivery": "no"}),
            "events.0.deliveryContext.isRedelivery is not true or false",
        ),
        (lambda data: data["events"][0].pop("type"), "events.0.type is missing"),
        (lambda data: data["events"].append(7), "events.1 is not an object"),
    ],
)
def test_a_body_not_as_documented_is_refused_naming_where(change, reason):
    """Webhook event objects: a field we read that is missing or mistyped is a 400."""
    with pytest.raises(MalformedPayload) as refused:
        parse(request=request(_body_with(change)))
    assert str(refused.value) == reason


def test_an_image_without_its_content_provider_is_refused():
    body = json.loads(fixture("image.json"))
    body["events"][0]["message"].pop("contentProvider")
    with pytest.raises(MalformedPayload, match=r"^events\.0\.message\.contentProvider"):
        parse(request=request(json.dumps(body).encode()))


def test_a_body_that_is_not_json_is_refused():
    with pytest.raises(MalformedPayload, match="not JSON"):
        parse(request=request(b"events=1"))


def test_an_edit_names_the_message_it_replaces():
    """Message edited event (https://developers.line.biz/en/reference/messaging-api/#edit-event):
    group chats only for now, read ahead for one-on-one chats."""
    (message,) = parsed("message_edited.json")
    assert message.provider_message_id == "edit:01H0ABCDEF0123456789ABCDEH:468789577898262530"
    assert message.edits == "468789577898262530"
    assert message.text == "Hello, world! (edited)"
    assert message.provider_type == "messageEdited"
