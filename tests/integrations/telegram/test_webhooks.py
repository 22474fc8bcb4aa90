import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.channel import (
    ButtonTapToAnswer,
    ContactCard,
    ContentType,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from integrations.telegram import webhooks
from integrations.telegram.credentials import Credentials
from integrations.telegram.webhooks import parse, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/telegram/chn_3f9a1c2b7d/"
SECRET = "s3cr3t_T0ken-for-acme"

CREDENTIALS = Credentials(
    bot_token="7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    secret_token=SECRET,
    bot_id="7000000001",
    bot_username="acme_support_bot",
)

JANE = Sender(external_id="555000111", name="Jane Doe", username="janedoe")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRET,
        }
    return WebhookRequest(method="POST", url=URL, headers=headers, body=body)


def parsed(name: str) -> list:
    return parse(request=request(fixture(name)))


# --- verify --------------------------------------------------------------------------


def test_it_accepts_the_secret_token_we_gave_set_webhook():
    verify(credentials=CREDENTIALS, request=request(fixture("text.json")))


def test_it_reads_the_secret_header_whatever_its_case():
    headers = {"x-telegram-bot-api-secret-token": SECRET}
    verify(credentials=CREDENTIALS, request=request(fixture("text.json"), headers))


def test_it_rejects_a_request_without_the_secret_header():
    with pytest.raises(WebhookRejected, match="missing"):
        verify(
            credentials=CREDENTIALS,
            request=request(fixture("text.json"), {"Content-Type": "application/json"}),
        )


def test_it_rejects_an_empty_secret_header():
    headers = {"X-Telegram-Bot-Api-Secret-Token": ""}
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(fixture("text.json"), headers))


def test_it_rejects_a_wrong_secret():
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1] + "X"}
    with pytest.raises(WebhookRejected, match="wrong"):
        verify(credentials=CREDENTIALS, request=request(fixture("text.json"), headers))


def test_it_rejects_a_secret_that_only_starts_like_ours():
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "-extra"}
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(fixture("text.json"), headers))


def test_it_rejects_a_non_ascii_secret_without_crashing():
    headers = {"X-Telegram-Bot-Api-Secret-Token": "sécret"}
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(fixture("text.json"), headers))


def test_it_rejects_another_channels_secret():
    other = Credentials.from_dict({**CREDENTIALS.to_dict(), "secret_token": "other-channel"})
    with pytest.raises(WebhookRejected):
        verify(credentials=other, request=request(fixture("text.json")))


# Telegram signs nothing: the header is the bare secret, so unlike the HMAC providers a
# changed or re-serialized body cannot be detected. These tests pin that down so nobody
# mistakes the secret token for a body signature.
def test_it_cannot_detect_a_changed_body_because_telegram_signs_none():
    body = bytearray(fixture("text.json"))
    body[body.index(b"1042")] = ord("9")
    verify(credentials=CREDENTIALS, request=request(bytes(body)))


def test_it_cannot_detect_a_reserialized_body_because_telegram_signs_none():
    body = json.dumps(json.loads(fixture("text.json")), sort_keys=True).encode()
    assert body != fixture("text.json")
    verify(credentials=CREDENTIALS, request=request(body))


def test_it_answers_with_an_empty_body():
    assert webhooks.ACK == (b"", "text/plain")


# --- messages ------------------------------------------------------------------------


def test_it_parses_a_text_message():
    assert parsed("text.json") == [
        InboundMessage(
            provider_message_id="555000111:41",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC),
            type=ContentType.TEXT,
            text="Hi, where is my order #1042?",
            provider_type="text",
        )
    ]


def test_it_parses_a_photo_as_its_largest_size_with_the_caption():
    assert parsed("photo.json") == [
        InboundMessage(
            provider_message_id="555000111:42",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 14, 20, tzinfo=UTC),
            type=ContentType.IMAGE,
            text="The receipt",
            media=Media(ref="AgACAgQAAxkBAAMqZmA-large", mime_type="image/jpeg", size=123456),
            provider_type="photo",
        )
    ]


def test_it_parses_a_document():
    assert parsed("document.json") == [
        InboundMessage(
            provider_message_id="555000111:43",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 15, 20, tzinfo=UTC),
            type=ContentType.DOCUMENT,
            text="Invoice attached",
            media=Media(
                ref="BQACAgIAAxkBAAMrZmB-invoice",
                mime_type="application/pdf",
                filename="invoice-1042.pdf",
                size=48213,
            ),
            provider_type="document",
        )
    ]


def test_it_parses_a_video():
    assert parsed("video.json") == [
        InboundMessage(
            provider_message_id="555000111:44",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 16, 20, tzinfo=UTC),
            type=ContentType.VIDEO,
            text="It arrived broken",
            media=Media(
                ref="BAACAgIAAxkBAAMsZmC-video",
                mime_type="video/mp4",
                filename="unboxing.mp4",
                size=2345678,
            ),
            provider_type="video",
        )
    ]


def test_it_parses_an_audio_file():
    assert parsed("audio.json") == [
        InboundMessage(
            provider_message_id="555000111:45",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 17, 20, tzinfo=UTC),
            type=ContentType.AUDIO,
            media=Media(
                ref="CQACAgIAAxkBAAMtZmD-audio",
                mime_type="audio/mpeg",
                filename="hold-music.mp3",
                size=2949120,
            ),
            provider_type="audio",
        )
    ]


def test_it_parses_a_voice_note():
    assert parsed("voice.json") == [
        InboundMessage(
            provider_message_id="555000111:46",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 18, 20, tzinfo=UTC),
            type=ContentType.VOICE,
            media=Media(ref="AwACAgIAAxkBAAMuZmE-voice", mime_type="audio/ogg", size=28931),
            provider_type="voice",
        )
    ]


def test_it_parses_a_sticker():
    assert parsed("sticker.json") == [
        InboundMessage(
            provider_message_id="555000111:47",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 19, 20, tzinfo=UTC),
            type=ContentType.STICKER,
            media=Media(ref="CAACAgIAAxkBAAMvZmF-sticker", mime_type="image/webp", size=28704),
            provider_type="sticker",
        )
    ]


def test_it_parses_an_animation_as_a_video_not_a_document():
    assert parsed("animation.json") == [
        InboundMessage(
            provider_message_id="555000111:54",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 25, 20, tzinfo=UTC),
            type=ContentType.VIDEO,
            media=Media(
                ref="CgACAgQAAxkBAAM2ZmG-anim",
                mime_type="video/mp4",
                filename="thumbs-up.mp4",
                size=98765,
            ),
            provider_type="animation",
        )
    ]


def test_it_parses_a_round_video_note_as_a_video():
    assert parsed("video_note.json") == [
        InboundMessage(
            provider_message_id="555000111:55",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 26, 20, tzinfo=UTC),
            type=ContentType.VIDEO,
            media=Media(ref="DQACAgIAAxkBAAM3ZmH-note", size=412345),
            provider_type="video_note",
        )
    ]


def test_it_parses_a_location():
    assert parsed("location.json") == [
        InboundMessage(
            provider_message_id="555000111:48",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 20, 20, tzinfo=UTC),
            type=ContentType.LOCATION,
            location=Location(latitude=52.520008, longitude=13.404954),
            provider_type="location",
        )
    ]


def test_it_parses_a_venue_as_a_location_with_its_name_and_address():
    assert parsed("venue.json") == [
        InboundMessage(
            provider_message_id="555000111:49",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 21, 20, tzinfo=UTC),
            type=ContentType.LOCATION,
            location=Location(
                latitude=48.858844,
                longitude=2.294351,
                name="Eiffel Tower",
                address="Champ de Mars, 5 Av. Anatole France, 75007 Paris",
            ),
            provider_type="venue",
        )
    ]


def test_it_parses_a_contact_card_with_the_emails_of_its_vcard():
    assert parsed("contact.json") == [
        InboundMessage(
            provider_message_id="555000111:50",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 22, 20, tzinfo=UTC),
            type=ContentType.CONTACTS,
            contacts=(
                ContactCard(
                    name="Max Mustermann",
                    phones=("+4915112345678",),
                    emails=("max@example.com",),
                ),
            ),
            provider_type="contact",
        )
    ]


def test_it_takes_the_senders_phone_from_their_own_shared_contact():
    assert parsed("contact_own.json") == [
        InboundMessage(
            provider_message_id="555000111:51",
            sender=Sender(
                external_id="555000111", phone="447700900123", name="Jane Doe", username="janedoe"
            ),
            sent_at=datetime(2024, 6, 10, 6, 23, 20, tzinfo=UTC),
            type=ContentType.CONTACTS,
            contacts=(ContactCard(name="Jane Doe", phones=("447700900123",)),),
            provider_type="contact",
        )
    ]


def test_it_links_a_reply_to_the_quoted_message_of_the_same_chat():
    assert parsed("reply.json") == [
        InboundMessage(
            provider_message_id="555000111:53",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 24, 20, tzinfo=UTC),
            type=ContentType.TEXT,
            text="Sure, it is 1042",
            reply_to="555000111:52",
            provider_type="text",
        )
    ]


def test_it_keeps_an_unsupported_message_naming_its_telegram_type():
    assert parsed("dice.json") == [
        InboundMessage(
            provider_message_id="555000111:56",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 27, 20, tzinfo=UTC),
            type=ContentType.UNSUPPORTED,
            provider_type="dice",
        )
    ]


# --- button taps and reactions -------------------------------------------------------


def test_it_parses_a_button_tap_with_the_buttons_label(monkeypatch):
    tapped_at = datetime(2024, 6, 10, 6, 31, 0, tzinfo=UTC)
    monkeypatch.setattr(webhooks, "_now", lambda: tapped_at)
    assert parsed("callback_query.json") == [
        InboundMessage(
            provider_message_id="cb:2386578920472153601",
            sender=JANE,
            sent_at=tapped_at,
            type=ContentType.INTERACTIVE,
            text="Yes, thanks",
            payload="csat:yes",
            reply_to="555000111:57",
            provider_type="callback_query",
        ),
        # Bot API: "after the user presses a callback button, Telegram clients will
        # display a progress bar until you call answerCallbackQuery".
        ButtonTapToAnswer(query_id="2386578920472153601"),
    ]


def test_it_stamps_a_button_tap_with_its_arrival_time_in_utc():
    before = datetime.now(UTC)
    event, _ = parsed("callback_query.json")
    assert before <= event.sent_at <= datetime.now(UTC)
    assert event.sent_at.tzinfo is UTC


def test_it_keeps_a_button_tap_whose_message_is_too_old_to_carry_the_label():
    update = json.loads(fixture("callback_query.json"))
    # Telegram then sends an InaccessibleMessage: chat, message_id and date 0 only.
    update["callback_query"]["message"] = {
        "chat": update["callback_query"]["message"]["chat"],
        "message_id": 57,
        "date": 0,
    }
    event, answer = parse(request=request(json.dumps(update).encode()))
    # No label to show: the button's data is what the customer chose.
    assert (event.type, event.payload, event.text) == (
        ContentType.INTERACTIVE,
        "csat:yes",
        "csat:yes",
    )
    assert answer == ButtonTapToAnswer(query_id="2386578920472153601")


def test_it_carries_a_button_tap_without_its_message_from_the_customer():
    # Bot API CallbackQuery: "message: Optional" (absent for inline-mode buttons, which
    # carry inline_message_id); the tapper is `from`.
    update = json.loads(fixture("callback_query.json"))
    del update["callback_query"]["message"]
    update["callback_query"]["inline_message_id"] = "AAAAAGxJ"
    event, answer = parse(request=request(json.dumps(update).encode()))
    assert (event.sender, event.type, event.text, event.payload, event.reply_to) == (
        JANE,
        ContentType.INTERACTIVE,
        "csat:yes",
        "csat:yes",
        "",
    )
    assert answer == ButtonTapToAnswer(query_id="2386578920472153601")


def test_it_parses_a_reaction():
    assert parsed("message_reaction.json") == [
        InboundMessage(
            provider_message_id="reaction:100000020",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 33, 20, tzinfo=UTC),
            type=ContentType.REACTION,
            reaction_emoji="❤",
            reacted_to="555000111:57",
            provider_type="reaction",
        )
    ]


def test_it_parses_a_removed_reaction_as_an_empty_emoji():
    assert parsed("message_reaction_removed.json") == [
        InboundMessage(
            provider_message_id="reaction:100000021",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 34, 20, tzinfo=UTC),
            type=ContentType.REACTION,
            reaction_emoji="",
            reacted_to="555000111:57",
            provider_type="reaction",
        )
    ]


def test_it_keeps_a_custom_emoji_reaction_as_unsupported():
    assert parsed("message_reaction_custom_emoji.json") == [
        InboundMessage(
            provider_message_id="reaction:100000023",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 36, 20, tzinfo=UTC),
            type=ContentType.UNSUPPORTED,
            reacted_to="555000111:57",
            provider_type="reaction.custom_emoji",
        )
    ]


def test_it_carries_an_edited_message_as_an_edit_of_the_original():
    # Bot API, Update.edited_message: a Message with edit_date (Unix seconds).
    assert parsed("edited_message.json") == [
        InboundMessage(
            provider_message_id="edit:100000016:555000111:41",
            sender=JANE,
            sent_at=datetime(2024, 6, 10, 6, 28, 20, tzinfo=UTC),
            type=ContentType.TEXT,
            text="Hi, where is my order #1043?",
            provider_type="edited_message",
            edits="555000111:41",
        )
    ]


# --- updates we do not relay ---------------------------------------------------------


def test_it_ignores_a_message_in_a_group():
    assert parsed("group_message.json") == []


def test_it_ignores_a_channel_post():
    assert parsed("channel_post.json") == []


def test_it_ignores_the_user_blocking_the_bot():
    assert parsed("my_chat_member.json") == []


def test_it_ignores_an_update_kind_it_does_not_know():
    body = b'{"update_id": 100000099, "some_future_update": {"id": 1}}'
    assert parse(request=request(body)) == []


# --- malformed bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"update_id=1", id="form-encoded"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"message": {}}', id="no-update-id"),
        pytest.param(b'{"update_id": "1", "message": {}}', id="update-id-not-int"),
        pytest.param(b'{"update_id": 1, "message": "hi"}', id="message-not-object"),
        pytest.param(b'{"update_id": 1, "message": {"message_id": 1}}', id="no-chat"),
    ],
)
def test_it_rejects_a_body_telegram_would_not_send(body):
    with pytest.raises(MalformedPayload):
        parse(request=request(body))


def test_it_rejects_a_private_message_without_a_sender():
    update = json.loads(fixture("text.json"))
    del update["message"]["from"]
    with pytest.raises(MalformedPayload):
        parse(request=request(json.dumps(update).encode()))


def test_it_rejects_a_message_whose_date_is_not_a_unix_time():
    update = json.loads(fixture("text.json"))
    update["message"]["date"] = "2024-06-10T06:13:20Z"
    with pytest.raises(MalformedPayload):
        parse(request=request(json.dumps(update).encode()))


def test_it_rejects_a_photo_without_sizes():
    update = json.loads(fixture("photo.json"))
    update["message"]["photo"] = []
    with pytest.raises(MalformedPayload):
        parse(request=request(json.dumps(update).encode()))


# --- credentials ---------------------------------------------------------------------


def test_it_round_trips_credentials_through_a_dict():
    assert Credentials.from_dict(CREDENTIALS.to_dict()) == CREDENTIALS


def test_it_names_a_missing_credentials_field():
    data = CREDENTIALS.to_dict()
    del data["secret_token"]
    with pytest.raises(ValueError, match="secret_token"):
        Credentials.from_dict(data)


def test_it_rejects_a_secret_token_set_webhook_would_refuse():
    with pytest.raises(ValueError, match="secret_token"):
        Credentials.from_dict({**CREDENTIALS.to_dict(), "secret_token": "has spaces!"})


def test_it_keeps_the_bot_id_as_text_when_get_me_gave_a_number():
    credentials = Credentials.from_dict({**CREDENTIALS.to_dict(), "bot_id": 7000000001})
    assert credentials.bot_id == "7000000001"


def test_it_keeps_secrets_out_of_the_repr():
    shown = repr(CREDENTIALS)
    assert CREDENTIALS.bot_token not in shown
    assert SECRET not in shown


# --- the Update as typed models --------------------------------------------------------


def _text_update(**message_changes) -> bytes:
    update = json.loads(fixture("text.json"))
    update["message"].update(message_changes)
    return json.dumps(update).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"from": {"id": "555000111", "first_name": "Jane"}}, "message.from.id is not an integer"),
        ({"chat": {"id": 1, "type": 7}}, "message.chat.type is not a string"),
        ({"text": None}, "message.text is not a string"),
        ({"reply_to_message": {"message_id": True}}, "message.reply_to_message.message_id"),
        ({"photo": [{"file_id": "f", "width": 1, "height": "2"}]}, "message.photo.0.height"),
        ({"location": {"latitude": True, "longitude": 1}}, "message.location.latitude"),
    ],
)
def test_it_names_where_a_field_is_not_as_telegram_documents_it(change, reason):
    """Types from https://core.telegram.org/bots/api#message (Message, User, Chat,
    PhotoSize, Location): a wrong type deep in the update is refused with its path."""
    with pytest.raises(MalformedPayload, match=reason.replace(".", r"\.")):
        parse(request=request(_text_update(**change)))


def test_it_reads_a_null_optional_field_as_empty():
    """User.last_name and User.username are optional (https://core.telegram.org/bots/api#user)."""
    update = json.loads(fixture("text.json"))
    update["message"]["from"].update(last_name=None, username=None)
    [event] = parse(request=request(json.dumps(update).encode()))
    assert event.sender == Sender(external_id="555000111", name="Jane")


def test_it_ignores_fields_it_does_not_read():
    """Telegram adds fields to Update and Message without notice."""
    update = json.loads(fixture("text.json"))
    update["business_connection"] = {"id": "x"}
    update["message"]["is_from_offline"] = {"new": [1, 2]}
    update["message"]["from"]["is_premium"] = "yes"
    assert parse(request=request(json.dumps(update).encode())) == parsed("text.json")


def test_it_ignores_a_group_message_without_a_sender():
    """Message.from "may be empty for messages sent to channels"; a chat that is not
    private is never relayed, so its sender is not asked for."""
    update = json.loads(fixture("group_message.json"))
    del update["message"]["from"]
    assert parse(request=request(json.dumps(update).encode())) == []


def test_it_ignores_an_anonymous_reaction_in_a_group():
    """MessageReactionUpdated.user is absent "if the user is anonymous"
    (https://core.telegram.org/bots/api#messagereactionupdated)."""
    update = json.loads(fixture("message_reaction.json"))
    update["message_reaction"]["chat"] = {"id": -100123, "type": "supergroup", "title": "G"}
    del update["message_reaction"]["user"]
    assert parse(request=request(json.dumps(update).encode())) == []
