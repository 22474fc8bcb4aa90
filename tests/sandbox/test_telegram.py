"""The Telegram Bot API stand-in: getMe, webhooks, sending, files, and its error shapes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sandbox import media
from sandbox.kinds import Kind
from sandbox.models import Conversation, Message, Webhook
from tests.sandbox.support import BOT, HOOKS, SECRET_TOKEN, TELEGRAM, register_telegram, tg

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


def chat_with(customer_id: str = "555000111", name: str = "Jane Doe") -> Conversation:
    return Conversation.objects.create(
        kind=Kind.TELEGRAM, endpoint=str(BOT.id), customer_id=customer_id, customer_name=name
    )


def test_it_answers_get_me_for_a_known_bot(client):
    response = client.get(f"{TELEGRAM}/bot{BOT.token}/getMe")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["result"]["id"] == BOT.id
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == BOT.username
    assert body["result"]["first_name"] == BOT.first_name


def test_it_refuses_an_unknown_token_as_telegram_does(client):
    response = client.get(f"{TELEGRAM}/bot7000000001:wrong-secret/getMe")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_it_treats_method_names_case_insensitively_and_404s_unknown_ones(client):
    assert client.get(f"{TELEGRAM}/bot{BOT.token}/GETME").json()["ok"] is True
    response = client.get(f"{TELEGRAM}/bot{BOT.token}/getUpdatez")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_it_sets_a_webhook_from_json_and_reports_it(client):
    response = tg(
        client,
        "setWebhook",
        {"url": HOOKS["telegram"], "secret_token": SECRET_TOKEN, "allowed_updates": ["message"]},
    )
    assert response.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = tg(client, "getWebhookInfo").json()["result"]
    assert info["url"] == HOOKS["telegram"]
    assert info["allowed_updates"] == ["message"]
    assert info["pending_update_count"] == 0
    assert info["has_custom_certificate"] is False
    webhook = Webhook.objects.get(scope=Webhook.Scope.TELEGRAM_BOT, owner=str(BOT.id))
    assert webhook.secret == SECRET_TOKEN


def test_it_sets_a_webhook_from_a_form_with_allowed_updates_as_a_json_string(client):
    response = client.post(
        f"{TELEGRAM}/bot{BOT.token}/setWebhook",
        {"url": HOOKS["telegram"], "allowed_updates": '["message","callback_query"]'},
    )
    assert response.json()["ok"] is True
    info = tg(client, "getWebhookInfo").json()["result"]
    assert info["allowed_updates"] == ["message", "callback_query"]


def test_it_keeps_the_previous_allowed_updates_when_they_are_not_given(client):
    register_telegram(client, allowed_updates=["message"])
    register_telegram(client)
    assert tg(client, "getWebhookInfo").json()["result"]["allowed_updates"] == ["message"]


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"url": "ftp://example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be"),
        (
            {"url": HOOKS["telegram"], "secret_token": "has spaces!"},
            "Bad Request: secret token contains unallowed characters",
        ),
        ({"url": HOOKS["telegram"], "allowed_updates": "not json"}, "Bad Request: can't parse"),
        ({"url": HOOKS["telegram"], "max_connections": 500}, "Bad Request: bad max_connections"),
    ],
)
def test_it_refuses_a_bad_webhook_with_a_400(client, data, description):
    response = tg(client, "setWebhook", data)
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False
    assert body["error_code"] == 400
    assert body["description"].startswith(description)
    assert not Webhook.objects.exists()


def test_it_deletes_the_webhook(client):
    register_telegram(client)
    response = tg(client, "deleteWebhook")
    assert response.json() == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert tg(client, "deleteWebhook").json()["description"] == "Webhook is already deleted"
    assert tg(client, "getWebhookInfo").json()["result"]["url"] == ""


def test_it_sends_a_message_into_a_chat_the_customer_started(client):
    chat = chat_with()
    response = tg(client, "sendMessage", {"chat_id": 555000111, "text": "Hello Jane"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    result = body["result"]
    assert result["message_id"] == 1
    assert result["text"] == "Hello Jane"
    assert result["from"] == {
        "id": BOT.id,
        "is_bot": True,
        "first_name": BOT.first_name,
        "username": BOT.username,
    }
    assert result["chat"] == {
        "id": 555000111,
        "first_name": "Jane",
        "last_name": "Doe",
        "type": "private",
    }
    assert isinstance(result["date"], int)
    sent = Message.objects.get(conversation=chat)
    assert (sent.direction, sent.text, sent.provider_message_id) == ("out", "Hello Jane", "1")


def test_it_numbers_a_chats_messages_in_sequence(client):
    chat_with()
    ids = [
        tg(client, "sendMessage", {"chat_id": "555000111", "text": f"n{n}"}).json()["result"][
            "message_id"
        ]
        for n in range(3)
    ]
    assert ids == [1, 2, 3]


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"chat_id": 999, "text": "hi"}, "Bad Request: chat not found"),
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 555000111, "text": "  "}, "Bad Request: message text is empty"),
        ({"chat_id": 555000111, "text": "x" * 4097}, "Bad Request: message is too long"),
    ],
)
def test_it_refuses_a_bad_send_message_with_telegrams_error(client, data, description):
    chat_with()
    response = tg(client, "sendMessage", data)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}


def test_it_refuses_to_send_with_a_bad_token(client):
    chat_with()
    response = tg(client, "sendMessage", {"chat_id": 555000111, "text": "hi"}, token="1:x")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert not Message.objects.exists()


def test_it_sends_a_photo_by_url(client):
    chat_with()
    response = tg(
        client,
        "sendPhoto",
        {"chat_id": 555000111, "photo": "https://files.example/a.jpg", "caption": "Your label"},
    )
    result = response.json()["result"]
    assert result["caption"] == "Your label"
    assert result["photo"][-1]["file_id"]
    sent = Message.objects.get(direction="out")
    assert sent.detail == {"photo": {"url": "https://files.example/a.jpg"}}


def test_it_sends_an_uploaded_document(client):
    chat_with()
    upload = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    response = client.post(
        f"{TELEGRAM}/bot{BOT.token}/sendDocument", {"chat_id": "555000111", "document": upload}
    )
    result = response.json()["result"]
    assert result["document"]["file_name"] == "invoice.pdf"
    assert result["document"]["mime_type"] == "application/pdf"


def test_it_says_when_a_photo_is_missing(client):
    chat_with()
    response = tg(client, "sendPhoto", {"chat_id": 555000111})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: there is no photo in the request"


def test_it_resolves_a_customers_photo_through_get_file_and_serves_the_bytes(client):
    chat = chat_with()
    photo = Message.objects.create(
        conversation=chat,
        direction="in",
        provider_message_id="1",
        content_type="image",
        media_ref="AgACAgQAAxkBAAIphoto",
    )
    for file_id in ("AgACAgQAAxkBAAIphoto", "AgACAgQAAxkBAAIphoto-thumb"):
        result = tg(client, "getFile", {"file_id": file_id}).json()["result"]
        assert result["file_id"] == file_id
        assert result["file_size"] == len(media.photo())
        assert result["file_path"] == f"photos/file_{photo.pk}.jpg"
    download = client.get(f"{TELEGRAM}/file/bot{BOT.token}/photos/file_{photo.pk}.jpg")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert download.content == media.photo()


def test_it_refuses_files_of_other_bots_and_unknown_ids(client):
    chat_with()
    other = Conversation.objects.create(kind=Kind.TELEGRAM, endpoint="7000000002", customer_id="1")
    photo = Message.objects.create(
        conversation=other, direction="in", provider_message_id="1", media_ref="AgAC-other"
    )
    response = tg(client, "getFile", {"file_id": "AgAC-other"})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: invalid file_id"
    download = client.get(f"{TELEGRAM}/file/bot{BOT.token}/photos/file_{photo.pk}.jpg")
    assert download.status_code == 404
    assert client.get(f"{TELEGRAM}/file/bot1:bad/photos/file_1.jpg").status_code == 401
