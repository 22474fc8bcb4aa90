"""Viber callbacks: https://developers.viber.com/docs/api/rest-bot-api/#callbacks (and the
event pages under https://creators.viber.com/docs/bots-api/events/)."""

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.channel import (
    ContactCard,
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from integrations.viber.credentials import Credentials
from integrations.viber.webhooks import parse, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/viber/chn_3f9a1c2b7d/"
TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
CREDENTIALS = Credentials(auth_token=TOKEN, bot_id="pa:5083915049473459744", bot_name="Acme")

JOHN = Sender(external_id="01234567890A=", name="John McClane")
AT = datetime(2016, 3, 12, 6, 29, 57, 627000, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        headers = {"Content-Type": "application/json", "X-Viber-Content-Signature": sign(body)}
    return WebhookRequest(method="POST", url=URL, headers=headers, body=body)


def parsed(name: str) -> list:
    return parse(request=request(fixture(name)))


def at(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


# --- verify (REST bot API, Callbacks: X-Viber-Content-Signature) ----------------------


def test_it_accepts_a_body_signed_with_the_auth_token():
    """Callbacks: HMAC-SHA256 of the body keyed with the auth token, hex, in
    X-Viber-Content-Signature."""
    verify(credentials=CREDENTIALS, request=request(fixture("text.json")))


def test_it_matches_the_official_sdks_signature_example():
    """The official SDK's test vector (github.com/Viber/viber-bot-python,
    tests/api/test_api.py: test_verify_signature)."""
    body = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
    credentials = Credentials(
        auth_token="44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3",
        bot_id="pa:1",
        bot_name="testbot",
    )
    given = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"

    verify(credentials=credentials, request=request(body, {"x-viber-content-signature": given}))
    assert parse(request=request(body)) == []


def test_it_rejects_a_request_without_a_signature():
    """Callbacks: every callback is signed."""
    with pytest.raises(WebhookRejected, match="missing X-Viber-Content-Signature"):
        verify(
            credentials=CREDENTIALS,
            request=request(fixture("text.json"), {"Content-Type": "application/json"}),
        )


def test_it_rejects_a_body_with_one_byte_changed():
    """Callbacks: the signature covers the body."""
    body = fixture("text.json")
    headers = {"X-Viber-Content-Signature": sign(body)}
    changed = body.replace(b"a message to the service", b"a message to the servicf")

    with pytest.raises(WebhookRejected, match="wrong signature"):
        verify(credentials=CREDENTIALS, request=request(changed, headers))


def test_it_rejects_the_same_document_serialised_again():
    """Callbacks: signed over the raw bytes, not over the JSON's meaning."""
    body = fixture("text.json")
    again = json.dumps(json.loads(body)).encode()
    assert again != body

    with pytest.raises(WebhookRejected, match="wrong signature"):
        verify(
            credentials=CREDENTIALS,
            request=request(again, {"X-Viber-Content-Signature": sign(body)}),
        )


def test_it_rejects_a_signature_made_with_another_token():
    """Callbacks: the key is this bot's auth token."""
    body = fixture("text.json")
    headers = {"X-Viber-Content-Signature": sign(body, "another-bots-token")}

    with pytest.raises(WebhookRejected, match="wrong signature"):
        verify(credentials=CREDENTIALS, request=request(body, headers))


def test_it_rejects_a_signature_that_is_not_text():
    """A header no signature of ours could be (an unpaired surrogate) does not match."""
    with pytest.raises(WebhookRejected):
        verify(
            credentials=CREDENTIALS,
            request=request(fixture("text.json"), {"X-Viber-Content-Signature": "\udcff"}),
        )


# --- messages (REST bot API, Receive message from user) -----------------------------------


def test_text():
    """Receive message from user: type text."""
    assert parsed("text.json") == [
        InboundMessage(
            provider_message_id="4912661846655238145",
            sender=JOHN,
            sent_at=AT,
            type=ContentType.TEXT,
            text="a message to the service",
            provider_type="text",
        )
    ]


def test_picture():
    """Receive message from user: type picture (media URL, caption in text)."""
    (message,) = parsed("picture.json")

    assert message.type is ContentType.IMAGE
    assert message.text == "the broken part"
    assert message.media == Media(
        ref=json.loads(fixture("picture.json"))["message"]["media"],
        filename="photo.jpg",
        size=52134,
    )
    assert message.provider_message_id == "4912661846655238146"
    assert message.sent_at == at(1457764197628)


def test_video():
    """Receive message from user: type video (media, size, duration)."""
    (message,) = parsed("video.json")

    assert message.type is ContentType.VIDEO
    assert message.media == Media(
        ref="https://dl-media.viber.com/1/share/2/long/video/clip.mp4", size=10000
    )
    assert message.provider_type == "video"


def test_file():
    """Receive message from user: type file (media, size, file_name)."""
    (message,) = parsed("file.json")

    assert message.type is ContentType.DOCUMENT
    assert message.media == Media(
        ref="https://dl-media.viber.com/1/share/2/long/file/invoice.pdf",
        filename="invoice-1042.pdf",
        size=10000,
    )


def test_sticker():
    """Receive message from user: type sticker (sticker_id, and its image in media)."""
    (message,) = parsed("sticker.json")

    assert message.type is ContentType.STICKER
    assert message.media == Media(ref="https://dl-media.viber.com/stickers/46105.png")


def test_a_sticker_without_an_image_is_shown_as_unsupported():
    """Receive message from user: a sticker we cannot show is named, not dropped."""
    data = json.loads(fixture("sticker.json"))
    del data["message"]["media"]

    (message,) = parse(request=request(json.dumps(data).encode()))

    assert message.type is ContentType.UNSUPPORTED
    assert message.provider_type == "sticker"
    assert "46105" in message.provider_note


def test_location():
    """Receive message from user: type location (location.lat, location.lon)."""
    (message,) = parsed("location.json")

    assert message.type is ContentType.LOCATION
    assert message.location == Location(latitude=50.76891, longitude=6.11499)


def test_contact():
    """Receive message from user: type contact (contact.name, contact.phone_number)."""
    (message,) = parsed("contact.json")

    assert message.type is ContentType.CONTACTS
    assert message.contacts == (ContactCard(name="Itamar", phones=("+972511123123",)),)


def test_url():
    """Receive message from user: type url (the link is in media)."""
    (message,) = parsed("url.json")

    assert message.type is ContentType.TEXT
    assert message.text == "https://shop.example.com/orders/1042"
    assert message.provider_type == "url"


def test_any_other_type_is_unsupported_and_named():
    """Receive message from user: rich_media (and any type added later) is named."""
    (message,) = parsed("rich_media.json")

    assert message.type is ContentType.UNSUPPORTED
    assert message.provider_type == "rich_media"
    assert message.sender == JOHN


# --- message receipts (REST bot API, Message receipts callbacks; Failed callback) ----------


def test_delivered():
    """Message receipts callbacks: delivered, by message_token."""
    assert parsed("delivered.json") == [
        DeliveryStatus(
            provider_message_id="4912661846655238145", state=DeliveryState.DELIVERED, at=AT
        )
    ]


def test_seen():
    """Message receipts callbacks: seen."""
    assert parsed("seen.json") == [
        DeliveryStatus(provider_message_id="4912661846655238145", state=DeliveryState.READ, at=AT)
    ]


def test_failed():
    """Failed callback: desc says why."""
    assert parsed("failed.json") == [
        DeliveryStatus(
            provider_message_id="4912661846655238145",
            state=DeliveryState.FAILED,
            at=AT,
            error_code="failed",
            error_text="failure description",
        )
    ]


# --- the customer's standing, and set_webhook's check -------------------------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("subscribed.json", "subscribed"),
        ("unsubscribed.json", "unsubscribed"),
        ("conversation_started.json", "opened the chat"),
    ],
)
def test_standing_events_are_logged_not_relayed(name, said, caplog):
    """Subscribed / Unsubscribed / Conversation started callbacks: no message to relay
    (docs/channels/viber.md says why), but a log line, never silence."""
    with caplog.at_level(logging.INFO, logger="integrations.viber.webhooks"):
        assert parsed(name) == []

    assert said in caplog.text


def test_the_set_webhook_check_is_answered_with_no_events():
    """Set webhook callback: Viber checks the URL with event webhook; a 200 is enough."""
    assert parsed("webhook.json") == []


def test_an_event_we_do_not_handle_is_logged(caplog):
    """client_status (and any event Viber adds later): nothing to relay, logged."""
    with caplog.at_level(logging.INFO, logger="integrations.viber.webhooks"):
        assert parsed("client_status.json") == []

    assert "client_status" in caplog.text


# --- refusals ------------------------------------------------------------------------------


def test_a_message_without_a_sender_is_refused_naming_the_path():
    data = json.loads(fixture("text.json"))
    del data["sender"]["id"]

    with pytest.raises(MalformedPayload, match=r"^sender\.id is missing$"):
        parse(request=request(json.dumps(data).encode()))


def test_a_message_token_that_is_not_an_id_is_refused():
    data = json.loads(fixture("delivered.json"))
    data["message_token"] = True

    with pytest.raises(MalformedPayload, match=r"^message_token is not an id$"):
        parse(request=request(json.dumps(data).encode()))


def test_a_location_that_is_not_numbers_is_refused_naming_the_path():
    data = json.loads(fixture("location.json"))
    data["message"]["location"]["lat"] = "50.7"

    with pytest.raises(MalformedPayload, match=r"^message\.location\.lat is not a number$"):
        parse(request=request(json.dumps(data).encode()))


def test_a_callback_without_an_event_is_refused():
    with pytest.raises(MalformedPayload, match=r"^event is missing$"):
        parse(request=request(b'{"timestamp": 1457764197627}'))


def test_a_body_that_is_not_json_is_refused():
    with pytest.raises(MalformedPayload, match="not JSON"):
        parse(request=request(b"event=message"))


def test_a_timestamp_that_is_not_a_time_is_refused():
    data = json.loads(fixture("seen.json"))
    data["timestamp"] = "yesterday"

    with pytest.raises(MalformedPayload, match=r"^timestamp is not a Unix time$"):
        parse(request=request(json.dumps(data).encode()))
