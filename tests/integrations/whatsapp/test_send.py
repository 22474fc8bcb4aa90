import json
import logging
from urllib.parse import urlsplit

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
)
from integrations.registry import channel_adapter
from integrations.whatsapp.credentials import Credentials

PHONE_NUMBER_ID = "100000000000001"
TOKEN = "EAAsandboxWhatsAppAcmeAccessToken0001"
CREDENTIALS = Credentials(
    phone_number_id=PHONE_NUMBER_ID,
    waba_id="200000000000001",
    access_token=TOKEN,
    app_secret="5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b",
    verify_token="vt-0123456789abcdef",
)
CUSTOMER = "15551234567"
WAMID = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
MEDIA_ID = "1037543291543636"
LOOKASIDE = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 256
PHOTO_SIZE = len(PHOTO)

adapter = channel_adapter("whatsapp")


def graph(path: str) -> str:
    return f"{settings.META_GRAPH_API_URL}{path}"


def accepted(mocked) -> None:
    mocked.post(
        graph(f"/{PHONE_NUMBER_ID}/messages"),
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}],
            "messages": [{"id": WAMID}],
        },
    )


def refused(mocked, status: int, code: int, message: str, *, headers=None, **extra) -> None:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A4O5",
        **extra,
    }
    mocked.post(
        graph(f"/{PHONE_NUMBER_ID}/messages"),
        status=status,
        json={"error": error},
        headers=headers or {},
    )


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=CUSTOMER, **message))


def failure(**message) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        send(**message)
    return caught.value


def sent_body(mocked) -> dict:
    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == graph(f"/{PHONE_NUMBER_ID}/messages")
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.request.headers["Content-Type"] == "application/json"
    return json.loads(call.request.body)


ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER}


# --- message shapes ------------------------------------------------------------------------


def test_it_sends_text_without_a_link_preview(mocked):
    accepted(mocked)

    message_id = send(text="Your order *#123* shipped: https://acme.example/t/123")

    assert message_id == WAMID
    assert sent_body(mocked) == {
        **ENVELOPE,
        "type": "text",
        "text": {
            "body": "Your order *#123* shipped: https://acme.example/t/123",
            "preview_url": False,
        },
    }


@pytest.mark.parametrize(
    ("mime_type", "kind"),
    [("image/jpeg", "image"), ("image/png", "image"), ("video/mp4", "video")],
)
def test_it_sends_a_picture_or_video_by_link_with_its_caption(mocked, mime_type, kind):
    accepted(mocked)
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type=mime_type)

    send(text="Here it is", media=media)

    assert sent_body(mocked) == {
        **ENVELOPE,
        "type": kind,
        kind: {"link": "https://bridge.example.com/m/abc", "caption": "Here it is"},
    }


def test_it_sends_a_file_without_text_without_a_caption(mocked):
    accepted(mocked)

    send(media=OutboundMedia(url="https://bridge.example.com/m/abc", mime_type="image/jpeg"))

    assert sent_body(mocked)["image"] == {"link": "https://bridge.example.com/m/abc"}


def test_it_sends_a_document_with_its_filename(mocked):
    accepted(mocked)
    media = OutboundMedia(
        url="https://bridge.example.com/m/abc", mime_type="application/pdf", filename="invoice.pdf"
    )

    send(text="Your invoice", media=media)

    assert sent_body(mocked) == {
        **ENVELOPE,
        "type": "document",
        "document": {
            "link": "https://bridge.example.com/m/abc",
            "caption": "Your invoice",
            "filename": "invoice.pdf",
        },
    }


def test_it_names_a_document_after_its_link_when_it_has_no_filename(mocked):
    accepted(mocked)

    send(media=OutboundMedia(url="https://bridge.example.com/m/price%20list.xlsx?sig=1"))

    body = sent_body(mocked)
    assert body["type"] == "document"
    assert body["document"]["filename"] == "price list.xlsx"


def test_it_sends_a_gif_as_a_document(mocked):
    # WhatsApp's image type takes JPEG and PNG only.
    accepted(mocked)

    send(media=OutboundMedia(url="https://bridge.example.com/m/a.gif", mime_type="image/gif"))

    assert sent_body(mocked)["type"] == "document"


@pytest.mark.parametrize(("mime_type", "kind"), [("audio/ogg", "audio"), ("image/webp", "sticker")])
def test_it_sends_audio_and_stickers_without_a_caption(mocked, mime_type, kind):
    accepted(mocked)
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type=mime_type)

    send(text="ignored here", media=media)

    assert sent_body(mocked) == {
        **ENVELOPE,
        "type": kind,
        kind: {"link": "https://bridge.example.com/m/abc"},
    }
    assert adapter.takes_caption(media) is False


def test_it_says_which_files_take_a_caption():
    assert adapter.takes_caption(OutboundMedia(url="https://x/a", mime_type="image/png"))
    assert adapter.takes_caption(OutboundMedia(url="https://x/a", mime_type="application/pdf"))
    assert not adapter.takes_caption(OutboundMedia(url="https://x/a", mime_type="audio/mpeg"))


def test_it_sends_a_template_without_variables_without_components(mocked):
    accepted(mocked)

    body = ({"type": "BODY", "text": "Hello from Acme"},)
    send(template=TemplateMessage(name="hello_world", language="en", components=body))

    assert sent_body(mocked)["template"] == {"name": "hello_world", "language": {"code": "en"}}


def test_it_refuses_a_message_with_nothing_to_send(mocked):
    error = failure(text="  ")

    assert error.permanent
    assert "no text and no file" in error.message
    assert not mocked.calls


def test_it_refuses_an_answer_without_a_message_id(mocked):
    mocked.post(graph(f"/{PHONE_NUMBER_ID}/messages"), json={"messages": []})

    error = failure(text="hi")

    assert not error.permanent


# --- errors ------------------------------------------------------------------------------


def test_it_asks_for_a_template_outside_the_24_hour_window(mocked):
    refused(
        mocked,
        400,
        131047,
        "(#131047) Re-engagement message",
        error_data={"messaging_product": "whatsapp", "details": "More than 24 hours have passed"},
    )

    error = failure(text="hi")

    assert error.permanent
    assert error.code == "131047"
    assert error.message == (
        "WhatsApp only delivers free-form replies within 24 hours of the customer's last "
        "message. Send a template from the Octopods panel in this conversation's details."
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (130429, "(#130429) Rate limit hit"),
        (131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
        (80007, "(#80007) Rate limit issues"),
        (4, "(#4) Application request limit reached"),
    ],
)
def test_it_retries_rate_limits(mocked, code, message):
    refused(mocked, 400, code, message)

    error = failure(text="hi")

    assert not error.permanent
    assert error.code == str(code)
    assert "tries again" in error.message


def test_it_passes_on_how_long_meta_asked_us_to_wait(mocked):
    refused(mocked, 429, 130429, "(#130429) Rate limit hit", headers={"Retry-After": "30"})

    error = failure(text="hi")

    assert not error.permanent
    assert error.retry_after == 30


def test_it_asks_to_reconnect_the_channel_when_the_token_is_refused(mocked):
    refused(mocked, 401, 190, "Error validating access token: Session has expired")

    error = failure(text="hi")

    assert error.permanent
    assert error.unauthorized
    assert "Reconnect the channel" in error.message


def test_it_asks_to_reconnect_when_the_token_lost_its_messaging_permission(mocked):
    refused(mocked, 403, 200, "(#200) Requires whatsapp_business_messaging permission")

    error = failure(text="hi")

    assert error.permanent
    assert "Reconnect the channel" in error.message
    assert "whatsapp_business_messaging" in error.message


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (131026, "Reach the customer another way"),
        (131030, "allowed recipients"),
        (131053, "send the file in one of those forms"),
        (132001, "no approved template of this name in this language"),
        (132000, "different number of variables"),
        (368, "temporarily blocked"),
    ],
)
def test_it_says_what_to_do_when_whatsapp_will_never_send_it(mocked, code, says):
    refused(mocked, 400, code, f"(#{code}) Something", error_data={"details": "the details"})

    error = failure(text="hi")

    assert error.permanent
    assert error.code == str(code)
    assert says in error.message


def test_it_quotes_meta_on_an_error_it_has_no_words_for(mocked):
    refused(
        mocked,
        400,
        131009,
        "(#131009) Parameter value is not valid",
        error_data={"details": "Bad to"},
    )

    error = failure(text="hi")

    assert error.permanent
    assert error.message == "WhatsApp refused the message (Bad to)."


@pytest.mark.parametrize("status", [500, 503])
def test_it_retries_when_meta_is_down(mocked, status):
    mocked.post(graph(f"/{PHONE_NUMBER_ID}/messages"), status=status, body="oops")

    error = failure(text="hi")

    assert not error.permanent


def test_it_retries_a_timeout(mocked):
    mocked.post(graph(f"/{PHONE_NUMBER_ID}/messages"), body=requests.ReadTimeout("slow"))

    error = failure(text="hi")

    assert not error.permanent
    assert "did not answer in time" in error.message


# --- media --------------------------------------------------------------------------------


def mock_media(mocked, *, url=LOOKASIDE, size=PHOTO_SIZE, mime_type="image/jpeg") -> None:
    mocked.get(
        graph(f"/{MEDIA_ID}"),
        json={
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": mime_type,
            "sha256": "abc",
            "file_size": str(size),
            "id": MEDIA_ID,
        },
    )


def fetch(media=None, max_bytes=1_000_000) -> FetchedMedia:
    media = media or Media(ref=MEDIA_ID, mime_type="image/jpeg")
    return adapter.fetch_media(credentials=CREDENTIALS, media=media, max_bytes=max_bytes)


def fetch_failure(**kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        fetch(**kwargs)
    return caught.value


def test_it_fetches_media_in_two_steps_with_the_same_token(mocked):
    mock_media(mocked)
    mocked.get(LOOKASIDE, body=PHOTO, content_type="application/octet-stream")

    fetched = fetch(Media(ref=MEDIA_ID, mime_type="image/jpeg", filename="receipt.jpg"))

    assert fetched == FetchedMedia(content=PHOTO, mime_type="image/jpeg", filename="receipt.jpg")
    first, second = mocked.calls
    assert first.request.url == graph(f"/{MEDIA_ID}")
    assert second.request.url == LOOKASIDE
    assert first.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert second.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_it_takes_the_mime_type_from_whatsapps_answer(mocked):
    mock_media(mocked, mime_type="audio/ogg; codecs=opus")
    mocked.get(LOOKASIDE, body=b"OggS")

    fetched = fetch(Media(ref=MEDIA_ID))

    assert fetched.mime_type == "audio/ogg; codecs=opus"
    assert fetched.filename == ""


def test_it_fetches_from_the_configured_api_host(mocked):
    # The sandbox serves the download from its own host in development and tests.
    api = urlsplit(settings.META_GRAPH_API_URL)
    url = f"{api.scheme}://{api.netloc}/sandbox/graph/whatsapp_business/attachments/?mid=1"
    mock_media(mocked, url=url)
    mocked.get(url, body=PHOTO)

    assert fetch().content == PHOTO


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/steal",
        "http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
        "https://lookaside.fbsbx.com.evil.example/x",
        "https://lookaside.fbsbx.com:8443/x",
        "https://user@evil.example/x",
        "file:///etc/passwd",
    ],
)
def test_it_refuses_a_download_url_off_metas_hosts(mocked, url):
    mock_media(mocked, url=url)

    error = fetch_failure()

    assert error.permanent
    assert "not one of WhatsApp's own servers" in error.message
    assert len(mocked.calls) == 1  # the token never went there


def test_it_refuses_a_redirect_off_metas_hosts(mocked):
    mock_media(mocked)
    mocked.get(LOOKASIDE, status=302, headers={"Location": "https://evil.example/x"})

    error = fetch_failure()

    assert error.permanent
    assert "evil.example" in error.message
    assert len(mocked.calls) == 2


def test_it_refuses_a_media_id_that_is_not_one(mocked):
    error = fetch_failure(media=Media(ref="../me?fields=name"))

    assert error.permanent
    assert not mocked.calls


def test_it_refuses_a_file_whatsapp_says_is_too_large(mocked):
    mock_media(mocked, size=30_000_000)

    error = fetch_failure(max_bytes=20_000_000)

    assert error.permanent
    assert "30 MB" in error.message and "20 MB" in error.message
    assert len(mocked.calls) == 1


def test_it_refuses_a_file_the_webhook_said_is_too_large(mocked):
    error = fetch_failure(media=Media(ref=MEDIA_ID, size=5_000_000), max_bytes=1_000_000)

    assert error.permanent
    assert not mocked.calls


def test_it_stops_reading_at_the_size_cap(mocked):
    mock_media(mocked, size=10)  # what Meta said, and the body is larger
    mocked.get(LOOKASIDE, body=PHOTO)

    error = fetch_failure(max_bytes=100)

    assert error.permanent
    assert error.code == "too_large"


def test_it_refuses_a_download_announced_larger_than_the_cap(mocked):
    mock_media(mocked, size=10)
    mocked.get(LOOKASIDE, body=PHOTO, headers={"Content-Length": str(len(PHOTO))})

    error = fetch_failure(max_bytes=100)

    assert error.code == "too_large"


def test_it_asks_to_reconnect_when_the_media_lookup_refuses_the_token(mocked):
    mocked.get(
        graph(f"/{MEDIA_ID}"),
        status=401,
        json={"error": {"message": "Invalid OAuth access token", "code": 190}},
    )

    error = fetch_failure()

    assert error.unauthorized
    assert "Reconnect the channel" in error.message


def test_it_says_when_whatsapp_no_longer_has_the_file(mocked):
    mocked.get(
        graph(f"/{MEDIA_ID}"),
        status=400,
        json={
            "error": {
                "message": "(#100) Unsupported get request. Object with ID '1' does not exist",
                "code": 100,
            }
        },
    )

    error = fetch_failure()

    assert error.permanent
    assert "7 days" in error.message


def test_it_retries_when_the_download_link_has_expired(mocked):
    mock_media(mocked)
    mocked.get(LOOKASIDE, status=404, body="")

    error = fetch_failure()

    assert not error.permanent
    assert "expired" in error.message


def test_it_retries_a_download_that_times_out(mocked):
    mock_media(mocked)
    mocked.get(LOOKASIDE, body=requests.ConnectTimeout("slow"))

    error = fetch_failure()

    assert not error.permanent


# --- secrets ------------------------------------------------------------------------------


def test_it_never_logs_the_access_token(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    refused(mocked, 401, 190, "Error validating access token")
    mock_media(mocked)
    mocked.get(LOOKASIDE, body=PHOTO)

    error = failure(text="hi")
    logging.getLogger("tests").error("the send failed", exc_info=error)
    fetch()

    assert "provider call: POST" in caplog.text
    assert "provider call: GET" in caplog.text
    assert TOKEN not in caplog.text
