import json
import logging

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import (
    FetchedMedia,
    Media,
    OutboundMedia,
    OutboundMessage,
    TemplateMessage,
    WebhookRequest,
)
from integrations.registry import channel_adapter
from integrations.telegram.credentials import Credentials

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CREDENTIALS = Credentials(
    bot_token=TOKEN,
    secret_token="s3cr3t_T0ken-for-acme",
    bot_id="7000000001",
    bot_username="acme_support_bot",
)
CHAT = 555
FILE_ID = "AgACAgQAAxkBAAIBZ2Z"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 256
PHOTO_SIZE = len(PHOTO)

adapter = channel_adapter("telegram")


def api(method: str) -> str:
    return f"{settings.TELEGRAM_API_URL}/bot{TOKEN}/{method}"


def file_url(path: str) -> str:
    return f"{settings.TELEGRAM_API_URL}/file/bot{TOKEN}/{path}"


def sent_message(message_id: int = 43, **content) -> dict:
    return {
        "message_id": message_id,
        "from": {"id": 7000000001, "is_bot": True, "first_name": "Acme", "username": "acme_bot"},
        "chat": {"id": CHAT, "type": "private", "first_name": "Jane"},
        "date": 1718000100,
        **content,
    }


def accepted(mocked, method: str, **content) -> None:
    mocked.post(api(method), json={"ok": True, "result": sent_message(**content)})


def refused(mocked, method: str, status: int, description: str, **extra) -> None:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    mocked.post(api(method), status=status, json=body)


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=str(CHAT), **message))


def failure(**message) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        send(**message)
    return caught.value


def sent_payload(mocked, method: str) -> dict:
    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == api(method)
    return json.loads(call.request.body)


# --- message shapes ------------------------------------------------------------------------


def test_it_sends_text_as_telegram_html(mocked):
    accepted(mocked, "sendMessage", text="Hi")

    message_id = send(text="<b>Hi</b> &amp; welcome")

    assert message_id == f"{CHAT}:43"
    assert sent_payload(mocked, "sendMessage") == {
        "chat_id": CHAT,
        "text": "<b>Hi</b> &amp; welcome",
        "parse_mode": "HTML",
    }


def test_its_message_id_is_the_one_the_webhook_gives_the_same_message():
    update = {
        "update_id": 100000001,
        "message": {
            **sent_message(message_id=43),
            "from": {"id": CHAT, "is_bot": False, "first_name": "Jane"},
            "text": "hello",
        },
    }
    request = WebhookRequest(
        method="POST", url="https://bridge.example.com/hooks/telegram/k/", headers={},
        body=json.dumps(update).encode(),
    )  # fmt: skip

    (parsed,) = adapter.parse(request=request)

    assert parsed.provider_message_id == f"{CHAT}:43"


@pytest.mark.parametrize(
    ("mime_type", "method", "field"),
    [
        ("image/jpeg", "sendPhoto", "photo"),
        ("image/png", "sendPhoto", "photo"),
        ("image/gif", "sendDocument", "document"),
        ("video/mp4", "sendVideo", "video"),
        ("audio/ogg", "sendVoice", "voice"),
        ("audio/mpeg", "sendAudio", "audio"),
        ("audio/x-wav", "sendDocument", "document"),
        ("application/pdf", "sendDocument", "document"),
    ],
)
def test_it_sends_a_file_by_link_with_its_caption(mocked, mime_type, method, field):
    accepted(mocked, method)
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type=mime_type)

    message_id = send(text="<i>Here</i> it is", media=media)

    assert message_id == f"{CHAT}:43"
    assert sent_payload(mocked, method) == {
        "chat_id": CHAT,
        field: "https://bridge.example.com/m/abc",
        "caption": "<i>Here</i> it is",
        "parse_mode": "HTML",
    }
    assert adapter.takes_caption(media)


def test_it_sends_a_file_without_text_without_a_caption(mocked):
    accepted(mocked, "sendPhoto")

    send(media=OutboundMedia(url="https://bridge.example.com/m/abc", mime_type="image/jpeg"))

    assert sent_payload(mocked, "sendPhoto") == {
        "chat_id": CHAT,
        "photo": "https://bridge.example.com/m/abc",
    }


def test_it_picks_the_method_from_the_filename_when_the_type_is_unknown(mocked):
    accepted(mocked, "sendVideo")

    send(media=OutboundMedia(url="https://bridge.example.com/m/abc", filename="clip.mp4"))

    assert "video" in sent_payload(mocked, "sendVideo")


def test_it_refuses_templates_as_whatsapps(mocked):
    error = failure(template=TemplateMessage(name="order_update", language="en"))

    assert error.permanent
    assert "WhatsApp" in error.message
    assert not mocked.calls


def test_it_refuses_a_message_with_nothing_to_send(mocked):
    assert failure(text=" ").permanent
    assert not mocked.calls


def test_it_refuses_an_answer_without_the_sent_message(mocked):
    mocked.post(api("sendMessage"), json={"ok": True, "result": True})

    assert not failure(text="hi").permanent


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "description", "says"),
    [
        (403, "Forbidden: bot was blocked by the user", "blocked the Telegram bot"),
        (403, "Forbidden: user is deactivated", "deleted"),
        (403, "Forbidden: bot can't initiate conversation with a user", "start a chat"),
        (403, "Forbidden: something new", "does not let the bot write"),
        (400, "Bad Request: chat not found", "started a chat with it"),
        (
            400,
            "Bad Request: can't parse entities: Unclosed start tag at byte offset 3",
            "formatting",
        ),
        (400, "Bad Request: message is too long", "4,096 characters"),
        (400, "Bad Request: message caption is too long", "1,024 characters"),
        (400, "Bad Request: wrong file identifier/HTTP URL specified", "PDF, ZIP or GIF"),
        (400, "Bad Request: failed to get HTTP URL content", "20 MB"),
        (400, "Bad Request: something else", "Telegram refused the message: Bad Request"),
    ],
)
def test_it_says_what_to_do_when_telegram_will_never_send_it(mocked, status, description, says):
    refused(mocked, "sendMessage", status, description)

    error = failure(text="hi")

    assert error.permanent
    assert says in error.message


def test_it_sends_text_telegram_cannot_parse_as_html_once_more_as_plain_text(mocked):
    # A plain signature appended to the formatted reply: its "&" and "<" are not HTML.
    text = (
        '<b>Thanks</b>, see <a href="https://acme.example/?a=1&amp;b=2">the guide</a>'
        "\n\n— Smith & Co <3"
    )
    refused(mocked, "sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag")
    accepted(mocked, "sendMessage")

    message_id = send(text=text)

    assert message_id == f"{CHAT}:43"
    first, second = (json.loads(call.request.body) for call in mocked.calls)
    assert first == {"chat_id": CHAT, "text": text, "parse_mode": "HTML"}
    assert second == {
        "chat_id": CHAT,
        "text": "Thanks, see the guide (https://acme.example/?a=1&b=2)\n\n— Smith & Co <3",
    }


def test_it_sends_a_caption_telegram_cannot_parse_as_plain_text(mocked):
    refused(mocked, "sendPhoto", 400, "Bad Request: can't parse entities: Unclosed start tag")
    accepted(mocked, "sendPhoto")
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type="image/jpeg")

    send(text='<a href="https://acme.example">https://acme.example</a> & more', media=media)

    second = json.loads(mocked.calls[1].request.body)
    assert second == {
        "chat_id": CHAT,
        "photo": "https://bridge.example.com/m/abc",
        "caption": "https://acme.example & more",
    }


def test_it_gives_up_when_the_plain_text_is_refused_too(mocked):
    refused(mocked, "sendMessage", 400, "Bad Request: can't parse entities: whatever")

    error = failure(text="a & b")

    assert error.permanent
    assert "formatting" in error.message
    assert len(mocked.calls) == 2


def test_it_asks_to_reconnect_the_channel_when_the_token_is_refused(mocked):
    refused(mocked, "sendMessage", 401, "Unauthorized")

    error = failure(text="hi")

    assert error.permanent
    assert error.unauthorized
    assert "Reconnect the channel" in error.message


def test_it_waits_as_long_as_telegram_asks(mocked):
    refused(
        mocked,
        "sendMessage",
        429,
        "Too Many Requests: retry after 23",
        parameters={"retry_after": 23},
    )

    error = failure(text="hi")

    assert not error.permanent
    assert error.retry_after == 23


def test_it_retries_when_telegram_is_down(mocked):
    refused(mocked, "sendMessage", 502, "Bad Gateway")

    assert not failure(text="hi").permanent


def test_it_retries_a_timeout(mocked):
    mocked.post(api("sendMessage"), body=requests.ReadTimeout(f"read timed out: {api('x')}"))

    error = failure(text="hi")

    assert not error.permanent
    assert error.__cause__ is None  # the URL, and so the token, is not kept


# --- media --------------------------------------------------------------------------------


def mock_get_file(mocked, *, path="photos/file_7.jpg", size=PHOTO_SIZE) -> None:
    mocked.post(
        api("getFile"),
        json={
            "ok": True,
            "result": {
                "file_id": FILE_ID,
                "file_unique_id": "AQADZ2Z",
                "file_size": size,
                "file_path": path,
            },
        },
    )


def fetch(max_bytes=1_000_000, **media) -> FetchedMedia:
    media = {"ref": FILE_ID, **media}
    return adapter.fetch_media(credentials=CREDENTIALS, media=Media(**media), max_bytes=max_bytes)


def fetch_failure(**kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        fetch(**kwargs)
    return caught.value


def test_it_fetches_a_file_through_get_file(mocked):
    mock_get_file(mocked)
    mocked.get(file_url("photos/file_7.jpg"), body=PHOTO, content_type="application/octet-stream")

    fetched = fetch(mime_type="image/jpeg")

    assert fetched == FetchedMedia(content=PHOTO, mime_type="image/jpeg", filename="file_7.jpg")
    get_file, download = mocked.calls
    assert json.loads(get_file.request.body) == {"file_id": FILE_ID}
    assert download.request.url == file_url("photos/file_7.jpg")


def test_it_keeps_the_documents_own_name_and_type(mocked):
    mock_get_file(mocked, path="documents/file_8.pdf")
    mocked.get(file_url("documents/file_8.pdf"), body=b"%PDF")

    fetched = fetch(mime_type="application/pdf", filename="invoice.pdf")

    assert fetched.mime_type == "application/pdf"
    assert fetched.filename == "invoice.pdf"


def test_it_guesses_the_type_from_the_path_when_nobody_says(mocked):
    mock_get_file(mocked, path="voice/file_9.oga")
    mocked.get(file_url("voice/file_9.oga"), body=b"OggS", content_type="application/octet-stream")

    assert fetch().mime_type == "audio/ogg"


def test_it_refuses_a_file_path_that_climbs_out(mocked):
    mock_get_file(mocked, path="../../bot1:x/deleteWebhook")

    error = fetch_failure()

    assert len(mocked.calls) == 1
    assert not error.permanent


def test_it_refuses_a_file_telegram_says_is_too_large(mocked):
    mock_get_file(mocked, size=5_000_000)

    error = fetch_failure(max_bytes=1_000_000)

    assert error.permanent
    assert "5.0 MB" in error.message
    assert len(mocked.calls) == 1


def test_it_says_when_telegram_will_not_let_the_bot_download(mocked):
    refused(mocked, "getFile", 400, "Bad Request: file is too big")

    error = fetch_failure()

    assert error.permanent
    assert "20 MB" in error.message


def test_it_stops_reading_at_the_size_cap(mocked):
    mock_get_file(mocked, size=10)
    mocked.get(file_url("photos/file_7.jpg"), body=PHOTO)

    error = fetch_failure(max_bytes=100)

    assert error.code == "too_large"


def test_it_retries_when_the_file_path_has_expired(mocked):
    mock_get_file(mocked)
    mocked.get(file_url("photos/file_7.jpg"), status=404, json={"ok": False, "error_code": 404})

    error = fetch_failure()

    assert not error.permanent
    assert not error.unauthorized


def test_it_never_logs_the_bot_token(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    refused(mocked, "sendMessage", 401, "Unauthorized")
    mock_get_file(mocked)
    mocked.get(file_url("photos/file_7.jpg"), body=requests.ConnectionError(file_url("x")))

    error = failure(text="hi")
    logging.getLogger("tests").error("the send failed", exc_info=error)
    with pytest.raises(ProviderError) as caught:
        fetch()
    logging.getLogger("tests").error("the fetch failed", exc_info=caught.value)

    assert "provider call: POST" in caplog.text
    assert "provider call failed: GET" in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
