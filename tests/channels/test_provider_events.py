"""Provider events from issue 13, posted signed through the real webhook endpoint: a
Messenger read watermark, a Telegram edit and button tap, a WhatsApp "unsupported"
message. Each payload's shape is traced to the provider's documentation."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
from django.conf import settings
from django.core.management import call_command

from channels.models import Contact, Direction, Message, MessageStatus
from relay.content import inbox_content

from .conftest import BOT_SECRET
from .test_webhook_view import make_channel

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "meta-app-secret"
PSID = "7423051946112835"
PAGE_ID = "108526731234567"
# read.watermark in the fixture (Unix milliseconds).
WATERMARK = datetime(2024, 6, 10, 9, 39, 5, 178000, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def messenger(workspace):
    return make_channel(
        workspace,
        "messenger",
        {
            "page_id": PAGE_ID,
            "page_access_token": "page-token",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
        },
        PAGE_ID,
    )


@pytest.fixture
def whatsapp(workspace):
    return make_channel(
        workspace,
        "whatsapp",
        {
            "phone_number_id": "106540352242922",
            "waba_id": "102290129340398",
            "access_token": "wa-token",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
        },
        "106540352242922",
    )


@pytest.fixture
def no_outbound_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert not mock.calls


def post_meta(client, channel, body: bytes):
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        f"/hooks/{channel.kind}/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )


def outbound(contact, mid, *, status, sent_at):
    return Message.objects.create(
        channel=contact.channel,
        contact=contact,
        direction=Direction.OUTBOUND,
        provider_message_id=mid,
        type="text",
        text=mid,
        status=status,
        sent_at=sent_at,
    )


# ---- point 2: Messenger read watermark --------------------------------------------------


def test_it_marks_read_what_was_sent_up_to_the_messenger_read_watermark(
    client, messenger, no_outbound_http
):
    """Payload: Meta's "message_reads Webhook Event Reference" (developers.facebook.com/
    documentation/business-messaging/messenger-platform/webhooks/webhook-events/
    message-reads): ``sender.id`` PSID, ``recipient.id`` Page, ``timestamp`` and
    ``read.watermark`` in Unix ms — "all messages that were sent before or at this
    timestamp were read". No mids: the watermark alone says which."""
    jane = Contact.objects.create(channel=messenger, external_id=PSID)
    other = Contact.objects.create(channel=messenger, external_id="999")
    before = WATERMARK - timedelta(minutes=1)
    outbound(jane, "m.sent", status=MessageStatus.SENT, sent_at=before)
    outbound(jane, "m.delivered", status=MessageStatus.DELIVERED, sent_at=before)
    outbound(jane, "m.at", status=MessageStatus.SENT, sent_at=WATERMARK)
    outbound(jane, "m.failed", status=MessageStatus.FAILED, sent_at=before)
    outbound(jane, "m.pending", status=MessageStatus.PENDING, sent_at=None)
    outbound(jane, "m.later", status=MessageStatus.SENT, sent_at=WATERMARK + timedelta(seconds=1))
    outbound(other, "m.other", status=MessageStatus.SENT, sent_at=before)

    response = post_meta(client, messenger, fixture("messenger_read.json"))

    assert response.status_code == 200
    statuses = dict(
        Message.objects.filter(direction=Direction.OUTBOUND).values_list(
            "provider_message_id", "status"
        )
    )
    assert statuses == {
        "m.sent": MessageStatus.READ,
        "m.delivered": MessageStatus.READ,
        "m.at": MessageStatus.READ,
        "m.failed": MessageStatus.FAILED,
        "m.pending": MessageStatus.PENDING,
        "m.later": MessageStatus.SENT,
        "m.other": MessageStatus.SENT,
    }
    assert not Message.objects.filter(direction=Direction.INBOUND).exists()


def test_a_messenger_read_watermark_touches_only_its_own_channel(client, messenger, cast):
    """The same PSID on another Page (another account's channel) is another person's
    thread: a read on this Page never marks messages there."""
    elsewhere = make_channel(
        cast.other_workspace,
        "messenger",
        {
            "page_id": "2",
            "page_access_token": "t",
            "app_secret": "other-secret",
            "verify_token": "v",
        },
        "2",
    )
    theirs = Contact.objects.create(channel=elsewhere, external_id=PSID)
    message = outbound(
        theirs, "m.theirs", status=MessageStatus.SENT, sent_at=WATERMARK - timedelta(hours=1)
    )

    assert post_meta(client, messenger, fixture("messenger_read.json")).status_code == 200

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_messenger_read_without_a_watermark_is_a_400(client, messenger):
    body = json.loads(fixture("messenger_read.json"))
    del body["entry"][0]["messaging"][0]["read"]["watermark"]
    assert post_meta(client, messenger, json.dumps(body).encode()).status_code == 400


def test_a_messenger_delivery_naming_no_message_marks_delivered_up_to_its_watermark(
    client, messenger, no_outbound_http
):
    """Meta's "message_deliveries Webhook Event Reference": ``delivery.mids`` may be
    absent, and ``delivery.watermark`` (Unix ms) says "all messages that were sent before
    this timestamp were delivered". As a read does for Read, it moves every earlier sent
    message to Delivered — and never a read one back."""
    body = json.loads(fixture("messenger_read.json"))
    event = body["entry"][0]["messaging"][0]
    event["delivery"] = event.pop("read")
    jane = Contact.objects.create(channel=messenger, external_id=PSID)
    before = WATERMARK - timedelta(minutes=1)
    outbound(jane, "m.sent", status=MessageStatus.SENT, sent_at=before)
    outbound(jane, "m.read", status=MessageStatus.READ, sent_at=before)
    outbound(jane, "m.failed", status=MessageStatus.FAILED, sent_at=before)
    outbound(jane, "m.later", status=MessageStatus.SENT, sent_at=WATERMARK + timedelta(seconds=1))

    assert post_meta(client, messenger, json.dumps(body).encode()).status_code == 200

    assert dict(Message.objects.values_list("provider_message_id", "status")) == {
        "m.sent": MessageStatus.DELIVERED,
        "m.read": MessageStatus.READ,
        "m.failed": MessageStatus.FAILED,
        "m.later": MessageStatus.SENT,
    }


# ---- point 5: WhatsApp "unsupported" keeps Meta's explanation ----------------------------


def test_a_whatsapp_unsupported_message_shows_metas_explanation_to_the_agent(
    client, whatsapp, no_outbound_http
):
    """Payload: Meta's WhatsApp Cloud API webhooks reference, "messages" field, message
    type ``unsupported`` (developers.facebook.com/docs/whatsapp/cloud-api/webhooks/
    payload-examples#unknown-messages, and reference/messages: ``errors[]`` with
    ``code`` 131051, ``title``, ``message`` and ``error_data.details``)."""
    response = post_meta(client, whatsapp, fixture("whatsapp_unsupported.json"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.type == "unsupported"
    body, attachments = inbox_content(message)
    assert body == (
        "[The customer sent an unsupported message, which cannot be shown here. The provider "
        "says: Message type unknown: Message type is currently not supported.]"
    )
    assert attachments == ()


@pytest.mark.parametrize(
    ("provider_type", "sentence"),
    [
        ("order", "an order message"),
        ("poll", "a poll message"),
        ("interactive.nfm_reply", "an interactive.nfm_reply message"),
        ("", "a message"),
    ],
)
def test_every_unsupported_sentence_has_the_right_article(contact, provider_type, sentence):
    message = Message.objects.create(
        channel=contact.channel,
        contact=contact,
        direction=Direction.INBOUND,
        provider_message_id="x",
        type="unsupported",
        data={"provider_type": provider_type} if provider_type else {},
        status=MessageStatus.RECEIVED,
    )
    body, _ = inbox_content(message)
    assert body == f"[The customer sent {sentence}, which cannot be shown here.]"


def test_an_unsent_message_is_named_for_the_agent_by_what_it_said(contact):
    """Instagram's ``is_deleted`` and LINE's ``unsend`` name the message taken back
    (docs/channels/instagram.md, docs/channels/line.md): the agent reads which one."""
    inbound = {"channel": contact.channel, "contact": contact, "direction": Direction.INBOUND}
    Message.objects.create(
        **inbound,
        provider_message_id="m-1",
        type="text",
        text="my card is 4242…",
        status=MessageStatus.RELAYED,
    )
    unsent = Message.objects.create(
        **inbound,
        provider_message_id="unsend:m-1",
        type="unsupported",
        data={"provider_type": "unsend", "reply_to": "m-1", "provider_note": "taken back"},
        status=MessageStatus.RECEIVED,
    )
    assert inbox_content(unsent) == ("[The customer unsent a message: my card is 4242…]", ())
    unsent.data["reply_to"] = "m-unknown"
    assert inbox_content(unsent) == ("[The customer unsent a message]", ())


# ---- point 3: Telegram edits -------------------------------------------------------------


def post_telegram(client, channel, body: bytes):
    return client.post(
        f"/hooks/telegram/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": BOT_SECRET},
    )


def test_a_telegram_edit_reaches_the_agent_as_a_marked_edit_once(
    client, telegram, no_outbound_http
):
    """Payload: Telegram Bot API reference (core.telegram.org/bots/api#update):
    ``Update.edited_message`` is "new version of a message that is known to the bot and
    was edited", a ``Message`` with the same ``message_id`` and chat and an
    ``edit_date`` (Unix seconds). Telegram retries a webhook it got no 2xx for, with
    the same ``update_id``."""
    assert post_telegram(client, telegram, fixture("telegram_text.json")).status_code == 200
    for _ in range(2):  # the second is Telegram's retry of the same update
        assert (
            post_telegram(client, telegram, fixture("telegram_edited_message.json")).status_code
            == 200
        )

    original, edit = Message.objects.order_by("pk")
    assert Message.objects.count() == 2
    assert edit.contact == original.contact
    assert edit.data["edits"] == original.provider_message_id == "555000111:41"
    body, _ = inbox_content(edit)
    assert body == ("✏️ Edited: Hi, where is my order #1043?\n(was: Hi, where is my order #1042?)")


def test_a_moved_live_location_is_not_carried_as_an_edit(client, telegram):
    """Bot API: live locations are updated by editing the message (``edited_message``
    with a ``location``); there are no new words for the agent."""
    update = json.loads(fixture("telegram_edited_message.json"))
    del update["edited_message"]["text"]
    update["edited_message"]["location"] = {"latitude": 52.5, "longitude": 13.4}
    response = post_telegram(client, telegram, json.dumps(update).encode())
    assert response.status_code == 200
    assert not Message.objects.exists()


# ---- point 3: Telegram button taps -------------------------------------------------------

ANSWER_URL = f"{settings.TELEGRAM_API_URL}/bot123:abc/answerCallbackQuery"


@pytest.fixture
def woken(monkeypatch):
    """The contacts the relay is woken for (the relay itself is tested elsewhere)."""
    calls: list[list[int]] = []
    monkeypatch.setattr("channels.services.relay_wake", calls.append)
    return calls


def test_a_telegram_button_tap_is_carried_and_answered(
    client, telegram, woken, django_capture_on_commit_callbacks
):
    """Payload: Telegram Bot API reference, ``Update.callback_query`` → ``CallbackQuery``
    (core.telegram.org/bots/api#callbackquery): ``id``, ``from``, ``message`` (the
    bot's message with the inline keyboard), ``chat_instance``, ``data``. "After the
    user presses a callback button, Telegram clients will display a progress bar until
    you call answerCallbackQuery" (#answercallbackquery: ``callback_query_id``)."""
    with responses.RequestsMock() as telegram_api:
        telegram_api.post(
            ANSWER_URL,
            json={"ok": True, "result": True},
            match=[
                responses.matchers.json_params_matcher({"callback_query_id": "2386578920472153601"})
            ],
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = post_telegram(client, telegram, fixture("telegram_callback_query.json"))
        assert response.status_code == 200
        assert len(telegram_api.calls) == 1

    tap = Message.objects.get()
    assert (tap.type, tap.text, tap.data["payload"]) == ("interactive", "Yes, thanks", "csat:yes")
    assert woken == [[tap.contact_id]]
    assert inbox_content(tap) == ("Yes, thanks", ())


def test_a_telegram_button_tap_without_its_message_is_carried_as_its_data(
    client, telegram, woken, django_capture_on_commit_callbacks
):
    """Bot API CallbackQuery: ``message`` is optional ("will not be available if the
    message is too old"; inline-mode buttons carry ``inline_message_id`` instead);
    ``from`` is always the user who tapped."""
    update = json.loads(fixture("telegram_callback_query.json"))
    del update["callback_query"]["message"]
    update["callback_query"]["inline_message_id"] = "AAAAAGxJ"
    with responses.RequestsMock() as telegram_api:
        telegram_api.post(ANSWER_URL, json={"ok": True, "result": True})
        with django_capture_on_commit_callbacks(execute=True):
            response = post_telegram(client, telegram, json.dumps(update).encode())
        assert response.status_code == 200
        assert len(telegram_api.calls) == 1

    tap = Message.objects.get()
    assert (tap.contact.external_id, tap.type, tap.text) == ("555000111", "interactive", "csat:yes")


def test_a_failed_answer_is_logged_and_the_tap_kept(
    client, telegram, woken, django_capture_on_commit_callbacks, caplog
):
    """answerCallbackQuery refused (Bot API error body ``{"ok": false, "error_code",
    "description"}``, e.g. a query answered too late): the tap is already stored."""
    with responses.RequestsMock() as telegram_api:
        telegram_api.post(
            ANSWER_URL,
            status=400,
            json={
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: query is too old and response timeout expired "
                "or query ID is invalid",
            },
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = post_telegram(client, telegram, fixture("telegram_callback_query.json"))

    assert response.status_code == 200
    assert Message.objects.get().text == "Yes, thanks"
    assert "button tap 2386578920472153601 not answered" in caplog.text
    assert "query is too old" in caplog.text


def test_reregistering_subscribes_an_existing_bot_to_edits(telegram, messenger, capsys):
    """Bot API setWebhook (core.telegram.org/bots/api#setwebhook): ``allowed_updates``
    replaces the list a bot had, so a bot added before edits were read needs it again.
    Messenger's callback is pasted by hand and is left alone."""
    with responses.RequestsMock() as telegram_api:
        telegram_api.post(
            f"{settings.TELEGRAM_API_URL}/bot123:abc/setWebhook",
            json={"ok": True, "result": True, "description": "Webhook was set"},
            match=[
                responses.matchers.json_params_matcher(
                    {
                        "url": f"{settings.PUBLIC_BASE_URL}/hooks/telegram/{telegram.webhook_key}/",
                        "secret_token": BOT_SECRET,
                        "allowed_updates": [
                            "message",
                            "edited_message",
                            "callback_query",
                            "message_reaction",
                        ],
                    }
                )
            ],
        )
        call_command("webhooks_reregister")
    out = capsys.readouterr().out
    assert f"channel {telegram.pk} (telegram): registered" in out
    assert f"channel {messenger.pk}" not in out
    telegram.refresh_from_db()
    assert telegram.webhook_registered_at is not None


def test_reregistering_reports_a_refusal_and_goes_on(telegram, capsys):
    with responses.RequestsMock() as telegram_api:
        telegram_api.post(
            f"{settings.TELEGRAM_API_URL}/bot123:abc/setWebhook",
            status=401,
            json={"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        call_command("webhooks_reregister", kind="telegram")
    err = capsys.readouterr().err
    assert f"channel {telegram.pk} (telegram):" in err
    assert "1 channel(s) could not be registered" in err
