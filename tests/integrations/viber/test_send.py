"""Sending to a Viber customer: https://developers.viber.com/docs/api/rest-bot-api/#send-message
(message types, sender.name) and Error Codes; text formatting:
https://developers.viber.com/docs/tools/text-formatting/."""

import json

import pytest

from integrations.base import ProviderError
from integrations.channel import Media, OutboundMedia, OutboundMessage, TemplateMessage
from integrations.viber.adapter import ViberAdapter
from integrations.viber.client import api_url
from integrations.viber.credentials import Credentials

TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
CREDENTIALS = Credentials(
    auth_token=TOKEN,
    bot_id="pa:5083915049473459744",
    bot_name="Acme Support and Returns Desk Team",
)
JOHN = "01234567890A="
FILES = "https://bridge.example.com/files/signed"
SENT = {"status": 0, "status_message": "ok", "message_token": 5741311803571721087}

adapter = ViberAdapter()


def api(method: str) -> str:
    return f"{api_url()}/{method}"


def sent(mocked) -> dict:
    call = next(call for call in mocked.calls if call.request.url == api("send_message"))
    return json.loads(call.request.body)


def send(**kwargs) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=JOHN, **kwargs))


# --- text ------------------------------------------------------------------------------------


def test_it_sends_text_and_returns_the_message_token(mocked):
    """Send Message: receiver, sender.name (at most 28 characters), type text."""
    mocked.post(api("send_message"), json=SENT)

    assert send(text="*Hello* John") == "5741311803571721087"

    assert sent(mocked) == {
        "receiver": JOHN,
        "sender": {"name": "Acme Support and Returns Des"},
        "type": "text",
        "text": "*Hello* John",
    }


def test_it_refuses_a_reply_with_nothing_to_send(mocked):
    with pytest.raises(ProviderError, match="no text and no file"):
        send(text="  ")
    assert not mocked.calls


def test_templates_are_refused():
    with pytest.raises(ProviderError, match="WhatsApp feature"):
        send(template=TemplateMessage(name="welcome", language="en"))


# --- files -----------------------------------------------------------------------------------


def test_it_sends_a_picture_with_its_caption(mocked):
    """Picture message: media (a public URL Viber fetches) and text."""
    mocked.post(api("send_message"), json=SENT)
    media = OutboundMedia(url=f"{FILES}/photo.jpg", mime_type="image/jpeg")

    send(text="The part", media=media)

    assert sent(mocked) == {
        "receiver": JOHN,
        "sender": {"name": "Acme Support and Returns Des"},
        "type": "picture",
        "media": f"{FILES}/photo.jpg",
        "text": "The part",
    }
    assert adapter.takes_caption(media)


def test_it_sends_a_file_with_its_size_and_name(mocked):
    """File message: media, size (required) and file_name."""
    mocked.get(f"{FILES}/invoice.pdf", body=b"x" * 48213, headers={"Content-Length": "48213"})
    mocked.post(api("send_message"), json=SENT)
    media = OutboundMedia(
        url=f"{FILES}/invoice.pdf", mime_type="application/pdf", filename="invoice-1042.pdf"
    )

    send(media=media)

    body = sent(mocked)
    assert body["type"] == "file"
    assert body["media"] == f"{FILES}/invoice.pdf"
    assert body["size"] == 48213
    assert body["file_name"] == "invoice-1042.pdf"
    assert not adapter.takes_caption(media)


def test_it_sends_an_mp4_as_a_video(mocked):
    """Video message: media and size (required)."""
    mocked.get(f"{FILES}/clip.mp4", body=b"x" * 1000000, headers={"Content-Length": "1000000"})
    mocked.post(api("send_message"), json=SENT)

    send(media=OutboundMedia(url=f"{FILES}/clip.mp4", mime_type="video/mp4"))

    body = sent(mocked)
    assert (body["type"], body["media"], body["size"]) == ("video", f"{FILES}/clip.mp4", 1000000)


def test_a_file_of_unknown_size_goes_as_a_link(mocked):
    """File message: without a size Viber refuses it; the customer gets the link."""
    mocked.get(f"{FILES}/notes.txt", status=404)
    mocked.post(api("send_message"), json=SENT)

    send(media=OutboundMedia(url=f"{FILES}/notes.txt", mime_type="text/plain"))

    assert sent(mocked)["type"] == "text"
    assert sent(mocked)["text"] == f"{FILES}/notes.txt"


def test_a_file_not_on_https_goes_as_a_link_without_being_fetched(mocked):
    mocked.post(api("send_message"), json=SENT)

    send(text="Notes", media=OutboundMedia(url="http://files.example.com/notes.txt"))

    assert len(mocked.calls) == 1
    assert sent(mocked)["text"] == "Notes\nhttp://files.example.com/notes.txt"


# --- refusals --------------------------------------------------------------------------------


def test_a_customer_who_has_not_subscribed_is_explained(mocked):
    """Error Codes: 6 receiverNotSubscribed — a bot writes only to subscribers."""
    mocked.post(api("send_message"), json={"status": 6, "status_message": "notSubscribed"})

    with pytest.raises(ProviderError) as caught:
        send(text="Hello")

    error = caught.value
    assert error.permanent
    assert "not subscribed to the Viber bot" in error.message
    assert "once they write to the bot again" in error.message


def test_not_subscribed_is_recognised_by_its_name_too(mocked):
    """Error Codes: status_message notSubscribed (seen without the documented code)."""
    mocked.post(api("send_message"), json={"status": 99, "status_message": "notSubscribed"})

    with pytest.raises(ProviderError, match="not subscribed to the Viber bot"):
        send(text="Hello")


def test_a_revoked_token_asks_for_a_reconnect(mocked):
    """Error Codes: 2 invalidAuthToken, on a send."""
    mocked.post(api("send_message"), json={"status": 2, "status_message": "invalidAuthToken"})

    with pytest.raises(ProviderError, match="Reconnect the channel") as caught:
        send(text="Hello")
    assert caught.value.unauthorized and caught.value.permanent


def test_the_rate_limit_is_tried_again(mocked):
    """Send a Message (creators.viber.com): at most 100 messages to a user within an hour
    without a reply, refused as {"status": 12, "status_message": "Too many requests"}."""
    mocked.post(api("send_message"), json={"status": 12, "status_message": "Too many requests"})

    with pytest.raises(ProviderError, match="at most 100") as caught:
        send(text="Hello")
    assert not caught.value.permanent
    assert caught.value.retry_after == 600.0


def test_an_http_429_is_tried_again_when_viber_says(mocked):
    mocked.post(api("send_message"), status=429, headers={"Retry-After": "7"})

    with pytest.raises(ProviderError, match="try again in 7 seconds") as caught:
        send(text="Hello")
    assert caught.value.retry_after == 7.0
    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("status", "status_message", "says"),
    [
        (5, "receiverNotRegistered", "no longer a Viber user"),
        (7, "publicAccountBlocked", "blocked, suspended or not found"),
        (11, "receiverNoSuitableDevice", "no device"),
        (13, "apiVersionNotSupported", "too old"),
        (23, "freeMessagesExceeded", "account with Viber"),
        (18, "noPublicChat", "noPublicChat"),
    ],
)
def test_other_refusals_say_what_happened(mocked, status, status_message, says):
    """Error Codes: each refusal the agent can act on is worded for them."""
    mocked.post(api("send_message"), json={"status": status, "status_message": status_message})

    with pytest.raises(ProviderError, match=says) as caught:
        send(text="Hello")
    assert caught.value.permanent
    assert caught.value.code == status_message


def test_an_answer_without_a_message_token_is_not_read(mocked):
    mocked.post(api("send_message"), json={"status": 0, "status_message": "ok"})

    with pytest.raises(ProviderError, match="could not read"):
        send(text="Hello")


# --- formatting ------------------------------------------------------------------------------


def test_it_writes_viber_markdown():
    """Text formatting: *bold*, _italic_, ~strike~, ```monospace```."""
    html = "<p><b>Order</b> <i>shipped</i> <s>late</s></p><pre>AB-1042</pre>"

    assert adapter.format_html(html) == "*Order* _shipped_ ~late~\n```AB-1042```"


# --- fetch_media -----------------------------------------------------------------------------


MEDIA_URL = "https://dl-media.viber.com/1/share/2/long/file/invoice.pdf"


def test_it_downloads_a_file_from_vibers_servers(mocked):
    mocked.get(MEDIA_URL, body=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})

    fetched = adapter.fetch_media(
        credentials=CREDENTIALS,
        media=Media(ref=MEDIA_URL, filename="invoice-1042.pdf", size=8),
        max_bytes=1000,
    )

    assert (fetched.content, fetched.mime_type, fetched.filename) == (
        b"%PDF-1.7",
        "application/pdf",
        "invoice-1042.pdf",
    )
    assert "X-Viber-Auth-Token" not in mocked.calls[0].request.headers


def test_it_downloads_nothing_from_another_host(mocked):
    with pytest.raises(ProviderError, match=r"not one of\s+Viber's own servers") as caught:
        adapter.fetch_media(
            credentials=CREDENTIALS,
            media=Media(ref="https://evil.example.com/invoice.pdf"),
            max_bytes=1000,
        )
    assert caught.value.code == "foreign_host"
    assert not mocked.calls


def test_it_refuses_a_file_larger_than_the_cap(mocked):
    with pytest.raises(ProviderError, match="too large") as caught:
        adapter.fetch_media(
            credentials=CREDENTIALS, media=Media(ref=MEDIA_URL, size=5000), max_bytes=1000
        )
    assert caught.value.code == "too_large"


def test_it_stops_reading_past_the_cap(mocked):
    mocked.get(MEDIA_URL, body=b"x" * 2000)

    with pytest.raises(ProviderError, match="too large"):
        adapter.fetch_media(credentials=CREDENTIALS, media=Media(ref=MEDIA_URL), max_bytes=1000)


def test_a_file_viber_no_longer_has_is_explained(mocked):
    mocked.get(MEDIA_URL, status=404)

    with pytest.raises(ProviderError, match="no longer has the customer's file") as caught:
        adapter.fetch_media(credentials=CREDENTIALS, media=Media(ref=MEDIA_URL), max_bytes=1000)
    assert caught.value.permanent
