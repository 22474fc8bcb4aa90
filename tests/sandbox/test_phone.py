"""The customer phone: the webhooks it sends are judged by the product's own verifiers and
parsers, so the sandbox and Octopods are proven to agree on every shape and signature."""

import json
from urllib.parse import urlsplit

import pytest
import requests
import responses
from twilio.request_validator import RequestValidator

from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    WebhookRejected,
)
from integrations.messenger import webhooks as messenger_hooks
from integrations.messenger.credentials import Credentials as MessengerCredentials
from integrations.telegram import webhooks as telegram_hooks
from integrations.telegram.credentials import Credentials as TelegramCredentials
from integrations.twilio import webhooks as twilio_hooks
from integrations.twilio.credentials import Credentials as TwilioCredentials
from integrations.whatsapp import webhooks as whatsapp_hooks
from integrations.whatsapp.credentials import Credentials as WhatsAppCredentials
from sandbox import media
from sandbox.kinds import KINDS
from sandbox.models import Conversation, Message
from tests.sandbox.support import (
    ACCOUNT,
    APP_SECRET,
    BASE,
    BOT,
    GRAPH,
    HOOKS,
    NUMBER,
    PAGE,
    SECRET_TOKEN,
    SMS_NUMBER,
    SPRING_SALE_SEND,
    TELEGRAM,
    TWILIO,
    VERIFY_TOKEN,
    basic,
    bearer,
    body_bytes,
    mock_handshake,
    post_json,
    register_messenger,
    register_telegram,
    register_twilio,
    register_whatsapp,
    tg,
    webhook_request,
)

pytestmark = pytest.mark.django_db

TELEGRAM_CREDENTIALS = TelegramCredentials(
    bot_token=BOT.token, secret_token=SECRET_TOKEN, bot_id=str(BOT.id), bot_username=BOT.username
)
WHATSAPP_CREDENTIALS = WhatsAppCredentials(
    phone_number_id=NUMBER.phone_number_id,
    waba_id=NUMBER.waba_id,
    access_token=NUMBER.access_token,
    app_secret=APP_SECRET,
    verify_token=VERIFY_TOKEN,
)
MESSENGER_CREDENTIALS = MessengerCredentials(
    page_id=PAGE.page_id,
    page_access_token=PAGE.page_access_token,
    app_secret=APP_SECRET,
    verify_token=VERIFY_TOKEN,
)
TWILIO_CREDENTIALS = TwilioCredentials(
    account_sid=ACCOUNT.account_sid,
    auth_token=ACCOUNT.auth_token,
    phone_number=SMS_NUMBER.phone_number,
)
ENDPOINTS = {
    "telegram": f"telegram:{BOT.id}",
    "whatsapp": f"whatsapp:{NUMBER.phone_number_id}",
    "messenger": f"messenger:{PAGE.page_id}",
    "sms": f"twilio:{SMS_NUMBER.sid}",
}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def hook(mocked, kind: str, status: int = 200, body: str = "") -> None:
    mocked.add(responses.POST, HOOKS[kind], status=status, body=body)


def posts(mocked) -> list:
    return [call.request for call in mocked.calls if call.request.method == "POST"]


def open_chat(client, kind: str, **data) -> Conversation:
    response = client.post("/sandbox/phone/", {"endpoint": ENDPOINTS[kind], **data})
    assert response.status_code == 302, response.content
    return Conversation.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))


def say(client, chat: Conversation, **data) -> str:
    response = client.post(f"/sandbox/phone/{chat.pk}/send", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def receipts(client, chat: Conversation, state: str) -> str:
    response = client.post(f"/sandbox/phone/{chat.pk}/receipts", {"state": state}, follow=True)
    return response.content.decode()


def only_message(events) -> InboundMessage:
    [event] = events
    assert isinstance(event, InboundMessage)
    return event


def local(url: str) -> str:
    """A URL on the sandbox host as a path the test client can GET."""
    assert url.startswith(BASE)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


# --- the pages ------------------------------------------------------------------------


def test_it_lists_every_endpoint_and_says_what_to_do_before_it_is_usable(client):
    response = client.get("/sandbox/phone/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Customer phone" in html
    assert "Local stand-in" in html
    assert "@acme_support_bot" in html and NUMBER.display_phone_number in html
    assert "Add it as a Telegram channel in Octopods" in html
    assert "has not subscribed the app" in html
    assert "has no SmsUrl" in html
    assert "No bot, number or Page has a webhook yet" in html
    assert "<script" not in html and "style=" not in html


def test_it_offers_only_endpoints_with_a_webhook(client):
    register_telegram(client)
    html = client.get("/sandbox/phone/").content.decode()
    assert f'<option value="{ENDPOINTS["telegram"]}">' in html
    assert f'<option value="{ENDPOINTS["sms"]}">' not in html
    assert "csrfmiddlewaretoken" in html


def test_it_refuses_to_open_a_conversation_with_an_endpoint_that_has_no_webhook(client):
    response = client.post("/sandbox/phone/", {"endpoint": ENDPOINTS["sms"]}, follow=True)
    assert "has no SmsUrl" in response.content.decode()
    assert not Conversation.objects.exists()


def test_every_default_customer_is_a_person_of_their_own():
    """The phone's default customers: none shares another's name or number (Pat, on SMS,
    once had Kerry's WhatsApp number and showed up in the inbox as Kerry)."""
    from sandbox.customer import CUSTOMER_DEFAULTS, customer_id

    names = [name for name, _ in CUSTOMER_DEFAULTS.values()]
    numbers = [customer_id(kind, "").lstrip("+") for kind in CUSTOMER_DEFAULTS]
    assert len(set(names)) == len(names) == len(KINDS)
    assert len(set(numbers)) == len(numbers) == len(KINDS)


def test_it_opens_a_conversation_with_default_or_typed_customers(client):
    register_twilio(client)
    default = open_chat(client, "sms")
    assert (default.customer_name, default.customer_id) == ("Pat Jones", "+15557654321")
    typed = open_chat(client, "sms", name="Ann  Lee", customer_id="+44 7700 900123")
    assert (typed.customer_name, typed.customer_id) == ("Ann Lee", "+447700900123")
    assert open_chat(client, "sms", name="Ann Lee", customer_id="+447700900123") == typed


def test_it_explains_a_bad_customer_id(client):
    register_telegram(client)
    response = client.post(
        "/sandbox/phone/", {"endpoint": ENDPOINTS["telegram"], "customer_id": "@jane"}, follow=True
    )
    assert "Telegram user id" in response.content.decode()
    assert not Conversation.objects.exists()


def test_it_shows_the_conversation_page_marked_as_the_sandbox(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(client, chat, what="text", text="Hello?")
    html = client.get(f"/sandbox/phone/{chat.pk}/").content.decode()
    assert "Sandbox Telegram" in html
    assert "not the real Telegram" in html
    assert "Hello?" in html
    assert "Delivered to your webhook (200)." in html
    assert "Telegram tells bots nothing about delivery" in html
    assert "<script" not in html and "style=" not in html
    assert html.count("csrfmiddlewaretoken") >= 3


# --- Telegram -------------------------------------------------------------------------


def telegram_events(mocked):
    [request] = posts(mocked)
    assert request.url == HOOKS["telegram"]
    hook_request = webhook_request(request)
    telegram_hooks.verify(credentials=TELEGRAM_CREDENTIALS, request=hook_request)
    return telegram_hooks.parse(request=hook_request)


def test_it_sends_telegram_text_the_product_verifies_and_parses(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    html = say(client, chat, what="text", text="Where is my order?")
    assert "Delivered to your webhook (200)." in html
    message = only_message(telegram_events(mocked))
    assert message.type == ContentType.TEXT
    assert message.text == "Where is my order?"
    assert message.sender.external_id == "555000111"
    assert message.sender.name == "Jane Doe"
    assert message.provider_message_id == "555000111:1"
    request = posts(mocked)[0]
    assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET_TOKEN
    chat.refresh_from_db()
    assert chat.last_customer_message_at is not None


def test_it_is_refused_by_the_product_under_another_secret(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    say(client, open_chat(client, "telegram"), what="text", text="hi")
    other = TelegramCredentials(
        bot_token=BOT.token, secret_token="other", bot_id=str(BOT.id), bot_username=BOT.username
    )
    with pytest.raises(WebhookRejected):
        telegram_hooks.verify(credentials=other, request=webhook_request(posts(mocked)[0]))


def test_it_sends_a_telegram_photo_the_product_can_fetch_through_get_file(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    say(client, open_chat(client, "telegram"), what="image", caption="The receipt")
    message = only_message(telegram_events(mocked))
    assert message.type == ContentType.IMAGE
    assert message.text == "The receipt"
    file = tg(client, "getFile", {"file_id": message.media.ref}).json()["result"]
    download = client.get(f"{TELEGRAM}/file/bot{BOT.token}/{file['file_path']}")
    assert download.content == media.photo()


def test_it_sends_a_telegram_location_and_a_named_place_as_a_venue(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(
        client,
        chat,
        what="location",
        latitude="52.52",
        longitude="13.405",
        place_name="Office",
        address="Main St 1",
    )
    message = only_message(telegram_events(mocked))
    assert message.type == ContentType.LOCATION
    assert (message.location.latitude, message.location.longitude) == (52.52, 13.405)
    assert (message.location.name, message.location.address) == ("Office", "Main St 1")


def test_it_does_not_send_what_allowed_updates_leave_out(client, mocked):
    register_telegram(client, allowed_updates=["callback_query"])
    chat = open_chat(client, "telegram")
    html = say(client, chat, what="text", text="hi")
    assert "allowed_updates leave out" in html
    assert not mocked.calls


def test_it_sends_a_telegram_edit_the_product_carries_as_an_edit(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(client, chat, what="text", text="order #1042")
    sent = chat.messages.get()
    page = client.get(f"/sandbox/phone/{chat.pk}/").content.decode()
    assert "Edit the message" in page
    mocked.calls.reset()
    response = client.post(
        f"/sandbox/phone/{chat.pk}/edit", {"message": sent.pk, "text": "order #1043"}, follow=True
    )
    assert "Delivered to your webhook (200)." in response.content.decode()
    edit = only_message(telegram_events(mocked))
    assert (edit.text, edit.edits, edit.provider_message_id.startswith("edit:")) == (
        "order #1043",
        "555000111:1",
        True,
    )
    sent.refresh_from_db()
    assert sent.text == "order #1043"


def test_it_sends_a_telegram_button_tap_and_answers_answer_callback_query(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    response = client.post(f"/sandbox/phone/{chat.pk}/tap", {"label": "Yes, thanks"}, follow=True)
    assert "Delivered to your webhook (200)." in response.content.decode()
    # The bot has sent nothing yet: an inline-mode button, without a message.
    tap, answer = telegram_events(mocked)
    assert (tap.type, tap.text, tap.payload, tap.reply_to) == (
        ContentType.INTERACTIVE,
        "yes_thanks",
        "yes_thanks",
        "",
    )
    answered = tg(client, "answerCallbackQuery", {"callback_query_id": answer.query_id})
    assert answered.json() == {"ok": True, "result": True}


def test_the_phone_shows_the_tap_and_whether_the_bot_answered_it(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(client, chat, what="text", text="Is it shipped?")
    mocked.calls.reset()
    html = client.post(
        f"/sandbox/phone/{chat.pk}/tap", {"label": "Yes, thanks"}, follow=True
    ).content.decode()
    assert "Tapped the button “Yes, thanks”." in html
    assert "The bot has not answered the tap yet" in html
    # A tap is not a text the customer can edit: the one text is all the edit offers.
    assert html.count("<option value=") == 1
    _, answer = telegram_events(mocked)
    tg(client, "answerCallbackQuery", {"callback_query_id": answer.query_id})
    html = client.get(f"/sandbox/phone/{chat.pk}/").content.decode()
    assert "The bot answered the tap (answerCallbackQuery)." in html
    assert "has not answered" not in html


def test_a_telegram_tap_under_the_bots_message_carries_the_buttons_label(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    sent = tg(client, "sendMessage", {"chat_id": 555000111, "text": "Solved?"}).json()
    assert sent["ok"] is True
    client.post(f"/sandbox/phone/{chat.pk}/tap", {"label": "Yes, thanks"})
    tap, _ = telegram_events(mocked)
    assert (tap.text, tap.payload) == ("Yes, thanks", "yes_thanks")
    assert tap.reply_to == f"555000111:{sent['result']['message_id']}"


def test_it_does_not_send_an_edit_allowed_updates_leave_out(client, mocked):
    register_telegram(client, allowed_updates=["message"])
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(client, chat, what="text", text="hi")
    mocked.calls.reset()
    html = client.post(
        f"/sandbox/phone/{chat.pk}/edit",
        {"message": chat.messages.get().pk, "text": "hello"},
        follow=True,
    ).content.decode()
    assert "allowed_updates leave out “edited_message”" in html
    assert not mocked.calls


def test_it_shows_what_the_webhook_answered_and_telegram_reports_it(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram", status=403, body="Bad signature.")
    html = say(client, open_chat(client, "telegram"), what="text", text="hi")
    assert "Your webhook answered 403: Bad signature." in html
    info = tg(client, "getWebhookInfo").json()["result"]
    assert "403" in info["last_error_message"]
    assert isinstance(info["last_error_date"], int)


def test_it_says_when_the_webhook_cannot_be_reached(client, mocked):
    register_telegram(client)
    mocked.add(responses.POST, HOOKS["telegram"], body=requests.ConnectionError("refused"))
    html = say(client, open_chat(client, "telegram"), what="text", text="hi")
    assert "Could not reach your webhook" in html


def test_it_shows_octopods_replies_in_the_conversation(client, mocked):
    register_telegram(client)
    hook(mocked, "telegram")
    chat = open_chat(client, "telegram")
    say(client, chat, what="text", text="hi")
    tg(client, "sendMessage", {"chat_id": chat.customer_id, "text": "Hello from the team"})
    html = client.get(f"/sandbox/phone/{chat.pk}/").content.decode()
    assert "Hello from the team" in html
    assert "To the customer" in html


# --- WhatsApp -------------------------------------------------------------------------


def whatsapp_events(mocked):
    [request] = posts(mocked)
    hook_request = webhook_request(request)
    whatsapp_hooks.verify(credentials=WHATSAPP_CREDENTIALS, request=hook_request)
    return whatsapp_hooks.parse(request=hook_request)


def test_it_registers_whatsapp_through_the_products_own_handshake(client, mocked):
    register_whatsapp(client, mocked)
    [handshake] = mocked.calls
    assert handshake.request.method == "GET"
    assert handshake.response.status_code == 200


def test_it_sends_whatsapp_text_the_product_verifies_and_parses(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    chat = open_chat(client, "whatsapp")
    say(client, chat, what="text", text="Hola 👋")
    message = only_message(whatsapp_events(mocked))
    assert message.type == ContentType.TEXT
    assert message.text == "Hola 👋"
    assert message.sender.external_id == "15551234567"
    assert message.sender.phone == "+15551234567"
    assert message.sender.name == "Kerry Fisher"
    assert message.provider_message_id == chat.messages.get().provider_message_id
    # Meta escapes non-ASCII in the bytes it signs.
    assert b"\\ud83d\\udc4b" in body_bytes(posts(mocked)[0])


def test_it_sends_a_whatsapp_photo_the_product_can_download(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    say(client, open_chat(client, "whatsapp"), what="image", caption="Damaged box")
    message = only_message(whatsapp_events(mocked))
    assert message.type == ContentType.IMAGE
    assert message.text == "Damaged box"
    assert message.media.mime_type == "image/jpeg"
    assert message.media.sha256 == media.photo_sha256_base64()
    token = bearer(NUMBER.access_token)
    url = client.get(f"{GRAPH}/{message.media.ref}", **token).json()["url"]
    assert client.get(local(url), **token).content == media.photo()


def test_it_sends_a_whatsapp_location(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    say(
        client,
        open_chat(client, "whatsapp"),
        what="location",
        latitude="40.74",
        longitude="-73.99",
        place_name="Flatiron",
        address="175 5th Ave",
    )
    message = only_message(whatsapp_events(mocked))
    assert message.type == ContentType.LOCATION
    assert (message.location.latitude, message.location.longitude) == (40.74, -73.99)
    assert message.location.name == "Flatiron"


def whatsapp_reply(client, chat: Conversation, payload: dict | None = None):
    body = payload or {"type": "text", "text": {"body": "We are on it"}}
    return post_json(
        client,
        f"{GRAPH}/{NUMBER.phone_number_id}/messages",
        {"messaging_product": "whatsapp", "to": chat.customer_id, **body},
        **bearer(NUMBER.access_token),
    )


def test_it_posts_whatsapp_delivered_and_read_statuses_for_the_replies(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    chat = open_chat(client, "whatsapp")
    say(client, chat, what="text", text="hi")
    wamid = whatsapp_reply(client, chat).json()["messages"][0]["id"]
    mocked.calls.reset()
    assert "Delivered to your webhook (200)." in receipts(client, chat, "delivered")
    [status] = whatsapp_events(mocked)
    assert status == DeliveryStatus(
        provider_message_id=wamid, state=DeliveryState.DELIVERED, at=status.at
    )
    mocked.calls.reset()
    receipts(client, chat, "read")
    [status] = whatsapp_events(mocked)
    assert (status.provider_message_id, status.state) == (wamid, DeliveryState.READ)
    assert Message.objects.get(provider_message_id=wamid).status == "read"
    assert "No replies are waiting to be marked read" in receipts(client, chat, "read")


def test_a_template_is_delivered_then_read_like_a_text(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    chat = open_chat(client, "whatsapp")
    template = {key: value for key, value in SPRING_SALE_SEND.items() if key != "to"}
    wamid = whatsapp_reply(client, chat, template).json()["messages"][0]["id"]
    mocked.calls.reset()
    receipts(client, chat, "delivered")
    [status] = whatsapp_events(mocked)
    assert (status.provider_message_id, status.state) == (wamid, DeliveryState.DELIVERED)
    mocked.calls.reset()
    receipts(client, chat, "read")
    [status] = whatsapp_events(mocked)
    assert (status.provider_message_id, status.state) == (wamid, DeliveryState.READ)
    assert Message.objects.get(provider_message_id=wamid).status == "read"


def test_it_closes_the_whatsapp_window_25_hours_later(client, mocked):
    register_whatsapp(client, mocked)
    hook(mocked, "whatsapp")
    chat = open_chat(client, "whatsapp")
    say(client, chat, what="text", text="hi")
    assert whatsapp_reply(client, chat).status_code == 200
    html = client.post(f"/sandbox/phone/{chat.pk}/later", follow=True).content.decode()
    assert "25 hours after the customer&#x27;s last message" in html
    assert "The 24-hour window is closed" in html
    refused = whatsapp_reply(client, chat)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 131047
    template = {
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "header",
                    "parameters": [{"type": "image", "image": {"link": "https://x.example/a.jpg"}}],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Kerry"},
                        {"type": "text", "text": "#7"},
                    ],
                },
            ],
        },
    }
    assert whatsapp_reply(client, chat, template).status_code == 200
    say(client, chat, what="text", text="I'm back")
    assert whatsapp_reply(client, chat).status_code == 200


def test_it_falls_back_to_the_apps_whatsapp_callback_from_the_dashboard(client, mocked):
    client.post(f"{GRAPH}/{NUMBER.waba_id}/subscribed_apps", **bearer(NUMBER.access_token))
    html = client.get("/sandbox/phone/").content.decode()
    assert "No callback URL" in html
    mock_handshake(mocked, HOOKS["whatsapp"])
    client.post(
        "/sandbox/meta/app/",
        {
            "object": "whatsapp_business_account",
            "action": "subscribe",
            "callback_url": HOOKS["whatsapp"],
            "verify_token": VERIFY_TOKEN,
        },
    )
    hook(mocked, "whatsapp")
    mocked.calls.reset()
    say(client, open_chat(client, "whatsapp"), what="text", text="hi")
    assert only_message(whatsapp_events(mocked)).text == "hi"


# --- Messenger ------------------------------------------------------------------------


def messenger_events(mocked):
    [request] = posts(mocked)
    hook_request = webhook_request(request)
    messenger_hooks.verify(credentials=MESSENGER_CREDENTIALS, request=hook_request)
    return messenger_hooks.parse(request=hook_request)


def messenger_ready(client, mocked, **fields):
    register_messenger(client, mocked, **fields)
    hook(mocked, "messenger")
    mocked.calls.reset()
    return open_chat(client, "messenger")


def test_it_sends_messenger_text_the_product_verifies_and_parses(client, mocked):
    chat = messenger_ready(client, mocked)
    say(client, chat, what="text", text="Is the shop open?")
    message = only_message(messenger_events(mocked))
    assert message.type == ContentType.TEXT
    assert message.text == "Is the shop open?"
    assert message.sender.external_id == "7423051946112835"
    assert message.provider_message_id.startswith("m_")


def test_it_sends_a_messenger_picture_with_metas_escaped_slashes(client, mocked):
    chat = messenger_ready(client, mocked)
    say(client, chat, what="image")
    body = body_bytes(posts(mocked)[0])
    assert b"http:\\/\\/" in body
    message = only_message(messenger_events(mocked))
    assert message.type == ContentType.IMAGE
    assert client.get(local(message.media.ref)).content == media.photo()


def test_it_sends_a_messenger_location(client, mocked):
    chat = messenger_ready(client, mocked)
    say(client, chat, what="location", latitude="48.8584", longitude="2.2945", place_name="Tower")
    message = only_message(messenger_events(mocked))
    assert message.type == ContentType.LOCATION
    assert (message.location.latitude, message.location.longitude) == (48.8584, 2.2945)
    assert message.location.name == "Tower"


def messenger_reply(client, chat: Conversation, **extra):
    return post_json(
        client,
        f"{GRAPH}/me/messages",
        {"recipient": {"id": chat.customer_id}, "message": {"text": "Yes, until 6"}, **extra},
        **bearer(PAGE.page_access_token),
    )


def test_it_posts_messenger_deliveries_and_reads(client, mocked):
    chat = messenger_ready(client, mocked)
    say(client, chat, what="text", text="hi")
    mid = messenger_reply(client, chat).json()["message_id"]
    mocked.calls.reset()
    receipts(client, chat, "delivered")
    [status] = messenger_events(mocked)
    assert (status.provider_message_id, status.state) == (mid, DeliveryState.DELIVERED)
    mocked.calls.reset()
    assert "Delivered to your webhook (200)." in receipts(client, chat, "read")
    # A read carries only a watermark: Octopods reads it as "everything sent to this
    # customer up to then".
    [watermark] = messenger_events(mocked)
    read = json.loads(body_bytes(posts(mocked)[0]))["entry"][0]["messaging"][0]
    assert read["read"]["watermark"] >= read["timestamp"] - 1000
    assert watermark.customer_external_id == read["sender"]["id"]
    assert watermark.watermark.timestamp() * 1000 == pytest.approx(read["read"]["watermark"])
    assert Message.objects.get(provider_message_id=mid).status == "read"


def test_it_sends_only_the_fields_the_page_subscribed_to(client, mocked):
    chat = messenger_ready(client, mocked, fields="messages")
    say(client, chat, what="text", text="hi")
    messenger_reply(client, chat)
    mocked.calls.reset()
    html = receipts(client, chat, "delivered")
    assert "has not subscribed the app to “message_deliveries”" in html
    assert not mocked.calls


def test_it_needs_the_dashboard_callback_for_messenger(client):
    client.post(
        f"{GRAPH}/{PAGE.page_id}/subscribed_apps",
        {"subscribed_fields": "messages"},
        **bearer(PAGE.page_access_token),
    )
    html = client.get("/sandbox/phone/").content.decode()
    assert "Paste the callback URL and verify token" in html


def test_it_closes_the_messenger_window_but_lets_human_agent_through(client, mocked):
    chat = messenger_ready(client, mocked)
    say(client, chat, what="text", text="hi")
    client.post(f"/sandbox/phone/{chat.pk}/later")
    refused = messenger_reply(client, chat, messaging_type="RESPONSE")
    assert refused.json()["error"]["error_subcode"] == 2018278
    tagged = messenger_reply(client, chat, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert tagged.status_code == 200


# --- Twilio ---------------------------------------------------------------------------


def twilio_events(request):
    hook_request = webhook_request(request)
    twilio_hooks.verify(credentials=TWILIO_CREDENTIALS, request=hook_request)
    return twilio_hooks.parse(request=hook_request)


def twilio_sdk_accepts(request) -> bool:
    """Twilio's own validator agrees with the signature too."""
    hook_request = webhook_request(request)
    params = {name: values[0] for name, values in hook_request.form.items()}
    signature = request.headers["X-Twilio-Signature"]
    return RequestValidator(ACCOUNT.auth_token).validate(request.url, params, signature)


def test_it_sends_an_sms_the_product_verifies_and_parses(client, mocked):
    register_twilio(client)
    hook(mocked, "sms")
    chat = open_chat(client, "sms")
    say(client, chat, what="text", text="STOP? no, HELP")
    [request] = posts(mocked)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert twilio_sdk_accepts(request)
    message = only_message(twilio_events(request))
    assert message.type == ContentType.TEXT
    assert message.text == "STOP? no, HELP"
    assert message.sender.external_id == "+15557654321"
    assert message.provider_message_id.startswith("SM")


def test_it_sends_an_mms_whose_media_url_serves_the_photo(client, mocked):
    register_twilio(client)
    hook(mocked, "sms")
    say(client, open_chat(client, "sms"), what="image", caption="See this")
    [request] = posts(mocked)
    assert twilio_sdk_accepts(request)
    message = only_message(twilio_events(request))
    assert message.type == ContentType.IMAGE
    assert message.text == "See this"
    assert message.provider_message_id.startswith("MM")
    assert message.media.ref.startswith(f"{BASE}{TWILIO}/Messages/")
    assert client.get(local(message.media.ref), **basic()).content == media.photo()


def test_it_signs_a_get_webhook_over_the_full_url(client, mocked):
    register_twilio(client, method="GET")
    mocked.add(responses.GET, HOOKS["sms"], body="<Response/>")
    say(client, open_chat(client, "sms"), what="text", text="via GET")
    [call] = mocked.calls
    request = webhook_request(call.request)
    twilio_hooks.verify(credentials=TWILIO_CREDENTIALS, request=request)
    assert only_message(twilio_hooks.parse(request=request)).text == "via GET"


def test_it_has_no_location_for_sms(client, mocked):
    register_twilio(client)
    html = say(client, open_chat(client, "sms"), what="location", latitude="1", longitude="2")
    assert "SMS has no location messages" in html
    assert not mocked.calls


def test_it_posts_twilio_status_callbacks_to_the_sends_status_callback(client, mocked):
    register_twilio(client)
    hook(mocked, "sms")
    chat = open_chat(client, "sms")
    say(client, chat, what="text", text="hi")
    sent = client.post(
        f"{TWILIO}/Messages.json",
        {
            "To": chat.customer_id,
            "From": SMS_NUMBER.phone_number,
            "Body": "Hello Pat",
            "StatusCallback": HOOKS["sms"],
        },
        **basic(),
    ).json()
    client.post(
        f"{TWILIO}/Messages.json",
        {"To": chat.customer_id, "From": SMS_NUMBER.phone_number, "Body": "No callback"},
        **basic(),
    )
    mocked.calls.reset()
    html = receipts(client, chat, "delivered")
    assert "its send named no StatusCallback" in html
    requests_made = posts(mocked)
    assert len(requests_made) == 2
    states = []
    for request in requests_made:
        assert twilio_sdk_accepts(request)
        [status] = twilio_events(request)
        assert status.provider_message_id == sent["sid"]
        states.append(status.state)
    assert states == [DeliveryState.SENT, DeliveryState.DELIVERED]
    assert Message.objects.get(provider_message_id=sent["sid"]).status == "delivered"


def test_it_has_no_read_receipts_for_sms(client):
    register_twilio(client)
    chat = open_chat(client, "sms")
    assert "SMS has no read receipts" in receipts(client, chat, "read")


def test_it_validates_what_the_customer_types(client, mocked):
    register_twilio(client)
    chat = open_chat(client, "sms")
    assert "Type a message first." in say(client, chat, what="text", text="  ")
    assert "Choose what to send." in say(client, chat, what="fax")
    assert "A location needs" in say(client, chat, what="location", latitude="x", longitude="1")
    assert (
        "has not written yet"
        in client.post(f"/sandbox/phone/{chat.pk}/later", follow=True).content.decode()
    )
    assert not Message.objects.exists()


def test_it_lists_the_fake_credentials_and_links_on_the_index_page(client):
    html = client.get("/sandbox/").content.decode()
    for credential in (
        BOT.token,
        NUMBER.phone_number_id,
        NUMBER.waba_id,
        NUMBER.access_token,
        APP_SECRET,
        PAGE.page_id,
        PAGE.page_access_token,
        ACCOUNT.account_sid,
        ACCOUNT.auth_token,
        SMS_NUMBER.phone_number,
    ):
        assert credential in html
    assert 'href="/sandbox/phone/"' in html
    assert 'href="/sandbox/meta/app/"' in html
    assert "<script" not in html and "style=" not in html


@pytest.mark.parametrize(
    ("setting", "suffix", "headers"),
    [
        ("TELEGRAM_API_URL", f"/bot{BOT.token}/getMe", {}),
        ("META_GRAPH_API_URL", f"/{NUMBER.phone_number_id}", bearer(NUMBER.access_token)),
        (
            "TWILIO_API_URL",
            f"/2010-04-01/Accounts/{ACCOUNT.account_sid}/IncomingPhoneNumbers.json",
            basic(),
        ),
    ],
)
def test_it_answers_where_the_settings_point_the_product(
    client, settings, setting, suffix, headers
):
    url = getattr(settings, setting) + suffix
    response = client.get(local(url), **headers)
    assert response.status_code == 200, response.content
