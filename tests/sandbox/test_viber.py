"""Viber's stand-in: the REST bot API the product's client calls (answering in Viber's
shapes, refusing as Viber refuses), and the customer phone's callbacks, verified and
parsed by the product's own webhook code (integrations/viber/webhooks.py)."""

import hashlib
import hmac
import json
import re
from urllib.parse import urlsplit

import pytest
import responses
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    OutboundMessage,
    WebhookRejected,
)
from integrations.viber import webhooks as viber_hooks
from integrations.viber.adapter import ViberAdapter
from integrations.viber.credentials import Credentials
from sandbox import media
from sandbox.models import Conversation, Message, Webhook
from sandbox.viber.directory import VIBER_BOTS
from tests.sandbox.support import BASE, post_json, webhook_request

pytestmark = pytest.mark.django_db

BOT = VIBER_BOTS[0]
API = "/sandbox/viber/pa"
HOOK = f"{BASE}/hooks/viber/vb-key-1/"
CREDENTIALS = Credentials(auth_token=BOT.auth_token, bot_id=BOT.id, bot_name=BOT.name)
CUSTOMER = "vB3mQ9tK2xLp7RzA1cYe0w=="


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def call(client, method: str, data: dict | None = None, *, token: str | None = BOT.auth_token):
    headers = {} if token is None else {"HTTP_X_VIBER_AUTH_TOKEN": token}
    response = post_json(client, f"{API}/{method}", data or {}, **headers)
    assert response.status_code == 200
    return response.json()


def hook(mocked, status: int = 200) -> None:
    mocked.add(responses.POST, HOOK, status=status)


def callbacks(mocked) -> list:
    return [c.request for c in mocked.calls if c.request.url == HOOK]


def events(request) -> list:
    """What the product makes of one callback the sandbox posted: verified, parsed."""
    hook_request = webhook_request(request)
    viber_hooks.verify(credentials=CREDENTIALS, request=hook_request)
    return viber_hooks.parse(request=hook_request)


def register(client, mocked, **extra) -> None:
    hook(mocked)
    body = {"url": HOOK, "event_types": ["delivered", "seen", "failed"], "send_name": True}
    assert call(client, "set_webhook", {**body, **extra})["status"] == 0


def open_chat(client) -> Conversation:
    response = client.post(
        "/sandbox/phone/", {"endpoint": f"viber:{BOT.id}", "customer_id": CUSTOMER}
    )
    assert response.status_code == 302, response.content
    return Conversation.objects.get(kind="viber", customer_id=CUSTOMER)


def say(client, chat: Conversation, **data) -> str:
    response = client.post(f"/sandbox/phone/{chat.pk}/send", data, follow=True)
    return response.content.decode()


def act(client, chat: Conversation, action: str) -> str:
    response = client.post(f"/sandbox/viber/phone/{chat.pk}/act", {"action": action}, follow=True)
    return response.content.decode()


def send(client, text: str = "Hello from the team", receiver: str = CUSTOMER) -> dict:
    payload = {"receiver": receiver, "type": "text", "text": text, "sender": {"name": BOT.name}}
    return call(client, "send_message", payload)


# --- the API --------------------------------------------------------------------------


def test_it_refuses_a_missing_or_unknown_token_as_viber_does(client):
    assert call(client, "get_account_info", token=None)["status_message"] == "missing_auth_token"
    refused = call(client, "get_account_info", token="not-a-bot-token")
    assert (refused["status"], refused["status_message"]) == (2, "invalidAuthToken")


def test_it_describes_the_bot(client):
    info = call(client, "get_account_info")
    assert info["status"] == 0 and info["status_message"] == "ok"
    assert (info["id"], info["name"], info["webhook"]) == (BOT.id, BOT.name, "")


def test_set_webhook_checks_our_url_with_a_signed_webhook_callback(client, mocked):
    register(client, mocked)
    [check] = callbacks(mocked)
    body = json.loads(check.body)
    assert body["event"] == "webhook" and isinstance(body["message_token"], int)
    expected = hmac.new(BOT.auth_token.encode(), check.body, hashlib.sha256).hexdigest()
    assert check.headers["X-Viber-Content-Signature"] == expected
    # The product accepts the check and has nothing to relay from it.
    assert events(check) == []
    info = call(client, "get_account_info")
    assert info["webhook"] == HOOK
    assert info["event_types"] == ["delivered", "seen", "failed"]


def test_set_webhook_fails_when_our_url_does_not_answer_200(client, mocked):
    hook(mocked, status=404)
    refused = call(client, "set_webhook", {"url": HOOK})
    assert (refused["status"], refused["status_message"]) == (1, "invalidUrl")
    assert not Webhook.objects.exists()


def test_an_empty_url_removes_the_webhook(client, mocked):
    register(client, mocked)
    assert call(client, "set_webhook", {"url": ""})["status"] == 0
    assert call(client, "get_account_info")["webhook"] == ""


def test_it_refuses_to_message_a_customer_who_never_subscribed(client, mocked):
    register(client, mocked)
    refused = send(client, receiver="someoneElse0000==")
    assert (refused["status"], refused["status_message"]) == (6, "notSubscribed")
    open_chat(client)
    assert send(client)["status"] == 6
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_a_customers_message_subscribes_them_and_unsubscribing_ends_it(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    say(client, chat, what="text", text="hi")
    sent = send(client)
    assert sent["status"] == 0 and isinstance(sent["message_token"], int)
    reply = chat.messages.get(direction=Message.Direction.OUT)
    assert reply.provider_message_id == str(sent["message_token"])
    assert reply.text == "Hello from the team"
    act(client, chat, "unsubscribe")
    assert send(client)["status"] == 6
    act(client, chat, "subscribe")
    assert send(client)["status"] == 0


def test_send_message_wants_viber_required_fields(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    say(client, chat, what="text", text="hi")
    no_sender = call(client, "send_message", {"receiver": CUSTOMER, "type": "text", "text": "x"})
    assert no_sender["status"] == 4
    no_size = {"receiver": CUSTOMER, "type": "file", "media": "https://x/y.pdf"}
    assert call(client, "send_message", {**no_size, "sender": {"name": "A"}})["status"] == 3


# --- the phone: callbacks the product verifies and parses -----------------------------


def test_a_text_is_signed_verified_and_parsed(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    assert "Delivered to your webhook (200)." in say(client, chat, what="text", text="Where?")
    message = events(callbacks(mocked)[-1])
    [inbound] = message
    assert isinstance(inbound, InboundMessage)
    assert (inbound.type, inbound.text) == (ContentType.TEXT, "Where?")
    assert inbound.sender.external_id == CUSTOMER
    assert inbound.sender.name == "Alex Kim"  # send_name was asked for
    stored = chat.messages.get(direction=Message.Direction.IN)
    assert inbound.provider_message_id == stored.provider_message_id


def test_the_product_refuses_a_callback_signed_with_another_token(client, mocked):
    register(client, mocked)
    say(client, open_chat(client), what="text", text="hi")
    other = Credentials(auth_token=VIBER_BOTS[1].auth_token, bot_id=BOT.id, bot_name=BOT.name)
    with pytest.raises(WebhookRejected):
        viber_hooks.verify(credentials=other, request=webhook_request(callbacks(mocked)[-1]))


def test_a_picture_has_its_caption_and_a_url_serving_the_photo(client, mocked):
    register(client, mocked)
    say(client, open_chat(client), what="image", caption="The receipt")
    [inbound] = events(callbacks(mocked)[-1])
    assert (inbound.type, inbound.text) == (ContentType.IMAGE, "The receipt")
    assert inbound.media.ref.startswith(settings.PUBLIC_BASE_URL)
    served = client.get(urlsplit(inbound.media.ref).path)
    assert served.content == media.photo()
    assert client.get("/sandbox/viber/media/unknown").status_code == 404


def test_a_location_is_a_point(client, mocked):
    register(client, mocked)
    say(client, open_chat(client), what="location", latitude="52.5", longitude="13.4")
    [inbound] = events(callbacks(mocked)[-1])
    assert inbound.type == ContentType.LOCATION
    assert (inbound.location.latitude, inbound.location.longitude) == (52.5, 13.4)


def test_a_sticker_arrives_as_a_sticker_with_its_image(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    assert "Delivered to your webhook (200)." in act(client, chat, "sticker")
    [inbound] = events(callbacks(mocked)[-1])
    assert inbound.type == ContentType.STICKER
    assert client.get(urlsplit(inbound.media.ref).path).content == media.photo()


def test_opening_the_chat_and_subscribing_are_verified_and_carry_no_message(client, mocked):
    register(client, mocked, event_types=["conversation_started", "subscribed"])
    chat = open_chat(client)
    act(client, chat, "open")
    started = json.loads(callbacks(mocked)[-1].body)
    assert started["event"] == "conversation_started"
    assert (started["type"], started["subscribed"]) == ("open", False)
    assert started["user"]["id"] == CUSTOMER
    assert events(callbacks(mocked)[-1]) == []
    assert send(client)["status"] == 6  # opening the chat does not subscribe
    act(client, chat, "subscribe")
    subscribed = json.loads(callbacks(mocked)[-1].body)
    assert subscribed["event"] == "subscribed" and subscribed["user"]["id"] == CUSTOMER
    assert events(callbacks(mocked)[-1]) == []
    assert send(client)["status"] == 0


def test_it_does_not_send_events_the_webhook_left_out(client, mocked):
    register(client, mocked, event_types=["delivered"])
    chat = open_chat(client)
    html = act(client, chat, "open")
    assert "event_types leave out “conversation_started”" in html
    say(client, chat, what="text", text="hi")
    send(client)
    html = client.post(
        f"/sandbox/phone/{chat.pk}/receipts", {"state": "read"}, follow=True
    ).content.decode()
    assert "leave out “seen”" in html


def test_receipts_for_the_bots_replies_are_keyed_by_message_token(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    say(client, chat, what="text", text="hi")
    token = str(send(client)["message_token"])
    for state, event, expected in (
        ("delivered", "delivered", DeliveryState.DELIVERED),
        ("read", "seen", DeliveryState.READ),
    ):
        client.post(f"/sandbox/phone/{chat.pk}/receipts", {"state": state})
        request = callbacks(mocked)[-1]
        assert json.loads(request.body)["event"] == event
        [status] = events(request)
        assert isinstance(status, DeliveryStatus)
        assert (status.provider_message_id, status.state) == (token, expected)
    assert chat.messages.get(direction=Message.Direction.OUT).status == "read"


# --- the product's own client against the stand-in -----------------------------------


@pytest.fixture
def sandbox_api(client, mocked):
    """The product's HTTP to VIBER_API_URL, answered by the sandbox's views."""

    def forward(request):
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
        headers.pop("HTTP_CONTENT_TYPE", None)
        response = client.post(
            urlsplit(request.url).path,
            request.body,
            content_type="application/json",
            **headers,
        )
        return response.status_code, {"Content-Type": "application/json"}, response.content

    mocked.add_callback(
        responses.POST, re.compile(re.escape(settings.VIBER_API_URL) + "/.*"), callback=forward
    )
    return mocked


def test_the_products_adapter_sets_up_and_sends_through_the_stand_in(client, sandbox_api):
    adapter = ViberAdapter()
    found = adapter.identify(data={"auth_token": BOT.auth_token})
    assert (found.identity, found.name) == (BOT.id, BOT.name)
    hook(sandbox_api)
    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)
    assert Webhook.objects.get(scope=Webhook.Scope.VIBER_BOT).url == HOOK
    chat = open_chat(client)
    message = OutboundMessage(to=CUSTOMER, text="Hi there")
    with pytest.raises(ProviderError) as refused:
        adapter.send(credentials=CREDENTIALS, message=message)
    assert "not subscribed" in refused.value.message and refused.value.permanent
    say(client, chat, what="text", text="hi")
    token = adapter.send(credentials=CREDENTIALS, message=message)
    assert chat.messages.get(direction=Message.Direction.OUT).provider_message_id == token
    with pytest.raises(ProviderError) as bad_token:
        adapter.identify(data={"auth_token": "wrong"})
    assert bad_token.value.field == "auth_token"


# --- the pages ------------------------------------------------------------------------


def test_the_index_shows_the_fake_bots_auth_tokens_to_paste(client):
    html = client.get("/sandbox/").content.decode()
    for bot in VIBER_BOTS:
        assert bot.auth_token in html
    assert "/sandbox/viber/phone/" in html


def test_a_viber_customer_needs_a_viber_user_id(client, mocked):
    register(client, mocked)
    response = client.post(
        "/sandbox/phone/",
        {"endpoint": f"viber:{BOT.id}", "customer_id": "not an id!"},
        follow=True,
    )
    assert "This customer needs a Viber user id" in response.content.decode()
    assert not Conversation.objects.exists()


def test_each_viber_chat_has_a_viber_page_saying_whether_the_customer_is_subscribed(client, mocked):
    register(client, mocked)
    chat = open_chat(client)
    assert (
        f"/sandbox/viber/phone/{chat.pk}/" in client.get("/sandbox/viber/phone/").content.decode()
    )
    page = client.get(f"/sandbox/viber/phone/{chat.pk}/").content.decode()
    assert "Not subscribed" in page
    say(client, chat, what="text", text="hi")
    page = client.get(f"/sandbox/viber/phone/{chat.pk}/").content.decode()
    assert "Subscribed to the bot" in page


def test_the_viber_page_is_only_for_viber_chats(client):
    other = Conversation.objects.create(kind="telegram", endpoint="1", customer_id="555000111")
    assert client.get(f"/sandbox/viber/phone/{other.pk}/").status_code == 404
    assert (
        client.post(f"/sandbox/viber/phone/{other.pk}/act", {"action": "open"}).status_code == 404
    )
