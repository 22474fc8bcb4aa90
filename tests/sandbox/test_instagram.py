"""Instagram in the sandbox: the Graph API's answers for a Page linked to an Instagram
account (the product's own client calling them), the Meta app dashboard's Instagram
object, and the customer phone's Instagram chat, whose webhooks the product's own
verifier and parser judge."""

import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from integrations.base import ProviderError
from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Media,
    OutboundMedia,
    OutboundMessage,
    WebhookRejected,
)
from integrations.instagram import webhooks as instagram_hooks
from integrations.instagram.adapter import InstagramAdapter
from integrations.instagram.credentials import Credentials
from integrations.meta import OutsideWindow
from sandbox import media
from sandbox.kinds import Kind
from sandbox.meta.directory import INSTAGRAM_ACCOUNTS, MESSENGER_PAGES
from sandbox.meta.instagram import InstagramPhone
from sandbox.models import AppSubscription, Conversation, Message, Webhook
from tests.sandbox.support import (
    APP_SECRET,
    BASE,
    GRAPH,
    VERIFY_TOKEN,
    bearer,
    body_bytes,
    mock_handshake,
    post_json,
    webhook_request,
)

pytestmark = pytest.mark.django_db

ACCOUNT = INSTAGRAM_ACCOUNTS[0]
PAGE = ACCOUNT.page
PAGE_TOKEN = bearer(PAGE.page_access_token)
HOOK = f"{BASE}/hooks/instagram/ig-key-1/"
IGSID = InstagramPhone.customer_default[1]
CREDENTIALS = Credentials(
    page_id=PAGE.page_id,
    instagram_account_id=ACCOUNT.account_id,
    page_access_token=PAGE.page_access_token,
    app_secret=APP_SECRET,
    verify_token=VERIFY_TOKEN,
    username=ACCOUNT.username,
)
FORM = {
    "page_id": PAGE.page_id,
    "page_access_token": PAGE.page_access_token,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def graph(mocked, client):
    """The product's Graph calls (META_GRAPH_API_URL, and the CDN beside it) answered by
    the sandbox's own views, as they are when Octopods runs against the sandbox."""

    def callback(request):
        parts = urlsplit(request.url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        extra = {}
        if authorization := request.headers.get("Authorization"):
            extra["HTTP_AUTHORIZATION"] = authorization
        answer = client.generic(
            request.method,
            path,
            body_bytes(request),
            content_type=request.headers.get("Content-Type", ""),
            **extra,
        )
        headers = {"Content-Type": answer["Content-Type"]}
        return answer.status_code, headers, answer.content

    assert settings.META_GRAPH_API_URL.startswith(f"{BASE}/sandbox/graph/")
    pattern = re.compile(re.escape(f"{BASE}/sandbox/graph/") + ".*")
    for method in (responses.GET, responses.POST, responses.DELETE):
        mocked.add_callback(method, pattern, callback=callback)
    return mocked


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def chat(*, ago: timedelta | None = timedelta(minutes=5), customer_id: str = IGSID):
    last = None if ago is None else timezone.now() - ago
    return Conversation.objects.create(
        kind=Kind.INSTAGRAM,
        endpoint=ACCOUNT.account_id,
        customer_id=customer_id,
        last_customer_message_at=last,
    )


def reply(client, customer_id: str = IGSID, **extra):
    payload = {"recipient": {"id": customer_id}, "message": {"text": "On its way"}, **extra}
    return post_json(client, f"{GRAPH}/{PAGE.page_id}/messages", payload, **PAGE_TOKEN)


# --- the Page and its Instagram account -----------------------------------------------------


def test_it_names_the_linked_instagram_account_of_a_page_token(client):
    fields = {"fields": "id,name,instagram_business_account{id,username}"}
    for node in ("me", PAGE.page_id):
        response = client.get(f"{GRAPH}/{node}", fields, **PAGE_TOKEN)
        assert response.json() == {
            "id": PAGE.page_id,
            "name": PAGE.name,
            "instagram_business_account": {
                "id": ACCOUNT.account_id,
                "username": ACCOUNT.username,
            },
        }


def test_a_page_without_an_instagram_account_has_no_such_field(client):
    messenger = MESSENGER_PAGES[0]
    response = client.get(
        f"{GRAPH}/me",
        {"fields": "id,name,instagram_business_account{id,username}"},
        **bearer(messenger.page_access_token),
    )
    assert response.json() == {"id": messenger.page_id, "name": messenger.name}


def test_it_refuses_a_bad_page_token_with_code_190(client):
    error = error_of(client.get(f"{GRAPH}/me", **bearer("EAAnotatoken")), 401)
    assert error["code"] == 190


def test_the_products_identify_reads_the_account_through_the_sandbox(graph):
    identity = InstagramAdapter().identify(data=FORM)
    assert identity.identity == ACCOUNT.account_id
    assert identity.name == f"@{ACCOUNT.username}"
    assert identity.credentials["instagram_account_id"] == ACCOUNT.account_id
    assert identity.credentials["username"] == ACCOUNT.username


def test_the_products_identify_explains_a_page_with_no_instagram_account(graph):
    messenger = MESSENGER_PAGES[0]
    data = {**FORM, "page_id": messenger.page_id, "page_access_token": messenger.page_access_token}
    with pytest.raises(ProviderError) as refused:
        InstagramAdapter().identify(data=data)
    assert refused.value.field == "page_id"
    assert "has no Instagram professional account linked to it" in refused.value.message


def test_the_products_identify_explains_a_bad_token(graph):
    with pytest.raises(ProviderError) as refused:
        InstagramAdapter().identify(data={**FORM, "page_access_token": "EAAwrong"})
    assert refused.value.field == "page_access_token"
    assert "did not accept this Page access token" in refused.value.message


def test_the_products_register_webhook_subscribes_the_linked_page_and_undoes_it(graph):
    InstagramAdapter().register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)
    subscribed = AppSubscription.objects.get(
        owner_kind=AppSubscription.Owner.PAGE, owner_id=PAGE.page_id
    )
    assert subscribed.subscribed_fields == ["messages", "messaging_postbacks", "message_reactions"]
    InstagramAdapter().unregister_webhook(credentials=CREDENTIALS)
    assert not AppSubscription.objects.exists()


# --- the Send API to an Instagram customer -----------------------------------------------------


def test_it_sends_to_an_instagram_customer_inside_the_window(client):
    conversation = chat()
    response = reply(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recipient_id"] == IGSID
    sent = Message.objects.get(provider_message_id=body["message_id"])
    assert (sent.conversation, sent.direction, sent.text) == (conversation, "out", "On its way")


def test_it_refuses_a_reply_outside_the_window_with_instagrams_subcode(client):
    chat(ago=timedelta(hours=25))
    error = error_of(reply(client, messaging_type="RESPONSE"), 400)
    assert (error["code"], error["error_subcode"]) == (10, 2534022)
    assert not Message.objects.filter(direction="out").exists()


def test_human_agent_gets_through_for_seven_days_and_no_longer(client):
    chat(ago=timedelta(days=6))
    tagged = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert reply(client, **tagged).status_code == 200
    Conversation.objects.update(last_customer_message_at=timezone.now() - timedelta(days=8))
    error = error_of(reply(client, **tagged), 400)
    assert (error["code"], error["error_subcode"]) == (10, 2534022)


def test_instagram_takes_no_other_tag(client):
    chat(ago=timedelta(days=2))
    error = error_of(reply(client, messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE"), 400)
    assert error["code"] == 100


def test_it_refuses_a_person_who_never_wrote_to_the_account(client):
    error = error_of(reply(client, customer_id="1234567890123"), 400)
    assert (error["code"], error["error_subcode"]) == (100, 2534014)


def test_it_refuses_another_pages_token(client):
    chat()
    other = INSTAGRAM_ACCOUNTS[1].page
    response = post_json(
        client,
        f"{GRAPH}/{PAGE.page_id}/messages",
        {"recipient": {"id": IGSID}, "message": {"text": "hi"}},
        **bearer(other.page_access_token),
    )
    assert error_of(response, 400)["code"] == 100


def test_the_products_reply_goes_out_tagged_after_24_hours(graph):
    chat(ago=timedelta(days=3))
    mid = InstagramAdapter().send(
        credentials=CREDENTIALS, message=OutboundMessage(to=IGSID, text="Sorry for the wait")
    )
    sent = Message.objects.get(provider_message_id=mid)
    assert sent.detail["tag"] == "HUMAN_AGENT"
    assert sent.text == "Sorry for the wait"


def test_the_product_explains_a_reply_past_seven_days_in_plain_words(graph):
    chat(ago=timedelta(days=8))
    with pytest.raises(OutsideWindow) as refused:
        InstagramAdapter().send(
            credentials=CREDENTIALS, message=OutboundMessage(to=IGSID, text="Still there?")
        )
    assert refused.value.permanent
    assert "within 24 hours of the customer's last message" in refused.value.message
    assert "within 7 days when a person replies" in refused.value.message
    assert "once the customer writes again" in refused.value.message
    assert not Message.objects.filter(direction="out").exists()


def test_the_products_picture_goes_out_as_an_attachment(graph):
    chat()
    picture = OutboundMedia(url="https://octopods.example/m/receipt.jpg", mime_type="image/jpeg")
    mid = InstagramAdapter().send(
        credentials=CREDENTIALS, message=OutboundMessage(to=IGSID, media=picture)
    )
    sent = Message.objects.get(provider_message_id=mid)
    assert sent.content_type == "image"
    assert sent.detail["message"]["attachment"]["payload"]["url"] == picture.url


# --- the Meta app dashboard -----------------------------------------------------------------


def dashboard_callback(client, mocked, url: str = HOOK):
    mock_handshake(mocked, url)
    return client.post(
        "/sandbox/meta/app/",
        {
            "object": "instagram",
            "action": "subscribe",
            "callback_url": url,
            "verify_token": VERIFY_TOKEN,
        },
        follow=True,
    )


def test_the_dashboard_saves_the_instagram_callback_after_the_handshake(client, mocked):
    html = dashboard_callback(client, mocked).content.decode()
    assert "so Instagram webhooks now go there" in html
    saved = Webhook.objects.get(scope=Webhook.Scope.META_APP, owner="instagram")
    assert saved.url == HOOK
    assert "messaging_seen" in saved.options["fields"]


def test_the_dashboard_refuses_a_wrong_verify_token(client, mocked):
    mock_handshake(mocked, HOOK, verify_token="another")
    client.post(
        "/sandbox/meta/app/",
        {"object": "instagram", "action": "subscribe", "callback_url": HOOK, "verify_token": "x"},
    )
    assert not Webhook.objects.exists()


# --- the customer phone -----------------------------------------------------------------------


def posts(mocked) -> list:
    return [call.request for call in mocked.calls if call.request.method == "POST"]


def events(mocked, credentials: Credentials = CREDENTIALS):
    [request] = [r for r in posts(mocked) if r.url == HOOK]
    hook_request = webhook_request(request)
    instagram_hooks.verify(credentials=credentials, request=hook_request)
    return instagram_hooks.parse(request=hook_request)


def ready(client, mocked) -> Conversation:
    """What adding the channel does (subscribe the Page), what the admin does (paste the
    callback in the dashboard), and the customer opening a chat."""
    post_json(
        client,
        f"{GRAPH}/{PAGE.page_id}/subscribed_apps",
        {"subscribed_fields": "messages,messaging_postbacks,message_reactions"},
        **PAGE_TOKEN,
    )
    dashboard_callback(client, mocked)
    mocked.add(responses.POST, HOOK, status=200, body="ok")
    mocked.calls.reset()
    response = client.post("/sandbox/phone/", {"endpoint": f"instagram:{ACCOUNT.account_id}"})
    assert response.status_code == 302, response.content
    return Conversation.objects.get(kind=Kind.INSTAGRAM)


def say(client, conversation: Conversation, **data) -> str:
    response = client.post(f"/sandbox/phone/{conversation.pk}/send", data, follow=True)
    return response.content.decode()


def only_message(parsed) -> InboundMessage:
    [event] = parsed
    assert isinstance(event, InboundMessage)
    return event


def test_the_phone_says_what_is_missing_before_instagram_is_usable(client, mocked):
    html = client.get("/sandbox/phone/").content.decode()
    assert "has not subscribed the app" in html
    post_json(
        client,
        f"{GRAPH}/{PAGE.page_id}/subscribed_apps",
        {"subscribed_fields": "messages"},
        **PAGE_TOKEN,
    )
    html = client.get("/sandbox/phone/").content.decode()
    assert "The Meta app has no callback URL for Instagram" in html


def test_it_sends_instagram_text_the_product_verifies_and_parses(client, mocked):
    conversation = ready(client, mocked)
    assert "Delivered to your webhook (200)." in say(
        client, conversation, what="text", text="Do you ship to Lisbon?"
    )
    body = json.loads(body_bytes(posts(mocked)[0]))
    assert body["object"] == "instagram"
    assert body["entry"][0]["id"] == ACCOUNT.account_id
    message = only_message(events(mocked))
    assert message.type == ContentType.TEXT
    assert message.text == "Do you ship to Lisbon?"
    assert message.sender.external_id == IGSID
    assert message.provider_message_id == Message.objects.get().provider_message_id


def test_the_product_refuses_it_under_another_app_secret(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="hi")
    other = Credentials(**{**CREDENTIALS.__dict__, "app_secret": "0" * 32})
    with pytest.raises(WebhookRejected):
        events(mocked, other)


def test_it_sends_a_picture_the_product_downloads_from_the_cdn(client, mocked, graph):
    conversation = ready(client, mocked)
    say(client, conversation, what="image", caption="ignored")
    message = only_message(events(mocked))
    assert message.type == ContentType.IMAGE
    assert message.text == ""  # Instagram pictures carry no caption
    fetched = InstagramAdapter().fetch_media(
        credentials=CREDENTIALS, media=Media(ref=message.media.ref), max_bytes=10**6
    )
    assert fetched.content == media.photo()
    assert fetched.mime_type == "image/jpeg"


def test_the_cdn_serves_only_pictures_customers_sent(client):
    response = client.get("/sandbox/graph/ig_messaging_cdn/nothing-here.jpg")
    assert response.status_code == 404


def test_instagram_has_no_location_and_no_delivery_receipt(client, mocked):
    conversation = ready(client, mocked)
    html = say(client, conversation, what="location", latitude="1", longitude="2")
    assert "Instagram does not let apps receive a shared location" in html
    assert not posts(mocked)
    response = client.post(
        f"/sandbox/phone/{conversation.pk}/receipts", {"state": "delivered"}, follow=True
    )
    assert "never its delivery" in response.content.decode()


def test_seen_names_each_reply_the_customer_saw(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="hi")
    first = reply(client).json()["message_id"]
    second = reply(client).json()["message_id"]
    mocked.calls.reset()
    response = client.post(
        f"/sandbox/phone/{conversation.pk}/receipts", {"state": "read"}, follow=True
    )
    assert "Delivered to your webhook (200)." in response.content.decode()
    parsed = events(mocked)
    assert all(isinstance(event, DeliveryStatus) for event in parsed)
    assert [(e.provider_message_id, e.state) for e in parsed] == [
        (first, DeliveryState.READ),
        (second, DeliveryState.READ),
    ]
    assert set(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"read"}


def test_the_window_closes_25_hours_later_and_the_phone_says_so(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="hi")
    client.post(f"/sandbox/phone/{conversation.pk}/later")
    error = error_of(reply(client), 400)
    assert error["error_subcode"] == 2534022
    html = unescape(client.get(f"/sandbox/phone/{conversation.pk}/").content.decode())
    assert "The 24-hour window is closed: only a person's replies get through" in html


def test_a_reaction_and_its_removal_reach_the_product_as_reactions(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="hi")
    mid = reply(client).json()["message_id"]
    sent = Message.objects.get(provider_message_id=mid)
    phone = InstagramPhone()
    for emoji in ("❤️", ""):
        mocked.calls.reset()
        assert phone.react(conversation, sent, emoji).ok
        reaction = only_message(events(mocked))
        assert reaction.type == ContentType.REACTION
        assert (reaction.reacted_to, reaction.reaction_emoji) == (mid, emoji)


def test_an_unsend_reaches_the_product_as_a_note_on_the_message(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="oops, wrong chat")
    said = Message.objects.get()
    mocked.calls.reset()
    assert InstagramPhone().unsend(conversation, said).ok
    unsent = only_message(events(mocked))
    assert unsent.type == ContentType.UNSUPPORTED
    assert unsent.provider_type == "unsend"
    assert unsent.reply_to == said.provider_message_id


def test_it_checks_the_customer_id_is_an_igsid(client, mocked):
    ready(client, mocked)
    response = client.post(
        "/sandbox/phone/",
        {"endpoint": f"instagram:{ACCOUNT.account_id}", "customer_id": "12ab"},
        follow=True,
    )
    assert "Instagram-scoped user id" in response.content.decode()


def test_the_index_lists_the_accounts_and_their_pages_credentials(client):
    html = client.get("/sandbox/").content.decode()
    for account in INSTAGRAM_ACCOUNTS:
        assert f"@{account.username}" in html
        assert account.page.page_id in html
        assert account.page.page_access_token in html
    assert "under Instagram" in html


def test_a_person_reacts_and_unsends_from_the_instagram_page(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="wrong photo, sorry")
    mid = reply(client).json()["message_id"]
    index = client.get("/sandbox/").content.decode()
    assert 'href="/sandbox/phone/instagram/"' in index
    chats = client.get("/sandbox/phone/instagram/").content.decode()
    assert f'href="/sandbox/phone/instagram/{conversation.pk}/"' in chats
    page = client.get(f"/sandbox/phone/instagram/{conversation.pk}/").content.decode()
    assert "On its way" in page and "wrong photo, sorry" in page

    mocked.calls.reset()
    sent = Message.objects.get(provider_message_id=mid)
    response = client.post(
        f"/sandbox/phone/instagram/{conversation.pk}/react",
        {"message": sent.pk, "emoji": "👍"},
        follow=True,
    )
    assert "Delivered to your webhook (200)." in response.content.decode()
    reaction = only_message(events(mocked))
    assert (reaction.type, reaction.reacted_to, reaction.reaction_emoji) == (
        ContentType.REACTION,
        mid,
        "👍",
    )

    mocked.calls.reset()
    own = Message.objects.get(direction="in")
    client.post(f"/sandbox/phone/instagram/{conversation.pk}/unsend", {"message": own.pk})
    unsent = only_message(events(mocked))
    assert (unsent.provider_type, unsent.reply_to) == ("unsend", own.provider_message_id)


def test_the_instagram_page_refuses_a_reaction_it_does_not_offer(client, mocked):
    conversation = ready(client, mocked)
    say(client, conversation, what="text", text="hi")
    reply(client)
    mocked.calls.reset()
    sent = Message.objects.get(direction="out")
    response = client.post(
        f"/sandbox/phone/instagram/{conversation.pk}/react",
        {"message": sent.pk, "emoji": "<b>"},
        follow=True,
    )
    assert "Choose one of Octopods" in unescape(response.content.decode())
    assert not posts(mocked)
    assert client.get("/sandbox/phone/instagram/999999/").status_code == 404
