"""The Graph API stand-in (WhatsApp Cloud API and Messenger) and the Meta app dashboard."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from sandbox import media
from sandbox.kinds import Kind
from sandbox.models import AppSubscription, Conversation, Message, Webhook
from tests.sandbox.support import (
    GRAPH,
    HOOKS,
    NUMBER,
    OTHER_NUMBER,
    PAGE,
    SPRING_SALE_SEND,
    VERIFY_TOKEN,
    bearer,
    mock_handshake,
    post_json,
    register_whatsapp,
)

pytestmark = pytest.mark.django_db

NUMBER_URL = f"{GRAPH}/{NUMBER.phone_number_id}"
WA_TOKEN = bearer(NUMBER.access_token)
PAGE_TOKEN = bearer(PAGE.page_access_token)
OVERRIDE = {"override_callback_uri": HOOKS["whatsapp"], "verify_token": VERIFY_TOKEN}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    return error


def customer(
    kind=Kind.WHATSAPP, endpoint=NUMBER.phone_number_id, customer_id="15551234567", *, ago=None
):
    last = None if ago is None else timezone.now() - ago
    return Conversation.objects.create(
        kind=kind, endpoint=endpoint, customer_id=customer_id, last_customer_message_at=last
    )


# --- tokens and ids -------------------------------------------------------------------


def test_it_reads_a_phone_number_with_the_requested_fields(client):
    response = client.get(
        NUMBER_URL, {"fields": "id,display_phone_number,verified_name"}, **WA_TOKEN
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": NUMBER.phone_number_id,
        "display_phone_number": NUMBER.display_phone_number,
        "verified_name": NUMBER.verified_name,
    }


def test_it_takes_the_token_as_an_access_token_parameter_too(client):
    response = client.get(NUMBER_URL, {"access_token": NUMBER.access_token})
    assert response.json()["verified_name"] == NUMBER.verified_name


def test_it_refuses_a_bad_token_with_code_190(client):
    error = error_of(client.get(NUMBER_URL, **bearer("EAAnotatoken")), 401)
    assert error["code"] == 190
    assert error["message"].startswith("(#190)")


def test_it_asks_for_a_token_when_there_is_none(client):
    assert error_of(client.get(NUMBER_URL), 400)["code"] == 104


@pytest.mark.parametrize(
    "path",
    [
        f"{GRAPH}/{OTHER_NUMBER.phone_number_id}",  # another number's token
        f"{GRAPH}/{OTHER_NUMBER.waba_id}/phone_numbers",
        f"{GRAPH}/999999999",  # no such id
    ],
)
def test_it_answers_code_100_for_ids_the_token_cannot_see(client, path):
    error = error_of(client.get(path, **WA_TOKEN), 400)
    assert error["code"] == 100
    assert error["error_subcode"] == 33


def test_it_lists_a_wabas_phone_numbers(client):
    response = client.get(f"{GRAPH}/{NUMBER.waba_id}/phone_numbers", **WA_TOKEN)
    data = response.json()["data"]
    assert [n["id"] for n in data] == [NUMBER.phone_number_id]
    assert data[0]["display_phone_number"] == NUMBER.display_phone_number
    assert data[0]["verified_name"] == NUMBER.verified_name


def test_it_refuses_unknown_edges(client):
    error = error_of(client.get(f"{NUMBER_URL}/nonsense", **WA_TOKEN), 400)
    assert error["code"] == 2500


# --- subscribed_apps and the webhook override -----------------------------------------


def test_it_subscribes_and_unsubscribes_a_waba(client):
    path = f"{GRAPH}/{NUMBER.waba_id}/subscribed_apps"
    assert client.post(path, **WA_TOKEN).json() == {"success": True}
    assert AppSubscription.objects.filter(owner_kind="waba", owner_id=NUMBER.waba_id).exists()
    listed = client.get(path, **WA_TOKEN).json()["data"]
    assert listed[0]["whatsapp_business_api_data"]["id"]
    assert client.delete(path, **WA_TOKEN).json() == {"success": True}
    assert client.get(path, **WA_TOKEN).json() == {"data": []}


def test_it_overrides_a_numbers_callback_after_the_handshake(client, mocked):
    mock_handshake(mocked, HOOKS["whatsapp"])
    response = post_json(client, NUMBER_URL, {"webhook_configuration": OVERRIDE}, **WA_TOKEN)
    assert response.json() == {"success": True}
    handshake = mocked.calls[0].request
    assert handshake.method == "GET"
    query = parse_qs(urlsplit(handshake.url).query)
    assert query["hub.mode"] == ["subscribe"]
    assert query["hub.verify_token"] == [VERIFY_TOKEN]
    assert query["hub.challenge"][0].isdigit()
    webhook = Webhook.objects.get(scope="whatsapp_number", owner=NUMBER.phone_number_id)
    assert (webhook.url, webhook.secret) == (HOOKS["whatsapp"], VERIFY_TOKEN)
    shown = client.get(NUMBER_URL, {"fields": "webhook_configuration"}, **WA_TOKEN).json()
    assert shown["webhook_configuration"] == {"phone_number": HOOKS["whatsapp"]}


def test_it_takes_the_override_as_a_form_with_a_json_string(client, mocked):
    mock_handshake(mocked, HOOKS["whatsapp"])
    response = client.post(NUMBER_URL, {"webhook_configuration": json.dumps(OVERRIDE)}, **WA_TOKEN)
    assert response.json() == {"success": True}


def test_it_refuses_the_override_when_the_handshake_fails(client, mocked):
    mock_handshake(mocked, HOOKS["whatsapp"], verify_token="something-else")
    response = post_json(client, NUMBER_URL, {"webhook_configuration": OVERRIDE}, **WA_TOKEN)
    error = error_of(response, 400)
    assert error["code"] == 2200
    assert "Callback verification failed" in error["message"]
    assert "403" in error["message"]
    assert not Webhook.objects.exists()


def test_it_refuses_the_override_when_the_answer_is_not_the_challenge(client, mocked):
    mocked.add(responses.GET, HOOKS["whatsapp"], body="<html>hello</html>")
    response = post_json(client, NUMBER_URL, {"webhook_configuration": OVERRIDE}, **WA_TOKEN)
    error = error_of(response, 400)
    assert error["code"] == 2200
    assert "does not match challenge" in error["message"]


def test_it_refuses_an_override_without_a_verify_token(client):
    configuration = {"override_callback_uri": HOOKS["whatsapp"]}
    response = post_json(client, NUMBER_URL, {"webhook_configuration": configuration}, **WA_TOKEN)
    assert error_of(response, 400)["code"] == 100


def test_it_removes_the_override_with_an_empty_url(client, mocked):
    register_whatsapp(client, mocked)
    configuration = {"override_callback_uri": ""}
    response = post_json(client, NUMBER_URL, {"webhook_configuration": configuration}, **WA_TOKEN)
    assert response.json() == {"success": True}
    assert not Webhook.objects.filter(scope="whatsapp_number").exists()


# --- WhatsApp send and the 24-hour window ---------------------------------------------


def send(client, payload: dict, token=WA_TOKEN):
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
    return post_json(client, f"{NUMBER_URL}/messages", body, **token)


TEXT = {"to": "15551234567", "type": "text", "text": {"body": "Hi Kerry", "preview_url": False}}


def test_it_sends_inside_the_window(client):
    chat = customer(ago=timedelta(hours=1))
    response = send(client, TEXT)
    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "15551234567", "wa_id": "15551234567"}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    sent = Message.objects.get(provider_message_id=wamid)
    assert (sent.conversation, sent.direction, sent.text) == (chat, "out", "Hi Kerry")
    assert sent.detail["text"]["body"] == "Hi Kerry"


def test_it_sends_to_a_business_scoped_user_id_in_recipient(client):
    """Meta's "Business-scoped user IDs": ``recipient`` takes a BSUID, and the answer
    names it in ``contacts[].user_id`` rather than ``wa_id``."""
    bsuid = "BR.1502576394655843"
    chat = customer(customer_id=bsuid, ago=timedelta(hours=1))
    text = {"recipient": bsuid, "type": "text", "text": {"body": "Oi"}}
    body = send(client, text).json()
    assert body["contacts"] == [{"input": bsuid, "user_id": bsuid}]
    assert chat.messages.get().text == "Oi"
    assert error_of(send(client, {**text, "recipient": "not an id"}), 400)["code"] == 100


@pytest.mark.parametrize("ago", [timedelta(hours=25), None])
def test_it_refuses_free_form_outside_the_window_with_131047(client, ago):
    if ago is not None:
        customer(ago=ago)
    error = error_of(send(client, TEXT), 400)
    assert error["code"] == 131047
    assert "24 hours" in error["error_data"]["details"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert not Message.objects.filter(direction="out").exists()


def test_it_sends_templates_outside_the_window_even_to_a_new_customer(client):
    response = send(client, SPRING_SALE_SEND)
    assert response.status_code == 200
    assert response.json()["contacts"] == [{"input": "+1 555 123 4567", "wa_id": "15551234567"}]
    assert Conversation.objects.get(customer_id="15551234567").messages.get().content_type == (
        "template"
    )


def test_it_only_sends_with_the_numbers_own_token(client):
    customer(ago=timedelta(hours=1))
    error = error_of(send(client, TEXT, token=bearer(OTHER_NUMBER.access_token)), 400)
    assert error["code"] == 100


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"messaging_product": "sms", **TEXT}, 100),
        ({"type": "text", "text": {"body": "no recipient"}}, 100),
        ({"to": "12", "type": "text", "text": {"body": "x"}}, 131009),
        ({"to": "15551234567", "type": "text", "text": {"body": ""}}, 100),
        ({"to": "15551234567", "type": "hologram", "hologram": {}}, 131009),
    ],
)
def test_it_refuses_malformed_sends(client, payload, code):
    customer(ago=timedelta(hours=1))
    assert error_of(send(client, payload), 400)["code"] == code


def test_it_marks_a_customers_message_read(client):
    chat = customer(ago=timedelta(hours=1))
    Message.objects.create(conversation=chat, direction="in", provider_message_id="wamid.IN1")
    response = send(client, {"status": "read", "message_id": "wamid.IN1"})
    assert response.json() == {"success": True}
    assert Message.objects.get(provider_message_id="wamid.IN1").status == "read"


# --- WhatsApp media -------------------------------------------------------------------


def test_it_resolves_a_media_id_to_a_url_that_needs_the_same_token(client):
    chat = customer(ago=timedelta(hours=1))
    Message.objects.create(
        conversation=chat,
        direction="in",
        provider_message_id="wamid.P",
        media_ref="1203398154468537",
    )
    body = client.get(f"{GRAPH}/1203398154468537", **WA_TOKEN).json()
    assert body["messaging_product"] == "whatsapp"
    assert body["mime_type"] == "image/jpeg"
    assert body["file_size"] == str(len(media.photo()))
    assert body["sha256"] == media.photo_sha256_hex()
    url = urlsplit(body["url"])
    path = f"{url.path}?{url.query}"
    assert client.get(path).status_code == 401
    assert client.get(path, **bearer(OTHER_NUMBER.access_token)).status_code == 400
    download = client.get(path, **WA_TOKEN)
    assert download.status_code == 200
    assert download.content == media.photo()
    assert download["Content-Type"] == "image/jpeg"
    assert (
        client.get(f"{GRAPH}/1203398154468537", **bearer(OTHER_NUMBER.access_token)).status_code
        == 400
    )


# --- Messenger ------------------------------------------------------------------------


def test_it_reads_the_page_behind_a_page_token(client):
    response = client.get(f"{GRAPH}/me", {"fields": "id,name"}, **PAGE_TOKEN)
    assert response.json() == {"id": PAGE.page_id, "name": PAGE.name}


def test_it_subscribes_a_page_to_fields_and_unsubscribes_it(client):
    path = f"{GRAPH}/{PAGE.page_id}/subscribed_apps"
    response = client.post(path, {"subscribed_fields": "messages,message_deliveries"}, **PAGE_TOKEN)
    assert response.json() == {"success": True}
    listed = client.get(path, **PAGE_TOKEN).json()["data"]
    assert listed[0]["subscribed_fields"] == ["messages", "message_deliveries"]
    assert client.delete(path, **PAGE_TOKEN).json() == {"success": True}
    assert not AppSubscription.objects.exists()


def test_it_takes_subscribed_fields_as_a_json_array(client):
    path = f"{GRAPH}/{PAGE.page_id}/subscribed_apps"
    response = post_json(client, path, {"subscribed_fields": ["messages"]}, **PAGE_TOKEN)
    assert response.json() == {"success": True}
    assert AppSubscription.objects.get().subscribed_fields == ["messages"]


def test_it_requires_subscribed_fields_for_a_page(client):
    error = error_of(client.post(f"{GRAPH}/{PAGE.page_id}/subscribed_apps", **PAGE_TOKEN), 400)
    assert error["code"] == 100
    assert "subscribed_fields" in error["message"]


def messenger_send(client, path="me", **extra):
    body = {"recipient": {"id": "7423051946112835"}, "message": {"text": "Hi Sam"}, **extra}
    return post_json(client, f"{GRAPH}/{path}/messages", body, **PAGE_TOKEN)


def test_it_sends_on_messenger_inside_the_window(client):
    customer(Kind.MESSENGER, PAGE.page_id, "7423051946112835", ago=timedelta(hours=2))
    for path in ("me", PAGE.page_id):
        response = messenger_send(client, path, messaging_type="RESPONSE")
        body = response.json()
        assert body["recipient_id"] == "7423051946112835"
        assert body["message_id"].startswith("m_")
    assert Message.objects.filter(direction="out", text="Hi Sam").count() == 2


def test_it_takes_recipient_and_message_as_json_strings_in_a_form(client):
    customer(Kind.MESSENGER, PAGE.page_id, "7423051946112835", ago=timedelta(hours=2))
    response = client.post(
        f"{GRAPH}/me/messages",
        {"recipient": '{"id":"7423051946112835"}', "message": '{"text":"Hi"}'},
        **PAGE_TOKEN,
    )
    assert response.json()["message_id"].startswith("m_")


def test_it_refuses_messenger_outside_the_window_without_a_tag(client):
    customer(Kind.MESSENGER, PAGE.page_id, "7423051946112835", ago=timedelta(hours=25))
    error = error_of(messenger_send(client, messaging_type="RESPONSE"), 400)
    assert (error["code"], error["error_subcode"]) == (10, 2018278)


def test_it_lets_human_agent_replies_through_for_seven_days(client):
    chat = customer(Kind.MESSENGER, PAGE.page_id, "7423051946112835", ago=timedelta(hours=25))
    tagged = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert messenger_send(client, **tagged).status_code == 200
    chat.last_customer_message_at = timezone.now() - timedelta(days=8)
    chat.save()
    assert error_of(messenger_send(client, **tagged), 400)["code"] == 10


def test_it_refuses_a_person_who_never_wrote_to_the_page(client):
    error = error_of(messenger_send(client), 400)
    assert (error["code"], error["error_subcode"]) == (100, 2018001)


def test_it_refuses_a_whatsapp_token_for_a_page(client):
    response = post_json(
        client,
        f"{GRAPH}/{PAGE.page_id}/messages",
        {"recipient": {"id": "1"}, "message": {"text": "x"}},
        **WA_TOKEN,
    )
    assert error_of(response, 400)["code"] == 100


def test_it_serves_a_customers_messenger_picture_without_a_token(client):
    chat = customer(Kind.MESSENGER, PAGE.page_id, "7423051946112835")
    Message.objects.create(
        conversation=chat, direction="in", provider_message_id="m_1", media_ref="abcDEF123"
    )
    response = client.get("/sandbox/graph/fbcdn/abcDEF123.jpg")
    assert response.status_code == 200
    assert response.content == media.photo()
    assert client.get("/sandbox/graph/fbcdn/nothing.jpg").status_code == 404


# --- the Meta app dashboard -----------------------------------------------------------


def test_it_shows_the_dashboard_with_forms_for_both_objects(client):
    response = client.get("/sandbox/meta/app/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sandbox Meta" in html
    assert 'value="page"' in html and 'value="whatsapp_business_account"' in html
    assert "csrfmiddlewaretoken" in html
    assert "<script" not in html and "style=" not in html


def test_it_saves_a_messenger_callback_only_after_the_handshake(client, mocked):
    mock_handshake(mocked, HOOKS["messenger"])
    data = {
        "object": "page",
        "action": "subscribe",
        "callback_url": HOOKS["messenger"],
        "verify_token": VERIFY_TOKEN,
    }
    response = client.post("/sandbox/meta/app/", data, follow=True)
    assert "Verified and saved" in response.content.decode()
    webhook = Webhook.objects.get(scope="meta_app", owner="page")
    assert webhook.url == HOOKS["messenger"]
    assert "message_deliveries" in webhook.options["fields"]


def test_it_shows_a_failed_dashboard_handshake_plainly_and_saves_nothing(client, mocked):
    mock_handshake(mocked, HOOKS["messenger"], verify_token="the-real-one")
    data = {
        "object": "page",
        "action": "subscribe",
        "callback_url": HOOKS["messenger"],
        "verify_token": VERIFY_TOKEN,
    }
    html = client.post("/sandbox/meta/app/", data, follow=True).content.decode()
    assert "Not saved." in html
    assert "HTTP Status Code = 403" in html
    assert not Webhook.objects.exists()


def test_it_shows_an_unreachable_callback_plainly(client, mocked):
    data = {
        "object": "page",
        "action": "subscribe",
        "callback_url": HOOKS["messenger"],
        "verify_token": VERIFY_TOKEN,
    }
    html = client.post("/sandbox/meta/app/", data, follow=True).content.decode()
    assert "Not saved. Callback verification failed" in html


def test_it_removes_a_dashboard_callback(client, mocked):
    Webhook.objects.create(scope="meta_app", owner="page", url=HOOKS["messenger"])
    client.post("/sandbox/meta/app/", {"object": "page", "action": "remove"})
    assert not Webhook.objects.exists()
