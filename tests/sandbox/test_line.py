"""The LINE Messaging API stand-in and LINE on the customer phone: its endpoints and error
shapes, and what the phone sends, judged by the product's own verifier and parser (and
the product's own client driven against the stand-in)."""

import json
import re
import uuid
from urllib.parse import urlsplit

import pytest
import responses
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ContentType, OutboundMessage, WebhookRejected
from integrations.line import webhooks as line_hooks
from integrations.line.adapter import LineAdapter
from integrations.line.client import LineClient, retry_key
from integrations.line.credentials import Credentials
from sandbox import media
from sandbox.kinds import Kind
from sandbox.line.directory import LINE_ACCOUNTS
from sandbox.models import Conversation, Message, Webhook
from tests.sandbox.support import BASE, bearer, post_json, webhook_request

pytestmark = pytest.mark.django_db

ACCOUNT, LIMITED = LINE_ACCOUNTS
LINE = "/sandbox/line"
DATA = "/sandbox/line/data"
HOOK = f"{BASE}/hooks/line/line-key-1/"
CUSTOMER = "U4af4980629c8e2f5d8a1b7c3e9d60f21"
AUTH = bearer(ACCOUNT.channel_access_token)
UNAUTHORIZED = {
    "message": "Authentication failed. Confirm that the access token in the authorization "
    "header is valid."
}


def credentials(account=ACCOUNT, secret: str | None = None) -> Credentials:
    return Credentials(
        channel_access_token=account.channel_access_token,
        channel_secret=secret or account.channel_secret,
        bot_user_id=account.user_id,
        basic_id=account.basic_id,
    )


@pytest.fixture
def mocked(client):
    """Our webhook answers as the product does (its verifier); the product's client
    reaches the stand-in through the test client."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, HOOK, callback=_product_answers)

        def forward(request):
            parts = urlsplit(request.url)
            path = f"{parts.path}?{parts.query}" if parts.query else parts.path
            headers = {
                f"HTTP_{k.upper().replace('-', '_')}": v
                for k, v in request.headers.items()
                if k.lower() not in ("content-type", "content-length")
            }
            answer = client.generic(
                request.method,
                path,
                request.body or b"",
                content_type=request.headers.get("Content-Type", ""),
                **headers,
            )
            return answer.status_code, dict(answer.items()), answer.content

        pattern = re.compile(re.escape(f"{BASE}{LINE}/") + ".*")
        for method in (responses.GET, responses.PUT, responses.POST):
            mock.add_callback(method, pattern, callback=forward)
        yield mock


_SECRETS: dict[str, str] = {}


def _product_answers(request):
    hook = webhook_request(request)
    secret = _SECRETS.get("secret", ACCOUNT.channel_secret)
    try:
        line_hooks.verify(credentials=credentials(secret=secret), request=hook)
    except WebhookRejected:
        return 403, {}, "bad signature"
    line_hooks.parse(request=hook)
    return 200, {}, ""


def hooks(mocked) -> list:
    return [c.request for c in mocked.calls if c.request.url == HOOK]


def set_webhook(client, url: str = HOOK, token: str = ACCOUNT.channel_access_token):
    return client.put(
        f"{LINE}/v2/bot/channel/webhook/endpoint",
        json.dumps({"endpoint": url}),
        content_type="application/json",
        **bearer(token),
    )


def open_chat(client, account=ACCOUNT, **data) -> Conversation:
    response = client.post("/sandbox/phone/", {"endpoint": f"line:{account.user_id}", **data})
    assert response.status_code == 302, response.content
    return Conversation.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))


def say(client, chat: Conversation, **data) -> str:
    response = client.post(f"/sandbox/phone/{chat.pk}/send", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def last_events(mocked):
    request = hooks(mocked)[-1]
    hook = webhook_request(request)
    line_hooks.verify(credentials=credentials(), request=hook)
    return json.loads(hook.body), line_hooks.parse(request=hook)


# --- the API ----------------------------------------------------------------------------


def test_it_answers_bot_info_for_a_known_token(client):
    body = client.get(f"{LINE}/v2/bot/info", **AUTH).json()
    assert body["userId"] == ACCOUNT.user_id
    assert re.fullmatch(r"U[0-9a-f]{32}", body["userId"])
    assert body["basicId"] == ACCOUNT.basic_id
    assert body["displayName"] == ACCOUNT.display_name


@pytest.mark.parametrize("headers", [{}, bearer("wrong-token"), {"HTTP_AUTHORIZATION": "Basic x"}])
def test_it_refuses_a_bad_token_as_line_does(client, headers):
    response = client.get(f"{LINE}/v2/bot/info", **headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert client.post(f"{LINE}/v2/bot/message/push", **headers).status_code == 401
    assert client.get(f"{DATA}/v2/bot/message/1/content", **headers).status_code == 401


def test_it_sets_and_reports_the_webhook_endpoint(client):
    assert client.get(f"{LINE}/v2/bot/channel/webhook/endpoint", **AUTH).status_code == 404
    response = set_webhook(client)
    assert response.status_code == 200 and response.json() == {}
    body = client.get(f"{LINE}/v2/bot/channel/webhook/endpoint", **AUTH).json()
    assert body == {"endpoint": HOOK, "active": True}
    webhook = Webhook.objects.get(scope=Webhook.Scope.LINE_CHANNEL, owner=ACCOUNT.user_id)
    assert webhook.secret == ACCOUNT.channel_secret


def test_it_refuses_an_endpoint_that_is_not_a_url(client):
    response = set_webhook(client, url="not a url")
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid webhook endpoint URL"
    assert not Webhook.objects.exists()


def test_the_webhook_test_posts_a_signed_empty_body_and_reports_the_status(client, mocked):
    set_webhook(client)
    response = post_json(client, f"{LINE}/v2/bot/channel/webhook/test", {}, **AUTH)
    body = response.json()
    assert body["success"] is True and body["statusCode"] == 200 and body["reason"] == "OK"
    [request] = hooks(mocked)
    assert json.loads(request.body) == {"destination": ACCOUNT.user_id, "events": []}
    hook = webhook_request(request)
    line_hooks.verify(credentials=credentials(), request=hook)
    assert line_hooks.parse(request=hook) == []


def test_the_webhook_test_reports_the_refusal_under_another_secret(client, mocked):
    set_webhook(client)
    _SECRETS["secret"] = "0" * 32
    try:
        body = post_json(client, f"{LINE}/v2/bot/channel/webhook/test", {}, **AUTH).json()
    finally:
        _SECRETS.clear()
    assert body["success"] is False and body["statusCode"] == 403


def chat_of(account=ACCOUNT, customer: str = CUSTOMER) -> Conversation:
    return Conversation.objects.create(
        kind=Kind.LINE, endpoint=account.user_id, customer_id=customer, customer_name="Mei"
    )


def push(client, body: dict, key: str = "", account=ACCOUNT):
    headers = bearer(account.channel_access_token)
    if key:
        headers["HTTP_X_LINE_RETRY_KEY"] = key
    return post_json(client, f"{LINE}/v2/bot/message/push", body, **headers)


def test_a_push_reaches_the_phone_and_a_repeated_retry_key_is_answered_409(client):
    chat = chat_of()
    key = str(uuid.uuid4())
    body = {"to": CUSTOMER, "messages": [{"type": "text", "text": "Hi! How can we help?"}]}
    first = push(client, body, key)
    assert first.status_code == 200
    [sent] = first.json()["sentMessages"]
    assert re.fullmatch(r"[0-9]{18}", sent["id"]) and sent["quoteToken"]
    again = push(client, body, key)
    assert again.status_code == 409
    assert again.json() == {"message": "The retry key is already accepted"}
    assert again["X-Line-Accepted-Request-Id"] == first["X-Line-Request-Id"]
    [reply] = chat.messages.filter(direction=Message.Direction.OUT)
    assert reply.text == "Hi! How can we help?" and reply.detail["retry_key"] == key


def test_a_push_takes_a_file_and_its_text_in_one_request(client):
    chat = chat_of()
    url = "https://octopods.example/media/a.jpg"
    messages = [
        {"type": "image", "originalContentUrl": url, "previewImageUrl": url},
        {"type": "text", "text": "Your receipt"},
    ]
    response = push(client, {"to": CUSTOMER, "messages": messages})
    assert len(response.json()["sentMessages"]) == 2
    assert [m.content_type for m in chat.messages.order_by("pk")] == ["image", "text"]


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ({"to": "U" + "0" * 32, "messages": [{"type": "text", "text": "x"}]}, "", "'to'"),
        ({"to": CUSTOMER, "messages": []}, "", "error(s)"),
        ({"to": CUSTOMER, "messages": [{"type": "text", "text": ""}]}, "", "error(s)"),
        ({"to": CUSTOMER, "messages": [{"type": "text", "text": "x"}]}, "not-a-uuid", "UUID"),
    ],
)
def test_it_refuses_a_push_as_line_does(client, body, key, message):
    chat_of()
    response = push(client, body, key)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Message.objects.exists()


def test_a_used_up_monthly_quota_refuses_the_push_with_429(client):
    chat_of(LIMITED)
    body = {"to": CUSTOMER, "messages": [{"type": "text", "text": "one"}]}
    assert push(client, body, account=LIMITED).status_code == 200
    refused = push(client, body, account=LIMITED)
    assert refused.status_code == 429
    assert refused.json() == {"message": "You have reached your monthly limit."}
    auth = bearer(LIMITED.channel_access_token)
    assert client.get(f"{LINE}/v2/bot/message/quota", **auth).json() == {
        "type": "limited",
        "value": 1,
    }
    usage = client.get(f"{LINE}/v2/bot/message/quota/consumption", **auth).json()
    assert usage == {"totalUsage": 1}
    assert client.get(f"{LINE}/v2/bot/message/quota", **AUTH).json() == {"type": "none"}


# --- the product's client against the stand-in ------------------------------------------


def test_the_products_adapter_identifies_registers_and_sends(client, mocked):
    adapter = LineAdapter()
    identity = adapter.identify(
        data={
            "channel_access_token": ACCOUNT.channel_access_token,
            "channel_secret": ACCOUNT.channel_secret,
        }
    )
    assert identity.identity == ACCOUNT.user_id
    stored = adapter.credentials(identity.credentials)
    adapter.register_webhook(credentials=stored, webhook_url=HOOK)
    assert Webhook.objects.get(scope=Webhook.Scope.LINE_CHANNEL).url == HOOK
    chat_of()
    message = OutboundMessage(to=CUSTOMER, text="Hello", idempotency_key="queued-7")
    first = adapter.send(credentials=stored, message=message)
    assert re.fullmatch(r"[0-9]{18}", first)
    # A retry of the same queued message is not delivered twice.
    again = adapter.send(credentials=stored, message=message)
    assert again.startswith("request:")
    reply = Message.objects.get(direction=Message.Direction.OUT)
    assert reply.detail["retry_key"] == retry_key("queued-7")


def test_the_product_refuses_a_channel_whose_secret_is_not_the_channels(client, mocked):
    adapter = LineAdapter()
    stored = credentials(secret="0" * 32)
    _SECRETS["secret"] = "0" * 32  # what the admin typed, and so what Octopods checks with
    try:
        with pytest.raises(ProviderError) as refused:
            adapter.register_webhook(credentials=stored, webhook_url=HOOK)
    finally:
        _SECRETS.clear()
    assert refused.value.field == "channel_secret"


def test_the_product_tells_the_agent_about_the_monthly_quota(client, mocked):
    chat_of(LIMITED)
    adapter = LineAdapter()
    stored = credentials(LIMITED)
    adapter.send(credentials=stored, message=OutboundMessage(to=CUSTOMER, text="one"))
    with pytest.raises(ProviderError) as refused:
        adapter.send(credentials=stored, message=OutboundMessage(to=CUSTOMER, text="two"))
    assert refused.value.permanent
    assert "used up the messages its plan allows this month (1 of 1 sent)" in str(
        refused.value.message
    )


def test_the_products_client_refuses_a_bad_token(client, mocked):
    with pytest.raises(ProviderError) as refused:
        LineClient("wrong").bot_info()
    assert refused.value.field == "channel_access_token"


# --- the phone ----------------------------------------------------------------------------


def test_the_phone_needs_the_webhook_first_and_a_line_user_id(client):
    response = client.post("/sandbox/phone/", {"endpoint": f"line:{ACCOUNT.user_id}"}, follow=True)
    assert "No webhook URL is set for this LINE channel" in response.content.decode()
    set_webhook(client)
    response = client.post(
        "/sandbox/phone/",
        {"endpoint": f"line:{ACCOUNT.user_id}", "customer_id": "12345"},
        follow=True,
    )
    assert "LINE user id (U and 32 hex digits)" in response.content.decode()
    assert not Conversation.objects.exists()


def test_it_sends_text_the_product_verifies_and_parses(client, mocked):
    set_webhook(client)
    chat = open_chat(client)
    assert chat.customer_id == CUSTOMER
    assert "Delivered to your webhook (200)." in say(client, chat, what="text", text="Hello")
    body, [message] = last_events(mocked)
    assert body["destination"] == ACCOUNT.user_id
    assert message.type == ContentType.TEXT and message.text == "Hello"
    assert message.sender.external_id == CUSTOMER
    stored = chat.messages.get()
    assert message.provider_message_id == stored.provider_message_id
    event = body["events"][0]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event["webhookEventId"])
    assert event["replyToken"] and event["source"] == {"type": "user", "userId": CUSTOMER}


def test_the_product_refuses_it_under_another_secret(client, mocked):
    set_webhook(client)
    say(client, open_chat(client), what="text", text="hi")
    with pytest.raises(WebhookRejected):
        line_hooks.verify(
            credentials=credentials(secret="1" * 32), request=webhook_request(hooks(mocked)[-1])
        )


def test_it_sends_an_image_the_product_fetches_through_the_data_api(client, mocked):
    set_webhook(client)
    say(client, open_chat(client), what="image")
    body, [message] = last_events(mocked)
    assert body["events"][0]["message"]["contentProvider"] == {"type": "line"}
    assert message.type == ContentType.IMAGE
    assert f"{BASE}{DATA}" == settings.LINE_DATA_API_URL
    fetched = LineAdapter().fetch_media(
        credentials=credentials(), media=message.media, max_bytes=10**7
    )
    assert fetched.content == media.photo() and fetched.mime_type == "image/jpeg"
    missing = client.get(f"{DATA}/v2/bot/message/999/content", **AUTH)
    assert missing.status_code == 404


def test_it_sends_a_location(client, mocked):
    set_webhook(client)
    say(
        client,
        open_chat(client),
        what="location",
        latitude="35.6586",
        longitude="139.7454",
        place_name="Tokyo Tower",
        address="4-2-8 Shibakoen, Minato",
    )
    _, [message] = last_events(mocked)
    assert message.type == ContentType.LOCATION
    assert (message.location.latitude, message.location.longitude) == (35.6586, 139.7454)
    assert message.location.name == "Tokyo Tower"


def test_it_sends_follow_a_sticker_and_unsend_from_lines_own_page(client, mocked):
    set_webhook(client)
    chat = open_chat(client)
    page = f"/sandbox/line/phone/{chat.pk}/"
    assert client.get(page).status_code == 200

    client.post(page, {"action": "follow"})
    body, events = last_events(mocked)
    assert body["events"][0]["type"] == "follow" and events == []

    client.post(page, {"action": "sticker"})
    _, [sticker] = last_events(mocked)
    assert sticker.type == ContentType.STICKER
    assert sticker.text == "(sticker: Thanks, happy)"

    say(client, chat, what="text", text="Cancel my order")
    sent = chat.messages.get(text="Cancel my order")
    html = client.post(page, {"action": "unsend", "message": sent.pk}, follow=True)
    assert "Delivered to your webhook (200)." in html.content.decode()
    body, [unsent] = last_events(mocked)
    assert "replyToken" not in body["events"][0]
    assert unsent.reply_to == sent.provider_message_id
    assert unsent.provider_type == "unsend"
    sent.refresh_from_db()
    assert sent.status == "unsent"


def test_the_index_shows_the_fake_credentials_and_the_tiny_quota(client):
    set_webhook(client)
    chat = open_chat(client)
    html = client.get("/sandbox/").content.decode()
    for account in LINE_ACCOUNTS:
        assert account.channel_access_token in html and account.channel_secret in html
    assert 'href="/sandbox/line/phone/"' in html
    assert "<script" not in html
    chats = client.get("/sandbox/line/phone/").content.decode()
    assert f'href="/sandbox/line/phone/{chat.pk}/"' in chats
