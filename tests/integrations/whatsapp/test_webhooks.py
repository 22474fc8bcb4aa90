import hashlib
import hmac
import json
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
    TemplateStatusUpdate,
    WebhookRejected,
    WebhookRequest,
)
from integrations.whatsapp import webhooks
from integrations.whatsapp.credentials import Credentials

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://octopods.example/webhooks/whatsapp/chn_5Jx2QeR9vTnW/"

CREDENTIALS = Credentials(
    phone_number_id="106540352242922",
    waba_id="102290129340398",
    access_token="EAAGtestaccesstoken",
    app_secret="0f4c2b7e9a1d3c5e7f9a0b2c4d6e8f1a",
    verify_token="octopods-verify-4411",
)

KERRY = Sender(external_id="16315551181", phone="+16315551181", name="Kerry Fisher")
OUR_MESSAGE = "wamid.HBgLMTYzMTU1NTExODEVAgARGBIxNDNGOUMxRjYxQkE4MUJDRTEA"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(body: bytes, secret: str = CREDENTIALS.app_secret) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body)}
    return WebhookRequest(method="POST", url=URL, headers=headers, body=body)


def get(**query: str) -> WebhookRequest:
    return WebhookRequest(
        method="GET",
        url=URL,
        headers={},
        body=b"",
        query={name: [value] for name, value in query.items()},
    )


def parsed(name: str) -> list:
    request = post(fixture(name))
    webhooks.verify(credentials=CREDENTIALS, request=request)
    return webhooks.parse(request=request)


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- messages, one test per fixture ----------------------------------------------------


def test_it_parses_a_text():
    assert parsed("text.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTRBNjVFNjg0QzNGNTc2MDIzQwA=",
            sender=KERRY,
            sent_at=datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC),
            type=ContentType.TEXT,
            text="Hi! Is my order #4411 on its way?",
        )
    ]


def test_it_parses_a_reply_into_reply_to():
    assert parsed("text_reply.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUI4RTQ3NjFFMjkxRkM4NzlCMQA=",
            sender=KERRY,
            sent_at=at(1749416501),
            type=ContentType.TEXT,
            text="Yes, that one",
            reply_to=OUR_MESSAGE,
        )
    ]


def test_it_parses_a_forwarded_text_without_a_reply_to():
    assert parsed("text_forwarded.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUVBMDdDODhGNjE1NjhEQzAwMgA=",
            sender=KERRY,
            sent_at=at(1749416622),
            type=ContentType.TEXT,
            text="Look at this deal: 20% off all week",
        )
    ]


def test_it_parses_an_image_with_its_caption():
    assert parsed("image.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUY2MkQ1MUE4MUQ3MDE5NTFBOQA=",
            sender=KERRY,
            sent_at=at(1749417010),
            type=ContentType.IMAGE,
            text="The box arrived damaged",
            media=Media(
                ref="1203398154468537",
                mime_type="image/jpeg",
                sha256="1f3Wq5lGdXGQv6vXx0w3nQvTqv6p0m2Z1S7KxD8h9Yc=",
            ),
        )
    ]


def test_it_parses_a_video():
    assert parsed("video.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTc3QjI0NkYwQzk3RDlBMkQ2NQA=",
            sender=KERRY,
            sent_at=at(1749417133),
            type=ContentType.VIDEO,
            media=Media(
                ref="987561230144820",
                mime_type="video/mp4",
                sha256="Jh2ij6PzUvJ2ygrrtegrZMzRxkEPwc24Oyib4s03w9c=",
            ),
        )
    ]


def test_it_parses_a_sticker():
    assert parsed("sticker.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTMyQjE1RjY0OEE3MEU1RjBFMwA=",
            sender=KERRY,
            sent_at=at(1749417200),
            type=ContentType.STICKER,
            media=Media(
                ref="771205904395162",
                mime_type="image/webp",
                sha256="OmT4nhjUhCMIPNmj7eeOZeCYjTXkLxoOv85OMCFwSuc=",
            ),
        )
    ]


def test_it_parses_a_document_with_its_filename():
    assert parsed("document.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUQ5MUU4QTc3QzBFMDA1OEI4MgA=",
            sender=KERRY,
            sent_at=at(1749417302),
            type=ContentType.DOCUMENT,
            text="Invoice attached",
            media=Media(
                ref="1548211369287730",
                mime_type="application/pdf",
                filename="invoice-4411.pdf",
                sha256="grwfweZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc8=",
            ),
        )
    ]


def test_it_parses_an_audio_file():
    assert parsed("audio.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTFCNUQ2MzE2QUI0NzJFOTE2QgA=",
            sender=KERRY,
            sent_at=at(1749417410),
            type=ContentType.AUDIO,
            media=Media(
                ref="3104587349872213",
                mime_type="audio/mpeg",
                sha256="E3dxSPdYZE7ppA3pQ4mpCFaXBJ8pX4SRNdsfvdsiPGA=",
            ),
        )
    ]


def test_it_parses_a_voice_note_as_voice():
    assert parsed("voice.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQThENjcxNEE1MDA2NkM3NDMwNQA=",
            sender=KERRY,
            sent_at=at(1749417477),
            type=ContentType.VOICE,
            media=Media(
                ref="690163127129588",
                mime_type="audio/ogg; codecs=opus",
                sha256="m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
            ),
        )
    ]


def test_it_parses_a_location_with_name_and_address():
    assert parsed("location.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTlGNDhEQkUwNzM0MTk4NEEyNQA=",
            sender=KERRY,
            sent_at=at(1749417600),
            type=ContentType.LOCATION,
            location=Location(
                latitude=40.7411123,
                longitude=-73.9897245,
                name="Flatiron Building",
                address="175 5th Ave, New York, NY 10010",
                url="https://maps.google.com/?cid=1234567890123456789",
            ),
        )
    ]


def test_it_parses_contact_cards_with_their_phones():
    assert parsed("contacts.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUMyRjE2QjRDQjMyRTI3QTk3QwA=",
            sender=KERRY,
            sent_at=at(1749417700),
            type=ContentType.CONTACTS,
            contacts=(
                ContactCard(
                    name="Ana Lima",
                    phones=("+1 (631) 555-0147", "+1 631-555-0199"),
                    emails=("ana@example.com",),
                ),
                ContactCard(name="Bruno", phones=("+55 11 91234-5678",)),
            ),
        )
    ]


def test_it_parses_a_tapped_reply_button():
    assert parsed("interactive_button_reply.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUQ4QjdCNkM2QzQ4NEYxNjU3RQA=",
            sender=KERRY,
            sent_at=at(1749417802),
            type=ContentType.INTERACTIVE,
            text="Yes, confirm",
            payload="confirm-4411",
            reply_to="wamid.HBgLMTYzMTU1NTExODEVAgARGBI1QkRGRTdBNTgzNzY4OTBCMEEA",
        )
    ]


def test_it_parses_a_chosen_list_row():
    assert parsed("interactive_list_reply.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUJFMUMyM0VCN0QwRjU1QzVGNgA=",
            sender=KERRY,
            sent_at=at(1749417903),
            type=ContentType.INTERACTIVE,
            text="Tuesday 10:00",
            payload="slot-tue-10",
            reply_to="wamid.HBgLMTYzMTU1NTExODEVAgARGBJGNzU2QzlDNEE0OTgyMDNFMjIA",
        )
    ]


def test_it_parses_a_template_quick_reply_button():
    assert parsed("template_button.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTVEMUYyODdBOUY3ODM1OUQ0NQA=",
            sender=KERRY,
            sent_at=at(1749418001),
            type=ContentType.INTERACTIVE,
            text="Stop promotions",
            payload="STOP_PROMOTIONS",
            reply_to="wamid.HBgLMTYzMTU1NTExODEVAgARGBI3QTkxRDYzMEI5QjQ4N0Y0NEYA",
        )
    ]


def test_it_parses_a_reaction():
    assert parsed("reaction.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTIwN0U4QkY1RjM2MTQ5QUE5OAA=",
            sender=KERRY,
            sent_at=at(1749418100),
            type=ContentType.REACTION,
            reaction_emoji="\N{THUMBS UP SIGN}",
            reacted_to=OUR_MESSAGE,
        )
    ]


def test_it_parses_a_removed_reaction_as_an_empty_emoji():
    assert parsed("reaction_removed.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUU1QzAxNzNFMEI1RjVFOTNBOQA=",
            sender=KERRY,
            sent_at=at(1749418160),
            type=ContentType.REACTION,
            reaction_emoji="",
            reacted_to=OUR_MESSAGE,
        )
    ]


def test_it_keeps_an_unsupported_message_as_unsupported():
    assert parsed("unsupported.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUE0NTc4RjU5QzI2N0QzODk4MQA=",
            sender=KERRY,
            sent_at=at(1749418222),
            type=ContentType.UNSUPPORTED,
            provider_type="unsupported",
            provider_note="Message type unknown: Message type is currently not supported.",
        )
    ]


def test_it_keeps_a_type_it_does_not_model_as_unsupported_naming_the_type():
    assert parsed("order.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTY0NUI5NUJFRjQ2MkMxQjhDRAA=",
            sender=KERRY,
            sent_at=at(1749418700),
            type=ContentType.UNSUPPORTED,
            provider_type="order",
        )
    ]


def test_it_parses_every_message_of_a_batch_with_each_senders_name():
    assert parsed("batch.json") == [
        InboundMessage(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTBEMjBDRTZGNDA0MUU3QjM2RQA=",
            sender=KERRY,
            sent_at=at(1749418300),
            type=ContentType.TEXT,
            text="Hello?",
        ),
        InboundMessage(
            provider_message_id="wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E3RTBDNjU4MjJGNDZDMEM3NUQA",
            sender=Sender(external_id="447700900123", phone="+447700900123", name="Oliver Smith"),
            sent_at=at(1749418302),
            type=ContentType.TEXT,
            text="Do you ship to the UK?",
        ),
    ]


# --- statuses, one test per fixture ----------------------------------------------------


def test_it_parses_a_sent_status():
    assert parsed("status_sent.json") == [
        DeliveryStatus(provider_message_id=OUR_MESSAGE, state=DeliveryState.SENT, at=at(1749418400))
    ]


def test_it_parses_a_delivered_status():
    assert parsed("status_delivered.json") == [
        DeliveryStatus(
            provider_message_id=OUR_MESSAGE, state=DeliveryState.DELIVERED, at=at(1749418403)
        )
    ]


def test_it_parses_a_read_status():
    assert parsed("status_read.json") == [
        DeliveryStatus(provider_message_id=OUR_MESSAGE, state=DeliveryState.READ, at=at(1749418460))
    ]


def test_it_parses_a_failed_status_with_the_error_code_and_text():
    assert parsed("status_failed.json") == [
        DeliveryStatus(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgARGBI5RTQ2QjJFM0VDMDdCNkE1QTcA",
            state=DeliveryState.FAILED,
            at=at(1749418500),
            error_code="131047",
            error_text=(
                "Re-engagement message: Message failed to send because more than 24 hours "
                "have passed since the customer last replied to this number."
            ),
        )
    ]


def test_it_parses_a_played_voice_note_as_read():
    assert parsed("status_played.json") == [
        DeliveryStatus(
            provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgARGBJBMUY0RTk4QjdDMzE2RDUyOEMA",
            state=DeliveryState.READ,
            at=at(1749418620),
        )
    ]


def test_it_reads_a_template_status_update():
    assert parsed("template_status_update.json") == [
        TemplateStatusUpdate(
            template_id="1387562738432187",
            name="order_update",
            language="en_US",
            status="APPROVED",
            reason="",
        )
    ]


def test_it_reads_a_paused_template_with_its_reason():
    [update] = parsed("template_status_paused.json")
    assert (update.template_id, update.status, update.reason) == (
        "1387562738432187",
        "PAUSED",
        "FIRST_PAUSE",
    )


def test_a_reinstated_template_is_approved_again():
    body = json.loads((FIXTURES / "template_status_paused.json").read_text())
    body["entry"][0]["changes"][0]["value"]["event"] = "REINSTATED"
    [update] = webhooks.parse(request=post(json.dumps(body).encode()))
    assert update.status == "APPROVED"


def test_a_template_quality_change_is_not_a_status():
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "previous_quality_score": "GREEN",
                            "new_quality_score": "YELLOW",
                            "message_template_id": 1387562738432187,
                            "message_template_name": "order_update",
                            "message_template_language": "en_US",
                        },
                    }
                ],
            }
        ],
    }
    assert webhooks.parse(request=post(json.dumps(body).encode())) == []


def test_it_returns_nothing_for_a_management_change_we_do_not_keep():
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "X"}}]}],
    }
    assert webhooks.parse(request=post(json.dumps(body).encode())) == []


def test_it_has_a_test_for_every_fixture():
    source = Path(__file__).read_text()
    untested = [path.name for path in FIXTURES.glob("*.json") if f'"{path.name}"' not in source]
    assert untested == []


# --- shapes the bridge ignores -----------------------------------------------------------


def envelope(value: dict, *, field: str = "messages", obj: str = "whatsapp_business_account"):
    return {
        "object": obj,
        "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}],
    }


METADATA = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}


def test_it_returns_nothing_for_another_meta_object():
    body = json.dumps({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": []}]})
    assert webhooks.parse(request=post(body.encode())) == []


def test_it_returns_nothing_for_errors_without_a_message():
    value = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "errors": [{"code": 131000, "title": "Something went wrong"}],
    }
    assert webhooks.parse(request=post(json.dumps(envelope(value)).encode())) == []


def test_it_returns_nothing_for_a_status_that_is_not_a_delivery_state():
    status = {"id": OUR_MESSAGE, "status": "deleted", "timestamp": "1749418700"}
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "statuses": [status]}
    assert webhooks.parse(request=post(json.dumps(envelope(value)).encode())) == []


def test_it_keeps_a_message_delivered_without_its_body_as_unsupported():
    message = {
        "from": "16315551181",
        "id": "wamid.X",
        "timestamp": "1749418800",
        "type": "interactive",
    }
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "messages": [message]}
    [event] = webhooks.parse(request=post(json.dumps(envelope(value)).encode()))
    assert (event.type, event.provider_type) == (ContentType.UNSUPPORTED, "interactive")
    assert event.sender == Sender(external_id="16315551181", phone="+16315551181")


def test_it_keeps_a_flow_reply_as_unsupported_naming_the_subtype():
    message = {
        "from": "16315551181",
        "id": "wamid.Y",
        "timestamp": "1749418900",
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {"response_json": "{}", "body": "Sent"}},
    }
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "messages": [message]}
    [event] = webhooks.parse(request=post(json.dumps(envelope(value)).encode()))
    assert (event.type, event.provider_type) == (ContentType.UNSUPPORTED, "interactive.nfm_reply")


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"whatsapp_business_account"',
        b"{}",
        b'{"object": 1, "entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
        b'{"object": "whatsapp_business_account", "entry": ["x"]}',
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}',
    ],
)
def test_it_rejects_a_body_that_is_not_a_whatsapp_envelope(body):
    with pytest.raises(MalformedPayload):
        webhooks.parse(request=post(body))


@pytest.mark.parametrize(
    "value",
    [
        {"messages": []},
        {"metadata": {}, "messages": []},
        {"metadata": METADATA, "messages": {}},
        {"metadata": METADATA, "messages": [{"id": "wamid.X", "timestamp": "1", "type": "text"}]},
        {"metadata": METADATA, "messages": [{"from": "1", "timestamp": "1", "type": "text"}]},
        {"metadata": METADATA, "messages": [{"from": "1", "id": "w", "type": "text"}]},
        {"metadata": METADATA, "messages": [{"from": "1", "id": "w", "timestamp": "soon"}]},
        {
            "metadata": METADATA,
            "messages": [{"from": "1", "id": "w", "timestamp": "yesterday", "type": "text"}],
        },
        {
            "metadata": METADATA,
            "messages": [{"from": "1", "id": "w", "timestamp": "1", "type": "text", "text": "hi"}],
        },
        {
            "metadata": METADATA,
            "messages": [
                {"from": "1", "id": "w", "timestamp": "1", "type": "text", "text": {"body": 5}}
            ],
        },
        {
            "metadata": METADATA,
            "messages": [
                {
                    "from": "1",
                    "id": "w",
                    "timestamp": "1",
                    "type": "location",
                    "location": {"latitude": "north", "longitude": 1},
                }
            ],
        },
        {"metadata": METADATA, "statuses": [{"id": "w", "status": "read"}]},
        {"metadata": METADATA, "contacts": [{"profile": {"name": "No wa_id"}}]},
    ],
)
def test_it_rejects_a_value_with_missing_or_mistyped_keys(value):
    with pytest.raises(MalformedPayload):
        webhooks.parse(request=post(json.dumps(envelope(value)).encode()))


# --- reading Meta's payload as typed models (integrations/whatsapp/schema.py) -----------


def text_message(**fields) -> dict:
    return {
        "from": "16315551181",
        "id": "wamid.T",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": "Hi"},
        **fields,
    }


def value_of(*messages: dict, **fields) -> dict:
    return {"messaging_product": "whatsapp", "metadata": METADATA, "messages": list(messages)} | (
        fields
    )


def parse_value(value: dict, *, field: str = "messages") -> list:
    return webhooks.parse(request=post(json.dumps(envelope(value, field=field)).encode()))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            value_of(text_message(id=17)),
            "entry.0.changes.0.value.messages.0.id is not a string",
        ),
        (
            value_of(text_message(text={"body": ["Hi"]})),
            "entry.0.changes.0.value.messages.0.text.body is not a string",
        ),
        (
            value_of(text_message(timestamp=True)),
            "entry.0.changes.0.value.messages.0.timestamp is not a Unix time",
        ),
        (
            value_of(
                text_message(type="location", location={"latitude": True, "longitude": 1}),
            ),
            "entry.0.changes.0.value.messages.0.location.latitude is not a number",
        ),
        (
            value_of(
                text_message(type="location", location={"latitude": 10**400, "longitude": 1}),
            ),
            "entry.0.changes.0.value.messages.0.location.latitude is out of range",
        ),
        (
            value_of(text_message(type="interactive", interactive={"type": "list_reply"})),
            "entry.0.changes.0.value.messages.0.interactive.list_reply is missing",
        ),
        (
            value_of(contacts=[{"wa_id": "16315551181", "profile": {"name": 7}}]),
            "entry.0.changes.0.value.contacts.0.profile.name is not a string",
        ),
        (
            value_of(
                statuses=[
                    {"id": "w", "status": "failed", "timestamp": "1", "errors": [{"code": 1.5}]}
                ]
            ),
            "entry.0.changes.0.value.statuses.0.errors.0.code is not a string or an integer",
        ),
        (
            value_of(text_message(type=["text"])),
            "entry.0.changes.0.value.messages.0.type is not a string",
        ),
        ({"messages": []}, "entry.0.changes.0.value.metadata is missing"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_naming_where_it_is(value, reason):
    """Meta's "messages webhook reference" (developers.facebook.com/documentation/
    business-messaging/whatsapp/webhooks/reference/messages, and its text, location,
    interactive and status pages) documents each of these fields' types; a payload that
    differs is a 400 naming the field rather than something read wrongly."""
    with pytest.raises(MalformedPayload) as refused:
        parse_value(value)
    assert str(refused.value) == reason


def test_a_template_status_with_an_event_but_no_template_id_is_refused_naming_it():
    with pytest.raises(MalformedPayload) as refused:
        parse_value({"event": "APPROVED"}, field="message_template_status_update")
    assert str(refused.value) == "entry.0.changes.0.value.message_template_id is missing"


def test_a_template_id_is_read_as_a_number_or_its_digits():
    """Meta's "message_template_status_update webhook reference" sends the id as a
    number; a string of digits is read the same."""
    value = {"event": "REJECTED", "message_template_id": "1387562738432187", "reason": None}
    [update] = parse_value(value, field="message_template_status_update")
    assert (update.template_id, update.status, update.reason) == (
        "1387562738432187",
        "REJECTED",
        "",
    )


def test_null_optional_fields_read_as_empty():
    """Meta omits fields a user did not share ("Many contact properties may be omitted",
    the contacts messages webhook reference); null is read the same as absent."""
    message = text_message(from_user_id=None, context=None, errors=None)
    contact = {"wa_id": "16315551181", "user_id": None, "profile": {"name": None}}
    [event] = parse_value(value_of(message, contacts=[contact], statuses=None))
    assert event == InboundMessage(
        provider_message_id="wamid.T",
        sender=Sender(external_id="16315551181", phone="+16315551181"),
        sent_at=at(1749416383),
        type=ContentType.TEXT,
        text="Hi",
    )


def test_null_caption_and_filename_read_as_empty():
    document = {"id": "1234", "mime_type": "application/pdf", "caption": None, "filename": None}
    [event] = parse_value(value_of(text_message(type="document", text=None, document=document)))
    assert (event.type, event.text, event.media) == (
        ContentType.DOCUMENT,
        "",
        Media(ref="1234", mime_type="application/pdf"),
    )


def test_fields_meta_adds_are_ignored():
    """Meta adds fields without notice (identity_key_hash, url on media, user_id…): the
    text fixture with new fields at every level reads exactly as without them."""
    body = json.loads(fixture("text.json"))
    body["new_top_level"] = {"x": [1, 2]}
    entry = body["entry"][0]
    entry["time"] = 1749416383
    change = entry["changes"][0]
    change["new"] = True
    value = change["value"]
    value["metadata"]["new"] = None
    value["contacts"][0]["identity_key_hash"] = "abc"
    value["contacts"][0]["profile"]["new"] = 5
    value["messages"][0]["text"]["preview_url"] = True
    value["messages"][0]["referral"] = {"source_url": "https://example.com"}
    assert webhooks.parse(request=post(json.dumps(body).encode())) == parsed("text.json")


def test_an_unknown_message_type_is_kept_as_unsupported_naming_it():
    """The unsupported messages webhook reference: types the API does not support still
    arrive as messages; a type newer than our models is kept, never refused."""
    message = text_message(type="poll_vote", text=None, poll_vote={"options": [{"id": 2}]})
    [event] = parse_value(value_of(message))
    assert (event.type, event.provider_type, event.provider_message_id) == (
        ContentType.UNSUPPORTED,
        "poll_vote",
        "wamid.T",
    )


def test_a_body_under_another_types_key_is_not_read():
    # Only the body the type names is this message's; a key that happens to share a
    # modelled type's name is ignored like any unknown field.
    message = text_message(type="order", text="not a text body", order={"product_items": []})
    [event] = parse_value(value_of(message))
    assert (event.type, event.provider_type) == (ContentType.UNSUPPORTED, "order")


def test_timestamps_are_read_as_strings_or_integers_and_coordinates_as_integers():
    location = {"latitude": 38, "longitude": -9.5}
    message = text_message(timestamp=1749416383, type="location", location=location)
    [event] = parse_value(value_of(message))
    assert (event.sent_at, event.location) == (
        at(1749416383),
        Location(latitude=38.0, longitude=-9.5),
    )
    assert isinstance(event.location.latitude, float)


# --- signature -------------------------------------------------------------------------------


def test_it_accepts_a_good_signature():
    body = fixture("text.json")
    webhooks.verify(credentials=CREDENTIALS, request=post(body))


def test_it_accepts_a_signature_whatever_the_header_case():
    body = fixture("text.json")
    request = post(body, headers={"x-hub-signature-256": signature(body)})
    webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_missing_signature():
    request = post(fixture("text.json"), headers={"Content-Type": "application/json"})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_the_legacy_sha1_header_alone():
    body = fixture("text.json")
    legacy = "sha1=" + hmac.new(CREDENTIALS.app_secret.encode(), body, hashlib.sha1).hexdigest()
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=post(body, {"X-Hub-Signature": legacy}))


@pytest.mark.parametrize("header", ["sha256=", "sha1=abc", "abc", "sha256"])
def test_it_rejects_a_malformed_signature_header(header):
    request = post(fixture("text.json"), headers={"X-Hub-Signature-256": header})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_signature_made_with_another_secret():
    body = fixture("text.json")
    request = post(body, headers={"X-Hub-Signature-256": signature(body, "another-app-secret")})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_a_body_with_one_byte_changed():
    body = fixture("text.json")
    tampered = body.replace(b"#4411", b"#4412")
    assert len(tampered) == len(body) and tampered != body
    request = post(tampered, headers={"X-Hub-Signature-256": signature(body)})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_the_same_json_reserialized():
    body = fixture("reaction.json")
    reserialized = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode()
    assert json.loads(reserialized) == json.loads(body)
    request = post(reserialized, headers={"X-Hub-Signature-256": signature(body)})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=CREDENTIALS, request=request)


def test_it_rejects_everything_when_no_app_secret_is_configured():
    body = fixture("text.json")
    credentials = Credentials(**{**CREDENTIALS.to_dict(), "app_secret": ""})
    request = post(body, headers={"X-Hub-Signature-256": signature(body, "")})
    with pytest.raises(WebhookRejected):
        webhooks.verify(credentials=credentials, request=request)


# --- subscribe handshake ---------------------------------------------------------------------


def test_it_answers_the_handshake_with_the_challenge():
    request = get(
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": "octopods-verify-4411",
            "hub.challenge": "1158201444",
        }
    )
    assert webhooks.handshake(credentials=CREDENTIALS, request=request) == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {
            "hub.mode": "unsubscribe",
            "hub.verify_token": "octopods-verify-4411",
            "hub.challenge": "1",
        },
        {"hub.verify_token": "octopods-verify-4411", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "octopods-verify-4411"},
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "octopods-verify-4411é",
            "hub.challenge": "1",
        },
    ],
)
def test_it_refuses_a_handshake_without_our_token(query):
    with pytest.raises(WebhookRejected):
        webhooks.handshake(credentials=CREDENTIALS, request=get(**query))


def test_it_answers_200_with_an_empty_body():
    assert webhooks.ACK == (b"", "text/plain")


# --- credentials -------------------------------------------------------------------------------


def test_it_round_trips_credentials():
    assert Credentials.from_dict(CREDENTIALS.to_dict()) == CREDENTIALS


def test_it_accepts_numeric_graph_ids():
    data = {**CREDENTIALS.to_dict(), "phone_number_id": 106540352242922}
    assert Credentials.from_dict(data).phone_number_id == "106540352242922"


@pytest.mark.parametrize(
    "missing", ["phone_number_id", "waba_id", "access_token", "app_secret", "verify_token"]
)
def test_it_names_a_missing_credential(missing):
    data = CREDENTIALS.to_dict()
    del data[missing]
    with pytest.raises(ValueError, match=missing):
        Credentials.from_dict(data)


def test_it_keeps_secrets_out_of_repr():
    shown = repr(CREDENTIALS)
    assert CREDENTIALS.access_token not in shown
    assert CREDENTIALS.app_secret not in shown
    assert CREDENTIALS.verify_token not in shown
