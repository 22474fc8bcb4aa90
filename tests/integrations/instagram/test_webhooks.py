"""Instagram webhooks: handshake, signature and one test per fixture.

The fixtures follow the payloads in Meta's "Webhooks for Instagram Messaging"
(https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook) and
its feature pages; each test names the page it relies on (docs/channels/instagram.md).
"""

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
    MalformedPayload,
    Media,
    Sender,
    Watermark,
    WebhookRejected,
    WebhookRequest,
)
from integrations.instagram.adapter import InstagramAdapter
from integrations.instagram.credentials import Credentials
from integrations.instagram.webhooks import ACK, handshake, parse, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://octopods.example/hooks/instagram/4f9c1e2ab7d34c55/"
IGSID = "6843718926432597"
SENDER = Sender(external_id=IGSID)
# 1718012345678 ms
SENT_AT = datetime(2024, 6, 10, 9, 39, 5, 678000, tzinfo=UTC)
MID = (
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0"
    "NDI3NjAxNzk2NjA4NTY3MjEyNDo3MjE0NTM5MDEyMzQ1Njc4OTAx"
)
EARLIER = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OmVhcmxpZXI="
OURS = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0Om91cnM="
CDN = (
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18290461234567890"
    "&signature=AbxLm2Qk9Zt3Yp0sRv8Wc1Hn"
)

CREDENTIALS = Credentials(
    page_id="134895793791914",
    instagram_account_id="17841405822304914",
    page_access_token="EAAGm0PX4ZCpsBAKZCigtest",
    app_secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    verify_token="octopods-verify-9d3e",
)


def body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(body(name))


def event_of(document: dict) -> dict:
    return document["entry"][0]["messaging"][0]


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


def parse_json(document: dict):
    return parse(request=post(json.dumps(document).encode()))


def get(query: dict[str, list[str]]) -> WebhookRequest:
    return WebhookRequest(method="GET", url=URL, headers={}, body=b"", query=query)


# ---- credentials and the adapter's own words -----------------------------------------


def test_it_round_trips_credentials():
    assert Credentials.from_dict(CREDENTIALS.to_dict()) == CREDENTIALS


def test_it_names_a_missing_credential():
    data = CREDENTIALS.to_dict()
    del data["instagram_account_id"]
    with pytest.raises(ValueError, match="instagram_account_id"):
        Credentials.from_dict(data)


def test_it_keeps_secrets_out_of_repr():
    shown = repr(CREDENTIALS)
    assert CREDENTIALS.instagram_account_id in shown
    for secret in (CREDENTIALS.app_secret, CREDENTIALS.page_access_token, CREDENTIALS.verify_token):
        assert secret not in shown


def test_the_adapter_is_the_instagram_kind_set_up_in_the_meta_dashboard():
    adapter = InstagramAdapter()
    assert (adapter.kind, adapter.label) == ("instagram", "Instagram")
    assert adapter.manual_setup and "Instagram" in adapter.setup_instructions
    # messaging_seen reports reads; Instagram sends no delivery events.
    assert adapter.delivery_receipts is False
    assert adapter.unregister_advice
    assert adapter.credentials(CREDENTIALS.to_dict()) == CREDENTIALS
    assert set(adapter.generated_secrets()) == {"verify_token"}


# ---- handshake ----------------------------------------------------------------------


def test_it_answers_the_subscribe_handshake_with_the_challenge():
    """Getting Started (webhooks): Meta's GET carries hub.mode, hub.verify_token and
    hub.challenge, answered with the challenge."""
    request = get(
        {
            "hub.mode": ["subscribe"],
            "hub.verify_token": [CREDENTIALS.verify_token],
            "hub.challenge": ["1158201444"],
        }
    )
    assert handshake(credentials=CREDENTIALS, request=request) == "1158201444"
    assert InstagramAdapter().handshake(credentials=CREDENTIALS, request=request) == "1158201444"


def test_it_rejects_a_handshake_with_the_wrong_verify_token():
    request = get(
        {"hub.mode": ["subscribe"], "hub.verify_token": ["guess"], "hub.challenge": ["1"]}
    )
    with pytest.raises(WebhookRejected):
        handshake(credentials=CREDENTIALS, request=request)


# ---- signature ----------------------------------------------------------------------


def test_it_accepts_a_good_signature():
    """Webhooks: Meta signs each POST with X-Hub-Signature-256, the SHA-256 HMAC of the
    payload keyed with the app secret."""
    verify(credentials=CREDENTIALS, request=signed(body("text")))
    InstagramAdapter().verify(credentials=CREDENTIALS, request=signed(body("text")))


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
    tampered = raw.replace(b"blue tote", b"blue tot!")
    assert len(tampered) == len(raw) and tampered != raw
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=post(tampered, {"X-Hub-Signature-256": header}))


def test_it_rejects_the_same_json_re_serialized():
    """Meta signs the bytes it sent (non-ASCII escaped): only the raw body matches."""
    raw = body("reaction")
    header = sign(raw)
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert json.loads(reserialized) == json.loads(raw)
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=post(reserialized, {"X-Hub-Signature-256": header}))


def test_it_acks_with_an_ok():
    assert ACK == (b"ok", "text/plain")


# ---- malformed and foreign bodies ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"entry": []}', "object is missing"),
        (b'{"object": "instagram"}', "entry is missing"),
        (b'{"object": "instagram", "entry": {}}', "entry is not a list"),
        (
            b'{"object": "instagram", "entry": [{"messaging": {}}]}',
            "entry.0.messaging is not a list",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"message": {"mid": "m"}}]}]}',
            "entry.0.messaging.0.sender is missing",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"sender": {"id": "1"},'
            b' "timestamp": "1", "message": {"mid": "m", "text": "hi"}}]}]}',
            "entry.0.messaging.0.timestamp is not an integer",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"sender": {"id": "1"},'
            b' "timestamp": 1, "message": {"text": "hi"}}]}]}',
            "entry.0.messaging.0.message.mid is missing",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"sender": {"id": "1"},'
            b' "timestamp": 1, "message": {"mid": "m", "attachments": [{"type": "image",'
            b' "payload": {}}]}}]}]}',
            "entry.0.messaging.0.message.attachments.0.payload.url is missing",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"sender": {"id": "1"},'
            b' "timestamp": 1, "read": {}}]}]}',
            "entry.0.messaging.0.read names no message (no mid, no watermark)",
        ),
        (
            b'{"object": "instagram", "entry": [{"messaging": [{"sender": {"id": 1},'
            b' "timestamp": 1, "reaction": {"mid": "m", "action": "react"}}]}]}',
            "entry.0.messaging.0.sender.id is not a string",
        ),
    ],
    ids=[
        "no-object",
        "no-entry",
        "entry-not-list",
        "messaging-not-list",
        "no-sender",
        "string-timestamp",
        "no-mid",
        "image-without-url",
        "read-naming-nothing",
        "sender-id-number",
    ],
)
def test_it_refuses_a_body_instagram_does_not_send_naming_the_path(raw, reason):
    """Webhooks for Instagram Messaging: sender.id and mid are strings, timestamp Unix
    milliseconds as an integer, attachments carry payload.url, read carries mid."""
    with pytest.raises(MalformedPayload) as refused:
        parse(request=post(raw))
    assert str(refused.value) == reason


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]"], ids=["empty", "not-json", "array"])
def test_it_refuses_what_is_not_a_json_object(raw):
    with pytest.raises(MalformedPayload):
        parse(request=post(raw))


def test_it_does_not_read_page_webhooks():
    """Messenger's object is "page": another channel's webhook, not read at all."""
    assert parse_json({"object": "page", "entry": "not ours to read"}) == []


# ---- one test per fixture -----------------------------------------------------------


def test_text():
    """Webhooks for Instagram Messaging, messages: sender.id is the IGSID, message.mid
    and message.text; timestamp in Unix milliseconds."""
    assert parsed("text") == [
        InboundMessage(
            provider_message_id=MID,
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.TEXT,
            text="Hi! Is the blue tote still in stock?",
        )
    ]


def test_text_reply_to():
    """Webhooks for Instagram Messaging, messages: reply_to.mid names the quoted message."""
    (message,) = parsed("text_reply_to")
    assert message.type == ContentType.TEXT
    assert message.reply_to == EARLIER


@pytest.mark.parametrize(
    ("name", "kind"),
    [("image", ContentType.IMAGE), ("video", ContentType.VIDEO), ("audio", ContentType.AUDIO)],
)
def test_media(name, kind):
    """Webhooks for Instagram Messaging, messages: attachments[].type image, video or
    audio, with payload.url on Meta's CDN (lookaside.fbsbx.com)."""
    assert parsed(name) == [
        InboundMessage(
            provider_message_id=MID,
            sender=SENDER,
            sent_at=SENT_AT,
            type=kind,
            media=Media(ref=CDN),
        )
    ]


def test_file():
    """Webhooks for Instagram Messaging, messages: a file attachment (Upload Media for
    Instagram Messaging lists file, PDF); named from its URL when the URL ends in a name."""
    (message,) = parsed("file")
    assert message.type == ContentType.DOCUMENT
    assert message.media.filename == "order-1234.pdf"
    assert message.media.ref.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")


def test_multiple_attachments():
    """Webhooks for Instagram Messaging: "Included when a customer sends multiple media
    attachments" — one message each, the first keeps the mid."""
    first, second = parsed("multiple_attachments")
    assert (first.provider_message_id, second.provider_message_id) == (MID, f"{MID}:1")
    assert (first.type, second.type) == (ContentType.IMAGE, ContentType.IMAGE)
    assert second.media == Media(ref=CDN + "2")


def test_story_mention():
    """Story Mention (developers.facebook.com/docs/messenger-platform/instagram/features/
    story-mention): an attachment of type story_mention with the story's CDN URL; Meta
    forbids storing the media, so only the link is kept (never fetched)."""
    (message,) = parsed("story_mention")
    assert message.type == ContentType.UNSUPPORTED
    assert message.provider_type == "story_mention"
    assert message.media is None
    assert message.text.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")
    assert "story" in message.provider_note


def test_story_reply():
    """Webhooks for Instagram Messaging, messages: a reply to the business's story carries
    reply_to.story.url and reply_to.story.id; the text stays, the story is named."""
    (message,) = parsed("story_reply")
    assert message.type == ContentType.TEXT
    assert message.reply_to == ""
    assert message.text.startswith("Love this colour!\n(Replied to your story: https://")


@pytest.mark.parametrize("name", ["share", "ig_reel"])
def test_shares(name):
    """Webhooks for Instagram Messaging, limitations: "Only the URL for the shared media
    or post is included in the notification when a customer sends a message with a
    share" — kept as unsupported with the link."""
    (message,) = parsed(name)
    assert message.type == ContentType.UNSUPPORTED
    assert message.provider_type == name
    assert message.text.startswith("https://lookaside.fbsbx.com/")
    assert message.provider_note


def test_unsupported():
    """Webhooks for Instagram Messaging, limitations: GIFs and stickers are not supported;
    the message comes with is_unsupported instead."""
    (message,) = parsed("unsupported")
    assert message.type == ContentType.UNSUPPORTED
    assert message.provider_type == "unsupported"
    assert "Instagram app" in message.provider_note


def test_unsend():
    """Webhooks for Instagram Messaging, messages: a message the customer unsent comes
    again with is_deleted: true; its own id differs from the original's."""
    assert parsed("unsend") == [
        InboundMessage(
            provider_message_id=f"deleted:{MID}",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.UNSUPPORTED,
            provider_type="unsend",
            provider_note="The customer unsent (deleted) one of their earlier messages; "
            "Instagram no longer shows it to them.",
            reply_to=MID,
        )
    ]


@pytest.mark.parametrize(("flag", "unsent"), [("true", True), ("false", False), (False, False)])
def test_it_reads_is_deleted_as_meta_writes_it(flag, unsent):
    """Webhooks for Instagram Messaging: Meta's own unsend example writes
    "is_deleted": "true", a string; a false flag is an ordinary message."""
    document = fixture_json("text")
    event_of(document)["message"]["is_deleted"] = flag
    (message,) = parse_json(document)
    assert (message.provider_type == "unsend") is unsent


def test_echo():
    """Webhooks for Instagram Messaging, messages: is_echo marks a message the account
    itself sent (ours, or from the Instagram app): not relayed."""
    assert parsed("echo") == []


def test_reaction():
    """Webhooks for Instagram Messaging, message_reactions: reaction.mid, action react,
    reaction (love…) and emoji."""
    assert parsed("reaction") == [
        InboundMessage(
            provider_message_id=f"reaction:{OURS}:{IGSID}:1718012345678",
            sender=SENDER,
            sent_at=SENT_AT,
            type=ContentType.REACTION,
            reaction_emoji="\u2764\ufe0f",
            reacted_to=OURS,
        )
    ]


def test_unreaction():
    """Webhooks for Instagram Messaging, message_reactions: action unreact removes it."""
    (message,) = parsed("unreaction")
    assert (message.type, message.reaction_emoji, message.reacted_to) == (
        ContentType.REACTION,
        "",
        OURS,
    )


def test_read():
    """Webhooks for Instagram Messaging, messaging_seen: read.mid names the message seen."""
    assert parsed("read") == [
        DeliveryStatus(provider_message_id=OURS, state=DeliveryState.READ, at=SENT_AT)
    ]


def test_postback():
    """Webhooks for Instagram Messaging, messaging_postbacks: an icebreaker or template
    button tapped: postback.mid (v11.0+), title and payload."""
    (message,) = parsed("postback")
    assert (message.type, message.text, message.payload) == (
        ContentType.INTERACTIVE,
        "Track my order",
        "TRACK_ORDER",
    )


def test_quick_reply():
    """Quick Replies for Instagram: message.quick_reply.payload with the title as text."""
    (message,) = parsed("quick_reply")
    assert (message.provider_message_id, message.type, message.text, message.payload) == (
        MID,
        ContentType.INTERACTIVE,
        "Returns",
        "RETURNS",
    )


def test_referral():
    """Webhooks for Instagram Messaging, messaging_referral: an ig.me link opened in an
    existing conversation is not a customer message."""
    assert parsed("referral") == []


# ---- leniency ------------------------------------------------------------------------


def test_it_reads_a_messenger_style_read_watermark_should_one_come():
    """Unconfirmed for Instagram: Messenger's read carries a watermark instead of a mid."""
    document = fixture_json("read")
    event_of(document)["read"] = {"watermark": 1718012345678}
    assert parse_json(document) == [Watermark(customer_external_id=IGSID, watermark=SENT_AT)]


def test_it_keeps_an_attachment_type_it_does_not_know_naming_it():
    document = fixture_json("image")
    event_of(document)["message"]["attachments"][0]["type"] = "animated_image"
    (message,) = parse_json(document)
    assert (message.type, message.provider_type, message.text) == (
        ContentType.UNSUPPORTED,
        "animated_image",
        CDN,
    )


def test_it_ignores_fields_it_does_not_read():
    document = fixture_json("multiple_attachments")
    document["entry"][0]["changes"] = [{"field": "comments", "value": 1}]
    event = event_of(document)
    event["recipient"]["username"] = "octopods.shop"
    event["message"].update(is_echo=False, is_self=False)
    event["message"]["attachments"][0]["payload"]["title"] = 42
    assert parse_json(document) == parsed("multiple_attachments")
